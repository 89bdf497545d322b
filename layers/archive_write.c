/* Saving image archives (see layers/archive.h), written as one tar
 * stream by layers/tarwriter.c (uncompressed, no diff_id: the archive is
 * not a layer).
 *
 * docker-archive layers must be plain tars named by their diff_id: a
 * stored gzip or zstd layer is inflated into the archive (put_inflated). */
#include "layers/archive.h"
#include "layers/decompress.h"
#include "layers/image_store.h"
#include "layers/store.h"
#include "layers/tarwriter.h"
#include "lib/bytepipe.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/xalloc.h"
#include "registry/ref.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define CONTAINERD_NAME "io.containerd.image.name"
/* Layers whose tar looks smaller than this are inflated into memory. */
#define MEMFD_MAX (512ull << 20)

int
archive_format_parse (const char *s, enum archive_format *out, struct err **err)
{
  if (!strcmp (s, "docker-archive"))
    *out = ARCHIVE_DOCKER;
  else if (!strcmp (s, "oci-archive"))
    *out = ARCHIVE_OCI;
  else
    return err_set (err, 0,
                    "unknown format '%s' (want docker-archive or "
                    "oci-archive)",
                    s);
  return 0;
}

struct writer
{
  struct store *s;
  struct tar_writer *tw;
  int fd;
  char **written;  /* blob paths already in the archive */
  uint64_t *sizes; /* their sizes */
};

static int
put_entry (struct writer *w, const char *path, enum tar_type type,
           uint64_t size, struct err **err)
{
  struct tar_entry e = { .type = type,
                         .path = (char *)path,
                         .mode = type == TAR_DIR ? 0755 : 0644,
                         .size = size };
  return tarw_header (w->tw, &e, err);
}

static int
put_file (struct writer *w, const char *path, const void *data, size_t len,
          struct err **err)
{
  if (put_entry (w, path, TAR_REG, len, err) < 0)
    return -1;
  return len ? tarw_data (w->tw, data, len, err) : 0;
}

/* Was path written already (a layer shared by images)? Its size. */
static bool
written (struct writer *w, const char *path, uint64_t *size)
{
  for (size_t i = 0; w->written && w->written[i]; i++)
    if (!strcmp (w->written[i], path))
      {
        if (size)
          *size = w->sizes[i];
        return true;
      }
  return false;
}

/* First time this path is written? Remembers it with its size. */
static bool
first_time_sized (struct writer *w, const char *path, uint64_t size)
{
  size_t n = strv_len (w->written);
  if (written (w, path, NULL))
    return false;
  strv_push (&w->written, xstrdup (path));
  w->sizes = xrealloc (w->sizes, (n + 1) * sizeof *w->sizes);
  w->sizes[n] = size;
  return true;
}

static bool
first_time (struct writer *w, const char *path)
{
  return first_time_sized (w, path, 0);
}

static int
put_blob_fd (struct writer *w, const char *path, int fd, uint64_t size,
             struct err **err)
{
  if (put_entry (w, path, TAR_REG, size, err) < 0)
    return -1;
  return tarw_data_fd (w->tw, fd, size, path, err);
}

/* A stored blob as it is, at blobs/sha256/<hex>. */
static int
put_stored_blob (struct writer *w, const char *digest, struct err **err)
{
  _cleanup_free_ char *path
      = xasprintf ("blobs/sha256/%s", digest_hex (digest));
  _cleanup_close_ int fd = -1;
  struct stat st;
  if (!first_time (w, path))
    return 0;
  if ((fd = store_blob_open (w->s, digest, err)) < 0)
    return -1;
  if (fstat (fd, &st) < 0)
    return err_set (err, errno, "stat blob %s", digest);
  return put_blob_fd (w, path, fd, (uint64_t)st.st_size, err);
}

static int
to_decomp (void *ctx, const void *buf, size_t len, struct err **err)
{
  return layer_decomp_feed (ctx, buf, len, err);
}

/* A stored layer blob's tar, inflated, to sink. */
static int
inflate_blob (struct writer *w, const char *digest, layer_decomp_sink sink,
              void *arg, struct err **err)
{
  _cleanup_close_ int in = store_blob_open (w->s, digest, err);
  struct layer_decomp *d;
  int ret = -1;
  if (in < 0)
    return -1;
  d = layer_decomp_new (sink, arg);
  if (fs_read_each (in, to_decomp, d, NULL, err) == 0
      && layer_decomp_finish (d, err) == 0)
    ret = 0;
  layer_decomp_free (d);
  return ret < 0 ? err_wrap (err, "layer %s", digest) : 0;
}

