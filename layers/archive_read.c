/* Loading image archives (see layers/archive.h): docker-archive in its
 * three generations (docker <= 24, docker 25+, podman/skopeo) and
 * oci-archive, read as one stream.
 *
 * An archive names its images only in manifest.json or index.json, which
 * may come after the layers (moby writes its tar in path order, podman
 * writes manifest.json last). So every member is classified by its first
 * bytes as it starts: a tar, gzip or zstd stream is a layer and is taken
 * in at once (diff_id, blob, snapshot under a temporary name: ingest.c);
 * anything else small is kept in memory (configs, manifests, indexes).
 * At the end the images are matched to their members, every layer is
 * checked against its config, and only then are the snapshots named by
 * chain ID and the configs and manifests stored. */
#include "layers/archive.h"
#include "layers/decompress.h"
#include "layers/image.h"
#include "layers/image_store.h"
#include "layers/ingest.h"
#include "layers/snapshot.h"
#include "layers/store.h"
#include "layers/tar.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/path.h"
#include "lib/xalloc.h"
#include "registry/ref.h"

#include <errno.h>
#include <jansson.h>
#include <string.h>
#include <unistd.h>

/* Members kept in memory: configs, manifests, indexes (their caps), and
 * all of them together (an archive of many large non-layer files must
 * not fill the memory). */
#define DOC_MAX CONFIG_MAX_SIZE
#define DOCS_MAX (256u << 20)
#define SNIFF_LEN 512
#define LINK_DEPTH 16

struct member
{
  char *path;
  char *link; /* a symlink's or hard link's target, as a member path */
  bool layer;
  bool big; /* not a layer and too large to keep: never needed */
  char *data;
  size_t len;
  struct layer_ingest *li; /* until its snapshot is named */
  struct layer_result res;
};

struct reader
{
  struct store *s;
  struct member *m;
  size_t n, cap;
  struct member *cur; /* the regular file being read */
  uint8_t head[SNIFF_LEN];
  size_t nhead;
  uint64_t size; /* of cur */
  bool decided;
  uint64_t doc_bytes; /* kept in memory so far */
};

static void
member_release (struct member *m)
{
  free (m->path);
  free (m->link);
  free (m->data);
  layer_ingest_abort (m->li);
}

/* "./a//b" -> "a/b"; NULL for a path outside the archive's root. */
static char *
clean_path (const char *dir, const char *p)
{
  _cleanup_free_ char *joined = p[0] == '/'
                                    ? xasprintf ("%s", p)
                                    : xasprintf ("/%s/%s", dir ? dir : "", p);
  char *c = path_clean (joined);
  char *r = xstrdup (c[0] == '/' ? c + 1 : c);
  free (c);
  return r;
}

static struct member *
find (struct reader *r, const char *path)
{
  for (size_t i = r->n; i-- > 0;) /* a later member of a name wins */
    if (!strcmp (r->m[i].path, path))
      return &r->m[i];
  return NULL;
}

/* The member a path names, links followed; NULL (with *err) if none. */
static struct member *
resolve (struct reader *r, const char *path, struct err **err)
{
  _cleanup_free_ char *p = clean_path (NULL, path);
  for (int depth = 0; depth < LINK_DEPTH; depth++)
    {
      struct member *m = find (r, p);
      if (!m)
        {
          err_set (err, 0, "'%s' is not in the archive", path);
          return NULL;
        }
      if (!m->link)
        return m;
      free (p);
      p = xstrdup (m->link);
    }
  err_set (err, 0, "'%s': too many links", path);
  return NULL;
}

static struct member *
add_member (struct reader *r, const char *path)
{
  if (r->n == r->cap)
    {
      r->cap = r->cap ? 2 * r->cap : 32;
      r->m = xrealloc (r->m, r->cap * sizeof *r->m);
    }
  struct member *m = &r->m[r->n++];
  memset (m, 0, sizeof *m);
  m->path = clean_path (NULL, path);
  return m;
}

