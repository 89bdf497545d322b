/* Seekable layer writer (seekable.h). The tar comes in as bytes; it is cut
 * at entry boundaries with layers/tar.c's reader (which also gives each
 * entry's metadata): header blocks (and the padding before them) go into
 * one frame or member, each file's content into frames or members of its
 * own. Formats (toc.h): zstd:chunked keeps the tar exactly (its tar-split
 * records the header bytes, so the tar can be rebuilt from the TOC's
 * files); eStargz drops the tar's end blocks and appends its TOC as the
 * tar entry stargz.index.json, then the end blocks. */
#include "layers/seekable.h"
#include "layers/tar.h"
#include "lib/base64.h"
#include "lib/err.h"
#include "lib/strbuf.h"
#include "lib/xalloc.h"

#include <errno.h>
#include <inttypes.h>
#include <isa-l/igzip_lib.h>
#include <jansson.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zstd.h>

#define OUT_BUF (256u << 10)
#define BLOCK 512

/* zstd:chunked cuts file contents at content-defined boundaries (a gear
 * rolling hash), so that an insertion early in a file leaves the later
 * chunks' digests unchanged: a partial pull then fetches only what
 * changed. Chunks are MIN..MAX bytes, about 64 KiB on average. eStargz
 * cuts at fixed 4 MiB, as stargz-snapshotter's writer does by default. */
#define CDC_MIN (16u << 10)
#define CDC_MAX (1u << 20)
#define CDC_MASK ((1u << 16) - 1)
#define ESTARGZ_CHUNK (4u << 20)

enum st
{
  ST_HDR,     /* header blocks (the next entry, or the end blocks) */
  ST_DATA,    /* a regular file's content */
  ST_PAD,     /* the padding after it */
  ST_TRAILER, /* from the first end block on */
};

struct chunk
{
  uint64_t offset, end, file_offset, size;
  char digest[DIGEST_STR_LEN + 1];
};

struct seekw
{
  enum toc_format f;
  int level;
  /* the blob */
  struct layer_sink sink;
  struct digester blob;
  uint64_t off; /* bytes of blob written so far */
  uint8_t *obuf;
  size_t olen;
  /* the compressor: one zstd frame or gzip member at a time */
  ZSTD_CCtx *zc;
  struct isal_zstream zs;
  uint8_t *level_buf;
  uint8_t *cbuf; /* compressor output */
  bool open;     /* a frame or member has bytes in it */
  /* the uncompressed stream as written */
  struct digester diff;
  uint64_t tar_size;
  /* the input tar */
  struct tar_reader *tr;
  enum st st;
  uint8_t block[BLOCK];
  size_t blen;
  size_t hdr_blocks;
  json_t *entry; /* set by the reader's entry callback */
  uint64_t remaining, pad, size;
  /* the current file's content */
  struct digester file_d, chunk_d;
  uint64_t crc, written, gear;
  struct chunk *chunks;
  size_t n_chunks, alloc_chunks;
  bool in_chunk;
  /* the TOC and (zstd:chunked) the tar-split */
  json_t *entries;
  struct strbuf seg; /* raw bytes of the tar-split segment being gathered */
  struct strbuf ts;  /* tar-split JSON lines */
  int64_t ts_pos;
  bool failed;
};

/* ---- output --------------------------------------------------------- */

static int
out_flush (struct seekw *w, struct err **err)
{
  if (!w->olen)
    return 0;
  if (!w->sink.hashes_itself)
    digester_update (&w->blob, w->obuf, w->olen);
  size_t n = w->olen;
  w->olen = 0;
  return w->sink.write (w->sink.ctx, w->obuf, n, err);
}

