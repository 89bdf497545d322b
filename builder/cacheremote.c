/* --cache-from: a build cache another machine exported (cacheexport.c
 * writes it; the format is in build_int.h), from a registry or an OCI
 * layout directory.
 *
 * Before the first step, each source's manifest and config (the records)
 * are read: two small requests, no layer. A step the local cache misses
 * is looked up in them (build_cache_get); a hit gives the step's history
 * (with its created time, so the image is the one the first machine made)
 * and its layer's descriptor. The layer blob is fetched only when a later
 * step needs the files (build_lowers: a RUN that misses, a COPY --from, a
 * view) or the image is written (every blob of the stored image is in the
 * store, as skopeo and umoci expect of an OCI layout).
 *
 * A source that cannot be read (unreachable, missing, not a cache) is a
 * warning and the build goes on without it, as BuildKit's --cache-from. */
#include "builder/build_int.h"
#include "layers/image.h"
#include "layers/ocidir.h"
#include "layers/store.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/log.h"
#include "lib/progress.h"
#include "lib/xalloc.h"
#include "registry/blob.h"
#include "registry/ref.h"
#include "registry/session.h"
#include "registry/sources.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

struct build_remote
{
  json_t *records; /* key -> record; the first source's wins */
  json_t *blobs;   /* layer digest -> index of the source that has it */
};

/* A cache source opened for reading. */
struct src
{
  const struct build_cache_spec *spec;
  struct reg_client client;
  struct reg_repo repo;
  struct ref ref;
  bool have_client, have_repo, have_ref;
  struct ocidir dir;
  bool have_dir;
};

static void
src_close (struct src *s)
{
  if (s->have_repo)
    reg_repo_release (&s->repo);
  if (s->have_client)
    reg_client_release (&s->client);
  if (s->have_ref)
    ref_release (&s->ref);
  if (s->have_dir)
    ocidir_release (&s->dir);
  memset (s, 0, sizeof *s);
}

static int
src_open (struct build *b, const struct build_cache_spec *sp, struct src *s,
          struct err **err)
{
  memset (s, 0, sizeof *s);
  s->spec = sp;
  if (sp->type == BUILD_CACHE_LOCAL)
    {
      if (ocidir_open (&s->dir, sp->dir, false, err) < 0)
        return -1;
      s->have_dir = true;
      return 0;
    }
  struct reg_client_opts co = { .config_path = b->o->config_path,
                                .no_tls_verify = b->o->no_tls_verify };
  if (ref_parse (sp->ref, &s->ref, err) < 0)
    return -1;
  s->have_ref = true;
  if (reg_client_init (&s->client, &co, err) < 0)
    return -1;
  s->have_client = true;
  if (reg_repo_init (&s->repo, &s->client, ref_api_host (&s->ref),
                     s->ref.domain, s->ref.path, "pull", err)
      < 0)
    return -1;
  s->have_repo = true;
  return 0;
}

static const char *
src_name (const struct build_cache_spec *sp)
{
  return sp->type == BUILD_CACHE_LOCAL ? sp->dir : sp->ref;
}

/* A small document or blob of the source, verified against digest (NULL:
 * the manifest the source's reference names; *digest_out gets its). */
static int
src_read (struct src *s, const char *digest, size_t max, char **out,
          size_t *len, char *digest_out, struct err **err)
{
  char got[DIGEST_STR_LEN + 1];
  if (s->have_dir)
    {
      struct store_ref top = { 0 };
      _cleanup_free_ char *path = NULL;
      if (!digest)
        {
          if (ocidir_find (&s->dir, s->spec->tag, &top, err) < 0)
            return -1;
          digest = top.digest;
        }
      path = ocidir_blob_path (&s->dir, digest);
      int r = path ? fs_read_file (AT_FDCWD, path, max, out, len, err)
                   : err_set (err, 0, "blob %s is not in the layout", digest);
      if (r == 0)
        {
          digest_buf (*out, *len, got);
          if (strcmp (got, digest))
            r = err_set (err, 0, "blob %s is corrupt", digest);
        }
      store_ref_release (&top);
      return r;
    }
  const char *reference = s->ref.digest ? s->ref.digest : s->ref.tag;
  _cleanup_free_ char *path
      = digest ? xasprintf ("/v2/%s/blobs/%s", s->repo.path, digest)
               : xasprintf ("/v2/%s/manifests/%s", s->repo.path, reference);
  struct http_request req
      = { .url = path,
          .accept = digest ? NULL : MT_OCI_MANIFEST ", " MT_OCI_INDEX,
          .max_body = max };
  struct http_response resp = { 0 };
  int ret = -1;
  if (reg_repo_do (&s->repo, &req, &resp, err) < 0)
    goto out;
  if (resp.status != 200)
    {
      _cleanup_free_ char *t = reg_repo_denied_text (&s->repo, &resp);
      err_set (err, 0, "%s: %s", digest ? digest : reference, t);
      goto out;
    }
  digest_buf (resp.body.buf, resp.body.len, got);
  if ((digest && strcmp (got, digest))
      || (!digest && s->ref.digest && strcmp (got, s->ref.digest)))
    {
      err_set (err, 0, "%s: digest mismatch (got %s)",
               digest ? digest : reference, got);
      goto out;
    }
  *len = resp.body.len;
  *out = strbuf_detach (&resp.body, NULL);
  ret = 0;
out:
  http_response_release (&resp);
  if (ret == 0 && digest_out)
    memcpy (digest_out, got, sizeof got);
  return ret;
}