static bool
looks_like_layer (const uint8_t *p, size_t n)
{
  if (layer_compression_sniff (p, n) != LAYER_UNCOMPRESSED)
    return true;
  if (n < SNIFF_LEN)
    return false;
  if (!memcmp (p + 257, "ustar", 5))
    return true;
  for (size_t i = 0; i < SNIFF_LEN; i++) /* an empty tar: zero blocks */
    if (p[i])
      return false;
  return true;
}

/* Enough of cur's first bytes to say what it is: start it. */
static int
decide (struct reader *r, struct err **err)
{
  struct member *m = r->cur;
  r->decided = true;
  m->layer = looks_like_layer (r->head, r->nhead);
  if (m->layer)
    {
      m->li = layer_ingest_new (r->s);
      return layer_ingest_feed (m->li, r->head, r->nhead, err);
    }
  if (r->size > DOC_MAX || r->doc_bytes + r->size > DOCS_MAX)
    {
      m->big = true;
      return 0;
    }
  r->doc_bytes += r->size;
  m->data = xmalloc (r->size + 1);
  memcpy (m->data, r->head, r->nhead);
  m->len = r->nhead;
  return 0;
}

static int
on_entry (void *arg, const struct tar_entry *e, struct err **err)
{
  struct reader *r = arg;
  struct member *m;
  r->cur = NULL;
  if (e->type == TAR_DIR)
    return 0;
  if (e->type != TAR_REG && e->type != TAR_SYMLINK && e->type != TAR_HARDLINK)
    return 0; /* devices and fifos have no place in an image archive */
  m = add_member (r, e->path);
  if (e->type == TAR_SYMLINK || e->type == TAR_HARDLINK)
    {
      _cleanup_free_ char *dir = xstrdup (m->path);
      char *slash = strrchr (dir, '/');
      if (slash)
        *slash = '\0';
      else
        dir[0] = '\0';
      m->link = clean_path (e->type == TAR_SYMLINK ? dir : NULL,
                            e->linkpath ? e->linkpath : "");
      return 0;
    }
  r->cur = m;
  r->nhead = 0;
  r->size = e->size;
  r->decided = false;
  if (e->size == 0)
    return decide (r, err);
  return 0;
}

static int
on_data (void *arg, const uint8_t *buf, size_t len, struct err **err)
{
  struct reader *r = arg;
  struct member *m = r->cur;
  if (!m)
    return 0;
  if (!r->decided)
    {
      size_t want = r->size < SNIFF_LEN ? (size_t)r->size : SNIFF_LEN;
      size_t n = want - r->nhead < len ? want - r->nhead : len;
      memcpy (r->head + r->nhead, buf, n);
      r->nhead += n;
      buf += n;
      len -= n;
      if (r->nhead < want)
        return 0;
      if (decide (r, err) < 0)
        goto fail;
    }
  if (m->li)
    {
      if (len && layer_ingest_feed (m->li, buf, len, err) < 0)
        goto fail;
    }
  else if (m->data)
    {
      memcpy (m->data + m->len, buf, len);
      m->len += len;
    }
  return 0;
fail:
  return err_wrap (err, "layer '%s'", m->path);
}

static int
on_entry_end (void *arg, struct err **err)
{
  struct reader *r = arg;
  struct member *m = r->cur;
  r->cur = NULL;
  if (!m || !m->li)
    return 0;
  if (layer_ingest_finish (m->li, &m->res, err) < 0)
    return err_wrap (err, "layer '%s'", m->path);
  return 0;
}

static int
to_tar (void *arg, const uint8_t *buf, size_t len, struct err **err)
{
  return tar_reader_feed (arg, buf, len, err);
}

static int
to_decomp (void *ctx, const void *buf, size_t len, struct err **err)
{
  return layer_decomp_feed (ctx, buf, len, err);
}

