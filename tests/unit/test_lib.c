/* Unit tests for lib/: err, strbuf, fs, bytepipe. */
#include "lib/bytepipe.h"
#include "lib/du.h"
#include "lib/dynlib.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/human.h"
#include "lib/path.h"
#include "lib/strbuf.h"
#include "lib/xalloc.h"
#include "tests/unit/test.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static int
fails_with_enoent (struct err **err)
{
  return err_set (err, ENOENT, "open '%s'", "x");
}

static void
test_err (void)
{
  struct err *err = NULL;
  CHECK (fails_with_enoent (&err) == -1, "err_set returns -1");
  CHECK_STR (err->msg, "open 'x': No such file or directory",
             "err_set appends strerror");
  err_wrap (&err, "pull '%s'", "alpine");
  CHECK_STR (err->msg, "pull 'alpine': open 'x': No such file or directory",
             "err_wrap prefixes context");
  err_set (&err, 0, "second");
  CHECK (strstr (err->msg, "second") == NULL, "the first error is kept");
  CHECK (err->exit == 1, "default exit status is 1");
  err_exit (&err, 125);
  CHECK (err->exit == 125, "err_exit sets the exit status");
  err_free (err);

  char *line = err_line ("pull 'a\nb\rc\td\x1b[31m\x7f'");
  CHECK_STR (line, "pull 'a\\nb\\rc\\td\\x1b[31m\\x7f'",
             "err_line escapes control characters");
  free (line);
  char *huge = xmalloc (200001);
  memset (huge, 'a', 200000);
  huge[200000] = '\0';
  memcpy (huge + 200000 - 5, ": why", 5);
  memcpy (huge, "\xc3\xa9", 2); /* é: a cut never splits a character */
  line = err_line (huge);
  CHECK (strlen (line) <= ERR_LINE_MAX + 8 && strstr (line, "…")
             && !strncmp (line, "\xc3\xa9", 2)
             && !strcmp (line + strlen (line) - 5, ": why"),
         "err_line cuts a long text in the middle, keeping its end");
  free (line);
  free (huge);
}

static void
test_strbuf (void)
{
  struct strbuf sb = STRBUF_INIT;
  CHECK (sb.buf && sb.buf[0] == '\0' && sb.len == 0, "empty strbuf is \"\"");
  strbuf_addstr (&sb, "hello");
  strbuf_addch (&sb, ' ');
  strbuf_addf (&sb, "%d-%s", 42, "x");
  CHECK_STR (sb.buf, "hello 42-x", "strbuf_add* append");
  CHECK (sb.len == 10, "len is tracked");
  for (int i = 0; i < 10000; i++)
    strbuf_addch (&sb, 'a');
  CHECK (sb.len == 10010 && sb.buf[sb.len] == '\0',
         "grows and stays NUL-terminated");
  char *s = strbuf_detach (&sb, NULL);
  CHECK (sb.len == 0 && sb.buf[0] == '\0', "detach resets");
  free (s);
  strbuf_release (&sb);
}

