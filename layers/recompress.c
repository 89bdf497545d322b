/* Recompress a stored image's layers (recompress.h). */
#include "layers/recompress.h"
#include "layers/decompress.h"
#include "layers/tarwriter.h"
#include "layers/toc.h"
#include "lib/err.h"
#include "lib/xalloc.h"

#include <errno.h>
#include <jansson.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The blob's seekable format, from its footer (TOC_NONE: a plain one). */
static enum toc_format
blob_format (int fd)
{
  struct stat st;
  uint8_t tail[TOC_FOOTER_MAX];
  struct toc_location loc = { 0 };
  struct err *e = NULL;
  if (fstat (fd, &st) < 0 || st.st_size < (off_t)sizeof tail
      || pread (fd, tail, sizeof tail, st.st_size - (off_t)sizeof tail)
             != (ssize_t)sizeof tail
      || toc_locate_footer (tail, sizeof tail, (uint64_t)st.st_size, &loc, &e)
             <= 0)
    loc.format = TOC_NONE;
  err_free (e);
  return loc.format;
}

/* Does a layer of this media type (and blob) have to be written again? */
static bool
needs (enum layer_compression want, enum layer_compression have, int fd)
{
  switch (want)
    {
    case LAYER_ZSTD_CHUNKED:
      return have != LAYER_ZSTD || blob_format (fd) != TOC_ZSTD_CHUNKED;
    case LAYER_ESTARGZ:
      return have != LAYER_GZIP || blob_format (fd) != TOC_ESTARGZ;
    default:
      return have != want;
    }
}

static int
to_writer (void *arg, const uint8_t *buf, size_t len, struct err **err)
{
  return tarw_raw (arg, buf, len, err);
}

/* The blob in fd, decompressed, into a new store blob of compression c. */
static int
convert (struct store *s, int fd, enum layer_compression c,
         struct layer_result *res, struct err **err)
{
  struct layer_store_out lo;
  struct tar_writer *tw = NULL;
  struct layer_decomp *d = NULL;
  uint8_t *buf = xmalloc (1u << 20);
  ssize_t n;
  int rc = -1;
  if (layer_store_begin (s, &lo, err) < 0)
    goto out;
  if (!(tw = tarw_new (c, 0, &lo.sink, err)))
    goto abort;
  d = layer_decomp_new (to_writer, tw);
  while ((n = read (fd, buf, 1u << 20)) != 0)
    {
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          err_set (err, errno, "read layer");
          goto abort;
        }
      if (layer_decomp_feed (d, buf, (size_t)n, err) < 0)
        goto abort;
    }
  if (layer_decomp_finish (d, err) < 0 || tarw_finish (tw, res, err) < 0
      || layer_store_commit (&lo, res, err) < 0)
    goto abort;
  rc = 0;
  goto out;
abort:
  layer_store_abort (&lo);
out:
  layer_decomp_free (d);
  tarw_free (tw);
  free (buf);
  return rc;
}

int
image_recompress (struct store *s, const struct image *img,
                  enum layer_compression c, char **digest, struct err **err)
{
  const struct image_manifest *m = &img->manifest;
  struct descriptor *ls = xcalloc (m->n_layers + 1, sizeof *ls);
  char **owned = xcalloc (m->n_layers + 1, sizeof *owned);
  json_t *config = json_loadb (img->config_raw, img->config_len, 0, NULL);
  json_t *diff_ids
      = json_object_get (json_object_get (config, "rootfs"), "diff_ids");
  bool changed = false, config_changed = false;
  int rc = -1;
  if (!json_is_array (diff_ids) || json_array_size (diff_ids) != m->n_layers)
    {
      err_set (err, 0, "the image's config does not list its layers");
      goto out;
    }
  for (size_t i = 0; i < m->n_layers; i++)
    {
      const struct descriptor *l = &m->layers[i];
      enum layer_compression have = layer_compression_of (l->media_type);
      ls[i] = (struct descriptor){ .media_type = l->media_type,
                                   .digest = l->digest,
                                   .size = l->size,
                                   .annotations_json = l->annotations_json };
      if (have == LAYER_UNKNOWN)
        continue; /* foreign: pushed (or not) as it is */
      int fd = store_blob_open (s, l->digest, err);
      if (fd < 0)
        goto out;
      struct layer_result res = { 0 };
      int r = needs (c, have, fd) ? convert (s, fd, c, &res, err) : 1;
      close (fd);
      if (r < 0)
        {
          err_wrap (err, "recompress layer %s", l->digest);
          goto out;
        }
      if (r > 0)
        continue;
      changed = true;
      owned[i] = xstrdup (res.digest);
      ls[i] = (struct descriptor){ .media_type = (char *)res.media_type,
                                   .digest = owned[i],
                                   .size = res.size };
      const char *old = json_string_value (json_array_get (diff_ids, i));
      if (!old || strcmp (old, res.diff_id) != 0)
        {
          json_array_set_new (diff_ids, i, json_string (res.diff_id));
          config_changed = true;
        }
    }
  if (!changed)
    {
      *digest = xstrdup (img->manifest_digest);
      rc = 0;
      goto out;
    }
  _cleanup_free_ char *cfg_digest = NULL;
  int64_t cfg_size = (int64_t)img->config_len, size;
  if (config_changed)
    {
      _cleanup_free_ char *body
          = json_dumps (config, JSON_COMPACT | JSON_SORT_KEYS);
      cfg_size = (int64_t)strlen (body);
      if (store_blob_put (s, body, strlen (body), NULL, &cfg_digest, err) < 0)
        goto out;
    }
  else
    cfg_digest = xstrdup (m->config.digest);
  rc = image_store_manifest (s, cfg_digest, cfg_size, ls, m->n_layers, digest,
                             &size, err);
out:
  for (size_t i = 0; i < m->n_layers; i++)
    free (owned[i]);
  free (owned);
  free (ls);
  json_decref (config);
  return rc;
}