/* The whole stream: outer decompression, tar, members. */
static int
read_all (struct reader *r, int fd, struct err **err)
{
  static const struct tar_callbacks cb
      = { .entry = on_entry, .data = on_data, .entry_end = on_entry_end };
  struct tar_reader *tr = tar_reader_new (&cb, r);
  struct layer_decomp *d = layer_decomp_new (to_tar, tr);
  size_t total;
  int ret = -1;
  if (fs_read_each (fd, to_decomp, d, &total, err) < 0)
    err_wrap (err, "the archive");
  else if (total == 0)
    err_set (err, 0, "the archive is empty");
  else if (layer_decomp_finish (d, err) == 0
           && tar_reader_finish (tr, err) == 0)
    {
      if (r->cur)
        err_set (err, 0, "the archive ends inside '%s'", r->cur->path);
      else
        ret = 0;
    }
  layer_decomp_free (d);
  tar_reader_free (tr);
  return ret;
}

/* ---- matching members to images ---------------------------------- */

/* One image found in the archive, checked, not yet stored. */
struct image_plan
{
  struct member *config;
  char *image_id;
  struct image_config cfg;
  struct member **layers;
  size_t n_layers;
  /* oci-archive: the manifest as given, when every blob was kept */
  struct member *manifest;
  char *manifest_digest, *manifest_type;
  char **names;
};

static void
plan_release (struct image_plan *p)
{
  free (p->image_id);
  image_config_release (&p->cfg);
  free (p->layers);
  free (p->manifest_digest);
  free (p->manifest_type);
  strv_free (p->names);
}

/* A document member, of at most max bytes. */
static struct member *
doc_member (struct reader *r, const char *path, struct err **err)
{
  struct member *m = resolve (r, path, err);
  if (!m)
    return NULL;
  if (m->layer || m->big)
    {
      err_set (err, 0, "'%s' is not a JSON document", path);
      return NULL;
    }
  return m;
}

static int
plan_config (struct reader *r, struct image_plan *p, const char *path,
             const char *want_digest, struct err **err)
{
  char id[DIGEST_STR_LEN + 1];
  if (!(p->config = doc_member (r, path, err)))
    return -1;
  digest_buf (p->config->data, p->config->len, id);
  if (want_digest && strcmp (id, want_digest))
    return err_set (err, 0,
                    "config '%s': digest mismatch: expected %s, "
                    "got %s",
                    path, want_digest, id);
  p->image_id = xstrdup (id);
  if (image_config_parse (p->config->data, p->config->len, &p->cfg, err) < 0)
    return err_wrap (err, "config '%s'", path);
  if (p->cfg.os && strcmp (p->cfg.os, "linux"))
    return err_set (err, 0, "cannot load %s image on linux", p->cfg.os);
  return 0;
}

/* Layer i of p is the member at path: check its diff_id. */
static int
plan_layer (struct reader *r, struct image_plan *p, size_t i, const char *path,
            struct err **err)
{
  struct member *m = resolve (r, path, err);
  if (!m)
    return -1;
  if (!m->layer)
    return err_set (err, 0, "layer '%s' is not a tar archive", path);
  if (strcmp (m->res.diff_id, p->cfg.diff_ids[i]))
    return err_set (err, 0,
                    "invalid diffID for layer %zu: expected %s, "
                    "got %s",
                    i, p->cfg.diff_ids[i], m->res.diff_id);
  p->layers[i] = m;
  return 0;
}

/* A RepoTags entry ("busybox:latest") as a full reference. */
static int
add_name (struct image_plan *p, const char *tag, struct err **err)
{
  struct ref ref;
  if (ref_parse (tag, &ref, err) < 0)
    return err_wrap (err, "invalid tag '%s'", tag);
  const char *slash = strrchr (tag, '/'), *colon = strrchr (tag, ':');
  bool tagged = !ref.digest && colon && (!slash || colon > slash);
  char *name = ref_string (&ref);
  ref_release (&ref);
  if (!tagged)
    {
      free (name);
      return err_set (err, 0, "invalid tag '%s': no tag", tag);
    }
  strv_push (&p->names, name);
  return 0;
}

