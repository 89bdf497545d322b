/* Deterministic pax tar writer + compressor + double digest (see
 * tarwriter.h). The tar format is written by hand rather than through
 * libarchive so that every byte is fixed here: libarchive 3.6 adds
 * LIBARCHIVE.xattr records and atime/ctime unless told otherwise, and its
 * output has changed between versions. libarchive reads our output back in
 * the tests, as an independent check. */
#include "layers/tarwriter.h"
#include "layers/seekable.h"
#include "lib/bytepipe.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/strbuf.h"
#include "lib/xalloc.h"

#include <errno.h>
#include <isa-l/igzip_lib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

#define IBUF_SIZE (256u << 10)
#define OBUF_SIZE (256u << 10)
/* A large layer is made by three threads joined by lib/bytepipe rings:
 * this one reads files, writes the tar and hashes it (diff_id); a
 * compressor thread; an output thread that hashes the blob and hands it
 * to the sink (a store blob: O_DIRECT writes in a thread of its own).
 * The two SHA-256 passes cost as much CPU as zstd -3, so each runs beside
 * the others. Each thread starts only once PIPE_AFTER bytes went its way:
 * small layers (most RUN steps) stay on the caller's thread. */
#define PIPE_AFTER (1u << 20)
#define PIPE_RING (4u << 20)
#define PIPE_CHUNK (1u << 20)
/* Once the compressor thread runs, the tar is written straight into its
 * ring (bytepipe_reserve): ibuf is room reserved there. igzip's output
 * depends on how its input is cut into calls, so that thread must be
 * given the tar in the pieces this thread would have used: whole
 * IBUF_SIZE buffers, then the last one. Every commit is one ibuf and the
 * ring holds a whole number of them, so the ring hands them out unchanged
 * with at most IBUF_SIZE per piece; compress_more checks it. */
#define CPIPE_RING (16 * IBUF_SIZE)

#define USTAR_MAX_OCTAL8 07777777ULL      /* 7 digits */
#define USTAR_MAX_OCTAL12 077777777777ULL /* 11 digits */

struct tar_writer
{
  enum layer_compression comp;
  struct layer_sink sink;
  struct digester diff_id;
  struct digester blob;
  uint64_t tar_size;
  int64_t blob_size;
  unsigned char *ibuf;     /* ibuf_own, or room in cpipe's ring */
  unsigned char *ibuf_own; /* ours, until the compressor thread starts */
  size_t ilen;
  unsigned char *obuf;     /* obuf_own, or room in pipe's ring */
  size_t ocap;             /* its size */
  unsigned char *obuf_own; /* ours, until the output thread starts */
  struct bytepipe *cpipe;  /* tar -> compressor thread, once started */
  struct bytepipe *pipe;   /* blob digest + sink writes, once started */
  bool short_piece;        /* the compressor thread got a short piece */
  uint64_t pending_pad;    /* bytes of data still owed by the last header */
  uint64_t data_left;
  /* gzip */
  struct isal_zstream zs;
  unsigned char *level_buf;
  /* zstd */
  ZSTD_CCtx *zc;
  bool finished;
  bool failed;
  bool raw;       /* fed tar bytes as they are (tarw_raw): no end marker */
  bool no_digest; /* not a layer (tarw_no_diff_id): no diff_id */
  bool type_bits; /* tarw_mode_type_bits */
  /* zstd:chunked, estargz: the tar goes uncompressed into this writer */
  struct seekw *seek;
};

int
layer_compression_parse (const char *s, enum layer_compression *out,
                         struct err **err)
{
  if (!strcmp (s, "gzip"))
    *out = LAYER_GZIP;
  else if (!strcmp (s, "zstd"))
    *out = LAYER_ZSTD;
  else if (!strcmp (s, "none") || !strcmp (s, "uncompressed"))
    *out = LAYER_UNCOMPRESSED;
  else if (!strcmp (s, "zstd:chunked"))
    *out = LAYER_ZSTD_CHUNKED;
  else if (!strcmp (s, "estargz"))
    *out = LAYER_ESTARGZ;
  else
    return err_set (err, 0,
                    "unknown compression '%s' (want gzip, zstd, zstd:chunked, "
                    "estargz or none)",
                    s);
  return 0;
}