struct inflate_out
{
  int fd;
  struct digester d;
  uint64_t size;
};

static int
inflate_write (void *arg, const uint8_t *buf, size_t len, struct err **err)
{
  struct inflate_out *o = arg;
  digester_update (&o->d, buf, len);
  o->size += len;
  if (fs_write_all (o->fd, buf, len) < 0)
    return err_set (err, errno, "write a temp file");
  return 0;
}

/* How large a gzip stream's content probably is: its trailer's ISIZE
 * (modulo 4 GiB, and of the last member only: a guess). */
static uint64_t
guess_size (int fd, uint64_t blob_size)
{
  uint8_t t[4];
  if (blob_size < 18 || pread (fd, t, 4, (off_t)blob_size - 4) != 4)
    return UINT64_MAX;
  return (uint64_t)t[0] | (uint64_t)t[1] << 8 | (uint64_t)t[2] << 16
         | (uint64_t)t[3] << 24;
}

/* A temp file for a layer's tar: in memory (memfd) when it looks small
 * enough, else in the store's tmp/ (a large layer must not fill RAM). */
static int
temp_for (struct writer *w, const char *digest, struct err **err)
{
  struct stat st;
  uint64_t guess = UINT64_MAX;
  _cleanup_close_ int in = store_blob_open (w->s, digest, err);
  int fd;
  if (in < 0)
    return -1;
  if (fstat (in, &st) == 0 && st.st_size < (off_t)MEMFD_MAX / 4)
    guess = guess_size (in, (uint64_t)st.st_size);
  if (guess < MEMFD_MAX && (fd = memfd_create ("layer", MFD_CLOEXEC)) >= 0)
    return fd;
  fd = openat (w->s->tmp_fd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd < 0)
    return err_set (err, errno, "create a temp file in '%s/tmp'", w->s->root);
  return fd;
}

/* A compressed layer as its plain tar at path. A tar header needs the
 * size before the data, which a gzip or zstd stream does not tell: the
 * layer is inflated once into a temp file (its diff_id checked before
 * any of it is written), then copied into the archive. Inflating twice
 * instead (measure, then write) cost 60% more CPU. */
static int
put_inflated (struct writer *w, const char *path, const char *digest,
              const char *diff_id, uint64_t *size, struct err **err)
{
  struct inflate_out o = { .fd = temp_for (w, digest, err) };
  char got[DIGEST_STR_LEN + 1];
  int r;
  if (o.fd < 0)
    return -1;
  digester_init (&o.d);
  r = inflate_blob (w, digest, inflate_write, &o, err);
  digester_final (&o.d, got);
  digester_release (&o.d);
  if (r == 0 && strcmp (got, diff_id))
    r = err_set (err, 0, "layer %s: its tar is %s, the config says %s", digest,
                 got, diff_id);
  if (r == 0 && lseek (o.fd, 0, SEEK_SET) < 0)
    r = err_set (err, errno, "seek a temp file");
  if (r == 0)
    {
      *size = o.size;
      r = put_blob_fd (w, path, o.fd, o.size, err);
    }
  close (o.fd);
  return r;
}

/* The worker of the direct way: the diff_id and the write, beside the
 * inflating thread. */
static int
out_consume (void *ctx, const void *data, size_t len, struct err **err)
{
  struct inflate_out *o = ctx;
  digester_update (&o->d, data, len);
  if (fs_write_all (o->fd, data, len) < 0)
    return err_set (err, errno, "write the archive");
  return 0;
}

struct to_worker
{
  struct bytepipe *p;
  uint64_t size;
};

static int
to_worker (void *arg, const uint8_t *buf, size_t len, struct err **err)
{
  struct to_worker *t = arg;
  t->size += len;
  if (bytepipe_put (t->p, buf, len) < 0)
    return err_set (err, 0, "write the archive");
  return 0;
}

/* The same without a temp file, when the archive is a regular file this
 * process can seek in (-o FILE, or stdout redirected to one): a header
 * block is left blank, the layer inflated straight into the archive
 * after it (its diff_id checked on the way), and the header written into
 * the blank once the size is known. The layer is written once instead of
 * twice (temp file, then archive): save of a 128 MB layer 0.45x podman
 * instead of 0.71x (docs/performance.md). A failed check leaves a broken
 * archive, which save's temp file for -o never shows. Returns 1, with
 * nothing written, where it cannot be used. */