static int
plan_docker (struct reader *r, struct member *mj, struct image_plan **out,
             size_t *n_out, struct err **err)
{
  json_t *doc = json_loadb (mj->data, mj->len, 0, NULL), *item;
  struct image_plan *plans = NULL;
  size_t n = 0, i;
  int ret = -1;
  if (!doc || json_is_null (doc))
    {
      err_set (err, 0,
               doc ? "invalid manifest, manifest cannot be null "
                     "(but can be [])"
                   : "invalid manifest.json");
      goto out;
    }
  if (!json_is_array (doc))
    {
      err_set (err, 0, "invalid manifest.json: not an array");
      goto out;
    }
  plans = xcalloc (json_array_size (doc) + 1, sizeof *plans);
  json_array_foreach (doc, i, item)
  {
    struct image_plan *p = &plans[n++];
    const char *cfg = json_string_value (json_object_get (item, "Config"));
    json_t *ls = json_object_get (item, "Layers");
    json_t *tags = json_object_get (item, "RepoTags"), *t;
    size_t j, nd;
    if (!cfg || !json_is_array (ls))
      {
        err_set (err, 0,
                 "invalid manifest.json: entry %zu has no Config "
                 "or Layers",
                 i);
        goto out;
      }
    if (plan_config (r, p, cfg, NULL, err) < 0)
      goto out;
    nd = strv_len (p->cfg.diff_ids);
    if (json_array_size (ls) != nd)
      {
        err_set (err, 0,
                 "invalid manifest, layers length mismatch: "
                 "expected %zu, got %zu",
                 nd, json_array_size (ls));
        goto out;
      }
    p->n_layers = nd;
    p->layers = xcalloc (nd + 1, sizeof *p->layers);
    json_array_foreach (
        ls, j, t) if (!json_is_string (t)
                      || plan_layer (r, p, j, json_string_value (t), err) < 0)
    {
      if (!json_is_string (t))
        err_set (err, 0, "invalid manifest.json: bad layer path");
      goto out;
    }
    json_array_foreach (tags, j,
                        t) if (!json_is_string (t)
                               || add_name (p, json_string_value (t), err) < 0)
    {
      if (!json_is_string (t))
        err_set (err, 0, "invalid manifest.json: bad RepoTags");
      goto out;
    }
  }
  ret = 0;
out:
  json_decref (doc);
  *out = plans;
  *n_out = n;
  return ret;
}

/* The member of an OCI blob, checked against its digest. */
static struct member *
oci_blob (struct reader *r, const char *digest, struct err **err)
{
  if (digest_check (digest, err) < 0)
    return NULL;
  _cleanup_free_ char *path
      = xasprintf ("blobs/sha256/%s", digest_hex (digest));
  return resolve (r, path, err);
}

static struct member *
oci_doc (struct reader *r, const char *digest, struct err **err)
{
  char got[DIGEST_STR_LEN + 1];
  struct member *m = oci_blob (r, digest, err);
  if (!m)
    return NULL;
  if (m->layer || m->big)
    {
      err_set (err, 0, "blob %s is not a JSON document", digest);
      return NULL;
    }
  digest_buf (m->data, m->len, got);
  if (strcmp (got, digest))
    {
      err_set (err, 0, "blob %s: digest mismatch (got %s)", digest, got);
      return NULL;
    }
  return m;
}

/* The name an index entry gives its image: containerd's full name, else
 * a ref.name that is a reference (not only a tag, as skopeo's "latest"),
 * else none. */
static char *
oci_entry_name (const struct descriptor *d)
{
  json_t *a
      = d->annotations_json ? json_loads (d->annotations_json, 0, NULL) : NULL;
  const char *full
      = json_string_value (json_object_get (a, "io.containerd.image.name"));
  const char *ref
      = json_string_value (json_object_get (a, STORE_REF_ANNOTATION));
  const char *pick = full                                              ? full
                     : ref && (strchr (ref, '/') || strchr (ref, ':')) ? ref
                                                                       : NULL;
  char *name = NULL;
  struct ref parsed;
  struct err *e = NULL;
  if (pick && ref_parse (pick, &parsed, &e) == 0)
    {
      if (!parsed.digest)
        name = ref_string (&parsed);
      ref_release (&parsed);
    }
  err_free (e);
  json_decref (a);
  return name;
}