const char *
layer_media_type (enum layer_compression c)
{
  switch (c)
    {
    case LAYER_ZSTD:
    case LAYER_ZSTD_CHUNKED:
      return MT_OCI_LAYER_ZSTD;
    case LAYER_UNCOMPRESSED:
      return MT_OCI_LAYER;
    case LAYER_GZIP:
    default:
      return MT_OCI_LAYER_GZIP;
    }
}

int
layer_sink_fd_write (void *ctx, const void *data, size_t len, struct err **err)
{
  int fd = *(int *)ctx;
  if (fs_write_all (fd, data, len) < 0)
    return err_set (err, errno, "write layer");
  return 0;
}

/* ---- output: diff_id, compression, blob digest, sink ---------------- */

/* The blob's bytes, in order: digest them (unless the sink does) and hand
 * them to the sink. Runs on the caller's thread, or in the pipe's worker
 * once it started. */
static int
sink_bytes (void *ctx, const void *data, size_t len, struct err **err)
{
  struct tar_writer *tw = ctx;
  /* An uncompressed blob is the tar: hash it once. */
  if (tw->comp != LAYER_UNCOMPRESSED && !tw->sink.hashes_itself)
    digester_update (&tw->blob, data, len);
  return tw->sink.write (tw->sink.ctx, data, len, err);
}

/* The output thread failed: its error is the one to report. */
static int
output_failed (struct tar_writer *tw, struct err **err)
{
  int r = bytepipe_join (tw->pipe, err);
  tw->pipe = NULL;
  tw->obuf = tw->obuf_own;
  tw->ocap = OBUF_SIZE;
  return r < 0 ? -1 : err_set (err, 0, "layer output stopped");
}

static int
emit (struct tar_writer *tw, const void *data, size_t len, struct err **err)
{
  if (!len)
    return 0;
  tw->blob_size += (int64_t)len;
  /* (not for an image archive: nothing to hash, the thread would only
     add a copy) */
  if (!tw->pipe && tw->blob_size > (int64_t)PIPE_AFTER && !tw->no_digest)
    {
      static const struct bytepipe_ops ops = { .consume = sink_bytes };
      /* All earlier bytes went to the sink synchronously, so the order
         holds; a pipe that cannot start leaves us on this thread. */
      struct err *e = NULL;
      tw->pipe = bytepipe_start (PIPE_RING, PIPE_CHUNK, &ops, tw, &e);
      err_free (e);
    }
  if (!tw->pipe)
    return sink_bytes (tw, data, len, err);
  /* zstd's output goes straight into the output thread's ring: data is
     the room reserved there (obuf), or is copied in. Not igzip's: its
     bytes depend on the size of the output buffer too, which must stay
     OBUF_SIZE (the room at the ring's end varies). */
  bool in_ring = tw->obuf != tw->obuf_own;
  if (in_ring && data != tw->obuf)
    {
      bytepipe_commit (tw->pipe, 0); /* no put while room is held */
      in_ring = false;
    }
  int r = in_ring ? bytepipe_commit (tw->pipe, len)
                  : bytepipe_put (tw->pipe, data, len);
  tw->obuf = tw->obuf_own;
  tw->ocap = OBUF_SIZE;
  if (r < 0)
    return output_failed (tw, err);
  if (tw->comp == LAYER_ZSTD)
    {
      size_t room;
      unsigned char *w = bytepipe_reserve (tw->pipe, 1, &room);
      if (!w)
        return output_failed (tw, err);
      tw->obuf = w;
      tw->ocap = room < OBUF_SIZE ? room : OBUF_SIZE;
    }
  return 0;
}

/* Give back room reserved in the output thread's ring and unused. */
static void
release_obuf (struct tar_writer *tw)
{
  if (tw->pipe && tw->obuf != tw->obuf_own)
    bytepipe_commit (tw->pipe, 0);
  tw->obuf = tw->obuf_own;
  tw->ocap = OBUF_SIZE;
}

/* Wait for the output thread to have written everything. */
static int
drain_output (struct tar_writer *tw, struct err **err)
{
  if (!tw->pipe)
    return 0;
  release_obuf (tw);
  return bytepipe_finish (&tw->pipe, true, err);
}