static int
put_inflated_direct (struct writer *w, const char *path, const char *digest,
                     const char *diff_id, uint64_t *size, struct err **err)
{
  static const char zeros[512];
  struct tar_entry e = { .type = TAR_REG, .path = (char *)path, .mode = 0644 };
  struct inflate_out o = { .fd = w->fd };
  char got[DIGEST_STR_LEN + 1], h[512];
  struct stat st;
  off_t start;
  int fl = fcntl (w->fd, F_GETFL), r;
  if (fl < 0 || (fl & O_APPEND) || fstat (w->fd, &st) < 0
      || !S_ISREG (st.st_mode))
    return 1;
  if (tarw_flush (w->tw, err) < 0)
    return -1;
  if ((start = lseek (w->fd, 0, SEEK_CUR)) < 0
      || lseek (w->fd, start + 512, SEEK_SET) < 0)
    return 1;
  static const struct bytepipe_ops ops = { .consume = out_consume };
  struct to_worker t = { 0 };
  digester_init (&o.d);
  /* hashing and writing in a thread of their own: a second core */
  if (!(t.p = bytepipe_start (4 << 20, 256 << 10, &ops, &o, err)))
    r = -1;
  else
    {
      r = inflate_blob (w, digest, to_worker, &t, err);
      struct err *we = NULL;
      if (bytepipe_finish (&t.p, r == 0, &we) < 0 && r == 0)
        r = err_set (err, we->errnum, "%s", we->msg);
      err_free (we);
    }
  digester_final (&o.d, got);
  digester_release (&o.d);
  if (r == 0 && strcmp (got, diff_id))
    r = err_set (err, 0, "layer %s: its tar is %s, the config says %s", digest,
                 got, diff_id);
  if (r < 0)
    return -1;
  e.size = o.size = t.size;
  if (tarw_header_block (&e, h) < 0)
    {
      /* 8 GiB or more: a pax header, longer than the blank; start over
         through a temp file */
      if (ftruncate (w->fd, start) < 0 || lseek (w->fd, start, SEEK_SET) < 0)
        return err_set (err, errno, "rewind the archive");
      return 1;
    }
  if (pwrite (w->fd, h, 512, start) != 512
      || fs_write_all (w->fd, zeros, (512 - o.size % 512) % 512) < 0)
    return err_set (err, errno, "write the archive");
  *size = o.size;
  return 0;
}

/* Layer i of img as a plain tar at blobs/sha256/<diff_id hex>; its size
 * goes to *size (for the OCI manifest). */
static int
put_plain_layer (struct writer *w, const struct image *img, size_t i,
                 uint64_t *size, struct err **err)
{
  const struct descriptor *l = &img->manifest.layers[i];
  const char *diff_id = img->config.diff_ids[i];
  _cleanup_free_ char *path
      = xasprintf ("blobs/sha256/%s", digest_hex (diff_id));
  _cleanup_close_ int fd = -1;
  struct stat st;
  if (written (w, path, size))
    return 0;
  if (layer_compression_of (l->media_type) != LAYER_UNCOMPRESSED
      || strcmp (l->digest, diff_id))
    {
      int r = put_inflated_direct (w, path, l->digest, diff_id, size, err);
      if (r == 1)
        r = put_inflated (w, path, l->digest, diff_id, size, err);
      if (r < 0)
        return -1;
      first_time_sized (w, path, *size);
      return 0;
    }
  if ((fd = store_blob_open (w->s, l->digest, err)) < 0)
    return -1;
  if (fstat (fd, &st) < 0)
    return err_set (err, errno, "stat blob %s", l->digest);
  *size = (uint64_t)st.st_size;
  first_time_sized (w, path, *size);
  return put_blob_fd (w, path, fd, *size, err);
}

static int
put_json (struct writer *w, const char *path, json_t *doc, char **digest,
          int64_t *size, struct err **err)
{
  _cleanup_free_ char *s = json_dumps (doc, JSON_COMPACT);
  if (!s)
    return err_set (err, 0, "serialise '%s'", path);
  size_t len = strlen (s);
  if (digest)
    {
      char d[DIGEST_STR_LEN + 1];
      digest_buf (s, len, d);
      *digest = xstrdup (d);
      *size = (int64_t)len;
      _cleanup_free_ char *p = xasprintf ("blobs/sha256/%s", digest_hex (d));
      if (!first_time (w, p))
        return 0;
      return put_file (w, p, s, len, err);
    }
  return put_file (w, path, s, len, err);
}

