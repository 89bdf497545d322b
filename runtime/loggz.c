/* Compressed rotated logs (logfile.h): --log-opt compress=true gzips
 * <path>.1 into <path>.1.gz at rotation, as docker's json-file does;
 * `logs` reads them back through rt_log_open_read. gzip through ISA-L's
 * igzip, as the layers are (level 1: a log compresses well enough). */
#include "layers/decompress.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/xalloc.h"
#include "runtime/logfile.h"

#include <errno.h>
#include <fcntl.h>
#include <isa-l/igzip_lib.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define GZ_CHUNK (1 << 16)

/* Compress in into out (gzip). */
static int
deflate_fd (int in, int out, struct err **err)
{
  struct isal_zstream zs;
  _cleanup_free_ uint8_t *ib = xmalloc (GZ_CHUNK), *ob = xmalloc (GZ_CHUNK);
  _cleanup_free_ uint8_t *lvl = xmalloc (ISAL_DEF_LVL1_DEFAULT);
  ssize_t n;
  isal_deflate_init (&zs);
  zs.level = 1;
  zs.level_buf = lvl;
  zs.level_buf_size = ISAL_DEF_LVL1_DEFAULT;
  zs.gzip_flag = IGZIP_GZIP;
  do
    {
      n = read (in, ib, GZ_CHUNK);
      if (n < 0)
        {
          if (errno == EINTR)
            continue;
          return err_set (err, errno, "read");
        }
      zs.next_in = ib;
      zs.avail_in = (uint32_t)n;
      zs.end_of_stream = n == 0;
      do
        {
          zs.next_out = ob;
          zs.avail_out = GZ_CHUNK;
          if (isal_deflate (&zs) != COMP_OK)
            return err_set (err, 0, "gzip compression failed");
          if (fs_write_all (out, ob, GZ_CHUNK - zs.avail_out) < 0)
            return err_set (err, errno, "write");
        }
      while (zs.avail_in > 0
             || (n == 0 && zs.internal_state.state != ZSTATE_END));
    }
  while (n > 0);
  return 0;
}

int
rt_log_gzip (const char *path, struct err **err)
{
  _cleanup_free_ char *gz = xasprintf ("%s.gz", path);
  _cleanup_free_ char *tmp = xasprintf ("%s.gz.tmp", path);
  _cleanup_close_ int in = open (path, O_RDONLY | O_CLOEXEC), out = -1;
  if (in < 0)
    return err_set (err, errno, "open '%s'", path);
  out = open (tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  if (out < 0)
    return err_set (err, errno, "create '%s'", tmp);
  /* whole under its name, then the plain one goes: a reader finds one
   * of the two at every moment */
  if (deflate_fd (in, out, err) < 0 || rename (tmp, gz) < 0)
    {
      if (err && !*err)
        err_set (err, errno, "rename '%s'", tmp);
      unlink (tmp);
      return err_wrap (err, "compress '%s'", path);
    }
  unlink (path);
  return 0;
}

static int
to_fd (void *arg, const uint8_t *buf, size_t len, struct err **err)
{
  if (fs_write_all (*(int *)arg, buf, len) < 0)
    return err_set (err, errno, "write");
  return 0;
}

int
rt_log_open_read (const char *file, struct err **err)
{
  size_t n = strlen (file);
  _cleanup_close_ int in = open (file, O_RDONLY | O_CLOEXEC);
  struct layer_decomp *d;
  uint8_t buf[GZ_CHUNK];
  ssize_t got;
  int out, r = 0;
  if (in < 0)
    return err_set (err, errno, "open '%s'", file);
  if (n < 3 || strcmp (file + n - 3, ".gz"))
    return steal_fd (&in);
  out = memfd_create ("log", MFD_CLOEXEC);
  if (out < 0)
    return err_set (err, errno, "memfd_create");
  d = layer_decomp_new (to_fd, &out);
  while (r == 0 && (got = read (in, buf, sizeof buf)) != 0)
    r = got < 0 ? (errno == EINTR ? 0 : err_set (err, errno, "read"))
                : layer_decomp_feed (d, buf, (size_t)got, err);
  if (r == 0)
    r = layer_decomp_finish (d, err);
  layer_decomp_free (d);
  if (r < 0 || lseek (out, 0, SEEK_SET) < 0)
    {
      close (out);
      return err_wrap (err, "read '%s'", file);
    }
  return out;
}