static int
out_write (struct seekw *w, const void *data, size_t len, struct err **err)
{
  const uint8_t *p = data;
  w->off += len;
  while (len)
    {
      size_t n = OUT_BUF - w->olen < len ? OUT_BUF - w->olen : len;
      memcpy (w->obuf + w->olen, p, n);
      w->olen += n;
      p += n;
      len -= n;
      if (w->olen == OUT_BUF && out_flush (w, err) < 0)
        return -1;
    }
  return 0;
}

/* ---- compression: frames and members ---------------------------------- */

static uint32_t
gz_level_buf_size (int level)
{
  static const uint32_t bufsz[]
      = { 0, ISAL_DEF_LVL1_DEFAULT, ISAL_DEF_LVL2_DEFAULT,
          ISAL_DEF_LVL3_DEFAULT };
  return bufsz[level];
}

static int
gz_run (struct seekw *w, const uint8_t *in, size_t len, bool end,
        struct err **err)
{
  struct isal_zstream *zs = &w->zs;
  zs->next_in = (uint8_t *)in;
  zs->avail_in = (uint32_t)len;
  zs->end_of_stream = end;
  do
    {
      zs->next_out = w->cbuf;
      zs->avail_out = OUT_BUF;
      int r = isal_deflate (zs);
      if (r != COMP_OK)
        return err_set (err, 0, "gzip compression failed (igzip error %d)", r);
      if (out_write (w, w->cbuf, OUT_BUF - zs->avail_out, err) < 0)
        return -1;
    }
  while (zs->avail_in > 0 || (end && zs->internal_state.state != ZSTATE_END));
  return 0;
}

static int
zs_run (struct seekw *w, const uint8_t *in, size_t len, bool end,
        struct err **err)
{
  ZSTD_inBuffer ib = { in, len, 0 };
  for (;;)
    {
      ZSTD_outBuffer ob = { w->cbuf, OUT_BUF, 0 };
      size_t r = ZSTD_compressStream2 (w->zc, &ob, &ib,
                                       end ? ZSTD_e_end : ZSTD_e_continue);
      if (ZSTD_isError (r))
        return err_set (err, 0, "zstd compression failed: %s",
                        ZSTD_getErrorName (r));
      if (out_write (w, w->cbuf, ob.pos, err) < 0)
        return -1;
      if (end ? r == 0 : ib.pos == ib.size)
        return 0;
    }
}

/* Uncompressed bytes into the current frame or member (opened on the
 * first byte). */
static int
comp_write (struct seekw *w, const void *data, size_t len, struct err **err)
{
  if (!len)
    return 0;
  digester_update (&w->diff, data, len);
  w->tar_size += len;
  if (!w->open && w->f == TOC_ESTARGZ)
    {
      /* our own header: no name, mtime 0, OS unknown (fixed bytes) */
      static const uint8_t hdr[10] = { 0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff };
      isal_deflate_init (&w->zs);
      w->zs.level = (uint32_t)w->level;
      w->zs.level_buf = w->level_buf;
      w->zs.level_buf_size = gz_level_buf_size (w->level);
      w->zs.gzip_flag = IGZIP_GZIP_NO_HDR;
      if (out_write (w, hdr, sizeof hdr, err) < 0)
        return -1;
    }
  w->open = true;
  /* avail_in is 32 bits */
  const uint8_t *p = data;
  while (len)
    {
      size_t n = len > (1u << 30) ? 1u << 30 : len;
      if ((w->f == TOC_ESTARGZ ? gz_run (w, p, n, false, err)
                               : zs_run (w, p, n, false, err))
          < 0)
        return -1;
      p += n;
      len -= n;
    }
  return 0;
}

/* End the current frame or member, if one is open. */
static int
comp_end (struct seekw *w, struct err **err)
{
  if (!w->open)
    return 0;
  w->open = false;
  return w->f == TOC_ESTARGZ ? gz_run (w, NULL, 0, true, err)
                             : zs_run (w, NULL, 0, true, err);
}

/* ---- tar-split (zstd:chunked) ----------------------------------------- */

