/* Images as the store holds them (see image_store.h) and store gc. */
#include "layers/image_store.h"
#include "layers/seekable.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/xalloc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define GC_LOCK "gc.lock"
#define TMP_MAX_AGE (24 * 3600)

void
image_release (struct image *img)
{
  free (img->name);
  free (img->top_digest);
  free (img->top_media_type);
  free (img->manifest_digest);
  free (img->manifest_raw);
  free (img->config_raw);
  image_manifest_release (&img->manifest);
  image_config_release (&img->config);
  memset (img, 0, sizeof *img);
}

static int
load_manifest (struct store *s, struct image *img, struct err **err)
{
  const struct descriptor *cfg;
  if (store_blob_read (s, img->manifest_digest, MANIFEST_MAX_SIZE,
                       &img->manifest_raw, &img->manifest_len, err)
          < 0
      || image_manifest_parse (img->manifest_raw, img->manifest_len,
                               &img->manifest, err)
             < 0)
    return -1;
  cfg = &img->manifest.config;
  if (store_blob_read (s, cfg->digest, CONFIG_MAX_SIZE, &img->config_raw,
                       &img->config_len, err)
          < 0
      || image_config_parse (img->config_raw, img->config_len, &img->config,
                             err)
             < 0)
    return err_wrap (err, "config %s", cfg->digest);
  if (strv_len (img->config.diff_ids) != img->manifest.n_layers)
    return err_set (err, 0,
                    "image is inconsistent: %zu layers but %zu diff_ids",
                    img->manifest.n_layers, strv_len (img->config.diff_ids));
  return 0;
}

int
image_load (struct store *s, const char *top_digest, const char *top_media_type,
            const struct platform *want, struct image *out, struct err **err)
{
  _cleanup_free_ char *raw = NULL;
  size_t len;
  enum doc_kind kind;
  char *mt = NULL;
  memset (out, 0, sizeof *out);
  out->top_digest = xstrdup (top_digest);
  if (store_blob_read (s, top_digest, MANIFEST_MAX_SIZE, &raw, &len, err) < 0
      || image_doc_kind (top_media_type, raw, len, &kind, &mt, err) < 0)
    goto fail;
  out->top_media_type = mt;
  if (kind == DOC_INDEX)
    {
      struct image_index ix;
      struct platform host = { 0 };
      size_t chosen;
      int ret;
      if (image_index_parse (raw, len, &ix, err) < 0)
        goto fail;
      if (!want)
        {
          platform_host (&host);
          want = &host;
        }
      ret = image_index_choose (&ix, want, &chosen, err);
      if (ret == 0)
        {
          out->manifest_digest = xstrdup (ix.manifests[chosen].digest);
          if (!store_has_blob (s, out->manifest_digest))
            {
              _cleanup_free_ char *p = platform_string (want);
              ret = err_set (err, 0,
                             "the %s image is not in the store; pull it "
                             "with --platform %s",
                             p, p);
            }
        }
      platform_release (&host);
      image_index_release (&ix);
      if (ret < 0)
        goto fail;
    }
  else
    out->manifest_digest = xstrdup (top_digest);
  if (load_manifest (s, out, err) < 0)
    goto fail;
  return 0;
fail:
  image_release (out);
  return -1;
}

int
image_load_ref (struct store *s, const struct store_ref *ref,
                const struct platform *want, struct image *out,
                struct err **err)
{
  if (image_load (s, ref->digest, ref->media_type, want, out, err) < 0)
    return err_wrap (err, "image '%s'", ref->name);
  out->name = xstrdup (ref->name);
  return 0;
}

int64_t
image_size (const struct image *img)
{
  int64_t n = img->manifest.config.size;
  for (size_t i = 0; i < img->manifest.n_layers; i++)
    n += img->manifest.layers[i].size;
  return n;
}

