/* ADD's bzip2 and xz tar archives (BuildKit extracts them; the layer code
 * reads only plain, gzip and zstd tars): decompressed to a plain tar in
 * a temp file with libbz2 / liblzma, which add_archive then extracts. */
#include "builder/build_int.h"
#include "lib/err.h"
#include "lib/fs.h"

#include <bzlib.h>
#include <errno.h>
#include <lzma.h>
#include <string.h>
#include <unistd.h>

enum build_legacy_comp
build_legacy_sniff (const unsigned char *p, size_t n)
{
  static const unsigned char xz[] = { 0xfd, '7', 'z', 'X', 'Z', 0x00 };
  if (n >= 3 && p[0] == 'B' && p[1] == 'Z' && p[2] == 'h')
    return BUILD_COMP_BZIP2;
  if (n >= sizeof xz && !memcmp (p, xz, sizeof xz))
    return BUILD_COMP_XZ;
  return BUILD_COMP_NONE;
}

static int
unbz2 (int in, int out, struct err **err)
{
  static char ib[1 << 16], ob[1 << 16];
  bz_stream s;
  int rc = BZ_OK;
  memset (&s, 0, sizeof s);
  if (BZ2_bzDecompressInit (&s, 0, 0) != BZ_OK)
    return err_set (err, 0, "bzip2: cannot start");
  while (rc != BZ_STREAM_END)
    {
      if (s.avail_in == 0)
        {
          ssize_t n = read (in, ib, sizeof ib);
          if (n <= 0)
            {
              BZ2_bzDecompressEnd (&s);
              return err_set (err, n < 0 ? errno : 0, "bzip2: %s",
                              n < 0 ? "read" : "truncated");
            }
          s.next_in = ib;
          s.avail_in = (unsigned)n;
        }
      s.next_out = ob;
      s.avail_out = sizeof ob;
      rc = BZ2_bzDecompress (&s);
      if (rc != BZ_OK && rc != BZ_STREAM_END)
        {
          BZ2_bzDecompressEnd (&s);
          return err_set (err, 0, "bzip2: corrupt data (%d)", rc);
        }
      if (fs_write_all (out, ob, sizeof ob - s.avail_out) < 0)
        {
          BZ2_bzDecompressEnd (&s);
          return err_set (err, errno, "write");
        }
    }
  BZ2_bzDecompressEnd (&s);
  return 0;
}

static int
unxz (int in, int out, struct err **err)
{
  static uint8_t ib[1 << 16], ob[1 << 16];
  lzma_stream s = LZMA_STREAM_INIT;
  lzma_ret rc = LZMA_OK;
  lzma_action act = LZMA_RUN;
  if (lzma_stream_decoder (&s, UINT64_MAX, LZMA_CONCATENATED) != LZMA_OK)
    return err_set (err, 0, "xz: cannot start");
  while (rc != LZMA_STREAM_END)
    {
      if (s.avail_in == 0 && act == LZMA_RUN)
        {
          ssize_t n = read (in, ib, sizeof ib);
          if (n < 0)
            {
              lzma_end (&s);
              return err_set (err, errno, "xz: read");
            }
          if (n == 0)
            act = LZMA_FINISH;
          s.next_in = ib;
          s.avail_in = (size_t)n;
        }
      s.next_out = ob;
      s.avail_out = sizeof ob;
      rc = lzma_code (&s, act);
      if (rc != LZMA_OK && rc != LZMA_STREAM_END)
        {
          lzma_end (&s);
          return err_set (err, 0, "xz: corrupt data (%d)", (int)rc);
        }
      if (fs_write_all (out, ob, sizeof ob - s.avail_out) < 0)
        {
          lzma_end (&s);
          return err_set (err, errno, "write");
        }
    }
  lzma_end (&s);
  return 0;
}

int
build_legacy_decompress (enum build_legacy_comp c, int in, int out,
                         struct err **err)
{
  if (lseek (in, 0, SEEK_SET) < 0)
    return err_set (err, errno, "seek");
  return c == BUILD_COMP_BZIP2 ? unbz2 (in, out, err) : unxz (in, out, err);
}