static void
ts_line (struct seekw *w, json_t *o)
{
  json_object_set_new (o, "position", json_integer (w->ts_pos++));
  char *s = json_dumps (o, JSON_COMPACT);
  strbuf_addstr (&w->ts, s);
  strbuf_addch (&w->ts, '\n');
  free (s);
  json_decref (o);
}

static void
ts_segment (struct seekw *w)
{
  if (w->f != TOC_ZSTD_CHUNKED || !w->seg.len)
    return;
  char *b64 = base64_encode (w->seg.buf, w->seg.len);
  ts_line (w, json_pack ("{s:i,s:s}", "type", 2, "payload", b64));
  free (b64);
  strbuf_reset (&w->seg);
}

/* tar-split checks a file's content with CRC-64/ISO, big-endian. */
static uint64_t crc_table[256];

static void
crc_init (void)
{
  for (unsigned i = 0; i < 256; i++)
    {
      uint64_t c = i;
      for (int k = 0; k < 8; k++)
        c = c & 1 ? (c >> 1) ^ 0xd800000000000000ULL : c >> 1;
      crc_table[i] = c;
    }
}

static uint64_t
crc_update (uint64_t crc, const uint8_t *p, size_t n)
{
  crc = ~crc;
  while (n--)
    crc = crc_table[(uint8_t)crc ^ *p++] ^ (crc >> 8);
  return ~crc;
}

static void
ts_file (struct seekw *w, const char *name, uint64_t size)
{
  if (w->f != TOC_ZSTD_CHUNKED)
    return;
  json_t *o = json_object ();
  json_object_set_new (o, "type", json_integer (1));
  json_t *n = json_string (name);
  if (n)
    json_object_set_new (o, "name", n);
  else
    {
      char *b64 = base64_encode (name, strlen (name));
      json_object_set_new (o, "name_raw", json_string (b64));
      free (b64);
    }
  if (size)
    {
      uint8_t be[8];
      for (int i = 0; i < 8; i++)
        be[i] = (uint8_t)(w->crc >> (56 - 8 * i));
      char *b64 = base64_encode (be, 8);
      json_object_set_new (o, "size", json_integer ((json_int_t)size));
      json_object_set_new (o, "payload", json_string (b64));
      free (b64);
    }
  else
    json_object_set_new (o, "payload", json_null ());
  ts_line (w, o);
}

/* ---- TOC entries ------------------------------------------------------ */

static const char *
toc_type_name (enum tar_type t)
{
  switch (t)
    {
    case TAR_HARDLINK:
      return "hardlink";
    case TAR_SYMLINK:
      return "symlink";
    case TAR_CHR:
      return "char";
    case TAR_BLK:
      return "block";
    case TAR_DIR:
      return "dir";
    case TAR_FIFO:
      return "fifo";
    case TAR_REG:
    default:
      return "reg";
    }
}

static void
set_u64 (json_t *o, const char *key, uint64_t v, bool always)
{
  if (v || always)
    json_object_set_new (o, key, json_integer ((json_int_t)v));
}

/* Go's time.Time in JSON (RFC 3339, nanoseconds without trailing zeros)
 * for zstd:chunked; whole seconds for eStargz. */
static json_t *
modtime (int64_t sec, uint32_t nsec, bool frac)
{
  char buf[64], ns[16] = "";
  struct tm tm;
  time_t t = (time_t)sec;
  gmtime_r (&t, &tm);
  if (frac && nsec)
    {
      snprintf (ns, sizeof ns, ".%09u", nsec);
      for (size_t l = strlen (ns); ns[l - 1] == '0'; l--)
        ns[l - 1] = 0;
    }
  snprintf (buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d%sZ",
            tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
            tm.tm_sec, ns);
  return json_string (buf);
}

/* The mode as the header block (just fed to the reader) holds it, file
 * type bits included when a writer put them there: containers/storage
 * checks the TOC's mode against Go's tar reader's, which keeps them. */
