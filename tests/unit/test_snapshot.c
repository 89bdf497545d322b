/* Unit tests for layers/snapshot.c (and image_chain_ids): snapshots in a
 * store made by the test, from blobs the test writes. The concurrency
 * check re-executes this program as a second process ("--contend"). */
#include "layers/image.h"
#include "layers/snapshot.h"
#include "layers/store.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/xalloc.h"
#include "tests/unit/tarbuild.h"
#include "tests/unit/test.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char root[64];
static struct store st;

/* Store a blob (as pull would have) and return its digest. */
static char *
put_blob (const struct strbuf *b)
{
  char d[DIGEST_STR_LEN + 1];
  struct err *err = NULL;
  digest_buf (b->buf, b->len, d);
  fs_write_file_atomic (st.blobs_fd, digest_hex (d), b->buf, b->len, 0644,
                        &err);
  err_free (err);
  return xstrdup (d);
}

static char *
diff_of (const struct strbuf *tar)
{
  char d[DIGEST_STR_LEN + 1];
  digest_buf (tar->buf, tar->len, d);
  return xstrdup (d);
}

static bool
exists_rel (const char *rel)
{
  struct stat s;
  return fstatat (st.root_fd, rel, &s, AT_SYMLINK_NOFOLLOW) == 0;
}

/* Whether snapshots/ holds a temp dir of chain ID c, whatever its name. */
static bool
has_tmp (const char *c)
{
  _cleanup_free_ char *prefix = xasprintf ("tmp-%s", digest_hex (c));
  _cleanup_closedir_ DIR *d = NULL;
  struct dirent *de;
  int fd = openat (st.root_fd, "snapshots", O_RDONLY | O_DIRECTORY);
  if (fd < 0 || !(d = fdopendir (fd)))
    return false;
  while ((de = readdir (d)))
    if (!strncmp (de->d_name, prefix, strlen (prefix)))
      return true;
  return false;
}

static char *
marker_of (const char *c)
{
  _cleanup_free_ char *rel = xasprintf ("snapshots/.state/%s", digest_hex (c));
  char *m = NULL;
  struct err *err = NULL;
  if (fs_read_file (st.root_fd, rel, 4096, &m, NULL, &err) < 0)
    {
      err_free (err);
      return xstrdup ("");
    }
  m[strcspn (m, "\n")] = '\0';
  return m;
}

static void
set_marker (const char *c, const char *text)
{
  _cleanup_free_ char *rel = xasprintf ("snapshots/.state/%s", digest_hex (c));
  struct err *err = NULL;
  fs_write_file_atomic (st.root_fd, rel, text, strlen (text), 0600, &err);
  err_free (err);
}

static ino_t
ino_of (const char *c, const char *name)
{
  _cleanup_free_ char *rel
      = xasprintf ("snapshots/%s/%s", digest_hex (c), name);
  struct stat s;
  return fstatat (st.root_fd, rel, &s, AT_SYMLINK_NOFOLLOW) == 0 ? s.st_ino : 0;
}

/* Durability without a sync on the command's path: a snapshot made in
 * this boot is used at once; one never marked synced is absent after a
 * reboot (here: another boot ID) and unpacked again from its blob; one
 * marked synced is used in any boot. */