int
image_reachable_blobs (struct store *s, const char *digest, char ***v,
                       struct err **err)
{
  _cleanup_free_ char *raw = NULL;
  size_t len;
  enum doc_kind kind;
  if (strv_has (*v, digest) || !store_has_blob (s, digest))
    return 0;
  strv_push (v, xstrdup (digest));
  if (store_blob_read (s, digest, MANIFEST_MAX_SIZE, &raw, &len, err) < 0)
    return -1;
  if (image_doc_kind (NULL, raw, len, &kind, NULL, err) < 0)
    {
      /* Not a document we know (an artifact): keep it, reach nothing. */
      err_clear (err);
      return 0;
    }
  if (kind == DOC_INDEX)
    {
      struct image_index ix;
      int ret = 0;
      if (image_index_parse (raw, len, &ix, err) < 0)
        return -1;
      for (size_t i = 0; i < ix.n_manifests && ret == 0; i++)
        ret = image_reachable_blobs (s, ix.manifests[i].digest, v, err);
      image_index_release (&ix);
      return ret;
    }
  struct image_manifest m;
  if (image_manifest_parse (raw, len, &m, err) < 0)
    return -1;
  if (!strv_has (*v, m.config.digest))
    strv_push (v, xstrdup (m.config.digest));
  for (size_t i = 0; i < m.n_layers; i++)
    if (!strv_has (*v, m.layers[i].digest))
      strv_push (v, xstrdup (m.layers[i].digest));
  image_manifest_release (&m);
  return 0;
}

int
store_writer_guard (struct store *s, struct err **err)
{
  return fs_lock (s->root_fd, GC_LOCK, LOCK_SH, err);
}

