/* layers/lazy.c: a layer served from its TOC over a blob of zstd frames
 * in memory (the fetch callback counts what it is asked for): the tree,
 * whiteouts and opaque dirs as overlay wants them, a file fetched only
 * when read, its digest checked before a byte is served, lying TOCs and
 * fetch failures refused. */
#include "layers/digest.h"
#include "layers/lazy.h"
#include "layers/toc.h"
#include "lib/err.h"
#include "tests/unit/test.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <zstd.h>

struct blob
{
  unsigned char *data;
  size_t len;
  int fetches;
  uint64_t bytes;
  bool fail;
};

static int
fetch (void *arg, uint64_t off, uint64_t len, uint8_t *buf, struct err **err)
{
  struct blob *b = arg;
  b->fetches++;
  b->bytes += len;
  if (b->fail)
    return err_set (err, EIO, "registry is down");
  if (off + len > b->len)
    return err_set (err, 0, "range past the end");
  memcpy (buf, b->data + off, len);
  return 0;
}

struct chunk
{
  uint64_t off, len;
};

/* Append data as one zstd frame; its chunk. */
static struct chunk
frame (struct blob *b, const void *data, size_t len, size_t gap)
{
  size_t cap = ZSTD_compressBound (len);
  struct chunk k;
  b->data = realloc (b->data, b->len + cap + gap);
  memset (b->data + b->len, 0, gap); /* as a tar header frame would */
  b->len += gap;
  k.off = b->len;
  k.len = ZSTD_compress (b->data + b->len, cap, data, len, 3);
  b->len += k.len;
  return k;
}

static char *
read_all (int fd, size_t *len)
{
  struct stat st;
  char *buf;
  fstat (fd, &st);
  buf = malloc ((size_t)st.st_size + 1);
  *len = (size_t)pread (fd, buf, (size_t)st.st_size, 0);
  buf[*len] = 0;
  return buf;
}

/* A zstd:chunked TOC over the blob; TOC_JSON's %s are filled in. */
static struct lazy_layer *
layer (struct blob *b, int tmp, struct err **err, const char *fmt, ...)
{
  struct toc_location loc = { .format = TOC_ZSTD_CHUNKED };
  char *json;
  va_list ap;
  struct toc *t;
  va_start (ap, fmt);
  if (vasprintf (&json, fmt, ap) < 0)
    abort ();
  va_end (ap);
  t = toc_parse_json (&loc, json, strlen (json), b->len, err);
  free (json);
  return t ? lazy_layer_new (t, tmp, fetch, b, err) : NULL;
}

static char *
digest_of (const void *p, size_t n)
{
  char *d = malloc (DIGEST_STR_LEN + 1);
  digest_buf (p, n, d);
  return d;
}

