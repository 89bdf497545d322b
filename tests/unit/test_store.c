/* Unit tests for layers/store.c: blobs, resumable writers, refs, locking. */
#include "layers/store.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/xalloc.h"
#include "tests/unit/test.h"

#include <fcntl.h>
#include <linux/fs.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

static char root[64];

static void
test_blobs (struct store *s)
{
  struct err *err = NULL;
  char d[DIGEST_STR_LEN + 1], *got = NULL, *buf = NULL;
  size_t len;
  struct blob_writer *w;

  digest_buf ("hello", 5, d);
  CHECK (!store_has_blob (s, d), "a new store has no blob");
  CHECK (store_blob_put (s, "hello", 5, d, &got, &err) == 0 && !strcmp (got, d),
         "put a blob with its expected digest");
  free (got);
  CHECK (store_has_blob (s, d) && store_blob_size (s, d) == 5,
         "the blob is there");
  CHECK (store_blob_read (s, d, 100, &buf, &len, &err) == 0 && len == 5
             && !memcmp (buf, "hello", 5),
         "read it back");
  free (buf);
  CHECK (store_blob_put (s, "hellO", 5, d, NULL, &err) < 0
             && strstr (err->msg, "digest mismatch"),
         "a buffer that does not match its digest is refused");
  err_clear (&err);

  /* resumable writer: write half, abort keeping the partial, resume */
  const char *content = "0123456789abcdefghij";
  char want[DIGEST_STR_LEN + 1];
  digest_buf (content, 20, want);
  CHECK (store_blob_begin (s, want, &w, &err) == 0
             && blob_writer_offset (w) == 0,
         "begin a new writer");
  blob_writer_write (w, content, 8, &err);
  store_blob_abort (w, true);
  char *partial = xasprintf ("%s/tmp/%s.partial", s->root, digest_hex (want));
  CHECK (access (partial, F_OK) == 0, "the partial file survives an abort");
  CHECK (store_blob_begin (s, want, &w, &err) == 0
             && blob_writer_offset (w) == 8,
         "a second writer resumes at the end of the partial file");
  blob_writer_write (w, content + 8, 12, &err);
  CHECK (store_blob_commit (s, w, &got, &err) == 0 && !strcmp (got, want),
         "the resumed blob verifies");
  free (got);
  CHECK (access (partial, F_OK) < 0, "the partial file is gone after commit");

  /* mismatch keeps nothing */
  digest_buf ("other", 5, want);
  store_blob_begin (s, want, &w, &err);
  blob_writer_write (w, "wrong", 5, &err);
  CHECK (store_blob_commit (s, w, NULL, &err) < 0
             && strstr (err->msg, "mismatch") && !store_has_blob (s, want),
         "a mismatching stream is not stored");
  err_clear (&err);
  free (partial);
  partial = xasprintf ("%s/tmp/%s.partial", s->root, digest_hex (want));
  CHECK (access (partial, F_OK) < 0, "and its partial file is removed");
  free (partial);

  /* reset after a server ignored Range */
  store_blob_begin (s, NULL, &w, &err);
  blob_writer_write (w, "garbage", 7, &err);
  blob_writer_reset (w, &err);
  blob_writer_write (w, "hello", 5, &err);
  CHECK (store_blob_commit (s, w, &got, &err) == 0 && !strcmp (got, d),
         "reset starts the content and its digest over");
  free (got);
}

/* O_DIRECT writers: pieces of odd sizes across the aligned buffer's
 * boundaries give the same blob as a plain write. */