static void
remove_old_tmp (struct store *s)
{
  DIR *d = fdopendir (dup (s->tmp_fd));
  struct dirent *de;
  time_t now = time (NULL);
  struct err *ignored = NULL;
  if (!d)
    return;
  rewinddir (d);
  while ((de = readdir (d)))
    {
      struct stat st;
      if (de->d_name[0] == '.'
          || fstatat (s->tmp_fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0
          || now - st.st_mtime < TMP_MAX_AGE)
        continue;
      fs_rm_rf (s->tmp_fd, de->d_name, &ignored);
      err_clear (&ignored);
    }
  closedir (d);
}

/* The blob directory, read from its start (the dup shares the offset). */
static DIR *
blobs_open (struct store *s)
{
  DIR *d = fdopendir (dup (s->blobs_fd));
  if (d)
    rewinddir (d);
  return d;
}

/* The next blob in d: its digest ("sha256:" + the file name); false at
 * the end. */
static bool
blobs_next (DIR *d, char digest[DIGEST_STR_LEN + 8])
{
  struct dirent *de;
  while ((de = readdir (d)))
    if (de->d_name[0] != '.' && strlen (de->d_name) == DIGEST_HEX_LEN)
      {
        memcpy (digest, "sha256:", 7);
        memcpy (digest + 7, de->d_name, DIGEST_HEX_LEN + 1);
        return true;
      }
  return false;
}

/* Manifests are small; the scan reads no blob larger than this. */
#define SCAN_MAX (1u << 20)

int
image_manifests_of_configs (struct store *s, char *const *configs, char ***out,
                            struct err **err)
{
  _cleanup_closedir_ DIR *d = NULL;
  char digest[DIGEST_STR_LEN + 8];
  if (!configs || !*configs)
    return 0;
  if (!(d = blobs_open (s)))
    return err_set (err, errno, "list blobs");
  while (blobs_next (d, digest))
    {
      _cleanup_free_ char *raw = NULL;
      struct image_manifest m;
      enum doc_kind kind;
      struct stat st;
      size_t len;
      struct err *skip = NULL;
      if (fstatat (s->blobs_fd, digest + 7, &st, AT_SYMLINK_NOFOLLOW) < 0
          || !S_ISREG (st.st_mode) || st.st_size > SCAN_MAX)
        continue;
      if (store_blob_read (s, digest, SCAN_MAX, &raw, &len, &skip) < 0
          || len == 0 || raw[0] != '{'
          || image_doc_kind (NULL, raw, len, &kind, NULL, &skip) < 0
          || kind != DOC_MANIFEST
          || image_manifest_parse (raw, len, &m, &skip) < 0)
        {
          err_free (skip);
          continue;
        }
      if (strv_has (configs, m.config.digest) && !strv_has (*out, digest))
        strv_push (out, xstrdup (digest));
      image_manifest_release (&m);
    }
  return 0;
}

int
store_gc (struct store *s, char *const *extra_roots, uint64_t *freed_bytes,
          size_t *freed_blobs, struct err **err)
{
  _cleanup_close_ int lock = fs_lock (s->root_fd, GC_LOCK, LOCK_EX, err);
  _cleanup_strv_ char **keep = NULL;
  struct store_ref *refs = NULL;
  size_t n = 0;
  DIR *d;
  char digest[DIGEST_STR_LEN + 8];
  int ret = 0;

  *freed_bytes = 0;
  *freed_blobs = 0;
  if (lock < 0 || store_ref_list (s, &refs, &n, err) < 0)
    return err_wrap (err, "prune");
  for (size_t i = 0; i < n && ret == 0; i++)
    ret = image_reachable_blobs (s, refs[i].digest, &keep, err);
  for (size_t i = 0; extra_roots && extra_roots[i] && ret == 0; i++)
    ret = image_reachable_blobs (s, extra_roots[i], &keep, err);
  store_refs_free (refs, n);
  if (ret < 0)
    return err_wrap (err, "prune");

  d = blobs_open (s);
  if (!d)
    return err_set (err, errno, "prune: list blobs");
  while (blobs_next (d, digest))
    {
      struct stat st;
      if (strv_has (keep, digest)
          || fstatat (s->blobs_fd, digest + 7, &st, AT_SYMLINK_NOFOLLOW) < 0)
        continue;
      if (unlinkat (s->blobs_fd, digest + 7, 0) == 0)
        {
          *freed_bytes += (uint64_t)st.st_size;
          (*freed_blobs)++;
        }
    }
  closedir (d);
  remove_old_tmp (s);
  return 0;
}

/* A layer's media type in an OCI manifest: Docker's gzip layers are the
 * same bytes under another name (image.md section 1). */
static const char *
oci_layer_type (const char *mt)
{
  return strcmp (mt, MT_DOCKER_LAYER_GZIP) ? mt : MT_OCI_LAYER_GZIP;
}

/* A seekable layer's annotations (zstd:chunked, eStargz), as given or read
 * from the blob: without them no client finds its TOC. */
static void
layer_annotate (struct store *s, const struct descriptor *d, json_t *l)
{
  _cleanup_free_ char *derived = NULL;
  const char *ann = d->annotations_json;
  enum layer_compression c = layer_compression_of (d->media_type);
  if (!ann && (c == LAYER_GZIP || c == LAYER_ZSTD))
    {
      struct err *e = NULL;
      int fd = store_blob_open (s, d->digest, &e);
      struct stat st;
      if (fd >= 0 && fstat (fd, &st) == 0)
        ann = derived = seekable_annotations (fd, (uint64_t)st.st_size, &e);
      if (fd >= 0)
        close (fd);
      err_free (e); /* a blob we cannot read is just not seekable here */
    }
  json_t *a = ann ? json_loads (ann, 0, NULL) : NULL;
  if (json_is_object (a) && json_object_size (a))
    json_object_set (l, "annotations", a);
  json_decref (a);
}

int
image_store_manifest (struct store *s, const char *config_digest,
                      int64_t config_size, const struct descriptor *layers,
                      size_t n, char **digest, int64_t *size, struct err **err)
{
  json_t *ls = json_array ();
  for (size_t i = 0; i < n; i++)
    {
      json_t *l = json_pack (
          "{s:s,s:s,s:I}", "mediaType", oci_layer_type (layers[i].media_type),
          "digest", layers[i].digest, "size", (json_int_t)layers[i].size);
      layer_annotate (s, &layers[i], l);
      json_array_append_new (ls, l);
    }
  json_t *m = json_pack ("{s:i,s:s,s:{s:s,s:s,s:I},s:o}", "schemaVersion", 2,
                         "mediaType", MT_OCI_MANIFEST, "config", "mediaType",
                         MT_OCI_CONFIG, "digest", config_digest, "size",
                         (json_int_t)config_size, "layers", ls);
  _cleanup_free_ char *body = json_dumps (m, JSON_COMPACT | JSON_SORT_KEYS);
  json_decref (m);
  if (!body)
    return err_set (err, 0, "serialise an image manifest");
  *size = (int64_t)strlen (body);
  if (store_blob_put (s, body, strlen (body), NULL, digest, err) < 0)
    return err_wrap (err, "store an image manifest");
  return 0;
}
