/* Reading file contents through a TOC (toc.h): decompress a chunk's range
 * of the blob and check it against the TOC's digests before anyone sees
 * it. */
#include "layers/decompress.h"
#include "layers/toc.h"
#include "lib/err.h"
#include "lib/xalloc.h"

#include <inttypes.h>
#include <string.h>

/* Chunks up to this size are checked before they go to a sink; bigger ones
 * (only a TOC of another writer makes them) stream, checked at their end. */
#define TOC_CHUNK_BUFFER_MAX (64u << 20)

typedef int (*chunk_emit) (void *arg, const uint8_t *buf, size_t len,
                           struct err **err);

/* What one chunk's decompression passes on: the bytes after inner_offset,
 * up to size, hashed on the way. */
struct chunk_run
{
  uint64_t skip, want, got;
  struct digester d;
  chunk_emit emit;
  void *arg;
};

static int
chunk_sink (void *arg, const uint8_t *buf, size_t len, struct err **err)
{
  struct chunk_run *r = arg;
  if (r->skip)
    {
      size_t n = len < r->skip ? len : (size_t)r->skip;
      r->skip -= n;
      buf += n;
      len -= n;
    }
  if (len > r->want - r->got)
    len = (size_t)(r->want - r->got); /* what follows is another entry's */
  if (!len)
    return 0;
  digester_update (&r->d, buf, len);
  r->got += len;
  return r->emit (r->arg, buf, len, err);
}

static int
chunk_run (const struct toc *t, const struct toc_chunk *c, const uint8_t *comp,
           size_t comp_len, chunk_emit emit, void *arg, struct err **err)
{
  struct chunk_run r
      = { .skip = c->inner_offset, .want = c->size, .emit = emit, .arg = arg };
  enum layer_compression want
      = t->format == TOC_ZSTD_CHUNKED ? LAYER_ZSTD : LAYER_GZIP;
  char got[DIGEST_STR_LEN + 1];
  int rc = 0;
  if (comp_len != c->end - c->offset)
    return err_set (err, 0,
                    "toc: chunk at offset %" PRIu64 ": %zu bytes given, the "
                    "range has %" PRIu64,
                    c->offset, comp_len, c->end - c->offset);
  digester_init (&r.d);
  if (c->zeros)
    {
      static const uint8_t zeros[4096];
      while (rc == 0 && r.got < r.want)
        {
          uint64_t n
              = r.want - r.got < sizeof zeros ? r.want - r.got : sizeof zeros;
          rc = chunk_sink (&r, zeros, (size_t)n, err);
        }
    }
  else if (layer_compression_sniff (comp, comp_len) != want)
    rc = err_set (err, 0, "toc: chunk at offset %" PRIu64 " is not %s data",
                  c->offset, want == LAYER_ZSTD ? "zstd" : "gzip");
  else
    {
      struct layer_decomp *d = layer_decomp_new (chunk_sink, &r);
      rc = layer_decomp_feed (d, comp, comp_len, err);
      if (rc == 0)
        rc = layer_decomp_finish (d, err);
      layer_decomp_free (d);
      if (rc < 0)
        err_wrap (err, "toc: chunk at offset %" PRIu64, c->offset);
    }
  if (rc == 0 && r.got != r.want)
    rc = err_set (err, 0,
                  "toc: chunk at offset %" PRIu64 " holds %" PRIu64
                  " bytes, the toc says %" PRIu64,
                  c->offset, r.got, r.want);
  digester_final (&r.d, got);
  digester_release (&r.d);
  if (rc == 0 && strcmp (got, c->digest) != 0)
    rc = err_set (err, 0,
                  "toc: chunk at offset %" PRIu64
                  " digest mismatch: %s, expected %s",
                  c->offset, got, c->digest);
  return rc;
}

static int
copy_out (void *arg, const uint8_t *buf, size_t len, struct err **err)
{
  uint8_t **p = arg;
  memcpy (*p, buf, len);
  *p += len;
  return 0;
}

int
toc_chunk_decompress (const struct toc *t, const struct toc_chunk *c,
                      const uint8_t *comp, size_t comp_len, uint8_t *out,
                      struct err **err)
{
  uint8_t *p = out;
  return chunk_run (t, c, comp, comp_len, copy_out, &p, err);
}

/* Whole-file digest on the way to the caller's sink. */
struct file_run
{
  struct digester d;
  toc_sink sink;
  void *arg;
};

static int
file_emit (void *arg, const uint8_t *buf, size_t len, struct err **err)
{
  struct file_run *f = arg;
  digester_update (&f->d, buf, len);
  return f->sink (f->arg, buf, len, err);
}

int
toc_entry_decompress (const struct toc *t, const struct toc_entry *e,
                      const uint8_t *comp, size_t comp_len,
                      uint64_t comp_offset, toc_sink sink, void *arg,
                      struct err **err)
{
  struct file_run f = { .sink = sink, .arg = arg };
  char got[DIGEST_STR_LEN + 1];
  int rc = 0;
  if (e->type != TOC_REG)
    return err_set (err, 0, "toc: '%s' is not a regular file", e->name);
  digester_init (&f.d);
  for (size_t i = 0; rc == 0 && i < e->n_chunks; i++)
    {
      const struct toc_chunk *c = &e->chunks[i];
      if (c->offset < comp_offset || c->end - comp_offset > comp_len)
        {
          rc = err_set (err, 0,
                        "toc: '%s': the bytes given do not cover its range "
                        "[%" PRIu64 ", %" PRIu64 ")",
                        e->name, c->offset, c->end);
          break;
        }
      const uint8_t *p = comp + (c->offset - comp_offset);
      size_t n = (size_t)(c->end - c->offset);
      if (c->size > TOC_CHUNK_BUFFER_MAX)
        rc = chunk_run (t, c, p, n, file_emit, &f, err);
      else
        {
          uint8_t *buf = xmalloc ((size_t)c->size);
          rc = toc_chunk_decompress (t, c, p, n, buf, err);
          if (rc == 0)
            rc = file_emit (&f, buf, (size_t)c->size, err);
          free (buf);
        }
      if (rc < 0)
        err_wrap (err, "'%s'", e->name);
    }
  digester_final (&f.d, got);
  digester_release (&f.d);
  if (rc == 0 && e->size && strcmp (got, e->digest) != 0)
    rc = err_set (err, 0, "toc: '%s' digest mismatch: %s, expected %s", e->name,
                  got, e->digest);
  return rc;
}