static void
test_direct (struct store *s)
{
  struct err *err = NULL;
  struct blob_writer *w;
  size_t n = (9u << 20) + 12345;
  unsigned char *buf = xmalloc (n);
  char want[DIGEST_STR_LEN + 1], *got = NULL, *back = NULL;
  size_t len = 0;
  for (size_t i = 0; i < n; i++)
    buf[i] = (unsigned char)(i * 2654435761u >> 13);
  digest_buf (buf, n, want);

  CHECK (store_blob_begin (s, NULL, &w, &err) == 0, "begin a direct writer");
  blob_writer_direct (w);
  blob_writer_write (w, "junk", 4, &err);
  CHECK (blob_writer_reset (w, &err) == 0, "reset a direct writer");
  size_t steps[] = { 1, 4095, 1u << 20, 3u << 20, 7, (4u << 20) + 1 };
  size_t off = 0;
  int rc = 0;
  for (size_t i = 0; off < n; i = (i + 1) % ARRAY_SIZE (steps))
    {
      size_t k = steps[i] < n - off ? steps[i] : n - off;
      rc |= blob_writer_write (w, buf + off, k, &err);
      off += k;
    }
  CHECK (rc == 0 && blob_writer_offset (w) == n, "write 9 MB in odd pieces");
  CHECK (store_blob_commit (s, w, &got, &err) == 0 && !strcmp (got, want),
         "the direct blob has the content's digest (%s)",
         err ? err->msg : "ok");
  CHECK (store_blob_read (s, want, 16u << 20, &back, &len, &err) == 0
             && len == n && !memcmp (back, buf, n),
         "and reads back byte for byte");
  free (back);
  free (got);
  free (buf);
  err_clear (&err);
}

static int
count_bytes (void *ctx, const void *data, size_t len, struct err **err)
{
  *(size_t *)ctx += len;
  return 0;
}

/* Parts written out of order (registry/blobpar.c): the digest is the
 * joined whole's, and a file left with holes is never resumed. */
static void
test_pwrite (struct store *s)
{
  struct err *err = NULL;
  struct blob_writer *w;
  char data[3000], want[DIGEST_STR_LEN + 1], *got = NULL;
  size_t seen = 0;
  for (size_t i = 0; i < sizeof data; i++)
    data[i] = (char)(i * 7);
  digest_buf (data, sizeof data, want);
  CHECK (store_blob_begin (s, want, &w, &err) == 0, "begin a writer");
  CHECK (blob_writer_pwrite (w, 2000, data + 2000, 1000, &err) == 0,
         "write the last part first");
  store_blob_abort (w, true); /* as a kill would leave it */
  CHECK (store_blob_begin (s, want, &w, &err) == 0
             && blob_writer_offset (w) == 0,
         "a partial file with holes is started over, not resumed (%s)",
         err ? err->msg : "ok");
  blob_writer_pwrite (w, 2000, data + 2000, 1000, &err);
  blob_writer_pwrite (w, 1000, data + 1000, 1000, &err);
  blob_writer_pwrite (w, 0, data, 1000, &err);
  CHECK (blob_writer_absorb (w, 3000, count_bytes, &seen, &err) == 0
             && seen == 3000 && blob_writer_offset (w) == 3000,
         "then the whole, in order");
  CHECK (blob_writer_pwrite (w, 10, data, 10, &err) < 0,
         "no write before the digest's offset");
  err_clear (&err);
  CHECK (store_blob_commit (s, w, &got, &err) == 0 && !strcmp (got, want),
         "the joined whole's digest (%s)", err ? err->msg : "ok");
  free (got);
  err_clear (&err);
}

/* Is pid blocked in flock(2) right now? */
static bool
blocked_in_flock (pid_t pid)
{
  char path[64], buf[64] = { 0 };
  FILE *f;
  snprintf (path, sizeof path, "/proc/%d/syscall", (int)pid);
  if (!(f = fopen (path, "re")))
    return false;
  bool r = fgets (buf, sizeof buf, f) && atol (buf) == SYS_flock;
  fclose (f);
  return r;
}

/* A second writer waits on the partial file's lock while the first one
 * commits: it must find the blob stored, not lock (and append to) the
 * inode that was just renamed into blobs/. */