static uint64_t
header_mode (const uint8_t *h, uint32_t fallback)
{
  uint64_t v = 0;
  size_t i = 0;
  while (i < 8 && h[100 + i] == ' ')
    i++;
  if (i == 8 || h[100 + i] < '0' || h[100 + i] > '7')
    return fallback;
  for (; i < 8 && h[100 + i] >= '0' && h[100 + i] <= '7'; i++)
    v = v << 3 | (uint64_t)(h[100 + i] - '0');
  return v;
}

static int
on_entry (void *arg, const struct tar_entry *e, struct err **err)
{
  struct seekw *w = arg;
  bool z = w->f == TOC_ZSTD_CHUNKED;
  json_t *o = json_object ();
  if (z)
    {
      json_object_set_new (o, "type", json_string (toc_type_name (e->type)));
      json_object_set_new (o, "name", json_string (e->path));
    }
  else
    {
      json_object_set_new (o, "name", json_string (e->path));
      json_object_set_new (o, "type", json_string (toc_type_name (e->type)));
    }
  if (!json_object_get (o, "name"))
    {
      json_decref (o);
      return err_set (err, 0, "tar entry name is not utf-8");
    }
  if (e->linkpath)
    json_object_set_new (o, "linkName", json_string (e->linkpath));
  set_u64 (o, "mode", header_mode (w->block, e->mode), false);
  set_u64 (o, "size", e->size, false);
  set_u64 (o, "uid", e->uid, !z);
  set_u64 (o, "gid", e->gid, !z);
  json_object_set_new (o, "modtime", modtime (e->mtime, e->mtime_nsec, z));
  set_u64 (o, "devMajor", e->devmajor, false);
  set_u64 (o, "devMinor", e->devminor, false);
  if (e->n_xattrs)
    {
      json_t *x = json_object ();
      for (size_t i = 0; i < e->n_xattrs; i++)
        {
          char *b64 = base64_encode (e->xattrs[i].value, e->xattrs[i].len);
          json_object_set_new (x, e->xattrs[i].name, json_string (b64));
          free (b64);
        }
      json_object_set_new (o, "xattrs", x);
    }
  w->entry = o;
  w->size = e->type == TAR_REG ? e->size : 0;
  return 0;
}

static int
on_data (void *arg, const uint8_t *buf, size_t len, struct err **err)
{
  return 0;
}

static int
on_end (void *arg, struct err **err)
{
  return 0;
}

/* ---- a file's content --------------------------------------------------- */

static int
chunk_begin (struct seekw *w, struct err **err)
{
  if (comp_end (w, err) < 0)
    return -1;
  w->chunks
      = xgrow (w->chunks, &w->alloc_chunks, w->n_chunks + 1, sizeof *w->chunks);
  struct chunk *c = &w->chunks[w->n_chunks++];
  memset (c, 0, sizeof *c);
  c->offset = w->off;
  c->file_offset = w->written;
  w->gear = 0;
  w->in_chunk = true;
  return 0;
}

static int
chunk_finish (struct seekw *w, struct err **err)
{
  struct chunk *c = &w->chunks[w->n_chunks - 1];
  w->in_chunk = false;
  digester_final (&w->chunk_d, c->digest);
  c->size = w->written - c->file_offset;
  /* zstd:chunked: each chunk is a frame; eStargz leaves the member open
     for the next header, as its writer does */
  if (w->f == TOC_ZSTD_CHUNKED && comp_end (w, err) < 0)
    return -1;
  c->end = w->off;
  return 0;
}

static uint64_t gear_table[256];

static void
gear_init (void)
{
  /* fixed pseudo-random values (splitmix64): the boundaries must be the
     same on every machine */
  uint64_t x = 0x696d67746f6f6c21ULL;
  for (int i = 0; i < 256; i++)
    {
      uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
      z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
      z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
      gear_table[i] = z ^ (z >> 31);
    }
}