/* Read one source's records into r (index i). */
static int
load_source (struct build *b, size_t i, struct build_remote *r,
             struct err **err)
{
  const struct build_cache_spec *sp = &b->o->cache_from[i];
  struct src s;
  _cleanup_free_ char *body = NULL, *cbody = NULL;
  size_t len, clen;
  json_t *m = NULL, *c = NULL;
  int ret = -1;
  if (src_open (b, sp, &s, err) < 0
      || src_read (&s, NULL, MANIFEST_MAX_SIZE, &body, &len, NULL, err) < 0)
    goto out;
  m = json_loadb (body, len, 0, NULL);
  json_t *cfg = json_object_get (m, "config");
  const char *mt = json_string_value (json_object_get (cfg, "mediaType"));
  const char *cd = json_string_value (json_object_get (cfg, "digest"));
  size_t k;
  json_t *e;
  bool buildkit = mt && !strcmp (mt, BUILDKIT_CACHE_MT);
  /* BuildKit's legacy form: an index with the cache config among blobs */
  json_array_foreach (json_object_get (m, "manifests"), k, e)
  {
    const char *emt = json_string_value (json_object_get (e, "mediaType"));
    buildkit |= emt && !strcmp (emt, BUILDKIT_CACHE_MT);
  }
  if (!buildkit && (!mt || !cd || !digest_is_sha256 (cd)))
    {
      err_set (err, 0, "not an imgtool build cache");
      goto out;
    }
  if (buildkit)
    {
      err_set (err, 0,
               "a BuildKit cache, whose keys imgtool cannot compute "
               "(docs/buildfile.md)");
      goto out;
    }
  if (strcmp (mt, BUILD_CACHE_MT))
    {
      err_set (err, 0, "not an imgtool build cache (config '%s')", mt);
      goto out;
    }
  if (src_read (&s, cd, CONFIG_MAX_SIZE, &cbody, &clen, NULL, err) < 0)
    goto out;
  c = json_loadb (cbody, clen, 0, NULL);
  json_t *recs = json_object_get (c, "records");
  if (!json_is_object (recs))
    {
      err_set (err, 0, "its config has no records");
      goto out;
    }
  const char *key;
  json_t *v;
  json_object_foreach (recs, key, v)
  {
    struct build_cache_rec rec;
    if (!digest_is_sha256 (key) || json_object_get (r->records, key)
        || build_cache_rec_parse (v, &rec) != 0)
      continue;
    json_object_set (r->records, key, v);
    if (rec.has_layer && !json_object_get (r->blobs, rec.layer.digest))
      json_object_set_new (r->blobs, rec.layer.digest,
                           json_integer ((json_int_t)i));
    build_cache_rec_release (&rec);
  }
  ret = 0;
out:
  json_decref (m);
  json_decref (c);
  src_close (&s);
  return ret;
}

void
build_remote_open (struct build *b)
{
  if (!b->o->n_cache_from)
    return;
  struct build_remote *r = xcalloc (1, sizeof *r);
  r->records = json_object ();
  r->blobs = json_object ();
  for (size_t i = 0; i < b->o->n_cache_from; i++)
    {
      struct err *e = NULL;
      if (load_source (b, i, r, &e) < 0)
        log_warn ("--cache-from '%s': %s; building without it",
                  src_name (&b->o->cache_from[i]), e ? e->msg : "failed");
      err_free (e);
    }
  b->remote = r;
}

