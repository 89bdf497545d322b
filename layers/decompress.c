/* Push-style layer decompression. gzip goes through ISA-L's igzip rather
 * than zlib: on this machine igzip inflates a Debian layer at about three
 * times zlib's speed (figures in docs/performance.md), and inflate is the
 * slowest stage of unpacking. igzip checks the gzip CRC and length itself.
 * Concatenated gzip members are read as one stream (as gzip -d does), and
 * zero padding after the last member is tolerated (some writers pad to a
 * block size); anything else after it is an error. */
#include "layers/decompress.h"
#include "lib/err.h"
#include "lib/xalloc.h"

#include <isa-l/igzip_lib.h>
#include <string.h>
#include <zstd.h>

enum gz_phase
{
  GZ_MEMBER,  /* inside a gzip member */
  GZ_BETWEEN, /* after a member: another one, or zero padding */
  GZ_ZEROS,   /* in zero padding after the last member */
};

struct layer_decomp
{
  enum layer_compression kind; /* LAYER_UNKNOWN until sniffed */
  uint8_t magic[4];
  size_t magic_len;
  layer_decomp_sink sink;
  void *arg;
  uint8_t *out;
  struct inflate_state *gz;
  enum gz_phase gz_phase;
  bool gz_any; /* a member was started */
  ZSTD_DStream *zs;
  size_t zs_last; /* last ZSTD_decompressStream() result: 0 = frame ended */
  bool zs_any;
};

enum layer_compression
layer_compression_sniff (const uint8_t *p, size_t n)
{
  if (n >= 2 && p[0] == 0x1f && p[1] == 0x8b)
    return LAYER_GZIP;
  /* zstd frame 28 b5 2f fd, or a skippable frame 5? 2a 4d 18 */
  if (n >= 4 && p[0] == 0x28 && p[1] == 0xb5 && p[2] == 0x2f && p[3] == 0xfd)
    return LAYER_ZSTD;
  if (n >= 4 && (p[0] & 0xf0) == 0x50 && p[1] == 0x2a && p[2] == 0x4d
      && p[3] == 0x18)
    return LAYER_ZSTD;
  return LAYER_UNCOMPRESSED;
}

struct layer_decomp *
layer_decomp_new (layer_decomp_sink sink, void *arg)
{
  struct layer_decomp *d = xcalloc (1, sizeof *d);
  d->kind = LAYER_UNKNOWN;
  d->sink = sink;
  d->arg = arg;
  return d;
}

void
layer_decomp_free (struct layer_decomp *d)
{
  if (!d)
    return;
  free (d->out);
  free (d->gz);
  ZSTD_freeDStream (d->zs);
  free (d);
}

static void
gz_start_member (struct layer_decomp *d)
{
  isal_inflate_init (d->gz);
  d->gz->crc_flag = ISAL_GZIP; /* parse the header, verify CRC and size */
  d->gz_phase = GZ_MEMBER;
  d->gz_any = true;
}

static int
gz_feed (struct layer_decomp *d, const uint8_t *p, size_t len, struct err **err)
{
  while (len > 0)
    {
      if (d->gz_phase != GZ_MEMBER)
        {
          if (*p == 0)
            {
              d->gz_phase = GZ_ZEROS;
              p++, len--;
              continue;
            }
          if (*p == 0x1f && d->gz_phase == GZ_BETWEEN)
            gz_start_member (d);
          else
            return err_set (err, 0, "unexpected data after the gzip stream");
        }
      /* avail_in is 32 bits wide: hand big buffers over in slices */
      uint32_t slice = len > (1u << 30) ? 1u << 30 : (uint32_t)len;
      d->gz->next_in = (uint8_t *)p;
      d->gz->avail_in = slice;
      for (;;)
        {
          d->gz->next_out = d->out;
          d->gz->avail_out = LAYER_DECOMP_CHUNK;
          int r = isal_inflate (d->gz);
          if (r == ISAL_INCORRECT_CHECKSUM)
            return err_set (err, 0, "gzip checksum mismatch");
          if (r < 0)
            return err_set (err, 0, "invalid gzip data (igzip error %d)", r);
          size_t got = LAYER_DECOMP_CHUNK - d->gz->avail_out;
          if (got && d->sink (d->arg, d->out, got, err) < 0)
            return -1;
          if (d->gz->block_state == ISAL_BLOCK_FINISH)
            {
              d->gz_phase = GZ_BETWEEN;
              break;
            }
          if (d->gz->avail_in == 0 && got < LAYER_DECOMP_CHUNK)
            break;
        }
      size_t used = slice - d->gz->avail_in;
      p += used;
      len -= used;
    }
  return 0;
}

static int
zs_feed (struct layer_decomp *d, const uint8_t *p, size_t len, struct err **err)
{
  ZSTD_inBuffer in = { p, len, 0 };
  d->zs_any = d->zs_any || len > 0;
  for (;;)
    {
      ZSTD_outBuffer out = { d->out, LAYER_DECOMP_CHUNK, 0 };
      size_t was = in.pos;
      size_t r = ZSTD_decompressStream (d->zs, &out, &in);
      if (ZSTD_isError (r))
        return err_set (err, 0, "invalid zstd data: %s", ZSTD_getErrorName (r));
      /* a call after a frame that ended on a full output buffer reads
       * nothing and returns the next frame's header hint: not a cut */
      if (out.pos || in.pos != was)
        d->zs_last = r;
      if (out.pos && d->sink (d->arg, d->out, out.pos, err) < 0)
        return -1;
      if (in.pos == in.size && out.pos < out.size)
        return 0;
    }
}

static int
feed_known (struct layer_decomp *d, const uint8_t *p, size_t len,
            struct err **err)
{
  switch (d->kind)
    {
    case LAYER_GZIP:
      return gz_feed (d, p, len, err);
    case LAYER_ZSTD:
      return zs_feed (d, p, len, err);
    default:
      return len ? d->sink (d->arg, p, len, err) : 0;
    }
}

static int
decide (struct layer_decomp *d, struct err **err)
{
  d->kind = layer_compression_sniff (d->magic, d->magic_len);
  if (d->kind == LAYER_GZIP)
    {
      d->gz = xmalloc (sizeof *d->gz);
      gz_start_member (d);
    }
  else if (d->kind == LAYER_ZSTD)
    {
      d->zs = ZSTD_createDStream ();
      if (!d->zs)
        abort ();
      ZSTD_initDStream (d->zs);
    }
  if (d->kind != LAYER_UNCOMPRESSED)
    d->out = xmalloc (LAYER_DECOMP_CHUNK);
  return feed_known (d, d->magic, d->magic_len, err);
}

int
layer_decomp_feed (struct layer_decomp *d, const void *buf, size_t len,
                   struct err **err)
{
  const uint8_t *p = buf;
  if (d->kind == LAYER_UNKNOWN)
    {
      while (len && d->magic_len < sizeof d->magic)
        d->magic[d->magic_len++] = *p++, len--;
      if (d->magic_len < sizeof d->magic)
        return 0;
      if (decide (d, err) < 0)
        return -1;
    }
  return feed_known (d, p, len, err);
}

int
layer_decomp_finish (struct layer_decomp *d, struct err **err)
{
  if (d->kind == LAYER_UNKNOWN && decide (d, err) < 0)
    return -1;
  if (d->kind == LAYER_GZIP && (d->gz_phase == GZ_MEMBER || !d->gz_any))
    return err_set (err, 0, "truncated gzip stream");
  if (d->kind == LAYER_ZSTD && (d->zs_last != 0 || !d->zs_any))
    return err_set (err, 0, "truncated zstd stream");
  return 0;
}