static void
test_fs (void)
{
  struct err *err = NULL;
  char tmpl[] = "/tmp/imgtool-test-XXXXXX";
  char *dir = mkdtemp (tmpl);
  int dfd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  char *buf = NULL;
  size_t len = 0;

  CHECK (fs_write_file_atomic (dfd, "f", "abc", 3, 0644, &err) == 0,
         "atomic write");
  CHECK (fs_read_file (dfd, "f", 100, &buf, &len, &err) == 0 && len == 3
             && !strcmp (buf, "abc"),
         "read back what was written");
  free (buf);
  {
    struct stat st;
    DIR *d;
    struct dirent *de;
    int others = 0;
    CHECK (fs_write_file_replace (dfd, "f", "defg", 4, 0600, &err) == 0
               && fs_read_file (dfd, "f", 100, &buf, &len, &err) == 0
               && len == 4 && !strcmp (buf, "defg"),
           "replace without fsync writes the new content");
    free (buf);
    CHECK (fstatat (dfd, "f", &st, 0) == 0 && (st.st_mode & 0777) == 0600,
           "with the mode asked for");
    d = fdopendir (openat (dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    while (d && (de = readdir (d)))
      others += strcmp (de->d_name, ".") && strcmp (de->d_name, "..")
                && strcmp (de->d_name, "f");
    if (d)
      closedir (d);
    CHECK (others == 0, "and no temp file is left");
  }
  CHECK (fs_read_file (dfd, "f", 2, &buf, &len, &err) == -1
             && err->errnum == EFBIG,
         "a file over the limit is refused");
  err_clear (&err);
  CHECK (fs_mkdir_p (dfd, "a/b/c", 0755, &err) == 0
             && faccessat (dfd, "a/b/c", F_OK, 0) == 0,
         "mkdir -p makes every level");
  CHECK (fs_mkdir_p (dfd, "a/b/c", 0755, &err) == 0, "mkdir -p is idempotent");
  CHECK (symlinkat ("/etc", dfd, "a/b/link") == 0, "make a symlink");
  CHECK (fs_rm_rf (dfd, "a", &err) == 0 && faccessat (dfd, "a", F_OK, 0) < 0
             && access ("/etc/passwd", F_OK) == 0,
         "rm -rf removes the tree and does not follow symlinks");
  {
    /* every kind of entry, a deep chain, and a mount it must not cross */
    char deep[4096] = "t";
    bool made = true;
    made &= fs_mkdir_p (dfd, "t/d/e", 0755, &err) == 0;
    made &= mkfifoat (dfd, "t/fifo", 0644) == 0;
    made &= symlinkat ("d", dfd, "t/ldir") == 0;
    made &= symlinkat ("/nonexistent", dfd, "t/dangling") == 0;
    made &= fs_write_file_atomic (dfd, "t/d/e/f", "x", 1, 0644, &err) == 0;
    for (int i = 0; i < 300; i++)
      strcat (deep, "/x");
    made &= fs_mkdir_p (dfd, deep, 0755, &err) == 0;
    CHECK (made, "make a tree of every kind, 300 levels deep");
    CHECK (fs_rm_rf (dfd, "t", &err) == 0 && faccessat (dfd, "t", F_OK, 0) < 0,
           "rm -rf removes it all (%s)", err ? err->msg : "");
    err_clear (&err);
    if (geteuid () == 0 && fs_mkdir_p (dfd, "m/mnt", 0755, &err) == 0
        && unshare (CLONE_NEWNS) == 0
        && mount (NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0)
      {
        /* an fd opened before unshare still sees the old namespace's
         * mounts: look from a new one */
        _cleanup_free_ char *mnt = xasprintf ("%s/m/mnt", dir);
        int nfd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        int ok = nfd >= 0 && mount ("tmpfs", mnt, "tmpfs", 0, "size=64k") == 0;
        ok = ok
             && fs_write_file_atomic (nfd, "m/mnt/keep", "k", 1, 0644, &err)
                    == 0;
        int rc = ok ? fs_rm_rf (nfd, "m", &err) : 0;
        CHECK (ok && rc < 0 && err && err->errnum == EBUSY
                   && faccessat (nfd, "m/mnt/keep", F_OK, 0) == 0,
               "rm -rf stops at a mount and leaves what is under it (%s)",
               err ? err->msg : "");
        err_clear (&err);
        umount2 (mnt, MNT_DETACH);
        if (nfd >= 0)
          close (nfd);
        CHECK (fs_rm_rf (dfd, "m", &err) == 0, "and removes the rest after");
      }
    else
      err_clear (&err);
  }
  int l1 = fs_lock (dfd, "lock", LOCK_EX, &err);
  int l2 = open (dir, O_RDONLY);
  int l3 = openat (dfd, "lock", O_RDWR | O_CLOEXEC);
  CHECK (l1 >= 0 && flock (l3, LOCK_EX | LOCK_NB) < 0 && errno == EWOULDBLOCK,
         "fs_lock holds an exclusive lock");
  close (l1);
  CHECK (flock (l3, LOCK_EX | LOCK_NB) == 0, "closing the fd releases it");
  close (l2);
  close (l3);
  fs_rm_rf (AT_FDCWD, dir, &err);
  close (dfd);
  CHECK (err == NULL, "no error left over");
}

static void
test_fd_passing (void)
{
  int sv[2], p[2], got = -2, flags;
  char buf[16] = "";
  ssize_t n;
  CHECK (socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == 0
             && pipe2 (p, O_CLOEXEC) == 0,
         "socketpair and pipe");
  CHECK (fs_send_fd (sv[0], "T", 1, p[1]) == 0, "send a message with an fd");
  n = fs_recv_fd (sv[1], buf, sizeof buf, &got);
  CHECK (n == 1 && buf[0] == 'T' && got >= 0 && got != p[1],
         "the message arrives with a new fd");
  flags = fcntl (got, F_GETFD);
  CHECK (flags >= 0 && (flags & FD_CLOEXEC), "received O_CLOEXEC");
  CHECK (write (got, "x", 1) == 1 && read (p[0], buf, 1) == 1 && buf[0] == 'x',
         "it is the same pipe");
  close (got);
  CHECK (fs_send_fd (sv[0], "plain", 5, -1) == 0
             && fs_recv_fd (sv[1], buf, sizeof buf, &got) == 5 && got == -1,
         "a message without an fd gives -1");
  close (sv[0]);
  CHECK (fs_recv_fd (sv[1], buf, sizeof buf, &got) == 0 && got == -1,
         "EOF when the peer is gone");
  CHECK (fs_send_fd (sv[1], "x", 1, -1) < 0 && errno == EPIPE,
         "sending to a closed peer fails with EPIPE, no SIGPIPE");
  close (sv[1]);
  close (p[0]);
  close (p[1]);
}

static void
test_path (void)
{
  static const char *const cases[][2] = {
    { "", "." },
    { "/", "/" },
    { "a/b", "a/b" },
    { "a//b/", "a/b" },
    { "./a/./b/.", "a/b" },
    { "a/../b", "b" },
    { "../a", "../a" },
    { "/../a", "/a" },
    { "a/b/../../..", ".." },
    { "/a/b/../c/", "/a/c" },
    { "..//x/..", ".." },
    { ".", "." },
  };
  for (size_t i = 0; i < ARRAY_SIZE (cases); i++)
    {
      char *c = path_clean (cases[i][0]);
      CHECK_STR (c, cases[i][1], "path_clean '%s'", cases[i][0]);
      free (c);
    }
}

static void
test_size_parse (void)
{
  static const struct
  {
    const char *in;
    int64_t want; /* -1: refused */
  } cases[] = {
    { "5242880", 5242880 },
    { "512k", 512 * 1024 },
    { "5m", 5 << 20 },
    { "5MiB", 5 << 20 },
    { "5MB", 5 << 20 },
    { "1G", 1LL << 30 },
    { "100b", 100 },
    { "0", -1 },
    { "", -1 },
    { "-5m", -1 },
    { "5x", -1 },
    { "5iB", -1 },
    { "m", -1 },
    { "99999999999999999999", -1 },
    { "9000000000000G", -1 },
  };
  for (size_t i = 0; i < ARRAY_SIZE (cases); i++)
    {
      int64_t v = -1;
      int r = human_size_parse (cases[i].in, &v);
      if (cases[i].want < 0)
        CHECK (r < 0, "size '%s' is refused", cases[i].in);
      else
        CHECK (r == 0 && v == cases[i].want, "size '%s' is %lld", cases[i].in,
               (long long)cases[i].want);
    }
}

struct sink
{
  unsigned char *got;
  size_t len, max_piece, stop_at;
  int stop_rc;
  bool ended, end_ok;
};

static int
sink_consume (void *ctx, const void *data, size_t len, struct err **err)
{
  struct sink *k = ctx;
  memcpy (k->got + k->len, data, len);
  k->len += len;
  if (len > k->max_piece)
    k->max_piece = len;
  if (k->stop_at && k->len >= k->stop_at)
    {
      if (k->stop_rc < 0)
        return err_set (err, 0, "consumer failed at %zu", k->len);
      return k->stop_rc;
    }
  return 0;
}

static int
sink_end (void *ctx, bool ok, struct err **err)
{
  struct sink *k = ctx;
  k->ended = true;
  k->end_ok = ok;
  return 0;
}

/* A bounded ring between threads: every byte in order, pieces no larger
 * than asked, the producer's verdict delivered, a stop and a failure seen
 * by the producer. */
static void
test_bytepipe (void)
{
  static const struct bytepipe_ops ops = { sink_consume, sink_end };
  const size_t total = 3u << 20;
  unsigned char *src = xmalloc (total);
  struct sink k = { .got = xcalloc (1, total) };
  struct err *err = NULL;
  struct bytepipe *p;
  for (size_t i = 0; i < total; i++)
    src[i] = (unsigned char)(i * 2654435761u >> 13);
  p = bytepipe_start (100000, 7000, &ops, &k, &err);
  CHECK (p != NULL, "start a pipe");
  int rc = 0;
  /* odd sizes, so pieces wrap around the ring's end */
  for (size_t off = 0, n = 1; off < total; off += n, n = n * 3 % 40009 + 1)
    rc |= bytepipe_put (p, src + off, off + n > total ? total - off : n);
  bytepipe_close (p, true);
  CHECK (bytepipe_join (p, &err) == 0 && rc == 0,
         "3 MiB through a 100 kB ring");
  CHECK (k.len == total && !memcmp (k.got, src, total), "every byte, in order");
  CHECK (k.max_piece <= 7000, "in pieces of at most max_chunk (%zu)",
         k.max_piece);
  CHECK (k.ended && k.end_ok, "end is told the stream was good");
  free (k.got);

  memset (&k, 0, sizeof k);
  k.got = xcalloc (1, total);
  k.stop_at = 50000;
  k.stop_rc = 1;
  p = bytepipe_start (100000, 0, &ops, &k, &err);
  rc = 0;
  for (size_t off = 0; off < total; off += 10000)
    rc |= bytepipe_put (p, src + off, 10000);
  CHECK (rc == 0 && bytepipe_stopped (p),
         "a worker that stops reading does not block the producer");
  CHECK (bytepipe_join (p, &err) == 0 && k.ended && !k.end_ok,
         "join closes an unclosed stream as not ok");
  free (k.got);

  memset (&k, 0, sizeof k);
  k.got = xcalloc (1, total);
  k.stop_at = 50000;
  k.stop_rc = -1;
  p = bytepipe_start (100000, 0, &ops, &k, &err);
  rc = 0;
  for (size_t off = 0; off < total; off += 10000)
    rc |= bytepipe_put (p, src + off, 10000);
  CHECK (rc < 0, "the producer sees the worker's failure");
  bytepipe_close (p, true);
  CHECK (bytepipe_join (p, &err) < 0 && err
             && strstr (err->msg, "consumer failed"),
         "join returns the worker's error");
  err_clear (&err);
  free (k.got);

  /* reserve/commit: the producer writes into the ring; commits of the
   * piece size come out as whole pieces, in order, the last one short */
  memset (&k, 0, sizeof k);
  k.got = xcalloc (1, total);
  p = bytepipe_start (8 * 4096, 4096, &ops, &k, &err);
  rc = 0;
  bool pieces_ok = true;
  for (size_t off = 0; off < total && rc == 0;)
    {
      size_t room = 0, n = total - off < 4096 ? total - off : 4096;
      unsigned char *w = bytepipe_reserve (p, 4096, &room);
      if (!w || room < 4096)
        {
          pieces_ok = false;
          break;
        }
      memcpy (w, src + off, n);
      rc |= bytepipe_commit (p, n);
      off += n;
    }
  bytepipe_close (p, true);
  CHECK (bytepipe_join (p, &err) == 0 && rc == 0 && pieces_ok,
         "3 MiB written into a 32 kB ring through reservations");
  CHECK (k.len == total && !memcmp (k.got, src, total) && k.max_piece == 4096,
         "every byte, in order, in whole pieces");
  free (k.got);

  /* a worker that fails while the producer holds room: the producer is
   * told, and the ring is not unmapped under its writes */
  memset (&k, 0, sizeof k);
  k.got = xcalloc (1, total);
  k.stop_at = 20000;
  k.stop_rc = -1;
  p = bytepipe_start (8 * 4096, 4096, &ops, &k, &err);
  rc = 0;
  for (size_t off = 0; off < total && rc == 0; off += 4096)
    {
      size_t room = 0;
      unsigned char *w = bytepipe_reserve (p, 4096, &room);
      if (!w)
        {
          rc = -1;
          break;
        }
      usleep (100); /* the worker may fail now */
      memcpy (w, src + off, 4096);
      rc |= bytepipe_commit (p, 4096);
    }
  CHECK (rc < 0, "the producer sees the failure through reserve or commit");
  CHECK (bytepipe_join (p, &err) < 0 && err
             && strstr (err->msg, "consumer failed"),
         "and join returns it");
  err_clear (&err);
  free (k.got);
  free (src);
}

static struct dynlib libc_lib = DYNLIB_INIT ("libc.so.6");
static struct dynlib missing_lib = DYNLIB_INIT ("libimgtool-no-such.so.9");

static void
test_dynlib (void)
{
  static void *slot;
  int (*f) (int);
  pid_t pid;
  int st, fds[2];
  char buf[256] = "";
  ssize_t n;

  CHECK (!dynlib_loaded (&libc_lib), "a library is not loaded before use");
  f = (int (*) (int))dynlib_fn (&libc_lib, &slot, "abs");
  CHECK (f && f (-7) == 7 && dynlib_loaded (&libc_lib),
         "dynlib_fn loads the library and resolves a function");
  CHECK (dynlib_fn (&libc_lib, &slot, "abs") == (void *)f,
         "the resolved address is kept");

  /* a missing library ends the process as the dynamic loader does */
  if (pipe (fds) < 0)
    return;
  fflush (stdout);
  pid = fork ();
  if (pid == 0)
    {
      dup2 (fds[1], 2);
      dynlib_sym (&missing_lib, "anything");
      _exit (0);
    }
  close (fds[1]);
  n = read (fds[0], buf, sizeof buf - 1);
  close (fds[0]);
  buf[n > 0 ? n : 0] = '\0';
  waitpid (pid, &st, 0);
  CHECK (WIFEXITED (st) && WEXITSTATUS (st) == 127,
         "a missing library exits 127");
  CHECK (strstr (buf, "error while loading shared libraries")
             && strstr (buf, "libimgtool-no-such.so.9"),
         "and names the library: %s", buf);
}

/* fs_tree_size: files' bytes, a hard-linked file once, links not
 * followed, directories not counted */
static void
test_tree_size (void)
{
  char tmpl[] = "/tmp/test_du.XXXXXX";
  char *dir = mkdtemp (tmpl);
  struct err *e = NULL;
  int fd;
  if (!dir)
    return;
  fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  CHECK (fs_tree_size (fd, ".") == 0, "an empty tree is 0 bytes");
  mkdirat (fd, "d", 0755);
  fs_write_file_atomic (fd, "d/a", "12345", 5, 0644, &e);
  fs_write_file_atomic (fd, "b", "123", 3, 0644, &e);
  CHECK (linkat (fd, "d/a", fd, "d/hard", 0) == 0
             && symlinkat ("/etc", fd, "etc") == 0,
         "a hard link and a symlink");
  CHECK (fs_tree_size (fd, ".") == 8 + 4,
         "5 + 3 bytes, the hard link once, the link's own 4 bytes");
  CHECK (fs_tree_size (fd, "nosuch") == 0, "a tree that is not there: 0");
  fs_rm_rf (AT_FDCWD, dir, &e);
  err_free (e);
  close (fd);
}

int
main (void)
{
  test_tree_size ();
  test_path ();
  test_size_parse ();
  test_err ();
  test_strbuf ();
  test_fs ();
  test_bytepipe ();
  test_fd_passing ();
  test_dynlib ();
  return test_done ();
}
