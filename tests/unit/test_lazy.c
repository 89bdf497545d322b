/* layers/lazy.c: a layer served from its TOC over a blob of zstd frames
 * in memory (the fetch callback counts what it is asked for): the tree,
 * whiteouts and opaque dirs as overlay wants them, a file fetched only
 * when read, its digest checked before a byte is served, lying TOCs and
 * fetch failures refused. */
#include "layers/digest.h"
#include "layers/lazy.h"
#include "lib/err.h"
#include "tests/unit/test.h"

#include <errno.h>
#include <fcntl.h>
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
fetch (void *arg, uint64_t off, uint64_t len, lazy_sink_fn sink, void *sink_arg,
       struct err **err)
{
  struct blob *b = arg;
  b->fetches++;
  b->bytes += len;
  if (b->fail)
    return err_set (err, EIO, "registry is down");
  if (off + len > b->len)
    return err_set (err, 0, "range past the end");
  /* in two pieces, as a transport would */
  if (sink (sink_arg, b->data + off, (size_t)len / 2, err) < 0)
    return -1;
  return sink (sink_arg, b->data + off + len / 2, (size_t)(len - len / 2), err);
}

/* Append data as one zstd frame; its chunk. */
static struct lazy_chunk
frame (struct blob *b, const void *data, size_t len, uint64_t uoff)
{
  size_t cap = ZSTD_compressBound (len);
  struct lazy_chunk k = { .off = b->len, .uoff = uoff, .ulen = len };
  b->data = realloc (b->data, b->len + cap + 7);
  memset (b->data + b->len, 0, 7); /* a gap, as tar headers make */
  b->len += 7;
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

int
main (void)
{
  struct blob b = { 0 };
  struct err *err = NULL;
  const char *passwd = "root:x:0:0:root:/root:/bin/sh\n";
  size_t big_len = 3 << 20;
  char *big = malloc (big_len), d_passwd[DIGEST_STR_LEN + 1],
       d_big[DIGEST_STR_LEN + 1];
  struct lazy_chunk kp, kb[3];
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
  digest_buf (passwd, strlen (passwd), d_passwd);
  digest_buf (big, big_len, d_big);
  kp = frame (&b, passwd, strlen (passwd), 0);
  for (int i = 0; i < 3; i++)
    kb[i] = frame (&b, big + i * (1 << 20), 1 << 20, (uint64_t)i << 20);

  l = lazy_layer_new (tmp, fetch, &b);
  struct lazy_entry es[] = {
    { .name = "./etc/passwd",
      .type = 'f',
      .mode = 0644,
      .size = strlen (passwd),
      .digest = d_passwd,
      .chunks = &kp,
      .nchunks = 1 },
    { .name = "big",
      .type = 'f',
      .mode = 0600,
      .uid = 7,
      .gid = 8,
      .size = big_len,
      .digest = d_big,
      .chunks = kb,
      .nchunks = 3 },
    { .name = "etc/", .type = 'd', .mode = 0700, .mtime = 1234 },
    { .name = "bin/sh", .type = 'l', .mode = 0777, .link = "busybox" },
    { .name = "big-too", .type = 'h', .link = "./big" },
    { .name = "gone/.wh.old", .type = 'f', .mode = 0644 },
    { .name = "gone/.wh..wh..opq", .type = 'f', .mode = 0644 },
    { .name = "empty", .type = 'f', .mode = 0644 },
  };
  for (size_t i = 0; i < sizeof es / sizeof *es; i++)
    CHECK (lazy_layer_add (l, &es[i], &err) == 0, "add %s", es[i].name);
  CHECK (lazy_layer_seal (l, &err) == 0, "seal");

  etc = lazy_lookup (l, LAZY_ROOT_INO, "etc");
  CHECK (etc && lazy_stat (l, etc, &st) && S_ISDIR (st.st_mode)
             && (st.st_mode & 07777) == 0700 && st.st_mtim.tv_sec == 1234,
         "a directory entry after its child: its own mode and mtime");
  ino = lazy_lookup (l, etc, "passwd");
  CHECK (ino && lazy_stat (l, ino, &st) && S_ISREG (st.st_mode)
             && st.st_size == (off_t)strlen (passwd),
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
         "an opaque marker makes its directory opaque, and is no entry");
  CHECK (!lazy_lookup (l, lazy_lookup (l, 1, "gone"), ".wh..wh..opq"),
         "the opaque marker is not listed");
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
         "a big file in three chunks, through its hardlink");
  CHECK (b.fetches == 2, "its chunks in one fetch (gaps skipped)");
  free (got);
  fd = lazy_content_fd (l, lazy_lookup (l, 1, "empty"), &err);
  CHECK (fd >= 0 && lseek (fd, 0, SEEK_END) == 0 && b.fetches == 2,
         "an empty file needs no fetch");
  CHECK (lazy_fetched_files (l) == 2, "two files fetched");
  got = lazy_path (l, lazy_lookup (l, etc, "passwd"));
  CHECK_STR (got, "etc/passwd", "an inode's path");
  free (got);
  lazy_layer_free (l);

  /* a TOC that lies about the digest: no byte served */
  l = lazy_layer_new (tmp, fetch, &b);
  struct lazy_entry liar = { .name = "passwd",
                             .type = 'f',
                             .mode = 0644,
                             .size = strlen (passwd),
                             .digest = d_big,
                             .chunks = &kp,
                             .nchunks = 1 };
  lazy_layer_add (l, &liar, &err);
  lazy_layer_seal (l, &err);
  fd = lazy_content_fd (l, lazy_lookup (l, 1, "passwd"), &err);
  CHECK (fd < 0 && err && strstr (err->msg, "the TOC says")
             && strstr (err->msg, "fetch 'passwd'"),
         "a wrong digest is an error naming the file: %s", err ? err->msg : "");
  err_clear (&err);
  /* a TOC that lies about the offsets: not zstd there */
  struct lazy_chunk off_by = kp;
  off_by.off -= 3;
  liar.digest = d_passwd;
  liar.chunks = &off_by;
  liar.name = "shifted";
  lazy_layer_add (l, &liar, &err);
  fd = lazy_content_fd (l, lazy_lookup (l, 1, "shifted"), &err);
  CHECK (fd < 0 && err, "a wrong offset is an error");
  err_clear (&err);
  /* a failing fetch, then a good one */
  b.fail = true;
  liar.chunks = &kp;
  liar.name = "again";
  lazy_layer_add (l, &liar, &err);
  fd = lazy_content_fd (l, lazy_lookup (l, 1, "again"), &err);
  CHECK (fd < 0 && err && strstr (err->msg, "registry is down"),
         "a fetch error is passed on");
  err_clear (&err);
  b.fail = false;
  fd = lazy_content_fd (l, lazy_lookup (l, 1, "again"), &err);
  CHECK (fd >= 0, "the next read tries again");

  struct lazy_entry bad[] = {
    { .name = "../escape", .type = 'f' },
    { .name = "x", .type = 'f', .size = 3, .digest = d_passwd },
    { .name = "y", .type = '?' },
    { .name = "passwd/below", .type = 'f' },
    { .name = "z", .type = 'l' },
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
    {
      CHECK (lazy_layer_add (l, &bad[i], &err) < 0 && err, "refused: %s (%s)",
             bad[i].name, err ? err->msg : "");
      err_clear (&err);
    }
  lazy_layer_free (l);
  free (big);
  free (b.data);
  close (tmp);
  printf ("1..%d\n", test_n);
  return test_failed != 0;
}