static int
plan_oci_manifest (struct reader *r, struct image_plan *p,
                   const struct descriptor *d, struct err **err)
{
  struct member *mm = oci_doc (r, d->digest, err);
  struct image_manifest man;
  bool as_given = true;
  int ret = -1;
  if (!mm || image_manifest_parse (mm->data, mm->len, &man, err) < 0)
    return err_wrap (err, "manifest %s", d->digest);
  _cleanup_free_ char *cfg_path
      = xasprintf ("blobs/sha256/%s", digest_hex (man.config.digest));
  if (digest_check (man.config.digest, err) < 0
      || plan_config (r, p, cfg_path, man.config.digest, err) < 0)
    goto out;
  if (strv_len (p->cfg.diff_ids) != man.n_layers)
    {
      err_set (err, 0, "manifest %s has %zu layers, its config %zu", d->digest,
               man.n_layers, strv_len (p->cfg.diff_ids));
      goto out;
    }
  p->n_layers = man.n_layers;
  p->layers = xcalloc (man.n_layers + 1, sizeof *p->layers);
  for (size_t i = 0; i < man.n_layers; i++)
    {
      const struct descriptor *l = &man.layers[i];
      struct member *m = oci_blob (r, l->digest, err);
      if (!m)
        goto out;
      /* a plain layer was gzip'd on the way in: its digest is its
         diff_id */
      if (strcmp (m->res.digest, l->digest)
          && !(m->layer && !strcmp (m->res.diff_id, l->digest)))
        {
          err_set (err, 0, "layer %s: digest mismatch", l->digest);
          goto out;
        }
      if (strcmp (m->res.digest, l->digest))
        as_given = false;
      _cleanup_free_ char *path
          = xasprintf ("blobs/sha256/%s", digest_hex (l->digest));
      if (plan_layer (r, p, i, path, err) < 0)
        goto out;
    }
  if (as_given)
    {
      p->manifest = mm;
      p->manifest_digest = xstrdup (d->digest);
      p->manifest_type
          = xstrdup (man.media_type ? man.media_type : MT_OCI_MANIFEST);
    }
  ret = 0;
out:
  image_manifest_release (&man);
  return ret < 0 ? err_wrap (err, "manifest %s", d->digest) : 0;
}

static int
plan_oci (struct reader *r, struct member *ix_member, struct image_plan **out,
          size_t *n_out, struct err **err)
{
  struct image_index ix;
  struct image_plan *plans = NULL;
  size_t n = 0;
  int ret = -1;
  *out = NULL;
  *n_out = 0;
  if (image_index_parse (ix_member->data, ix_member->len, &ix, err) < 0)
    return err_wrap (err, "index.json");
  plans = xcalloc (ix.n_manifests + 1, sizeof *plans);
  for (size_t i = 0; i < ix.n_manifests; i++)
    {
      const struct descriptor *d = &ix.manifests[i];
      struct image_index sub = { 0 };
      const struct descriptor *md = d;
      _cleanup_free_ char *name = oci_entry_name (d);
      if (d->media_type
          && (!strcmp (d->media_type, MT_OCI_INDEX)
              || !strcmp (d->media_type, MT_DOCKER_LIST)))
        {
          struct member *sm = oci_doc (r, d->digest, err);
          struct platform host;
          size_t chosen;
          int rc;
          platform_host (&host);
          rc = !sm || image_index_parse (sm->data, sm->len, &sub, err) < 0
               || image_index_choose (&sub, &host, &chosen, err) < 0;
          platform_release (&host);
          if (rc)
            {
              image_index_release (&sub);
              err_wrap (err, "index %s", d->digest);
              goto out;
            }
          md = &sub.manifests[chosen];
        }
      /* several entries (tags) of one manifest: one image, several names */
      struct image_plan *p = NULL;
      for (size_t j = 0; j < n && !p; j++)
        if (plans[j].manifest_digest
                ? !strcmp (plans[j].manifest_digest, md->digest)
                : false)
          p = &plans[j];
      int rc = 0;
      if (!p)
        {
          p = &plans[n++];
          rc = plan_oci_manifest (r, p, md, err);
          if (rc == 0 && !p->manifest_digest)
            p->manifest_digest = xstrdup (md->digest); /* for the match */
        }
      image_index_release (&sub);
      if (rc < 0)
        goto out;
      if (name)
        strv_push (&p->names, steal_pointer (&name));
    }
  ret = 0;
out:
  image_index_release (&ix);
  *out = plans;
  *n_out = n;
  return ret;
}