static int
compress_gzip (struct tar_writer *tw, const unsigned char *in, size_t len,
               bool final, struct err **err)
{
  struct isal_zstream *zs = &tw->zs;
  zs->next_in = (uint8_t *)in;
  zs->avail_in = (uint32_t)len;
  zs->end_of_stream = final;
  do
    {
      zs->next_out = tw->obuf;
      zs->avail_out = (uint32_t)tw->ocap;
      int r = isal_deflate (zs);
      if (r != COMP_OK)
        return err_set (err, 0, "gzip compression failed (igzip error %d)", r);
      if (emit (tw, tw->obuf, tw->ocap - zs->avail_out, err) < 0)
        return -1;
    }
  while (zs->avail_in > 0 || (final && zs->internal_state.state != ZSTATE_END));
  return 0;
}

static int
compress_zstd (struct tar_writer *tw, const unsigned char *in, size_t len,
               bool final, struct err **err)
{
  ZSTD_inBuffer ib = { in, len, 0 };
  for (;;)
    {
      ZSTD_outBuffer ob = { tw->obuf, tw->ocap, 0 };
      size_t r = ZSTD_compressStream2 (tw->zc, &ob, &ib,
                                       final ? ZSTD_e_end : ZSTD_e_continue);
      if (ZSTD_isError (r))
        return err_set (err, 0, "zstd compression failed: %s",
                        ZSTD_getErrorName (r));
      if (emit (tw, tw->obuf, ob.pos, err) < 0)
        return -1;
      if (final ? r == 0 : ib.pos == ib.size)
        return 0;
    }
}

static int
compress (struct tar_writer *tw, const unsigned char *in, size_t len,
          bool final, struct err **err)
{
  switch (tw->comp)
    {
    case LAYER_GZIP:
      return compress_gzip (tw, in, len, final, err);
    case LAYER_ZSTD:
      return compress_zstd (tw, in, len, final, err);
    default:
      return emit (tw, in, len, err);
    }
}

/* In the compressor thread. */
static int
compress_more (void *ctx, const void *data, size_t len, struct err **err)
{
  struct tar_writer *tw = ctx;
  /* only the last piece may be short (see CPIPE_RING) */
  if (tw->short_piece)
    return err_set (err, 0, "layer compression got uneven pieces");
  tw->short_piece = len != IBUF_SIZE;
  return compress (tw, data, len, false, err);
}

static int
compress_end (void *ctx, bool ok, struct err **err)
{
  return ok ? compress (ctx, NULL, 0, true, err) : 0;
}

/* Wait for the compressor thread to have compressed (ok) or dropped
 * (!ok) everything, and flushed the compressor when ok. */
static int
join_compressor (struct tar_writer *tw, bool ok, struct err **err)
{
  return bytepipe_finish (&tw->cpipe, ok, err);
}

static int
flush_input (struct tar_writer *tw, bool final, struct err **err)
{
  int r = 0;
  if (tw->failed)
    return err_set (err, 0, "layer writer already failed");
  if (!tw->no_digest && !tw->seek) /* seekable.c hashes what it writes */
    digester_update (&tw->diff_id, tw->ibuf, tw->ilen);
  tw->tar_size += tw->ilen;
  if (!tw->cpipe && tw->comp != LAYER_UNCOMPRESSED && tw->tar_size > PIPE_AFTER
      && !final)
    {
      static const struct bytepipe_ops ops
          = { .consume = compress_more, .end = compress_end };
      /* what came before was compressed here: the order holds; a thread
         that cannot start leaves the work here */
      struct err *e = NULL;
      tw->cpipe = bytepipe_start (CPIPE_RING, IBUF_SIZE, &ops, tw, &e);
      err_free (e);
    }
  if (tw->cpipe)
    {
      size_t room;
      /* the first piece is copied in; later ones were written in place */
      int c = tw->ibuf == tw->ibuf_own
                  ? bytepipe_put (tw->cpipe, tw->ibuf, tw->ilen)
                  : bytepipe_commit (tw->cpipe, tw->ilen);
      tw->ibuf = tw->ibuf_own;
      if (c == 0 && !final
          && !(tw->ibuf = bytepipe_reserve (tw->cpipe, IBUF_SIZE, &room)))
        {
          tw->ibuf = tw->ibuf_own;
          c = -1;
        }
      if (c < 0)
        r = join_compressor (tw, false, err) < 0
                ? -1
                : err_set (err, 0, "layer compression stopped");
      else if (final)
        r = join_compressor (tw, true, err);
    }
  else
    r = compress (tw, tw->ibuf, tw->ilen, final, err);
  tw->ilen = 0;
  if (r < 0)
    tw->failed = true;
  return r;
}