static void
test_writer_race (struct store *s)
{
  struct err *err = NULL;
  struct blob_writer *w, *w2;
  const char *content = "the race between two writers of one blob";
  char want[DIGEST_STR_LEN + 1], *buf = NULL;
  size_t len = 0;
  int st = 0;
  int go[2];
  digest_buf (content, strlen (content), want);
  /* fork before the first writer opens its file: a child that inherited
   * that open file would hold its lock too */
  if (pipe2 (go, O_CLOEXEC) < 0)
    abort ();
  pid_t pid = fork ();
  if (pid == 0)
    {
      struct store s2;
      struct blob_writer *w3 = NULL;
      struct err *e = NULL;
      char c;
      alarm (30);
      close (go[1]);
      if (read (go[0], &c, 1) != 1 || store_open (&s2, root, &e) < 0)
        _exit (3);
      int rc = store_blob_begin (&s2, want, &w3, &e);
      if (rc == 0)
        {
          /* the bug: a writer on the stored inode appends to it */
          blob_writer_write (w3, "!", 1, &e);
          store_blob_abort (w3, true);
        }
      _exit (rc == 1 && !w3 ? 0 : 4);
    }
  close (go[0]);
  CHECK (store_blob_begin (s, want, &w, &err) == 0, "first writer begins");
  blob_writer_write (w, content, strlen (content), &err);
  CHECK (store_blob_try_begin (s, want, &w2, &err) == 2 && !w2,
         "a non-blocking second writer is told the blob is busy");
  if (write (go[1], "x", 1) != 1)
    abort ();
  close (go[1]);
  for (int i = 0; i < 500 && !blocked_in_flock (pid); i++)
    nanosleep (&(struct timespec){ 0, 10000000 }, NULL);
  CHECK (blocked_in_flock (pid), "the second writer waits for the lock");
  CHECK (store_blob_commit (s, w, NULL, &err) == 0, "first writer commits");
  waitpid (pid, &st, 0);
  CHECK (WIFEXITED (st) && WEXITSTATUS (st) == 0,
         "the waiting writer is told the blob is stored (status %d)", st);
  CHECK (store_blob_read (s, want, 1024, &buf, &len, &err) == 0
             && len == strlen (content),
         "the stored blob is intact");
  free (buf);
  char *partial = xasprintf ("%s/tmp/%s.partial", s->root, digest_hex (want));
  CHECK (access (partial, F_OK) < 0, "no partial file is left behind");
  CHECK (store_blob_begin (s, want, &w2, &err) == 1 && !w2,
         "begin on a stored blob says it is stored");
  CHECK (access (partial, F_OK) < 0, "and makes no partial file");
  free (partial);

  /* eight processes writing one new blob at once, in small pieces */
  const char *c2 = "eight writers, one blob, written in pieces of three";
  digest_buf (c2, strlen (c2), want);
  for (int i = 0; i < 8; i++)
    if (fork () == 0)
      {
        struct store s2;
        struct blob_writer *w3 = NULL;
        struct err *e = NULL;
        alarm (30);
        if (store_open (&s2, root, &e) < 0)
          _exit (3);
        int rc = store_blob_begin (&s2, want, &w3, &e);
        if (rc == 1)
          _exit (0);
        if (rc < 0)
          _exit (4);
        for (size_t off = blob_writer_offset (w3); off < strlen (c2); off += 3)
          {
            size_t n = strlen (c2) - off < 3 ? strlen (c2) - off : 3;
            if (blob_writer_write (w3, c2 + off, n, &e) < 0)
              _exit (5);
            if (i % 2 && off > 10)
              {
                store_blob_abort (w3, true); /* a killed writer */
                _exit (0);
              }
          }
        _exit (store_blob_commit (&s2, w3, NULL, &e) == 0 ? 0 : 6);
      }
  int ok = 1;
  while (wait (&st) > 0)
    ok &= WIFEXITED (st) && WEXITSTATUS (st) == 0;
  CHECK (ok, "eight concurrent writers of one blob all succeed");
  if (!store_has_blob (s, want))
    {
      /* every writer that got the lock first was a "killed" one */
      CHECK (store_blob_begin (s, want, &w2, &err) == 0, "resume the partial");
      blob_writer_write (w2, c2 + blob_writer_offset (w2),
                         strlen (c2) - blob_writer_offset (w2), &err);
      store_blob_commit (s, w2, NULL, &err);
    }
  CHECK (store_blob_read (s, want, 1024, &buf, &len, &err) == 0
             && len == strlen (c2),
         "and leave one good copy");
  free (buf);
}