int
main (void)
{
  struct blob b = { 0 };
  struct err *err = NULL;
  const char *passwd = "root:x:0:0:root:/root:/bin/sh\n";
  size_t big_len = 3 << 20, plen = strlen (passwd);
  char *big = malloc (big_len), *d_passwd, *d_big, *d_c[3];
  struct chunk kp, kb[3];
  struct stat st;
  int tmp = open ("/tmp", O_DIRECTORY | O_CLOEXEC), fd;
  struct lazy_layer *l;
  uint64_t etc, ino, big_ino;
  const char *name;
  uint64_t child;
  size_t len;
  char *got;

  for (size_t i = 0; i < big_len; i++)
    big[i] = (char)(i * 7 + i / 4096);
  d_passwd = digest_of (passwd, plen);
  d_big = digest_of (big, big_len);
  kp = frame (&b, passwd, plen, 7);
  for (int i = 0; i < 3; i++)
    {
      /* 1 MiB each: a frame that ends on a full output buffer */
      kb[i] = frame (&b, big + i * (1 << 20), 1 << 20, i ? 0 : 11);
      d_c[i] = digest_of (big + i * (1 << 20), 1 << 20);
    }
  frame (&b, "tail", 4, 5); /* where the TOC would be */

  l = layer (
      &b, tmp, &err,
      "{\"version\":1,\"entries\":["
      "{\"type\":\"reg\",\"name\":\"./etc/passwd\",\"mode\":420,\"size\":%zu,"
      "\"offset\":%llu,\"endOffset\":%llu,\"digest\":\"%s\"},"
      "{\"type\":\"reg\",\"name\":\"big\",\"mode\":384,\"uid\":7,\"gid\":8,"
      "\"size\":%zu,\"offset\":%llu,\"endOffset\":%llu,\"digest\":\"%s\","
      "\"chunkSize\":1048576,\"chunkDigest\":\"%s\"},"
      "{\"type\":\"chunk\",\"name\":\"big\",\"offset\":%llu,"
      "\"chunkOffset\":1048576,\"chunkSize\":1048576,\"chunkDigest\":\"%s\"},"
      "{\"type\":\"chunk\",\"name\":\"big\",\"offset\":%llu,"
      "\"chunkOffset\":2097152,\"chunkSize\":1048576,\"chunkDigest\":\"%s\"},"
      "{\"type\":\"dir\",\"name\":\"etc/\",\"mode\":448,"
      "\"modtime\":\"1970-01-01T00:20:34Z\"},"
      "{\"type\":\"symlink\",\"name\":\"bin/sh\",\"mode\":511,"
      "\"linkName\":\"busybox\"},"
      "{\"type\":\"hardlink\",\"name\":\"big-too\",\"linkName\":\"./big\"},"
      "{\"type\":\"reg\",\"name\":\"gone/.wh.old\",\"mode\":420},"
      "{\"type\":\"reg\",\"name\":\"gone/.wh..wh..opq\",\"mode\":420},"
      "{\"type\":\"reg\",\"name\":\"empty\",\"mode\":420}]}",
      plen, (unsigned long long)kp.off, (unsigned long long)(kp.off + kp.len),
      d_passwd, big_len, (unsigned long long)kb[0].off,
      (unsigned long long)(kb[2].off + kb[2].len), d_big, d_c[0],
      (unsigned long long)kb[1].off, d_c[1], (unsigned long long)kb[2].off,
      d_c[2]);
  CHECK (l != NULL, "a layer from a TOC: %s", err ? err->msg : "");
  if (!l)
    return 1;

  etc = lazy_lookup (l, LAZY_ROOT_INO, "etc");
  CHECK (etc && lazy_stat (l, etc, &st) && S_ISDIR (st.st_mode)
             && (st.st_mode & 07777) == 0700 && st.st_mtim.tv_sec == 1234,
         "a directory entry after its child: its own mode and mtime");
  ino = lazy_lookup (l, etc, "passwd");
  CHECK (ino && lazy_stat (l, ino, &st) && S_ISREG (st.st_mode)
             && st.st_size == (off_t)plen,
         "a file's metadata comes from the TOC");
  CHECK (b.fetches == 0, "nothing is fetched for lookups and stat");
  CHECK_STR (
      lazy_readlink (l, lazy_lookup (l, lazy_lookup (l, 1, "bin"), "sh")),
      "busybox", "a symlink's target");
  ino = lazy_lookup (l, lazy_lookup (l, 1, "gone"), "old");
  CHECK (ino && lazy_stat (l, ino, &st) && S_ISCHR (st.st_mode)
             && st.st_rdev == makedev (0, 0),
         "a whiteout is overlay's char device 0/0");
  CHECK (lazy_opaque (l, lazy_lookup (l, 1, "gone")) && !lazy_opaque (l, etc),
         "an opaque marker makes its directory opaque");
  CHECK (!lazy_lookup (l, lazy_lookup (l, 1, "gone"), ".wh..wh..opq"),
         "the opaque marker is no entry");
  CHECK (lazy_dirent (l, 1, 0, &name, &child) && !strcmp (name, "big")
             && lazy_dirent (l, 1, 1, &name, &child)
             && !strcmp (name, "big-too")
             && lazy_dirent (l, 1, 5, &name, &child) && !strcmp (name, "gone")
             && !lazy_dirent (l, 1, 6, &name, &child),
         "readdir: sorted, complete");
  big_ino = lazy_lookup (l, 1, "big");
  lazy_stat (l, lazy_lookup (l, 1, "big-too"), &st);
  CHECK (st.st_ino == big_ino && st.st_nlink == 2 && st.st_uid == 7,
         "a hardlink is its target's inode");

  fd = lazy_content_fd (l, lazy_lookup (l, etc, "passwd"), &err);
  CHECK (fd >= 0, "read a small file");
  got = fd >= 0 ? read_all (fd, &len) : NULL;
  CHECK_STR (got, passwd, "its contents");
  free (got);
  CHECK (b.fetches == 1 && b.bytes == kp.len,
         "only the small file's chunk was fetched (%d, %llu bytes)", b.fetches,
         (unsigned long long)b.bytes);
  CHECK (lazy_content_fd (l, lazy_lookup (l, etc, "passwd"), &err) == fd
             && b.fetches == 1,
         "a second read is served from the cache");
  fd = lazy_content_fd (l, lazy_lookup (l, 1, "big-too"), &err);
  got = fd >= 0 ? read_all (fd, &len) : NULL;
  CHECK (got && len == big_len && !memcmp (got, big, big_len),
         "a big file in three chunks, through its hardlink: %s",
         err ? err->msg : "");
  CHECK (b.fetches == 2, "its chunks in one fetch");
  free (got);
  fd = lazy_content_fd (l, lazy_lookup (l, 1, "empty"), &err);
  CHECK (fd >= 0 && lseek (fd, 0, SEEK_END) == 0 && b.fetches == 2,
         "an empty file needs no fetch");
  CHECK (lazy_fetched_files (l) == 2, "two files fetched");
  got = lazy_path (l, lazy_lookup (l, etc, "passwd"));
  CHECK_STR (got, "etc/passwd", "an inode's path");
  free (got);
  lazy_layer_free (l);

  /* a TOC that lies about the digest, or the offset; a fetch failure */
  l = layer (&b, tmp, &err,
             "{\"version\":1,\"entries\":["
             "{\"type\":\"reg\",\"name\":\"liar\",\"size\":%zu,"
             "\"offset\":%llu,\"endOffset\":%llu,\"digest\":\"%s\"},"
             "{\"type\":\"reg\",\"name\":\"shifted\",\"size\":%zu,"
             "\"offset\":%llu,\"endOffset\":%llu,\"digest\":\"%s\"},"
             "{\"type\":\"reg\",\"name\":\"again\",\"size\":%zu,"
             "\"offset\":%llu,\"endOffset\":%llu,\"digest\":\"%s\"}]}",
             plen, (unsigned long long)kp.off,
             (unsigned long long)(kp.off + kp.len), d_big, plen,
             (unsigned long long)kp.off - 3,
             (unsigned long long)(kp.off + kp.len), d_passwd, plen,
             (unsigned long long)kp.off, (unsigned long long)(kp.off + kp.len),
             d_passwd);
  CHECK (l != NULL, "a second layer: %s", err ? err->msg : "");
  if (!l)
    return 1;
  fd = lazy_content_fd (l, lazy_lookup (l, 1, "liar"), &err);
  CHECK (fd < 0 && err && strstr (err->msg, "the TOC says")
             && strstr (err->msg, "fetch 'liar'"),
         "a wrong digest is an error naming the file: %s", err ? err->msg : "");
  err_clear (&err);
  fd = lazy_content_fd (l, lazy_lookup (l, 1, "shifted"), &err);
  CHECK (fd < 0 && err, "a wrong offset is an error: %s", err ? err->msg : "");
  err_clear (&err);
  b.fail = true;
  fd = lazy_content_fd (l, lazy_lookup (l, 1, "again"), &err);
  CHECK (fd < 0 && err && strstr (err->msg, "registry is down"),
         "a fetch error is passed on");
  err_clear (&err);
  b.fail = false;
  fd = lazy_content_fd (l, lazy_lookup (l, 1, "again"), &err);
  CHECK (fd >= 0, "the next read tries again");
  lazy_layer_free (l);

  l = layer (&b, tmp, &err,
             "{\"version\":1,\"entries\":["
             "{\"type\":\"reg\",\"name\":\"f\",\"mode\":420},"
             "{\"type\":\"reg\",\"name\":\"f/below\",\"mode\":420}]}");
  CHECK (!l && err && strstr (err->msg, "below a non-directory"),
         "a file below a file is refused: %s", err ? err->msg : "");
  err_clear (&err);
  l = layer (&b, tmp, &err,
             "{\"version\":1,\"entries\":["
             "{\"type\":\"hardlink\",\"name\":\"h\",\"linkName\":\"nothing\"}"
             "]}");
  CHECK (!l && err && strstr (err->msg, "no such file"),
         "a hardlink to nothing is refused: %s", err ? err->msg : "");
  err_clear (&err);

  free (big);
  free (b.data);
  free (d_passwd);
  free (d_big);
  for (int i = 0; i < 3; i++)
    free (d_c[i]);
  close (tmp);
  printf ("1..%d\n", test_n);
  return test_failed != 0;
}