static int
put (struct tar_writer *tw, const void *data, size_t len, struct err **err)
{
  const unsigned char *p = data;
  while (len)
    {
      size_t n = IBUF_SIZE - tw->ilen;
      if (n > len)
        n = len;
      memcpy (tw->ibuf + tw->ilen, p, n);
      tw->ilen += n;
      p += n;
      len -= n;
      if (tw->ilen == IBUF_SIZE && flush_input (tw, false, err) < 0)
        return -1;
    }
  return 0;
}

static int
put_zeros (struct tar_writer *tw, size_t len, struct err **err)
{
  static const char zeros[1024];
  while (len)
    {
      size_t n = len < sizeof zeros ? len : sizeof zeros;
      if (put (tw, zeros, n, err) < 0)
        return -1;
      len -= n;
    }
  return 0;
}

struct tar_writer *
tarw_new (enum layer_compression c, int level, const struct layer_sink *sink,
          struct err **err)
{
  struct seekw *seek = NULL;
  if (c == LAYER_ZSTD_CHUNKED || c == LAYER_ESTARGZ)
    {
      seek = seekw_new (c == LAYER_ESTARGZ ? TOC_ESTARGZ : TOC_ZSTD_CHUNKED,
                        level, sink, err);
      if (!seek)
        return NULL;
      c = LAYER_UNCOMPRESSED;
    }
  else if (c != LAYER_GZIP && c != LAYER_ZSTD && c != LAYER_UNCOMPRESSED)
    {
      err_set (err, 0, "cannot write layers with this compression");
      return NULL;
    }
  struct tar_writer *tw = xcalloc (1, sizeof *tw);
  tw->comp = c;
  tw->sink = *sink;
  if (seek)
    {
      tw->seek = seek;
      tw->sink = (struct layer_sink){ seekw_feed, seek, false };
    }
  digester_init (&tw->diff_id);
  digester_init (&tw->blob);
  tw->ibuf = tw->ibuf_own = xmalloc (IBUF_SIZE);
  tw->obuf = tw->obuf_own = xmalloc (OBUF_SIZE);
  tw->ocap = OBUF_SIZE;
  if (c == LAYER_GZIP)
    {
      /* igzip levels 1..3; 1 is several times faster than zlib -6 with a
         ratio close to zlib -1..-3. A fixed level keeps the bytes fixed. */
      static const uint32_t bufsz[]
          = { 0, ISAL_DEF_LVL1_DEFAULT, ISAL_DEF_LVL2_DEFAULT,
              ISAL_DEF_LVL3_DEFAULT };
      int lvl = level <= 0 ? 1 : level > 3 ? 3 : level;
      isal_deflate_init (&tw->zs);
      tw->level_buf = xmalloc (bufsz[lvl]);
      tw->zs.level = (uint32_t)lvl;
      tw->zs.level_buf = tw->level_buf;
      tw->zs.level_buf_size = bufsz[lvl];
      tw->zs.gzip_flag = IGZIP_GZIP_NO_HDR;
      /* Our own header: no name, mtime 0, OS unknown, so it is the same
         bytes on every machine. */
      static const unsigned char hdr[10]
          = { 0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff };
      if (emit (tw, hdr, sizeof hdr, err) < 0)
        {
          tarw_free (tw);
          return NULL;
        }
    }
  else if (c == LAYER_ZSTD)
    {
      tw->zc = ZSTD_createCCtx ();
      if (!tw->zc
          || ZSTD_isError (ZSTD_CCtx_setParameter (
              tw->zc, ZSTD_c_compressionLevel, level > 0 ? level : 3))
          || ZSTD_isError (
              ZSTD_CCtx_setParameter (tw->zc, ZSTD_c_checksumFlag, 1)))
        {
          tarw_free (tw);
          err_set (err, 0, "cannot set up zstd compression");
          return NULL;
        }
      /* Single-threaded libzstd (nbWorkers 0, its default): a large layer
         is compressed in a thread of ours (above), and libzstd's own
         workers would copy every job in and out for nothing (10% more
         CPU on 200 MB). The bytes depend on nbWorkers being 0 or not, never
         on the machine's core count. */
      (void)ZSTD_CCtx_setParameter (tw->zc, ZSTD_c_nbWorkers, 0);
    }
  return tw;
}

