/* A seekable layer's descriptor annotations, derived from the blob itself
 * (seekable.h): whoever writes a manifest for a layer (build, commit, push
 * with --compression) gets them from the stored blob, so no layer record
 * has to carry them. */
#include "layers/seekable.h"
#include "lib/err.h"
#include "lib/xalloc.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <unistd.h>

static int
read_at (int fd, void *buf, size_t len, uint64_t off, struct err **err)
{
  size_t got = 0;
  while (got < len)
    {
      ssize_t n = pread (fd, (char *)buf + got, len - got, (off_t)(off + got));
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return err_set (err, n < 0 ? errno : 0, "read layer blob");
      got += (size_t)n;
    }
  return 0;
}

/* eStargz's uncompressed size: every gzip member of the layer starts at a
 * chunk's offset, the TOC's or the footer's, and ends with its size
 * (ISIZE, the last 4 bytes); their sum is the tar's size. */
static int
estargz_usize (int fd, const struct toc *t, uint64_t *out, struct err **err)
{
  uint64_t sum = 0, prev = 0;
  /* member starts in blob order: chunks (in TOC order), then the TOC and
     the footer */
  for (size_t i = 0; i <= t->n_entries; i++)
    {
      const struct toc_entry *e = i < t->n_entries ? &t->entries[i] : NULL;
      size_t n = e ? e->n_chunks : 2;
      for (size_t j = 0; j < n; j++)
        {
          uint64_t start = e        ? e->chunks[j].offset
                           : j == 0 ? t->loc.offset
                                    : t->loc.offset + t->loc.length;
          if (start <= prev)
            continue;
          uint8_t b[4];
          if (start < 4 || read_at (fd, b, 4, start - 4, err) < 0)
            return -1;
          sum += (uint64_t)b[0] | (uint64_t)b[1] << 8 | (uint64_t)b[2] << 16
                 | (uint64_t)b[3] << 24;
          prev = start;
        }
    }
  *out = sum;
  return 0;
}

char *
seekable_annotations (int fd, uint64_t size, struct err **err)
{
  uint8_t tail[TOC_FOOTER_MAX];
  size_t n = size < sizeof tail ? (size_t)size : sizeof tail;
  struct toc_location loc = { 0 };
  if (read_at (fd, tail, n, size - n, err) < 0)
    return NULL;
  int found = toc_locate_footer (tail, n, size, &loc, err);
  if (found <= 0)
    {
      /* not one of ours: a plain layer is no error */
      err_clear (err);
      return NULL;
    }
  uint8_t *buf = xmalloc (loc.length ? (size_t)loc.length : 1);
  struct toc *t = NULL;
  if (read_at (fd, buf, (size_t)loc.length, loc.offset, err) == 0)
    t = toc_parse (&loc, buf, (size_t)loc.length, size, err);
  free (buf);
  if (!t)
    return NULL;
  json_t *a = json_object ();
  char v[128];
  if (t->format == TOC_ZSTD_CHUNKED)
    {
      snprintf (v, sizeof v, "%" PRIu64 ":%" PRIu64 ":%" PRIu64 ":1",
                loc.offset, loc.length, loc.uncompressed_length);
      json_object_set_new (a, TOC_ANN_ZSTD_CHECKSUM,
                           json_string (t->toc_digest));
      json_object_set_new (a, TOC_ANN_ZSTD_POSITION, json_string (v));
      /* podman < 4.4 (containers/storage < 1.45) read only these */
      json_object_set_new (a, TOC_ANN_ZSTD_CHECKSUM_OLD,
                           json_string (t->toc_digest));
      json_object_set_new (a, TOC_ANN_ZSTD_POSITION_OLD, json_string (v));
      if (loc.tarsplit_length)
        {
          snprintf (v, sizeof v, "%" PRIu64 ":%" PRIu64 ":%" PRIu64,
                    loc.tarsplit_offset, loc.tarsplit_length,
                    loc.tarsplit_uncompressed_length);
          json_object_set_new (a, TOC_ANN_ZSTD_TARSPLIT, json_string (v));
        }
    }
  else
    {
      uint64_t usize;
      if (estargz_usize (fd, t, &usize, err) < 0)
        {
          json_decref (a);
          toc_free (t);
          return NULL;
        }
      snprintf (v, sizeof v, "%" PRIu64, usize);
      json_object_set_new (a, TOC_ANN_ESTARGZ_DIGEST,
                           json_string (t->toc_digest));
      json_object_set_new (a, TOC_ANN_ESTARGZ_USIZE, json_string (v));
    }
  toc_free (t);
  char *s = json_dumps (a, JSON_COMPACT | JSON_SORT_KEYS);
  json_decref (a);
  return s;
}