/* One index.json entry per name (docker 25: the full name for
 * containerd, the tag as the OCI ref.name), one bare entry when none. */
static void
index_add (json_t *manifests, char *const *names, const char *mt,
           const char *digest, int64_t size)
{
  size_t n = strv_len (names);
  for (size_t i = 0; i < (n ? n : 1); i++)
    {
      json_t *e = json_pack ("{s:s,s:s,s:I}", "mediaType", mt, "digest", digest,
                             "size", (json_int_t)size);
      struct ref r;
      struct err *ignored = NULL;
      if (n && ref_parse (names[i], &r, &ignored) == 0)
        {
          json_object_set_new (e, "annotations",
                               json_pack ("{s:s,s:s}", CONTAINERD_NAME,
                                          names[i], STORE_REF_ANNOTATION,
                                          r.tag ? r.tag : "latest"));
          ref_release (&r);
        }
      err_free (ignored);
      json_array_append_new (manifests, e);
    }
}

/* docker-archive: the plain layers, config and a generated OCI manifest,
 * plus its manifest.json item and repositories entries. */
static int
save_docker_image (struct writer *w, const struct image *img,
                   char *const *names, json_t *index, json_t *items,
                   json_t *repos, struct err **err)
{
  size_t n = img->manifest.n_layers;
  json_t *layers = json_array (), *paths = json_array (), *tags;
  _cleanup_free_ char *mdigest = NULL;
  _cleanup_free_ char *cpath
      = xasprintf ("blobs/sha256/%s", digest_hex (img->manifest.config.digest));
  int64_t msize;
  int ret = -1;
  if (strv_len (img->config.diff_ids) != n)
    {
      err_set (err, 0,
               "image has %zu layers but its config lists %zu "
               "diff_ids",
               n, strv_len (img->config.diff_ids));
      goto out;
    }
  if (n == 0)
    {
      err_set (err, 0, "empty export - not implemented");
      goto out;
    }
  for (size_t i = 0; i < n; i++)
    {
      uint64_t size = 0;
      const char *diff_id = img->config.diff_ids[i];
      if (put_plain_layer (w, img, i, &size, err) < 0)
        goto out;
      json_array_append_new (layers, json_pack ("{s:s,s:s,s:I}", "mediaType",
                                                MT_OCI_LAYER, "digest", diff_id,
                                                "size", (json_int_t)size));
      json_array_append_new (
          paths, json_sprintf ("blobs/sha256/%s", digest_hex (diff_id)));
    }
  if (first_time (w, cpath)
      && put_file (w, cpath, img->config_raw, img->config_len, err) < 0)
    goto out;
  json_t *m = json_pack ("{s:i,s:s,s:{s:s,s:s,s:I},s:O}", "schemaVersion", 2,
                         "mediaType", MT_OCI_MANIFEST, "config", "mediaType",
                         MT_OCI_CONFIG, "digest", img->manifest.config.digest,
                         "size", (json_int_t)img->config_len, "layers", layers);
  ret = put_json (w, NULL, m, &mdigest, &msize, err);
  json_decref (m);
  if (ret < 0)
    goto out;
  ret = -1;
  index_add (index, names, MT_OCI_MANIFEST, mdigest, msize);
  tags = names && names[0] ? json_array () : json_null ();
  for (size_t i = 0; names && names[i]; i++)
    {
      struct ref r;
      if (ref_parse (names[i], &r, err) < 0)
        {
          json_decref (tags);
          goto out;
        }
      char *fam = ref_familiar (&r);
      json_array_append_new (tags, json_string (fam));
      /* repositories: {"busybox": {"latest": "<top layer>"}} */
      char *colon = strrchr (fam, ':');
      *colon = '\0';
      json_t *repo = json_object_get (repos, fam);
      if (!repo)
        json_object_set_new (repos, fam, repo = json_object ());
      json_object_set_new (
          repo, r.tag, json_string (digest_hex (img->config.diff_ids[n - 1])));
      free (fam);
      ref_release (&r);
    }
  json_array_append_new (items, json_pack ("{s:s,s:o,s:O}", "Config", cpath,
                                           "RepoTags", tags, "Layers", paths));
  ret = 0;
out:
  json_decref (layers);
  json_decref (paths);
  return ret;
}