static void
test_boot_markers (void)
{
  struct err *err = NULL;
  struct strbuf tar = TAR ({ .type = '0', .name = "boot", .data = "b" }, );
  _cleanup_free_ char *blob = put_blob (&tar), *diff = diff_of (&tar);
  snapshot_test_set_boot_id ("11111111-1111-1111-1111-111111111111");
  CHECK (snapshot_create_from_blob (&st, diff, blob, diff, &err) == 0,
         "make a snapshot in boot 1 (%s)", err ? err->msg : "");
  _cleanup_free_ char *m1 = marker_of (diff);
  CHECK (!strncmp (m1, "unsynced 11111111-1111-1111-1111-111111111111 ", 46),
         "its marker says unsynced, boot 1: '%s'", m1);
  CHECK (snapshot_exists (&st, diff), "usable in the boot that made it");
  ino_t before = ino_of (diff, "boot");

  /* the power went: boot 2 sees an unsynced snapshot of boot 1 */
  snapshot_test_set_boot_id ("22222222-2222-2222-2222-222222222222");
  CHECK (!snapshot_exists (&st, diff),
         "an unsynced snapshot of an earlier boot counts as absent");
  _cleanup_free_ char *planted
      = xasprintf ("snapshots/%s/planted", digest_hex (diff));
  fs_write_file_atomic (st.root_fd, planted, "x", 1, 0644, &err);
  CHECK (snapshot_create_from_blob (&st, diff, blob, diff, &err) == 0
             && snapshot_exists (&st, diff),
         "it is unpacked again from its blob (%s)", err ? err->msg : "");
  CHECK (!exists_rel (planted) && ino_of (diff, "boot") != 0
             && ino_of (diff, "boot") != before,
         "the old copy's files are gone, the layer's are new");
  _cleanup_free_ char *m2 = marker_of (diff);
  CHECK (!strncmp (m2, "unsynced 22222222-2222-2222-2222-222222222222 ", 46),
         "the new copy is marked with boot 2: '%s'", m2);

  /* a flush marks it synced; then any later boot uses it */
  CHECK (snapshot_flush_pending (&st, &err) == 0, "flush (%s)",
         err ? err->msg : "");
  _cleanup_free_ char *m3 = marker_of (diff);
  CHECK (!strncmp (m3, "synced ", 7), "marked synced: '%s'", m3);
  ino_t synced = ino_of (diff, "boot");
  snapshot_test_set_boot_id ("33333333-3333-3333-3333-333333333333");
  CHECK (snapshot_exists (&st, diff)
             && snapshot_create_from_blob (&st, diff, blob, diff, &err) == 0
             && ino_of (diff, "boot") == synced,
         "a synced snapshot of an earlier boot is used as it is");

  /* the flush leaves alone what it did not see complete: a marker that
   * changed (made again meanwhile) or one of another boot */
  set_marker (diff, "unsynced 22222222-2222-2222-2222-222222222222 x\n");
  CHECK (snapshot_flush_pending (&st, &err) == 0, "flush again");
  _cleanup_free_ char *m4 = marker_of (diff);
  CHECK (!strncmp (m4, "unsynced 2222", 13),
         "an unsynced marker of another boot is not marked synced");
  CHECK (!snapshot_exists (&st, diff), "and stays unusable");
  set_marker (diff, "garbage");
  CHECK (!snapshot_exists (&st, diff), "a damaged marker: absent");
  set_marker (diff, "");
  _cleanup_free_ char *rel
      = xasprintf ("snapshots/.state/%s", digest_hex (diff));
  unlinkat (st.root_fd, rel, 0);
  CHECK (!snapshot_exists (&st, diff), "no marker: absent");
  CHECK (snapshot_create_from_blob (&st, diff, blob, diff, &err) == 0
             && snapshot_exists (&st, diff),
         "and made again (%s)", err ? err->msg : "");
  snapshot_test_set_boot_id (NULL);
  strbuf_release (&tar);
  err_free (err);
}

static void
test_chain_ids (void)
{
  char *diffs[] = {
    "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
    "sha256:cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc",
    NULL
  };
  char **c = image_chain_ids (diffs);
  CHECK (strv_len (c) == 3, "one chain ID per layer");
  CHECK_STR (c[0], diffs[0], "chain[0] is diff[0]");
  /* values from python: sha256((chain[i-1] + " " + diff[i]).encode()) */
  CHECK_STR (
      c[1],
      "sha256:ccd722928bd92476ba1745586fed6e45a102504185ad88cd89e01ff116fd146c",
      "chain[1]");
  CHECK_STR (
      c[2],
      "sha256:c1377126441fb2f5ec2c21ae2a60255331d639e830f0ee1b40a36e52d4c40588",
      "chain[2]");
  strv_free (c);
}