void
tarw_free (struct tar_writer *tw)
{
  if (!tw)
    return;
  if (tw->cpipe)
    {
      struct err *e = NULL;
      if (tw->ibuf != tw->ibuf_own)
        bytepipe_commit (tw->cpipe, 0); /* give the room back */
      tw->ibuf = tw->ibuf_own;
      join_compressor (tw, false, &e);
      err_free (e);
    }
  if (tw->pipe)
    {
      /* abandoned mid-layer: the worker skips what is queued */
      struct err *e = NULL;
      release_obuf (tw);
      bytepipe_close (tw->pipe, false);
      bytepipe_join (tw->pipe, &e);
      err_free (e);
    }
  seekw_free (tw->seek);
  digester_release (&tw->diff_id);
  digester_release (&tw->blob);
  free (tw->ibuf_own);
  free (tw->obuf_own);
  free (tw->level_buf);
  ZSTD_freeCCtx (tw->zc);
  free (tw);
}

/* ---- tar format ------------------------------------------------------ */

static void
octal (char *field, size_t width, uint64_t v)
{
  /* width-1 digits, zero padded, then NUL (as Go and GNU tar write). */
  field[width - 1] = '\0';
  for (size_t i = width - 1; i-- > 0;)
    {
      field[i] = (char)('0' + (v & 7));
      v >>= 3;
    }
}

static void
pax_record (struct strbuf *sb, const char *key, const char *val, size_t vlen)
{
  /* "%d %s=%s\n" where the length counts its own digits. */
  size_t base = 1 + strlen (key) + 1 + vlen + 1, n = base + 1;
  for (;;)
    {
      char tmp[24];
      size_t digits = (size_t)snprintf (tmp, sizeof tmp, "%zu", n);
      if (base + digits == n)
        break;
      n = base + digits;
    }
  strbuf_addf (sb, "%zu %s=", n, key);
  strbuf_add (sb, val, vlen);
  strbuf_addch (sb, '\n');
}

/* Split a path over ustar's prefix (155) and name (100) fields. */
static bool
ustar_split (const char *path, size_t len, size_t *cut)
{
  if (len <= 100)
    {
      *cut = 0;
      return true;
    }
  if (len > 256)
    return false;
  for (size_t i = len - 1; i > 0; i--)
    if (path[i] == '/')
      {
        if (i > 155)
          continue;
        if (len - i - 1 > 100 || len - i - 1 == 0)
          return false;
        *cut = i;
        return true;
      }
  return false;
}

static void
fill_header (char h[512], const char *name, size_t nlen, size_t cut, char type,
             uint32_t mode, uint64_t uid, uint64_t gid, uint64_t size,
             uint64_t mtime, const char *link, size_t llen, uint32_t major,
             uint32_t minor)
{
  memset (h, 0, 512);
  if (cut)
    {
      memcpy (h + 345, name, cut);
      memcpy (h, name + cut + 1, nlen - cut - 1);
    }
  else
    memcpy (h, name, nlen > 100 ? 100 : nlen);
  octal (h + 100, 8, mode & 0777777);
  octal (h + 108, 8, uid > USTAR_MAX_OCTAL8 ? 0 : uid);
  octal (h + 116, 8, gid > USTAR_MAX_OCTAL8 ? 0 : gid);
  octal (h + 124, 12, size > USTAR_MAX_OCTAL12 ? 0 : size);
  octal (h + 136, 12, mtime > USTAR_MAX_OCTAL12 ? 0 : mtime);
  h[156] = type;
  if (link)
    memcpy (h + 157, link, llen > 100 ? 100 : llen);
  memcpy (h + 257, "ustar", 6);
  memcpy (h + 263, "00", 2);
  if (type == '3' || type == '4')
    {
      octal (h + 329, 8, major);
      octal (h + 337, 8, minor);
    }
  memset (h + 148, ' ', 8);
  unsigned sum = 0;
  for (int i = 0; i < 512; i++)
    sum += (unsigned char)h[i];
  octal (h + 148, 7, sum);
  h[155] = ' ';
}

static char
typeflag (enum tar_type t)
{
  switch (t)
    {
    case TAR_HARDLINK:
      return '1';
    case TAR_SYMLINK:
      return '2';
    case TAR_CHR:
      return '3';
    case TAR_BLK:
      return '4';
    case TAR_DIR:
      return '5';
    case TAR_FIFO:
      return '6';
    case TAR_REG:
    default:
      return '0';
    }
}