/* How many of p's n bytes belong to the current chunk. */
static size_t
chunk_take (struct seekw *w, const uint8_t *p, size_t n, bool *cut)
{
  uint64_t in = w->written - w->chunks[w->n_chunks - 1].file_offset;
  *cut = false;
  if (w->f == TOC_ESTARGZ)
    {
      uint64_t room = ESTARGZ_CHUNK - in;
      if (n >= room)
        {
          *cut = true;
          return (size_t)room;
        }
      return n;
    }
  for (size_t i = 0; i < n; i++)
    {
      w->gear = (w->gear << 1) + gear_table[p[i]];
      in++;
      if (in >= CDC_MAX || (in >= CDC_MIN && !(w->gear & CDC_MASK)))
        {
          *cut = true;
          return i + 1;
        }
    }
  return n;
}

static int
content (struct seekw *w, const uint8_t *p, size_t n, struct err **err)
{
  while (n)
    {
      bool cut;
      if (!w->in_chunk && chunk_begin (w, err) < 0)
        return -1;
      size_t k = chunk_take (w, p, n, &cut);
      digester_update (&w->file_d, p, k);
      digester_update (&w->chunk_d, p, k);
      if (w->f == TOC_ZSTD_CHUNKED)
        w->crc = crc_update (w->crc, p, k);
      if (comp_write (w, p, k, err) < 0)
        return -1;
      w->written += k;
      p += k;
      n -= k;
      if (cut && chunk_finish (w, err) < 0)
        return -1;
    }
  return 0;
}

/* The file's TOC entries, once its content is written. */
static void
file_entries (struct seekw *w, json_t *main)
{
  bool z = w->f == TOC_ZSTD_CHUNKED;
  char digest[DIGEST_STR_LEN + 1];
  digester_final (&w->file_d, digest);
  if (w->size || !z)
    json_object_set_new (main, "digest", json_string (digest));
  if (w->size == 0)
    {
      json_array_append_new (w->entries, main);
      return;
    }
  const char *name = json_string_value (json_object_get (main, "name"));
  if (z && w->n_chunks == 1)
    {
      /* one chunk: the file's range, no chunk fields (containers/storage) */
      set_u64 (main, "offset", w->chunks[0].offset, false);
      set_u64 (main, "endOffset", w->chunks[0].end, false);
      json_array_append_new (w->entries, main);
      return;
    }
  for (size_t i = 0; i < w->n_chunks; i++)
    {
      const struct chunk *c = &w->chunks[i];
      json_t *o = i == 0
                      ? main
                      : json_pack ("{s:s,s:s}", "type", "chunk", "name", name);
      if (z)
        {
          set_u64 (o, "offset", c->offset, false);
          if (i == 0)
            set_u64 (o, "endOffset", w->chunks[w->n_chunks - 1].end, false);
          set_u64 (o, "chunkSize", c->size, false);
          set_u64 (o, "chunkOffset", c->file_offset, false);
          json_object_set_new (o, "chunkDigest", json_string (c->digest));
        }
      else
        {
          set_u64 (o, "offset", c->offset, false);
          set_u64 (o, "chunkOffset", c->file_offset, false);
          /* eStargz: chunkSize only where the file was cut at it */
          if (c->size == ESTARGZ_CHUNK)
            set_u64 (o, "chunkSize", c->size, false);
          json_object_set_new (o, "chunkDigest", json_string (c->digest));
        }
      if (i)
        json_array_append_new (w->entries, o);
      else
        json_array_append (w->entries, o);
    }
  json_decref (main);
}

static int
file_start (struct seekw *w, struct err **err)
{
  w->crc = 0;
  w->written = 0;
  w->n_chunks = 0;
  w->in_chunk = false;
  w->remaining = w->size;
  return 0;
}