static void
test_create (void)
{
  struct err *err = NULL;
  struct strbuf tar = TAR ({ .type = '0', .name = "hello", .data = "hi" },
                           { .type = '0', .name = ".wh.gone" }, );
  struct strbuf gz = gzip_buf (&tar);
  _cleanup_free_ char *blob = put_blob (&gz), *diff = diff_of (&tar);
  _cleanup_free_ char *path = snapshot_path (&st, diff);
  _cleanup_free_ char *want
      = xasprintf ("%s/snapshots/%s", root, digest_hex (diff));
  CHECK_STR (path, want, "snapshot_path is <root>/snapshots/<hex>");
  CHECK (!snapshot_exists (&st, diff), "not there before");

  /* a wrong diff_id: refused, nothing left */
  char bad[]
      = "sha256:"
        "0000000000000000000000000000000000000000000000000000000000000000";
  CHECK (snapshot_create_from_blob (&st, diff, blob, bad, &err) < 0
             && strstr (err->msg, "diff_id mismatch"),
         "a diff_id mismatch fails: %s", err ? err->msg : "");
  err_free (err);
  err = NULL;
  _cleanup_free_ char *tmp_rel
      = xasprintf ("snapshots/tmp-%s", digest_hex (diff));
  CHECK (!snapshot_exists (&st, diff) && !exists_rel (tmp_rel),
         "no snapshot and no temp dir after a failure");

  CHECK (!has_tmp (diff), "no temp dir of any name after a failure");

  /* leftover temp dirs from killed runs (older and newer names) are
   * cleaned up */
  fs_mkdir_p (st.root_fd, tmp_rel, 0755, &err);
  _cleanup_free_ char *junk = xasprintf ("%s/junk", tmp_rel);
  fs_write_file_atomic (st.root_fd, junk, "x", 1, 0644, &err);
  _cleanup_free_ char *tmp_new = xasprintf ("%s-0123456789abcdef", tmp_rel);
  fs_mkdir_p (st.root_fd, tmp_new, 0755, &err);
  CHECK (snapshot_create_from_blob (&st, diff, blob, diff, &err) == 0,
         "snapshot from a gzip blob (%s)", err ? err->msg : "");
  err_clear (&err);
  CHECK (snapshot_exists (&st, diff), "snapshot exists");
  CHECK (!exists_rel (tmp_rel) && !has_tmp (diff),
         "the leftover temp dirs are gone");
  _cleanup_free_ char *hello
      = xasprintf ("snapshots/%s/hello", digest_hex (diff));
  _cleanup_free_ char *gone
      = xasprintf ("snapshots/%s/gone", digest_hex (diff));
  _cleanup_free_ char *junk2
      = xasprintf ("snapshots/%s/junk", digest_hex (diff));
  struct stat s;
  CHECK (exists_rel (hello) && !exists_rel (junk2),
         "content is the layer's, nothing of the leftover");
  CHECK (fstatat (st.root_fd, gone, &s, AT_SYMLINK_NOFOLLOW) == 0
             && S_ISCHR (s.st_mode),
         "whiteouts are overlay char devices");
  CHECK (snapshot_create_from_blob (&st, diff, blob, diff, &err) == 0,
         "a second create is a no-op");
  struct snapshot_tx *tx = (void *)1;
  CHECK (snapshot_begin (&st, diff, diff, true, &tx, &err) == 1 && !tx,
         "begin on an existing snapshot says so");
  strbuf_release (&tar);
  strbuf_release (&gz);
}

/* The second process: try without waiting, then wait. */
static int
contend (const char *store_root, const char *chain)
{
  struct store s2;
  struct err *err = NULL;
  struct snapshot_tx *tx = NULL;
  if (store_open (&s2, store_root, &err) < 0)
    return 10;
  if (snapshot_begin (&s2, chain, NULL, false, &tx, &err) != 2)
    return 11;                      /* the parent holds the lock: busy */
  if (fs_write_all (1, "x", 1) < 0) /* tell the parent to go on */
    return 12;
  int rc = snapshot_begin (&s2, chain, NULL, true, &tx, &err);
  store_release (&s2);
  return rc == 1 ? 0 : 13; /* made by the parent meanwhile */
}

static void
test_concurrent (void)
{
  struct err *err = NULL;
  struct strbuf tar = TAR ({ .type = '0', .name = "once", .data = "1" }, );
  _cleanup_free_ char *diff = diff_of (&tar);
  struct snapshot_tx *tx = NULL;
  int pfd[2];
  char c;
  CHECK (snapshot_begin (&st, diff, diff, true, &tx, &err) == 0 && tx,
         "begin a new snapshot (%s)", err ? err->msg : "");
  CHECK (pipe2 (pfd, O_CLOEXEC) == 0, "pipe");
  pid_t pid = fork ();
  if (pid == 0)
    {
      dup2 (pfd[1], 1);
      execl ("/proc/self/exe", "test_snapshot", "--contend", root, diff,
             (char *)NULL);
      _exit (127);
    }
  close (pfd[1]);
  CHECK (read (pfd[0], &c, 1) == 1, "the other process found it busy");
  close (pfd[0]);
  CHECK (snapshot_tx_feed (tx, tar.buf, tar.len, &err) == 0
             && snapshot_commit (tx, &err) == 0,
         "feed and commit (%s)", err ? err->msg : "");
  int status = -1;
  waitpid (pid, &status, 0);
  CHECK (WIFEXITED (status) && WEXITSTATUS (status) == 0,
         "the waiting process found the snapshot made (status %d)",
         WIFEXITED (status) ? WEXITSTATUS (status) : -1);

  tx = NULL;
  struct strbuf tar2 = TAR ({ .type = '0', .name = "x", .data = "2" }, );
  _cleanup_free_ char *diff2 = diff_of (&tar2);
  CHECK (snapshot_begin (&st, diff2, NULL, true, &tx, &err) == 0,
         "begin another");
  snapshot_tx_feed (tx, tar2.buf, 100, &err);
  snapshot_abort (tx);
  _cleanup_free_ char *tmp_rel
      = xasprintf ("snapshots/tmp-%s", digest_hex (diff2));
  CHECK (!snapshot_exists (&st, diff2) && !has_tmp (diff2),
         "abort leaves nothing");
  strbuf_release (&tar);
  strbuf_release (&tar2);
  err_free (err);
}