/* S_IFMT's bits of a type, as Go's archive/tar puts them in the mode */
static uint32_t
type_bits (enum tar_type t)
{
  switch (t)
    {
    case TAR_SYMLINK:
      return 0120000;
    case TAR_CHR:
      return 020000;
    case TAR_BLK:
      return 060000;
    case TAR_DIR:
      return 040000;
    case TAR_FIFO:
      return 010000;
    case TAR_REG:
    case TAR_HARDLINK:
    default:
      return 0100000;
    }
}

static int
pad_block (struct tar_writer *tw, uint64_t size, struct err **err)
{
  size_t rem = (size_t)(size % 512);
  return rem ? put_zeros (tw, 512 - rem, err) : 0;
}

int
tarw_header (struct tar_writer *tw, const struct tar_entry *e, struct err **err)
{
  _cleanup_strbuf_ struct strbuf pax = STRBUF_INIT;
  _cleanup_free_ char *path = NULL;
  char h[512];
  size_t cut = 0, llen = e->linkpath ? strlen (e->linkpath) : 0;

  if (tw->data_left)
    return err_set (err, 0, "tar entry before the previous one's data");
  if (!e->path || !*e->path || e->path[0] == '/')
    return err_set (err, 0, "bad tar path '%s'", e->path ? e->path : "");
  path = e->type == TAR_DIR && e->path[strlen (e->path) - 1] != '/'
             ? xasprintf ("%s/", e->path)
             : xstrdup (e->path);
  size_t plen = strlen (path);
  uint64_t size = e->type == TAR_REG ? e->size : 0;
  /* mtime before 1970 is stored as 0: layers never need it and the ustar
     field is unsigned. */
  uint64_t mtime = e->mtime < 0 ? 0 : (uint64_t)e->mtime;

  if (!ustar_split (path, plen, &cut))
    pax_record (&pax, "path", path, plen);
  if (llen > 100)
    pax_record (&pax, "linkpath", e->linkpath, llen);
  char num[24];
  if (e->uid > USTAR_MAX_OCTAL8)
    pax_record (
        &pax, "uid", num,
        (size_t)snprintf (num, sizeof num, "%llu", (unsigned long long)e->uid));
  if (e->gid > USTAR_MAX_OCTAL8)
    pax_record (
        &pax, "gid", num,
        (size_t)snprintf (num, sizeof num, "%llu", (unsigned long long)e->gid));
  if (size > USTAR_MAX_OCTAL12)
    pax_record (
        &pax, "size", num,
        (size_t)snprintf (num, sizeof num, "%llu", (unsigned long long)size));
  if (mtime > USTAR_MAX_OCTAL12)
    pax_record (
        &pax, "mtime", num,
        (size_t)snprintf (num, sizeof num, "%llu", (unsigned long long)mtime));
  for (size_t i = 0; i < e->n_xattrs; i++)
    {
      _cleanup_free_ char *key
          = xasprintf ("SCHILY.xattr.%s", e->xattrs[i].name);
      pax_record (&pax, key, e->xattrs[i].value, e->xattrs[i].len);
    }

  if (pax.len)
    {
      /* Go's name for the extended header: dir/PaxHeaders.0/base. */
      const char *slash = plen > 1 ? memrchr (path, '/', plen - 1) : NULL;
      _cleanup_free_ char *xname
          = slash ? xasprintf ("%.*s/PaxHeaders.0/%s", (int)(slash - path),
                               path, slash + 1)
                  : xasprintf ("PaxHeaders.0/%s", path);
      size_t xlen = strlen (xname);
      fill_header (h, xname, xlen > 100 ? 100 : xlen, 0, 'x', 0644, 0, 0,
                   pax.len, 0, NULL, 0, 0, 0);
      if (put (tw, h, 512, err) < 0 || put (tw, pax.buf, pax.len, err) < 0
          || pad_block (tw, pax.len, err) < 0)
        return -1;
      if (cut == 0 && plen > 100)
        plen = 100; /* truncated name in the ustar header, like Go */
    }
  fill_header (h, path, plen, cut, typeflag (e->type),
               (e->mode & 07777) | (tw->type_bits ? type_bits (e->type) : 0),
               e->uid, e->gid, size, mtime, e->linkpath, llen, e->devmajor,
               e->devminor);
  if (put (tw, h, 512, err) < 0)
    return -1;
  tw->data_left = size;
  tw->pending_pad = size;
  if (size == 0)
    tw->pending_pad = 0;
  return 0;
}