static int
file_end (struct seekw *w, struct err **err)
{
  if (w->in_chunk && chunk_finish (w, err) < 0)
    return -1;
  json_t *main = w->entry;
  w->entry = NULL;
  char *name = xstrdup (json_string_value (json_object_get (main, "name")));
  file_entries (w, main);
  ts_file (w, name, w->size);
  free (name);
  w->pad = (BLOCK - w->size % BLOCK) % BLOCK;
  w->st = w->pad ? ST_PAD : ST_HDR;
  w->hdr_blocks = 0;
  return 0;
}

/* ---- the tar, cut ----------------------------------------------------- */

static bool
zero_block (const uint8_t *b)
{
  for (size_t i = 0; i < BLOCK; i++)
    if (b[i])
      return false;
  return true;
}

/* Bytes that belong between entries (headers, padding, end blocks): into
 * the current frame or member, and the tar-split's segment. */
static int
between (struct seekw *w, const uint8_t *p, size_t n, struct err **err)
{
  if (w->f == TOC_ZSTD_CHUNKED)
    strbuf_add (&w->seg, p, n);
  return comp_write (w, p, n, err);
}

static int
header_block (struct seekw *w, struct err **err)
{
  if (w->hdr_blocks == 0 && zero_block (w->block))
    {
      w->st = ST_TRAILER;
      if (tar_reader_feed (w->tr, w->block, BLOCK, err) < 0)
        return -1;
      /* eStargz ends the tar after its TOC entry instead */
      return w->f == TOC_ESTARGZ ? 0 : between (w, w->block, BLOCK, err);
    }
  if (between (w, w->block, BLOCK, err) < 0)
    return -1;
  w->hdr_blocks++;
  if (tar_reader_feed (w->tr, w->block, BLOCK, err) < 0)
    return -1;
  if (!w->entry)
    return 0; /* a pax or long-name header: its entry comes next */
  ts_segment (w);
  w->hdr_blocks = 0;
  if (w->size == 0)
    {
      file_start (w, err);
      return file_end (w, err);
    }
  w->st = ST_DATA;
  return file_start (w, err);
}

int
seekw_feed (void *arg, const void *data, size_t len, struct err **err)
{
  struct seekw *w = arg;
  const uint8_t *p = data;
  if (w->failed)
    return err_set (err, 0, "seekable layer writer already failed");
  while (len)
    {
      size_t n;
      switch (w->st)
        {
        case ST_HDR:
          n = BLOCK - w->blen < len ? BLOCK - w->blen : len;
          memcpy (w->block + w->blen, p, n);
          w->blen += n;
          if (w->blen == BLOCK)
            {
              w->blen = 0;
              if (header_block (w, err) < 0)
                goto fail;
            }
          break;
        case ST_DATA:
          n = w->remaining < len ? (size_t)w->remaining : len;
          if (tar_reader_feed (w->tr, p, n, err) < 0
              || content (w, p, n, err) < 0)
            goto fail;
          w->remaining -= n;
          if (!w->remaining && file_end (w, err) < 0)
            goto fail;
          break;
        case ST_PAD:
          n = w->pad < len ? (size_t)w->pad : len;
          if (tar_reader_feed (w->tr, p, n, err) < 0
              || between (w, p, n, err) < 0)
            goto fail;
          w->pad -= n;
          if (!w->pad)
            w->st = ST_HDR;
          break;
        case ST_TRAILER:
        default:
          n = len;
          if (tar_reader_feed (w->tr, p, n, err) < 0
              || (w->f == TOC_ZSTD_CHUNKED && between (w, p, n, err) < 0))
            goto fail;
          break;
        }
      p += n;
      len -= n;
    }
  return 0;
fail:
  w->failed = true;
  return -1;
}

/* ---- the end: TOC, tar-split, footer ------------------------------------ */

