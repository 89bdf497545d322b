/* Unit tests for layers/store.c: blobs, resumable writers, refs, locking. */
#include "layers/store.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/xalloc.h"
#include "tests/unit/test.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>

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
  CHECK (store_has_blob (s, d) && store_blob_size (s, d) == 5, "the blob is there");
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
  CHECK (store_blob_begin (s, want, &w, &err) == 0 && blob_writer_offset (w) == 0,
         "begin a new writer");
  blob_writer_write (w, content, 8, &err);
  store_blob_abort (w, true);
  char *partial = xasprintf ("%s/tmp/%s.partial", s->root, digest_hex (want));
  CHECK (access (partial, F_OK) == 0, "the partial file survives an abort");
  CHECK (store_blob_begin (s, want, &w, &err) == 0 && blob_writer_offset (w) == 8,
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
  CHECK (store_blob_commit (s, w, NULL, &err) < 0 && strstr (err->msg, "mismatch")
             && !store_has_blob (s, want),
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

static void
test_refs (struct store *s)
{
  struct err *err = NULL;
  struct store_ref r, *list;
  size_t n;
  const char *d = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
  const char *d2 = "sha256:2222222222222222222222222222222222222222222222222222222222222222";
  CHECK (store_ref_get (s, "docker.io/library/a:1", &r, &err) == 1, "unknown ref");
  CHECK (store_ref_set (s, "docker.io/library/a:1", "application/vnd.oci.image.manifest.v1+json", d, 10, &err) == 0,
         "set a ref");
  CHECK (store_ref_get (s, "docker.io/library/a:1", &r, &err) == 0 && !strcmp (r.digest, d)
             && r.size == 10,
         "get it back");
  store_ref_release (&r);
  store_ref_set (s, "docker.io/library/a:1", "application/vnd.oci.image.manifest.v1+json", d2, 11, &err);
  store_ref_set (s, "docker.io/library/b:1", "application/vnd.oci.image.manifest.v1+json", d, 10, &err);
  CHECK (store_ref_list (s, &list, &n, &err) == 0 && n == 2 && !strcmp (list[0].digest, d2),
         "setting a ref again replaces it");
  store_refs_free (list, n);
  CHECK (store_ref_remove (s, "docker.io/library/a:1", &err) == 0
             && store_ref_get (s, "docker.io/library/a:1", &r, &err) == 1,
         "remove a ref");
  CHECK (store_ref_remove (s, "docker.io/library/a:1", &err) == 1, "removing twice says not there");
  CHECK (store_ref_set (s, "x", "t", "sha256:zz", 1, &err) < 0, "a bad digest is refused");
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
  test_blobs (&s);
  test_refs (&s);
  store_release (&s);
  CHECK (store_open (&s, "/proc/version/x", &err) < 0 && strstr (err->msg, "open store"),
         "a store that cannot be made is a clear error");
  err_clear (&err);
  fs_rm_rf (AT_FDCWD, tmpl, &err);
  return test_done ();
}