static void
test_refs (struct store *s)
{
  struct err *err = NULL;
  struct store_ref r, *list;
  size_t n;
  const char *d
      = "sha256:"
        "1111111111111111111111111111111111111111111111111111111111111111";
  const char *d2
      = "sha256:"
        "2222222222222222222222222222222222222222222222222222222222222222";
  CHECK (store_ref_get (s, "docker.io/library/a:1", &r, &err) == 1,
         "unknown ref");
  CHECK (store_ref_set (s, "docker.io/library/a:1",
                        "application/vnd.oci.image.manifest.v1+json", d, 10,
                        &err)
             == 0,
         "set a ref");
  CHECK (store_ref_get (s, "docker.io/library/a:1", &r, &err) == 0
             && !strcmp (r.digest, d) && r.size == 10,
         "get it back");
  store_ref_release (&r);
  store_ref_set (s, "docker.io/library/a:1",
                 "application/vnd.oci.image.manifest.v1+json", d2, 11, &err);
  store_ref_set (s, "docker.io/library/b:1",
                 "application/vnd.oci.image.manifest.v1+json", d, 10, &err);
  CHECK (store_ref_list (s, &list, &n, &err) == 0 && n == 2
             && !strcmp (list[0].digest, d2),
         "setting a ref again replaces it");
  store_refs_free (list, n);
  CHECK (store_ref_remove (s, "docker.io/library/a:1", &err) == 0
             && store_ref_get (s, "docker.io/library/a:1", &r, &err) == 1,
         "remove a ref");
  CHECK (store_ref_remove (s, "docker.io/library/a:1", &err) == 1,
         "removing twice says not there");
  CHECK (store_ref_set (s, "x", "t", "sha256:zz", 1, &err) < 0,
         "a bad digest is refused");
  err_clear (&err);

  /* eight processes setting refs at once: none lost */
  for (int i = 0; i < 8; i++)
    if (fork () == 0)
      {
        struct store s2;
        struct err *e = NULL;
        char name[64];
        store_open (&s2, root, &e);
        for (int j = 0; j < 10; j++)
          {
            snprintf (name, sizeof name, "docker.io/x/p%d:%d", i, j);
            if (store_ref_set (&s2, name, "t", d, 1, &e) < 0)
              _exit (1);
          }
        _exit (0);
      }
  int ok = 1, st;
  while (wait (&st) > 0)
    ok &= WIFEXITED (st) && WEXITSTATUS (st) == 0;
  CHECK (ok && store_ref_list (s, &list, &n, &err) == 0 && n == 81,
         "80 refs set by 8 processes at once are all there (%zu)", n);
  store_refs_free (list, n);
}

/* snapshots/, tmp/ and containers/ spread their directories over ext4's
 * block groups (store.c: mark_topdir), where the file system has the flag */
static void
test_topdirs (void)
{
  static const char *const dirs[] = { "snapshots", "tmp", "containers" };
  for (size_t i = 0; i < 3; i++)
    {
      char *d = xasprintf ("%s/%s", root, dirs[i]);
      int fd = open (d, O_RDONLY | O_DIRECTORY | O_CLOEXEC), fl = 0;
      if (fd >= 0 && ioctl (fd, FS_IOC_GETFLAGS, &fl) == 0)
        CHECK (fl & FS_TOPDIR_FL, "%s/ is marked a top directory (chattr +T)",
               dirs[i]);
      else
        SKIP ("%s/: this file system has no inode flags", dirs[i]);
      if (fd >= 0)
        close (fd);
      free (d);
    }
}

int
main (void)
{
  struct store s;
  struct err *err = NULL;
  char tmpl[] = "/tmp/imgtool-store-XXXXXX";
  snprintf (root, sizeof root, "%s/root", mkdtemp (tmpl));
  CHECK (store_open (&s, root, &err) == 0, "open a new store");
  char *p = xasprintf ("%s/oci/oci-layout", root);
  CHECK (access (p, F_OK) == 0, "the OCI layout file exists");
  free (p);
  test_topdirs ();
  test_blobs (&s);
  test_direct (&s);
  test_pwrite (&s);
  test_writer_race (&s);
  test_refs (&s);
  store_release (&s);
  CHECK (store_open (&s, "/proc/version/x", &err) < 0
             && strstr (err->msg, "open store"),
         "a store that cannot be made is a clear error");
  err_clear (&err);
  fs_rm_rf (AT_FDCWD, tmpl, &err);
  return test_done ();
}
