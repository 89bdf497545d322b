/* Partial pull of a zstd:chunked layer: see registry/partial.h. */
#include "registry/partial.h"
#include "layers/digest.h"
#include "layers/filecache.h"
#include "layers/image.h"
#include "layers/snapshot.h"
#include "layers/store.h"
#include "layers/toc.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/log.h"
#include "lib/progress.h"
#include "lib/xalloc.h"
#include "registry/ranges.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* Missing ranges closer than this are fetched as one: the few bytes in
 * between (another file's header frame) cost less than another part. */
#define COALESCE_GAP (16u << 10)
#define READ_CHUNK (256u << 10)

/* --- the TOC and the tar-split ------------------------------------------ */

struct meta
{
  struct byterange r[2];
  uint8_t *buf[2];
};

static int
to_meta (void *ctx, size_t i, uint64_t off, const void *data, size_t len,
         struct err **err)
{
  struct meta *m = ctx;
  memcpy (m->buf[i] + (off - m->r[i].off), data, len);
  return 0;
}

/* 0 with m filled (r[0] the TOC), 1 Range ignored, -1. */
static int
fetch_meta (struct reg_repo *repo, const struct descriptor *d,
            const struct toc_location *loc, struct meta *m, struct err **err)
{
  struct byterange rs[2] = { { loc->offset, loc->length },
                             { loc->tarsplit_offset, loc->tarsplit_length } };
  bool swap = rs[1].off < rs[0].off;
  int rc;
  if (rs[0].len > TOC_MAX_SIZE || rs[1].len > TOC_MAX_SIZE
      || rs[0].off + rs[0].len > (uint64_t)d->size
      || rs[1].off + rs[1].len > (uint64_t)d->size
      || (swap ? rs[1].off + rs[1].len > rs[0].off
               : rs[0].off + rs[0].len > rs[1].off))
    return err_set (err, 0,
                    "toc: annotations place the toc or the tar-split "
                    "outside the blob");
  if (swap)
    {
      struct byterange t = rs[0];
      rs[0] = rs[1], rs[1] = t;
    }
  m->r[0] = rs[0], m->r[1] = rs[1];
  m->buf[0] = xmalloc (rs[0].len);
  m->buf[1] = xmalloc (rs[1].len);
  rc = reg_blob_ranges (repo, d->digest, m->r, 2, to_meta, m, err);
  if (swap)
    {
      uint8_t *b = m->buf[0];
      m->buf[0] = m->buf[1], m->buf[1] = b;
      struct byterange t = m->r[0];
      m->r[0] = m->r[1], m->r[1] = t;
    }
  return rc;
}

/* --- the missing files' chunks ------------------------------------------ */

struct plan
{
  bool *local; /* per entry: from the file cache */
  size_t files_local, files_fetched;
  uint64_t bytes_local;
  struct byterange *rs;
  size_t n_rs;
};

static int
cmp_range (const void *a, const void *b)
{
  const struct byterange *x = a, *y = b;
  return x->off < y->off ? -1 : x->off > y->off;
}

static void
make_plan (struct store *s, const struct toc *t, struct plan *pl)
{
  size_t cap = 0;
  pl->local = xcalloc (t->n_entries + 1, sizeof *pl->local);
  for (size_t i = 0; i < t->n_entries; i++)
    {
      const struct toc_entry *e = &t->entries[i];
      if (e->type != TOC_REG || !e->size)
        continue;
      if (filecache_has (s, e->digest))
        {
          pl->local[i] = true;
          pl->files_local++;
          pl->bytes_local += e->size;
          continue;
        }
      pl->files_fetched++;
      for (size_t k = 0; k < e->n_chunks; k++)
        {
          if (pl->n_rs == cap)
            pl->rs = xrealloc (pl->rs,
                               (cap = cap ? 2 * cap : 64) * sizeof *pl->rs);
          pl->rs[pl->n_rs++]
              = (struct byterange){ e->chunks[k].offset,
                                    e->chunks[k].end - e->chunks[k].offset };
        }
    }
  if (pl->n_rs)
    qsort (pl->rs, pl->n_rs, sizeof *pl->rs, cmp_range);
  /* chunks of one file may share a frame (eStargz); overlaps merge too */
  for (size_t i = 1; i < pl->n_rs; i++)
    if (pl->rs[i].off < pl->rs[i - 1].off + pl->rs[i - 1].len)
      {
        uint64_t end = pl->rs[i].off + pl->rs[i].len;
        pl->rs[i].off = pl->rs[i - 1].off + pl->rs[i - 1].len;
        pl->rs[i].len = end > pl->rs[i].off ? end - pl->rs[i].off : 0;
      }
  size_t k = 0;
  for (size_t i = 0; i < pl->n_rs; i++)
    if (pl->rs[i].len)
      pl->rs[k++] = pl->rs[i];
  pl->n_rs = byteranges_coalesce (pl->rs, k, COALESCE_GAP);
}

static int
to_file (void *ctx, size_t i, uint64_t off, const void *data, size_t len,
         struct err **err)
{
  int fd = *(int *)ctx;
  if (pwrite (fd, data, len, (off_t)off) != (ssize_t)len)
    return err_set (err, errno, "write a fetched range");
  return 0;
}

/* --- the tar, rebuilt into the snapshot ---------------------------------- */

struct rebuild
{
  struct store *s;
  const struct toc *t;
  const struct plan *pl;
  struct snapshot_tx *tx;
  const uint8_t *map; /* the fetched ranges, at their blob offsets */
  size_t next;        /* the TOC entry the next file is looked for from */
};

static int
feed (void *arg, const uint8_t *buf, size_t len, struct err **err)
{
  struct rebuild *r = arg;
  return snapshot_tx_feed (r->tx, buf, len, err);
}

static const char *
norm (const char *name)
{
  for (;;)
    if (name[0] == '/')
      name++;
    else if (name[0] == '.' && name[1] == '/')
      name += 2;
    else
      return name;
}

/* A file from the cache, hashed as it goes into the tar. */
static int
feed_local (struct rebuild *r, const struct toc_entry *e, struct err **err)
{
  _cleanup_free_ uint8_t *buf = xmalloc (READ_CHUNK);
  char got[DIGEST_STR_LEN + 1];
  struct digester d;
  uint64_t left = e->size;
  int fd = filecache_open (r->s, e->digest), rc = 0;
  if (fd < 0)
    return err_set (err, errno, "file cache entry %s", e->digest);
  digester_init (&d);
  while (rc == 0 && left)
    {
      ssize_t n = read (fd, buf, left < READ_CHUNK ? left : READ_CHUNK);
      if (n <= 0)
        rc = err_set (err, n < 0 ? errno : 0,
                      "file cache entry %s is shorter than '%s'", e->digest,
                      e->name);
      else
        {
          digester_update (&d, buf, (size_t)n);
          left -= (uint64_t)n;
          rc = feed (r, buf, (size_t)n, err);
        }
    }
  close (fd);
  digester_final (&d, got);
  digester_release (&d);
  if (rc == 0 && strcmp (got, e->digest))
    {
      /* never passed on: the snapshot is aborted; a later pull fetches it */
      filecache_drop (r->s, e->digest);
      rc = err_set (err, 0, "file cache entry %s is damaged (removed)",
                    e->digest);
    }
  return rc;
}

static int
feed_fetched (struct rebuild *r, const struct toc_entry *e, struct err **err)
{
  uint64_t lo = UINT64_MAX, hi = 0;
  for (size_t k = 0; k < e->n_chunks; k++)
    {
      if (e->chunks[k].offset < lo)
        lo = e->chunks[k].offset;
      if (e->chunks[k].end > hi)
        hi = e->chunks[k].end;
    }
  return toc_entry_decompress (r->t, e, r->map + lo, (size_t)(hi - lo), lo,
                               feed, r, err);
}

static int
on_record (void *arg, const uint8_t *raw, size_t raw_len, const char *name,
           uint64_t size, struct err **err)
{
  struct rebuild *r = arg;
  const struct toc *t = r->t;
  const char *want;
  size_t i;
  if (!name)
    return feed (r, raw, raw_len, err);
  if (!size)
    return 0;
  want = norm (name);
  /* in tar order: the next regular file of that name (a layer may name a
   * path twice; toc_lookup would give the last) */
  for (i = r->next; i < t->n_entries; i++)
    if (t->entries[i].type == TOC_REG && !strcmp (t->entries[i].name, want))
      break;
  if (i == t->n_entries)
    return err_set (err, 0, "toc: the tar-split names '%s', the toc does not",
                    name);
  r->next = i + 1;
  if (t->entries[i].size != size)
    return err_set (err, 0, "toc: '%s' has %" PRIu64 " bytes, the tar %" PRIu64,
                    want, t->entries[i].size, size);
  return r->pl->local[i] ? feed_local (r, &t->entries[i], err)
                         : feed_fetched (r, &t->entries[i], err);
}

/* --- the layer ------------------------------------------------------------ */

static void
plan_release (struct plan *pl)
{
  free (pl->local);
  free (pl->rs);
}

/* Fetch what is missing and make the snapshot: 0, -1. */
static int
build (struct reg_repo *repo, struct store *s, const struct descriptor *d,
       const struct toc *t, const struct meta *m, const struct plan *pl,
       const char *diff_id, const char *chain_id, struct err **err)
{
  struct rebuild r = { .s = s, .t = t, .pl = pl };
  uint8_t *map = MAP_FAILED;
  int fd, rc = -1;
  fd = openat (s->tmp_fd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd < 0)
    return err_set (err, errno, "make a temp file in '%s/tmp'", s->root);
  if (ftruncate (fd, (off_t)d->size) < 0)
    {
      err_set (err, errno, "make a temp file in '%s/tmp'", s->root);
      goto out;
    }
  if (pl->n_rs)
    {
      int got = reg_blob_ranges (repo, d->digest, pl->rs, pl->n_rs, to_file,
                                 &fd, err);
      if (got != 0)
        {
          if (got == 1)
            err_set (err, 0, "registry stopped answering Range requests");
          goto out;
        }
    }
  map = mmap (NULL, (size_t)d->size, PROT_READ, MAP_SHARED, fd, 0);
  if (map == MAP_FAILED)
    {
      err_set (err, errno, "map the fetched ranges");
      goto out;
    }
  r.map = map;
  rc = snapshot_begin (s, chain_id, diff_id, true, &r.tx, err);
  if (rc != 0)
    {
      rc = rc < 0 ? -1 : 0; /* 1: made meanwhile by another process */
      goto out;
    }
  rc = toc_tarsplit_walk (t, m->buf[1], m->r[1].len, on_record, &r, err);
  if (rc == 0)
    rc = snapshot_commit (steal_pointer (&r.tx), err);
  else
    snapshot_abort (steal_pointer (&r.tx));
out:
  if (map != MAP_FAILED)
    munmap (map, (size_t)d->size);
  close (fd);
  return rc;
}

int
reg_partial_layer (struct reg_repo *repo, struct store *s,
                   const struct descriptor *d, const char *diff_id,
                   const char *chain_id, struct progress *p, struct err **err)
{
  struct toc_location loc = { 0 };
  struct meta m = { 0 };
  struct plan pl = { 0 };
  struct toc *t = NULL;
  struct err *e = NULL;
  char label[20];
  int rc;
  if (toc_locate_annotations (d->annotations_json, &loc, &e) != 1
      || loc.format != TOC_ZSTD_CHUNKED || !loc.tarsplit_length
      || store_has_blob (s, d->digest))
    {
      err_free (e);
      return 1;
    }
  if (snapshot_exists (s, chain_id))
    return 0; /* pulled in part before: its blob is not kept */
  rc = fetch_meta (repo, d, &loc, &m, err);
  if (rc == 0
      && !(t = toc_parse (&loc, m.buf[0], m.r[0].len, (uint64_t)d->size, err)))
    rc = -1;
  if (rc == 0)
    {
      make_plan (s, t, &pl);
      if (!pl.files_local)
        rc = 1; /* nothing to save: one stream is better */
    }
  if (rc == 0)
    {
      uint64_t fetch = 0;
      for (size_t i = 0; i < pl.n_rs; i++)
        fetch += pl.rs[i].len;
      log_debug ("layer %s: %zu files from the store, %zu fetched in %zu "
                 "ranges (%" PRIu64 " of %" PRId64 " bytes)",
                 d->digest, pl.files_local, pl.files_fetched, pl.n_rs, fetch,
                 d->size);
      rc = build (repo, s, d, t, &m, &pl, diff_id, chain_id, err);
    }
  if (rc == 0)
    {
      struct err *ignored = NULL;
      int id;
      if (filecache_add (s, chain_id, t, &ignored) < 0)
        {
          log_debug ("file cache: %s", ignored->msg);
          err_free (ignored);
        }
      snprintf (label, sizeof label, "%.12s", digest_hex (d->digest));
      id = progress_add (p, label, d->size);
      progress_done (p, id, "Pull complete (partial)");
    }
  if (rc == 1)
    log_debug ("layer %s: a full pull", d->digest);
  toc_free (t);
  plan_release (&pl);
  free (m.buf[0]);
  free (m.buf[1]);
  return rc;
}

void
reg_partial_remember (struct store *s, const struct descriptor *d,
                      const char *chain_id)
{
  struct toc_location loc = { 0 };
  struct err *e = NULL;
  _cleanup_free_ uint8_t *buf = NULL;
  struct toc *t = NULL;
  int fd;
  if (toc_locate_annotations (d->annotations_json, &loc, &e) != 1
      || loc.format != TOC_ZSTD_CHUNKED || !loc.length
      || loc.length > TOC_MAX_SIZE || !snapshot_exists (s, chain_id))
    goto out;
  if ((fd = store_blob_open (s, d->digest, &e)) < 0)
    goto out;
  buf = xmalloc (loc.length);
  if (pread (fd, buf, loc.length, (off_t)loc.offset) != (ssize_t)loc.length)
    err_set (&e, errno, "read the toc of %s", d->digest);
  else if ((t = toc_parse (&loc, buf, loc.length, (uint64_t)d->size, &e)))
    filecache_add (s, chain_id, t, &e);
  close (fd);
out:
  if (e)
    log_debug ("file cache: layer %s: %s", d->digest, e->msg);
  err_free (e);
  toc_free (t);
}