/* oci-archive: the image's blobs as stored; its manifest keeps its
 * digest. */
static int
save_oci_image (struct writer *w, const struct image *img, char *const *names,
                json_t *index, struct err **err)
{
  for (size_t i = 0; i < img->manifest.n_layers; i++)
    if (put_stored_blob (w, img->manifest.layers[i].digest, err) < 0)
      return -1;
  if (put_stored_blob (w, img->manifest.config.digest, err) < 0
      || put_stored_blob (w, img->manifest_digest, err) < 0)
    return -1;
  index_add (index, names, img->manifest.media_type, img->manifest_digest,
             (int64_t)img->manifest_len);
  return 0;
}

static int
write_all (struct writer *w, const struct archive_item *items, size_t n,
           enum archive_format f, struct err **err)
{
  json_t *index = json_array (), *list = json_array (), *repos = json_object ();
  struct image *imgs = xcalloc (n + 1, sizeof *imgs);
  char ***names = xcalloc (n + 1, sizeof *names);
  size_t ni = 0;
  int ret = -1;
  /* one entry per image, with every name asked for (by config ID) */
  for (size_t i = 0; i < n; i++)
    {
      struct image img;
      size_t j;
      if (image_load (w->s, items[i].digest, items[i].media_type, NULL, &img,
                      err)
          < 0)
        goto out;
      for (j = 0; j < ni; j++)
        if (!strcmp (imgs[j].manifest.config.digest,
                     img.manifest.config.digest))
          break;
      if (j == ni)
        imgs[ni++] = img;
      else
        image_release (&img);
      for (size_t k = 0; items[i].names && items[i].names[k]; k++)
        {
          bool dup = false;
          for (size_t l = 0; names[j] && names[j][l]; l++)
            dup |= !strcmp (names[j][l], items[i].names[k]);
          if (!dup)
            strv_push (&names[j], xstrdup (items[i].names[k]));
        }
    }
  if (put_entry (w, "blobs", TAR_DIR, 0, err) < 0
      || put_entry (w, "blobs/sha256", TAR_DIR, 0, err) < 0)
    goto out;
  for (size_t j = 0; j < ni; j++)
    if ((f == ARCHIVE_DOCKER
             ? save_docker_image (w, &imgs[j], names[j], index, list, repos,
                                  err)
             : save_oci_image (w, &imgs[j], names[j], index, err))
        < 0)
      {
        err_wrap (err, "save '%s'",
                  names[j] && names[j][0] ? names[j][0]
                                          : imgs[j].manifest.config.digest);
        goto out;
      }
  json_t *ix = json_pack ("{s:i,s:s,s:O}", "schemaVersion", 2, "mediaType",
                          MT_OCI_INDEX, "manifests", index);
  ret = put_json (w, "index.json", ix, NULL, NULL, err);
  json_decref (ix);
  if (ret == 0 && f == ARCHIVE_DOCKER)
    ret = put_json (w, "manifest.json", list, NULL, NULL, err);
  if (ret == 0)
    ret = put_file (w, "oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}", 30,
                    err);
  if (ret == 0 && f == ARCHIVE_DOCKER && json_object_size (repos))
    ret = put_json (w, "repositories", repos, NULL, NULL, err);
out:
  for (size_t j = 0; j < ni; j++)
    image_release (&imgs[j]);
  for (size_t j = 0; j < n; j++)
    strv_free (names[j]);
  free (names);
  free (imgs);
  json_decref (index);
  json_decref (list);
  json_decref (repos);
  return ret;
}

int
archive_save (struct store *s, const struct archive_item *items, size_t n,
              enum archive_format f, int fd, struct err **err)
{
  struct writer w = { .s = s, .fd = fd };
  struct layer_sink sink = { layer_sink_fd_write, &w.fd, false };
  struct layer_result res;
  int ret = -1;
  if (!(w.tw = tarw_new (LAYER_UNCOMPRESSED, 0, &sink, err)))
    return -1;
  tarw_no_diff_id (w.tw);
  if (write_all (&w, items, n, f, err) == 0
      && tarw_finish (w.tw, &res, err) == 0)
    ret = 0;
  tarw_free (w.tw);
  strv_free (w.written);
  free (w.sizes);
  return ret;
}