static void
test_prepare_and_prune (void)
{
  struct err *err = NULL;
  struct strbuf t[3] = {
    TAR ({ .type = '0', .name = "l0", .data = "0" }, ),
    TAR ({ .type = '0', .name = "l1", .data = "1" }, ),
    TAR ({ .type = '0', .name = "l2", .data = "2" }, ),
  };
  struct descriptor layers[3] = { 0 };
  char *diffs[4] = { 0 };
  struct strbuf z = zstd_buf (&t[2]);
  for (int i = 0; i < 3; i++)
    {
      layers[i].digest = put_blob (i == 2 ? &z : &t[i]);
      diffs[i] = diff_of (&t[i]);
    }
  struct image_manifest m = { .layers = layers, .n_layers = 3 };
  struct image_config c = { .diff_ids = diffs };
  char **lowers = NULL;
  CHECK (snapshot_prepare_image (&st, &m, &c, &lowers, &err) == 0,
         "prepare a 3-layer image (%s)", err ? err->msg : "");
  char **chain = image_chain_ids (diffs);
  CHECK (strv_len (lowers) == 3, "three lower dirs");
  for (int i = 0; i < 3; i++)
    {
      _cleanup_free_ char *p = snapshot_path (&st, chain[2 - i]);
      CHECK_STR (lowers[i], p, "lower %d is layer %d's snapshot", i, 2 - i);
      _cleanup_free_ char *f = xasprintf ("%s/l%d", lowers[i], 2 - i);
      CHECK (access (f, F_OK) == 0, "layer %d content is in it", 2 - i);
    }
  strv_free (lowers);

  m.n_layers = 2;
  CHECK (snapshot_prepare_image (&st, &m, &c, &lowers, &err) < 0
             && strstr (err->msg, "diff_ids"),
         "a layer count mismatch fails: %s", err ? err->msg : "");
  err_clear (&err);

  char *keep[] = { chain[0], chain[2], NULL };
  size_t removed = 0;
  CHECK (snapshot_remove_unused (&st, keep, &removed, &err) == 0,
         "remove unused (%s)", err ? err->msg : "");
  CHECK (snapshot_exists (&st, chain[0]) && !snapshot_exists (&st, chain[1])
             && snapshot_exists (&st, chain[2]),
         "only the unkept snapshot of this image is gone");
  CHECK (removed >= 1, "removed %zu", removed);
  _cleanup_free_ char *mark1
      = xasprintf ("snapshots/.state/%s", digest_hex (chain[1]));
  _cleanup_free_ char *mark0
      = xasprintf ("snapshots/.state/%s", digest_hex (chain[0]));
  CHECK (!exists_rel (mark1) && exists_rel (mark0),
         "the removed snapshot's marker went with it");
  strv_free (chain);
  for (int i = 0; i < 3; i++)
    {
      free (layers[i].digest);
      free (diffs[i]);
      strbuf_release (&t[i]);
    }
  strbuf_release (&z);
}

int
main (int argc, char **argv)
{
  struct err *err = NULL;
  if (argc == 4 && !strcmp (argv[1], "--contend"))
    return contend (argv[2], argv[3]);
  snprintf (root, sizeof root, "/tmp/imgtool-snap-%d", (int)getpid ());
  CHECK (store_open (&st, root, &err) == 0, "open a store");
  test_chain_ids ();
  test_create ();
  test_concurrent ();
  test_prepare_and_prune ();
  test_boot_markers ();
  store_release (&st);
  fs_rm_rf (AT_FDCWD, root, &err);
  err_free (err);
  return test_done ();
}