/* ---- storing ------------------------------------------------------ */

static int
store_plan (struct reader *r, struct image_plan *p, struct archive_loaded *o,
            struct err **err)
{
  _cleanup_strv_ char **chain = image_chain_ids (p->cfg.diff_ids);
  struct descriptor *ls = xcalloc (p->n_layers + 1, sizeof *ls);
  int ret = -1;
  for (size_t i = 0; i < p->n_layers; i++)
    {
      struct member *m = p->layers[i];
      int rc = m->li
                   ? layer_ingest_commit (steal_pointer (&m->li), chain[i], err)
                   : snapshot_create_from_blob (r->s, chain[i], m->res.digest,
                                                m->res.diff_id, err);
      if (rc < 0)
        goto out;
      ls[i] = (struct descriptor){ .media_type = (char *)m->res.media_type,
                                   .digest = m->res.digest,
                                   .size = m->res.size };
    }
  if (store_blob_put (r->s, p->config->data, p->config->len, p->image_id, NULL,
                      err)
      < 0)
    goto out;
  o->image_id = xstrdup (p->image_id);
  o->manifest_type = xstrdup (p->manifest ? p->manifest_type : MT_OCI_MANIFEST);
  if (p->manifest)
    {
      o->manifest_digest = xstrdup (p->manifest_digest);
      o->manifest_size = (int64_t)p->manifest->len;
      if (store_blob_put (r->s, p->manifest->data, p->manifest->len,
                          p->manifest_digest, NULL, err)
          < 0)
        goto out;
    }
  else if (image_store_manifest (r->s, p->image_id, (int64_t)p->config->len, ls,
                                 p->n_layers, &o->manifest_digest,
                                 &o->manifest_size, err)
           < 0)
    goto out;
  o->names = steal_pointer (&p->names);
  ret = 0;
out:
  free (ls);
  return ret;
}

int
archive_load (struct store *s, int fd, struct archive_loaded **out,
              size_t *n_out, struct err **err)
{
  struct reader r = { .s = s };
  struct image_plan *plans = NULL;
  struct archive_loaded *loaded = NULL;
  size_t n = 0;
  struct member *mj, *ix;
  struct err *ignored = NULL;
  int ret = -1;
  *out = NULL;
  *n_out = 0;
  if (read_all (&r, fd, err) < 0)
    goto out;
  if ((mj = resolve (&r, "manifest.json", &ignored)) && !mj->layer && !mj->big)
    {
      if (plan_docker (&r, mj, &plans, &n, err) < 0)
        goto out;
    }
  else if ((ix = resolve (&r, "index.json", &ignored)) && !ix->layer
           && !ix->big)
    {
      if (plan_oci (&r, ix, &plans, &n, err) < 0)
        goto out;
    }
  else
    {
      err_set (err, 0,
               "invalid archive: does not contain a manifest.json "
               "or an index.json");
      goto out;
    }
  loaded = xcalloc (n + 1, sizeof *loaded);
  for (size_t i = 0; i < n; i++)
    if (store_plan (&r, &plans[i], &loaded[i], err) < 0)
      goto out;
  *out = steal_pointer (&loaded);
  *n_out = n;
  ret = 0;
out:
  err_free (ignored);
  archive_loaded_free (loaded, n);
  for (size_t i = 0; plans && i < n; i++)
    plan_release (&plans[i]);
  free (plans);
  for (size_t i = 0; i < r.n; i++)
    member_release (&r.m[i]);
  free (r.m);
  return ret;
}

void
archive_loaded_free (struct archive_loaded *v, size_t n)
{
  for (size_t i = 0; v && i < n; i++)
    {
      free (v[i].image_id);
      free (v[i].manifest_digest);
      free (v[i].manifest_type);
      strv_free (v[i].names);
    }
  free (v);
}