void
build_remote_close (struct build *b)
{
  if (!b->remote)
    return;
  json_decref (b->remote->records);
  json_decref (b->remote->blobs);
  free (b->remote);
  b->remote = NULL;
}

int
build_remote_get (struct build *b, const char *key, struct build_cache_rec *rec)
{
  json_t *v = json_object_get (b->remote->records, key);
  int r = v ? build_cache_rec_parse (v, rec) : 1;
  rec->remote = r == 0;
  return r;
}

/* A blob of a layout into the store, verified on the way. */
static int
copy_from_dir (struct build *b, struct src *s, const char *digest,
               struct err **err)
{
  _cleanup_free_ char *path = ocidir_blob_path (&s->dir, digest);
  struct blob_writer *w = NULL;
  char buf[1 << 16];
  ssize_t n;
  if (!path)
    return err_set (err, 0, "blob %s is not in '%s'", digest, s->spec->dir);
  _cleanup_close_ int fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return err_set (err, errno, "open '%s'", path);
  int r = store_blob_begin (b->store, digest, &w, err);
  if (r != 0)
    return r < 0 ? -1 : 0;
  while ((n = read (fd, buf, sizeof buf)) > 0)
    if (blob_writer_write (w, buf, (size_t)n, err) < 0)
      {
        store_blob_abort (w, false);
        return -1;
      }
  if (n < 0)
    {
      store_blob_abort (w, false);
      return err_set (err, errno, "read '%s'", path);
    }
  return store_blob_commit (b->store, w, NULL, err);
}

/* One request through the session first: it finds the scheme (an
 * insecure registry's plain HTTP) and the token the transfers then use. */
static int
settle (struct src *s, const char *digest, struct err **err)
{
  _cleanup_free_ char *path
      = xasprintf ("/v2/%s/blobs/%s", s->repo.path, digest);
  struct http_request req = { .method = "HEAD", .url = path };
  struct http_response resp = { 0 };
  int r = reg_repo_do (&s->repo, &req, &resp, err);
  if (r == 0 && resp.status != 200)
    {
      _cleanup_free_ char *t = reg_repo_denied_text (&s->repo, &resp);
      r = err_set (err, 0, "%s: %s", digest, t);
    }
  http_response_release (&resp);
  return r;
}

/* Fetch the jobs of source i (all of one source). */
static int
fetch_from (struct build *b, size_t i, struct reg_blob_job *jobs, size_t n,
            struct err **err)
{
  const struct build_cache_spec *sp = &b->o->cache_from[i];
  struct src s;
  int ret = src_open (b, sp, &s, err);
  if (ret == 0 && s.have_dir)
    for (size_t j = 0; j < n && ret == 0; j++)
      ret = copy_from_dir (b, &s, jobs[j].digest, err);
  else if (ret == 0 && (ret = settle (&s, jobs[0].digest, err)) == 0)
    {
      struct progress *p
          = progress_new (b->out, b->o->quiet || b->replay, "Downloading");
      ret = reg_blobs_fetch (&s.repo, b->store, jobs, n, 4, p, err);
      progress_free (p);
      /* a push of the image or the cache mounts them from there */
      if (ret == 0)
        reg_sources_record_pull (b->store, s.ref.domain, s.ref.path, jobs, n);
    }
  src_close (&s);
  return ret < 0 ? err_wrap (err, "--cache-from '%s'", src_name (sp)) : 0;
}

int
build_remote_fetch (struct build *b, const struct build_layer *layers, size_t n,
                    struct err **err)
{
  if (!b->remote)
    return 0;
  for (size_t i = 0; i < b->o->n_cache_from; i++)
    {
      _cleanup_free_ struct reg_blob_job *jobs = xcalloc (n + 1, sizeof *jobs);
      size_t nj = 0;
      for (size_t l = 0; l < n; l++)
        {
          json_t *v = json_object_get (b->remote->blobs, layers[l].digest);
          if (!v || (size_t)json_integer_value (v) != i
              || store_has_blob (b->store, layers[l].digest))
            continue;
          bool dup = false;
          for (size_t j = 0; j < nj && !dup; j++)
            dup = !strcmp (jobs[j].digest, layers[l].digest);
          if (!dup)
            jobs[nj++]
                = (struct reg_blob_job){ .digest = layers[l].digest,
                                         .size = layers[l].size,
                                         .media_type = layers[l].media_type };
        }
      if (nj && fetch_from (b, i, jobs, nj, err) < 0)
        return -1;
    }
  return 0;
}