int
tarw_header_block (const struct tar_entry *e, char h[512])
{
  size_t cut = 0, plen = e->path ? strlen (e->path) : 0;
  size_t llen = e->linkpath ? strlen (e->linkpath) : 0;
  uint64_t size = e->type == TAR_REG ? e->size : 0;
  uint64_t mtime = e->mtime < 0 ? 0 : (uint64_t)e->mtime;
  if (!plen || e->path[0] == '/' || e->type == TAR_DIR
      || !ustar_split (e->path, plen, &cut) || llen > 100
      || e->uid > USTAR_MAX_OCTAL8 || e->gid > USTAR_MAX_OCTAL8
      || size > USTAR_MAX_OCTAL12 || mtime > USTAR_MAX_OCTAL12 || e->n_xattrs)
    return -1;
  fill_header (h, e->path, plen, cut, typeflag (e->type), e->mode & 07777,
               e->uid, e->gid, size, mtime, e->linkpath, llen, e->devmajor,
               e->devminor);
  return 0;
}

int
tarw_flush (struct tar_writer *tw, struct err **err)
{
  if (tw->data_left)
    return err_set (err, 0, "tar flushed inside an entry's data");
  return tw->ilen ? flush_input (tw, false, err) : 0;
}

int
tarw_data (struct tar_writer *tw, const void *data, size_t len,
           struct err **err)
{
  if (len > tw->data_left)
    return err_set (err, 0, "tar entry data longer than its header says");
  if (put (tw, data, len, err) < 0)
    return -1;
  tw->data_left -= len;
  if (tw->data_left == 0 && tw->pending_pad)
    {
      uint64_t s = tw->pending_pad;
      tw->pending_pad = 0;
      return pad_block (tw, s, err);
    }
  return 0;
}

int
tarw_data_fd (struct tar_writer *tw, int fd, uint64_t size, const char *path,
              struct err **err)
{
  if (size != tw->data_left)
    return err_set (err, 0, "tar entry '%s': size mismatch", path);
  while (tw->data_left)
    {
      size_t room = IBUF_SIZE - tw->ilen;
      if (room > tw->data_left)
        room = (size_t)tw->data_left;
      ssize_t n = read (fd, tw->ibuf + tw->ilen, room);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return err_set (err, errno, "read '%s'", path);
      if (n == 0)
        return err_set (err, 0, "read '%s': file shrank while it was read",
                        path);
      tw->ilen += (size_t)n;
      tw->data_left -= (uint64_t)n;
      if (tw->ilen == IBUF_SIZE && flush_input (tw, false, err) < 0)
        return -1;
    }
  uint64_t s = tw->pending_pad;
  tw->pending_pad = 0;
  return s ? pad_block (tw, s, err) : 0;
}

int
tarw_raw (struct tar_writer *tw, const void *data, size_t len, struct err **err)
{
  if (tw->data_left)
    return err_set (err, 0, "raw tar bytes inside an entry's data");
  tw->raw = true;
  return put (tw, data, len, err);
}

void
tarw_no_diff_id (struct tar_writer *tw)
{
  tw->no_digest = true;
}

void
tarw_mode_type_bits (struct tar_writer *tw)
{
  tw->type_bits = true;
}

int
tarw_finish (struct tar_writer *tw, struct layer_result *out, struct err **err)
{
  if (tw->data_left)
    return err_set (err, 0, "tar ended inside an entry's data");
  if (tw->finished)
    return err_set (err, 0, "tar writer finished twice");
  /* End of archive: two zero blocks, no padding to a 10 KiB record
     (raw bytes brought their own end). */
  if ((!tw->raw && put_zeros (tw, 1024, err) < 0)
      || flush_input (tw, true, err) < 0 || drain_output (tw, err) < 0)
    {
      tw->failed = true;
      return -1;
    }
  tw->finished = true;
  if (tw->seek)
    return seekw_finish (tw->seek, out, err);
  digester_final (&tw->diff_id, out->diff_id);
  if (tw->comp == LAYER_UNCOMPRESSED)
    memcpy (out->digest, out->diff_id, sizeof out->digest);
  else if (tw->sink.hashes_itself)
    out->digest[0] = '\0';
  else
    digester_final (&tw->blob, out->digest);
  out->size = tw->blob_size;
  out->tar_size = tw->tar_size;
  out->media_type = layer_media_type (tw->comp);
  return 0;
}