static int
skippable (struct seekw *w, const void *data, size_t len, struct err **err)
{
  uint8_t h[8] = { 0x50, 0x2a, 0x4d, 0x18 };
  for (int i = 0; i < 4; i++)
    h[4 + i] = (uint8_t)(len >> (8 * i));
  return out_write (w, h, 8, err) < 0 ? -1 : out_write (w, data, len, err);
}

static int
zstd_compress (int level, const void *in, size_t len, struct strbuf *out,
               struct err **err)
{
  size_t cap = ZSTD_compressBound (len);
  strbuf_init (out, cap);
  size_t r = ZSTD_compress (out->buf, cap, in, len, level);
  if (ZSTD_isError (r))
    return err_set (err, 0, "zstd compression failed: %s",
                    ZSTD_getErrorName (r));
  strbuf_setlen (out, r);
  return 0;
}

static void
put_le64 (uint8_t *p, uint64_t v)
{
  for (int i = 0; i < 8; i++)
    p[i] = (uint8_t)(v >> (8 * i));
}

static int
finish_zstd_chunked (struct seekw *w, int level, struct err **err)
{
  _cleanup_strbuf_ struct strbuf ts = STRBUF_INIT, man = STRBUF_INIT;
  char ts_digest[DIGEST_STR_LEN + 1];
  ts_segment (w);
  if (comp_end (w, err) < 0
      || zstd_compress (level, w->ts.buf, w->ts.len, &ts, err) < 0)
    return -1;
  digest_buf (ts.buf, ts.len, ts_digest);
  json_t *toc = json_pack ("{s:i,s:O,s:s}", "version", 1, "entries", w->entries,
                           "tarSplitDigest", ts_digest);
  char *json = json_dumps (toc, JSON_COMPACT);
  json_decref (toc);
  int rc = zstd_compress (level, json, strlen (json), &man, err);
  size_t json_len = strlen (json);
  free (json);
  if (rc < 0)
    return -1;
  uint8_t footer[64];
  uint64_t man_off = w->off + 8;
  uint64_t ts_off = man_off + man.len + 8;
  put_le64 (footer, man_off);
  put_le64 (footer + 8, man.len);
  put_le64 (footer + 16, json_len);
  put_le64 (footer + 24, 1);
  put_le64 (footer + 32, ts_off);
  put_le64 (footer + 40, ts.len);
  put_le64 (footer + 48, w->ts.len);
  memcpy (footer + 56, "GNUlInUx", 8);
  if (skippable (w, man.buf, man.len, err) < 0
      || skippable (w, ts.buf, ts.len, err) < 0
      || skippable (w, footer, sizeof footer, err) < 0)
    return -1;
  return 0;
}

static int
finish_estargz (struct seekw *w, struct err **err)
{
  static const uint8_t zeros[1024];
  if (comp_end (w, err) < 0)
    return -1;
  uint64_t toc_off = w->off;
  json_t *toc = json_pack ("{s:i,s:O}", "version", 1, "entries", w->entries);
  char *json = json_dumps (toc, JSON_INDENT (1));
  json_decref (toc);
  size_t len = strlen (json);
  struct tar_entry te = {
    .type = TAR_REG, .path = (char *)TOC_ESTARGZ_NAME, .size = len, .mode = 0644
  };
  char h[BLOCK];
  int rc = tarw_header_block (&te, h);
  if (rc == 0)
    rc = comp_write (w, h, BLOCK, err);
  if (rc == 0)
    rc = comp_write (w, json, len, err);
  free (json);
  if (rc == 0)
    rc = comp_write (w, zeros, (BLOCK - len % BLOCK) % BLOCK, err);
  if (rc == 0)
    rc = comp_write (w, zeros, sizeof zeros, err);
  if (rc < 0 || comp_end (w, err) < 0)
    return -1;
  /* the footer: an empty gzip member (a stored block) whose extra field's
     "SG" subfield says where the TOC starts */
  uint8_t f[TOC_ESTARGZ_FOOTER_SIZE]
      = { 0x1f, 0x8b, 8, 4, 0, 0, 0, 0, 0, 0xff, 26, 0, 'S', 'G', 22, 0 };
  char hex[23];
  snprintf (hex, sizeof hex, "%016" PRIx64 "STARGZ", toc_off);
  memcpy (f + 16, hex, 22);
  static const uint8_t tail[13] = { 1, 0, 0, 0xff, 0xff };
  memcpy (f + 38, tail, sizeof tail);
  return out_write (w, f, sizeof f, err);
}

int
seekw_finish (struct seekw *w, struct layer_result *out, struct err **err)
{
  if (w->failed)
    return err_set (err, 0, "seekable layer writer already failed");
  if (w->st == ST_DATA || w->st == ST_PAD || w->blen
      || tar_reader_finish (w->tr, err) < 0)
    {
      w->failed = true;
      return err_set (err, 0, "layer tar cut short");
    }
  int rc = w->f == TOC_ZSTD_CHUNKED ? finish_zstd_chunked (w, w->level, err)
                                    : finish_estargz (w, err);
  if (rc < 0 || out_flush (w, err) < 0)
    {
      w->failed = true;
      return -1;
    }
  if (w->sink.hashes_itself)
    out->digest[0] = 0;
  else
    digester_final (&w->blob, out->digest);
  digester_final (&w->diff, out->diff_id);
  out->size = (int64_t)w->off;
  out->tar_size = w->tar_size;
  out->media_type
      = w->f == TOC_ZSTD_CHUNKED ? MT_OCI_LAYER_ZSTD : MT_OCI_LAYER_GZIP;
  return 0;
}

/* ---- life ------------------------------------------------------------------
 */

struct seekw *
seekw_new (enum toc_format f, int level, const struct layer_sink *sink,
           struct err **err)
{
  static const struct tar_callbacks cb = { on_entry, on_data, on_end };
  if (f != TOC_ZSTD_CHUNKED && f != TOC_ESTARGZ)
    {
      err_set (err, 0, "not a seekable layer format");
      return NULL;
    }
  if (!crc_table[1])
    crc_init ();
  if (!gear_table[0])
    gear_init ();
  struct seekw *w = xcalloc (1, sizeof *w);
  w->f = f;
  w->level = level > 0 ? level : f == TOC_ZSTD_CHUNKED ? 3 : 1;
  w->sink = *sink;
  digester_init (&w->blob);
  digester_init (&w->diff);
  digester_init (&w->file_d);
  digester_init (&w->chunk_d);
  w->obuf = xmalloc (OUT_BUF);
  w->cbuf = xmalloc (OUT_BUF);
  w->tr = tar_reader_new (&cb, w);
  w->entries = json_array ();
  strbuf_init (&w->seg, 0);
  strbuf_init (&w->ts, 0);
  if (f == TOC_ZSTD_CHUNKED)
    {
      w->zc = ZSTD_createCCtx ();
      if (!w->zc
          || ZSTD_isError (ZSTD_CCtx_setParameter (
              w->zc, ZSTD_c_compressionLevel, w->level)))
        {
          seekw_free (w);
          err_set (err, 0, "cannot set up zstd compression");
          return NULL;
        }
    }
  else
    {
      if (w->level > 3)
        w->level = 3;
      w->level_buf = xmalloc (gz_level_buf_size (w->level));
    }
  return w;
}

void
seekw_free (struct seekw *w)
{
  if (!w)
    return;
  digester_release (&w->blob);
  digester_release (&w->diff);
  digester_release (&w->file_d);
  digester_release (&w->chunk_d);
  free (w->obuf);
  free (w->cbuf);
  free (w->level_buf);
  ZSTD_freeCCtx (w->zc);
  tar_reader_free (w->tr);
  json_decref (w->entries);
  json_decref (w->entry);
  free (w->chunks);
  strbuf_release (&w->seg);
  strbuf_release (&w->ts);
  free (w);
}
