/* Unit tests for layers/apply.c (+ tar.c, decompress.c): tars built in
 * memory by a tiny writer below, applied to temp directories. Every
 * escape must fail or stay inside the directory, with nothing appearing
 * outside it. Runs as root (devices, ownership, trusted.* xattrs). */
#include "layers/apply.h"
#include "layers/decompress.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/strbuf.h"
#include "lib/xalloc.h"
#include "tests/unit/test.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "tests/unit/tarbuild.h"

/* --- harness ---------------------------------------------------------- */

static char base[64]; /* a temp dir: base/root is the layer dir */
static int root_fd = -1;

static void
fresh (void)
{
  struct err *err = NULL;
  if (root_fd >= 0)
    close (root_fd);
  fs_rm_rf (AT_FDCWD, base, &err);
  err_free (err);
  err = NULL;
  mkdir (base, 0700);
  char *p = xasprintf ("%s/root", base);
  fs_mkdir_p (AT_FDCWD, p, 0755, &err);
  root_fd = open (p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  free (p);
  /* a file outside the layer dir that escapes would target */
  p = xasprintf ("%s/secret", base);
  int fd = open (p, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  CHECK (fs_write_all (fd, "secret", 6) == 0, "made %s/secret", base);
  close (fd);
  free (p);
}

/* Apply tar bytes with options; returns 0/-1 and keeps the error text. */
static char last_err[512];
static char last_diff[DIGEST_STR_LEN + 1], last_blob[DIGEST_STR_LEN + 1];

static int
apply_chunked (const struct strbuf *blob, const struct apply_opts *o,
               size_t chunk)
{
  struct err *err = NULL;
  struct apply_opts opts = *o;
  opts.blob_digest = true;
  struct layer_unpacker *u = layer_unpacker_new (root_fd, &opts, &err);
  int rc = 0;
  last_err[0] = '\0';
  for (size_t off = 0; u && off < blob->len && rc == 0; off += chunk)
    rc = layer_unpacker_feed (u, blob->buf + off,
                              blob->len - off < chunk ? blob->len - off : chunk,
                              &err);
  if (u && rc == 0)
    rc = layer_unpacker_finish (u, last_diff, &err);
  if (u && rc == 0)
    layer_unpacker_blob_digest (u, last_blob);
  if (!u)
    rc = -1;
  if (rc < 0)
    snprintf (last_err, sizeof last_err, "%s", err ? err->msg : "?");
  layer_unpacker_free (u);
  err_free (err);
  return rc;
}

static int
apply (const struct strbuf *blob)
{
  struct apply_opts o = APPLY_OPTS_SNAPSHOT;
  return apply_chunked (blob, &o, 1u << 20);
}

static int
apply_delete (const struct strbuf *blob)
{
  struct apply_opts o = APPLY_OPTS_SNAPSHOT;
  o.whiteouts = APPLY_WHITEOUT_DELETE;
  return apply_chunked (blob, &o, 65536);
}

static struct stat st;
static bool
lst (const char *rel)
{
  return fstatat (root_fd, rel, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

static bool
outside_untouched (void)
{
  /* base holds exactly root/ and secret, and secret is intact */
  _cleanup_closedir_ DIR *d = opendir (base);
  struct dirent *de;
  int n = 0;
  char buf[16] = { 0 }, *p = xasprintf ("%s/secret", base);
  int fd = open (p, O_RDONLY | O_CLOEXEC);
  struct stat s;
  bool ok = fd >= 0 && read (fd, buf, sizeof buf) == 6
            && !strcmp (buf, "secret") && fstat (fd, &s) == 0 && s.st_nlink == 1
            && (s.st_mode & 07777) == 0600;
  if (fd >= 0)
    close (fd);
  free (p);
  while (d && (de = readdir (d)))
    if (strcmp (de->d_name, ".") && strcmp (de->d_name, ".."))
      n++;
  return ok && n == 2;
}

static char *
read_rel (const char *rel)
{
  char *out = NULL;
  struct err *err = NULL;
  if (fs_read_file (root_fd, rel, 1 << 20, &out, NULL, &err) < 0)
    err_free (err);
  return out;
}

/* --- tests ------------------------------------------------------------ */

static void
test_basic (void)
{
  fresh ();
  struct strbuf t = TAR (
      { .type = '5', .name = "./", .mode = 0755, .mtime = 1500000000 },
      { .type = '5', .name = "./etc/", .mode = 0555, .mtime = 1500000001 },
      { .type = '0',
        .name = "./etc/hello",
        .data = "hello world\n",
        .mode = 0640,
        .uid = 1000,
        .gid = 1001,
        .mtime = 1500000002 },
      { .type = '0',
        .name = "bin/su",
        .data = "#!su",
        .mode = 04755,
        .uid = 0,
        .gid = 0 },
      { .type = '0',
        .name = "bin/sg",
        .data = "x",
        .mode = 02750,
        .uid = 7,
        .gid = 8 },
      { .type = '1', .name = "bin/su-link", .link = "bin/su" },
      { .type = '2',
        .name = "bin/sh",
        .link = "/bin/busybox",
        .uid = 5,
        .gid = 6,
        .mtime = 1400000000 },
      { .type = '3', .name = "dev/null", .mode = 0666, .major = 1, .minor = 3 },
      { .type = '4',
        .name = "dev/loop0",
        .mode = 0660,
        .major = 7,
        .minor = 0 },
      { .type = '6', .name = "run/fifo", .mode = 0620 },
      { .type = '0',
        .name = "cap",
        .data = "c",
        .xattr_name = "user.note",
        .xattr_value = "hi" },
      { .type = '0',
        .name = "forged",
        .data = "f",
        .xattr_name = "trusted.overlay.opaque",
        .xattr_value = "y" },
      { .type = '5', .name = "deep/a/b/", .mode = 0700, .mtime = 1300000000 },
      { .type = '0', .name = "deep/a/b/c", .data = "c" }, );
  CHECK (apply (&t) == 0, "a layer with every entry type applies (%s)",
         last_err);
  char want[DIGEST_STR_LEN + 1];
  digest_buf (t.buf, t.len, want);
  CHECK_STR (last_diff, want, "diff_id is the sha256 of the tar");
  CHECK_STR (last_blob, want, "uncompressed: blob digest = diff_id");

  char *s = read_rel ("etc/hello");
  CHECK_STR (s, "hello world\n", "file content");
  free (s);
  CHECK (lst ("etc/hello") && (st.st_mode & 07777) == 0640 && st.st_uid == 1000
             && st.st_gid == 1001 && st.st_mtime == 1500000002,
         "file mode, owner and mtime kept");
  CHECK (lst ("etc") && (st.st_mode & 07777) == 0555
             && st.st_mtime == 1500000001,
         "dir mode and mtime set after its children were written");
  CHECK (lst ("deep/a/b") && st.st_mtime == 1300000000
             && (st.st_mode & 07777) == 0700,
         "nested dir mtime kept");
  CHECK (lst ("deep") && S_ISDIR (st.st_mode) && (st.st_mode & 0777) == 0755,
         "missing parents are made 0755");
  CHECK (fstat (root_fd, &st) == 0 && st.st_mtime == 1500000000,
         "the root entry's mtime applies to the directory");
  CHECK (lst ("bin/su") && (st.st_mode & 07777) == 04755, "setuid kept");
  CHECK (lst ("bin/sg") && (st.st_mode & 07777) == 02750 && st.st_uid == 7
             && st.st_gid == 8,
         "setgid kept after chown");
  struct stat a, b;
  CHECK (fstatat (root_fd, "bin/su", &a, 0) == 0
             && fstatat (root_fd, "bin/su-link", &b, 0) == 0
             && a.st_ino == b.st_ino && a.st_nlink == 2,
         "hard link shares the inode");
  char buf[64] = { 0 };
  CHECK (readlinkat (root_fd, "bin/sh", buf, sizeof buf) > 0
             && !strcmp (buf, "/bin/busybox"),
         "symlink target kept verbatim");
  CHECK (lst ("bin/sh") && st.st_uid == 5 && st.st_gid == 6
             && st.st_mtime == 1400000000,
         "symlink owner and mtime (lchown, utimensat nofollow)");
  CHECK (lst ("dev/null") && S_ISCHR (st.st_mode)
             && st.st_rdev == makedev (1, 3) && (st.st_mode & 0777) == 0666,
         "char device");
  CHECK (lst ("dev/loop0") && S_ISBLK (st.st_mode)
             && st.st_rdev == makedev (7, 0),
         "block device");
  CHECK (lst ("run/fifo") && S_ISFIFO (st.st_mode)
             && (st.st_mode & 0777) == 0620,
         "fifo");
  int fd = openat (root_fd, "cap", O_RDONLY | O_CLOEXEC);
  ssize_t n = fgetxattr (fd, "user.note", buf, sizeof buf);
  CHECK (n == 2 && !memcmp (buf, "hi", 2), "SCHILY.xattr kept");
  close (fd);
  fd = openat (root_fd, "forged", O_RDONLY | O_CLOEXEC);
  CHECK (fgetxattr (fd, "trusted.overlay.opaque", buf, sizeof buf) < 0,
         "trusted.overlay.* from the tar is dropped");
  close (fd);
  CHECK (outside_untouched (), "nothing outside the dir");
  strbuf_release (&t);
}

static void
test_compression (void)
{
  struct strbuf t = TAR ({ .type = '0', .name = "f", .data = "compressed" },
                         { .type = '5', .name = "d/" }, );
  struct strbuf gz = gzip_buf (&t), zs = zstd_buf (&t);
  char want[DIGEST_STR_LEN + 1], want_gz[DIGEST_STR_LEN + 1],
      want_zs[DIGEST_STR_LEN + 1];
  struct apply_opts o = APPLY_OPTS_SNAPSHOT;
  digest_buf (t.buf, t.len, want);
  digest_buf (gz.buf, gz.len, want_gz);
  digest_buf (zs.buf, zs.len, want_zs);

  fresh ();
  CHECK (apply (&gz) == 0, "gzip layer applies (%s)", last_err);
  CHECK_STR (last_diff, want, "gzip: diff_id is sha256 of the tar");
  CHECK_STR (last_blob, want_gz, "gzip: blob digest is sha256 of the blob");
  char *s = read_rel ("f");
  CHECK_STR (s, "compressed", "gzip: content");
  free (s);

  fresh ();
  CHECK (apply (&zs) == 0, "zstd layer applies (%s)", last_err);
  CHECK_STR (last_diff, want, "zstd: diff_id is sha256 of the tar");
  CHECK_STR (last_blob, want_zs, "zstd: blob digest");

  fresh ();
  CHECK (apply_chunked (&gz, &o, 1) == 0 && !strcmp (last_diff, want),
         "gzip pushed one byte at a time");
  fresh ();
  CHECK (apply_chunked (&zs, &o, 3) == 0 && !strcmp (last_diff, want),
         "zstd pushed three bytes at a time");
  fresh ();
  CHECK (apply_chunked (&t, &o, 7) == 0 && !strcmp (last_diff, want),
         "plain tar pushed seven bytes at a time");

  /* two gzip members, split inside the tar, read as one stream */
  struct strbuf half1 = STRBUF_INIT, half2 = STRBUF_INIT, cat = STRBUF_INIT;
  strbuf_add (&half1, t.buf, 700);
  strbuf_add (&half2, t.buf + 700, t.len - 700);
  struct strbuf g1 = gzip_buf (&half1), g2 = gzip_buf (&half2);
  strbuf_add (&cat, g1.buf, g1.len);
  strbuf_add (&cat, g2.buf, g2.len);
  strbuf_add (&cat, "\0\0\0\0", 4);
  fresh ();
  CHECK (apply_chunked (&cat, &o, 100) == 0 && !strcmp (last_diff, want),
         "multi-member gzip with zero padding (%s)", last_err);

  struct strbuf cut = STRBUF_INIT;
  strbuf_add (&cut, gz.buf, gz.len - 10);
  fresh ();
  CHECK (apply (&cut) < 0 && strstr (last_err, "truncated gzip"),
         "a cut gzip stream fails: %s", last_err);
  strbuf_reset (&cut);
  strbuf_add (&cut, gz.buf, gz.len);
  cut.buf[gz.len - 6] ^= 1; /* the CRC */
  fresh ();
  CHECK (apply (&cut) < 0 && strstr (last_err, "checksum"),
         "a gzip CRC mismatch fails: %s", last_err);
  strbuf_reset (&cut);
  strbuf_add (&cut, zs.buf, zs.len - 3);
  fresh ();
  CHECK (apply (&cut) < 0, "a cut zstd stream fails: %s", last_err);
  strbuf_reset (&cut);
  strbuf_add (&cut, t.buf, 512 + 100);
  fresh ();
  CHECK (apply (&cut) < 0 && strstr (last_err, "truncated tar"),
         "a tar cut inside a file fails: %s", last_err);
  strbuf_reset (&cut);
  strbuf_add (&cut, t.buf, t.len);
  cut.buf[10] ^= 0x55;
  fresh ();
  CHECK (apply (&cut) < 0 && strstr (last_err, "checksum"),
         "a corrupt tar header fails: %s", last_err);
  strbuf_reset (&cut);
  fresh ();
  CHECK (apply (&cut) < 0 && strstr (last_err, "empty"),
         "an empty blob fails: %s", last_err);
  strbuf_release (&cut);
  strbuf_release (&half1);
  strbuf_release (&half2);
  strbuf_release (&g1);
  strbuf_release (&g2);
  strbuf_release (&cat);
  strbuf_release (&t);
  strbuf_release (&gz);
  strbuf_release (&zs);
}

static void
test_long_names (void)
{
  char longp[300];
  memset (longp, 'x', sizeof longp);
  memcpy (longp, "dir/", 4);
  longp[299] = '\0';
  longp[150] = '/';
  fresh ();
  struct ent e1 = { .type = '0', .name = longp, .data = "pax" };
  struct ent e2 = { .type = '0',
                    .name = xasprintf ("%s2", longp),
                    .data = "gnu",
                    .gnu_longname = 1 };
  struct tb t = { STRBUF_INIT };
  add (&t, &e1);
  add (&t, &e2);
  tb_end (&t);
  CHECK (apply (&t.sb) == 0, "pax and GNU long names (%s)", last_err);
  char *s = read_rel (longp);
  CHECK_STR (s, "pax", "pax path used");
  free (s);
  s = read_rel (e2.name);
  CHECK_STR (s, "gnu", "GNU long name used");
  free (s);
  free ((char *)e2.name);
  strbuf_release (&t.sb);
}

static void
test_escapes (void)
{
  _cleanup_free_ char *abs_base = xstrdup (base);
  _cleanup_free_ char *abs_secret = xasprintf ("%s/secret", base);
  struct ent e[3];
  struct tb t;

#define RUN(expect_fail, what, ...)                                            \
  do                                                                           \
    {                                                                          \
      struct ent list_[] = { __VA_ARGS__ };                                    \
      fresh ();                                                                \
      t = (struct tb){ STRBUF_INIT };                                          \
      for (size_t i_ = 0; i_ < ARRAY_SIZE (list_); i_++)                       \
        add (&t, &list_[i_]);                                                  \
      tb_end (&t);                                                             \
      int rc_ = apply (&t.sb);                                                 \
      if (expect_fail == 1)                                                    \
        CHECK (rc_ < 0, "%s fails: %s", what, last_err);                       \
      else if (expect_fail == 0)                                               \
        CHECK (rc_ == 0, "%s is contained (%s)", what, last_err);              \
      else                                                                     \
        CHECK (1, "%s: %s", what, rc_ ? last_err : "contained");               \
      CHECK (outside_untouched (), "%s: nothing outside", what);               \
      strbuf_release (&t.sb);                                                  \
    }                                                                          \
  while (0)
  (void)e;

  RUN (1, "'../evil'", { .type = '0', .name = "../evil", .data = "x" });
  CHECK (strstr (last_err, "leaves the layer directory") != NULL,
         "the error says why: %s", last_err);
  RUN (1, "'a/../../evil'",
       { .type = '0', .name = "a/../../evil", .data = "x" });
  RUN (1, "'..' as a directory", { .type = '5', .name = "../" });
  RUN (0, "an absolute name",
       { .type = '0', .name = abs_secret, .data = "pwned" });
  CHECK (lst (abs_secret + 1) && S_ISREG (st.st_mode),
         "the absolute name landed inside the dir");
  /* resolved inside the dir, the symlink dangles there: an error */
  RUN (1, "a file through an absolute symlink made by the layer",
       { .type = '2', .name = "lnk", .link = abs_base },
       { .type = '0', .name = "lnk/secret", .data = "pwned" });
  RUN (0, "a file through an absolute symlink to '/'",
       { .type = '2', .name = "lnk", .link = "/" },
       { .type = '0', .name = "lnk/evil", .data = "pwned" });
  CHECK (lst ("evil"), "it was written at the dir's root");
  RUN (0, "a file through a relative symlink pointing out",
       { .type = '2', .name = "rel", .link = "../../../../../../.." },
       { .type = '0', .name = "rel/evil", .data = "pwned" });
  CHECK (lst ("evil"), "it was clamped to the dir's root");
  RUN (0, "a symlink chain pointing out",
       { .type = '2', .name = "a", .link = "b/.." },
       { .type = '2', .name = "b", .link = "../.." },
       { .type = '0', .name = "a/evil", .data = "pwned" });
  RUN (0, "a file replacing a symlink to outside",
       { .type = '2', .name = "x", .link = abs_secret },
       { .type = '0', .name = "x", .data = "pwned" });
  CHECK (lst ("x") && S_ISREG (st.st_mode), "the symlink was replaced");
  RUN (0, "a directory over a symlink to outside (chmod CVE-2021-32760)",
       { .type = '2', .name = "y", .link = abs_base },
       { .type = '5', .name = "y/", .mode = 0777 });
  RUN (0, "a device over a symlink to outside",
       { .type = '2', .name = "z", .link = abs_secret },
       { .type = '6', .name = "z", .mode = 0666 });
  RUN (1, "a hard link to '../secret'",
       { .type = '1', .name = "hl", .link = "../secret" });
  RUN (1, "a hard link to an absolute path outside",
       { .type = '1', .name = "hl", .link = abs_secret });
  RUN (1, "a hard link through a symlink pointing out",
       { .type = '2', .name = "l2", .link = abs_base },
       { .type = '1', .name = "hl", .link = "l2/secret" });
  RUN (0, "a hard link to a symlink pointing out",
       { .type = '2', .name = "s", .link = abs_secret },
       { .type = '1', .name = "h", .link = "s" },
       { .type = '0', .name = "h", .data = "pwned" });
  RUN (1, "a whiteout '.wh..'", { .type = '0', .name = ".wh.." });
  RUN (1, "a whiteout '.wh...'", { .type = '0', .name = "a/.wh..." });
  RUN (1, "a whiteout of '../x'", { .type = '0', .name = "../.wh.secret" });
  RUN (1, "a bare '.wh.'", { .type = '0', .name = ".wh." });
  RUN (1, "a whiteout through a symlink pointing out",
       { .type = '2', .name = "w", .link = abs_base },
       { .type = '0', .name = "w/.wh.secret" });
  RUN (2, "an opaque marker through a symlink pointing out",
       { .type = '2', .name = "o", .link = "../.." },
       { .type = '0', .name = "o/.wh..wh..opq" });
#undef RUN

  /* delete mode: whiteouts delete, so test they cannot delete outside */
  fresh ();
  t = (struct tb){ STRBUF_INIT };
  e[0] = (struct ent){ .type = '2', .name = "w", .link = abs_base };
  e[1] = (struct ent){ .type = '0', .name = "w/.wh.secret" };
  e[2] = (struct ent){ .type = '0', .name = "w/.wh..wh..opq" };
  for (int i = 0; i < 3; i++)
    add (&t, &e[i]);
  tb_end (&t);
  apply_delete (&t.sb);
  CHECK (outside_untouched (), "delete-mode whiteouts through a symlink "
                               "pointing out delete nothing outside");
  strbuf_release (&t.sb);
}

static void
test_whiteouts_overlay (void)
{
  char buf[8];
  fresh ();
  struct strbuf t
      = TAR ({ .type = '0', .name = ".wh.gone" },
             { .type = '5', .name = "d/", .mode = 0711 },
             { .type = '0', .name = "d/.wh..wh..opq" },
             { .type = '0', .name = "d/kept", .data = "k" },
             { .type = '0', .name = "mine", .data = "m" },
             { .type = '0', .name = ".wh.mine" },
             { .type = '0', .name = "e/.wh..wh..opq" },
             { .type = '0', .name = ".wh.f" }, { .type = '5', .name = "f/" },
             { .type = '0', .name = ".wh..wh.plnk" }, );
  CHECK (apply (&t) == 0, "overlay whiteouts apply (%s)", last_err);
  CHECK (lst ("gone") && S_ISCHR (st.st_mode) && st.st_rdev == makedev (0, 0),
         "'.wh.gone' became char device 0/0 'gone'");
  CHECK (!lst (".wh.gone"), "the .wh. file itself is not kept");
  int fd = openat (root_fd, "d", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  CHECK (fgetxattr (fd, "trusted.overlay.opaque", buf, sizeof buf) == 1
             && buf[0] == 'y',
         "'.wh..wh..opq' set trusted.overlay.opaque=y");
  close (fd);
  CHECK (!lst ("d/.wh..wh..opq") && lst ("d/kept"),
         "opaque marker not kept, the layer's own child is");
  CHECK (lst ("mine") && S_ISREG (st.st_mode),
         "a whiteout of a name made in the same layer is ignored");
  fd = openat (root_fd, "e", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  CHECK (fd >= 0
             && fgetxattr (fd, "trusted.overlay.opaque", buf, sizeof buf) == 1,
         "an opaque marker creates its missing directory");
  close (fd);
  fd = openat (root_fd, "f", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  CHECK (fd >= 0
             && fgetxattr (fd, "trusted.overlay.opaque", buf, sizeof buf) == 1,
         "a dir replacing the layer's whiteout is opaque");
  close (fd);
  CHECK (!lst (".wh..wh.plnk"), "aufs metadata is skipped");
  strbuf_release (&t);

  struct apply_opts o = APPLY_OPTS_SNAPSHOT;
  o.userxattr = true;
  fresh ();
  t = TAR ({ .type = '0', .name = "u/.wh..wh..opq" }, );
  CHECK (apply_chunked (&t, &o, 512) == 0, "userxattr layer applies");
  fd = openat (root_fd, "u", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  CHECK (fgetxattr (fd, "user.overlay.opaque", buf, sizeof buf) == 1,
         "userxattr: user.overlay.opaque=y");
  close (fd);
  strbuf_release (&t);
}

static void
test_whiteouts_delete (void)
{
  fresh ();
  struct strbuf l1 = TAR ({ .type = '0', .name = "a", .data = "1" },
                          { .type = '0', .name = "d/x", .data = "1" },
                          { .type = '0', .name = "d/sub/y", .data = "1" },
                          { .type = '0', .name = "e/z", .data = "1" },
                          { .type = '0', .name = "g/keep", .data = "1" },
                          { .type = '0', .name = "h/old", .data = "1" }, );
  struct strbuf l2
      = TAR ({ .type = '0', .name = ".wh.a" },
             { .type = '0', .name = "d/.wh..wh..opq" },
             { .type = '0', .name = "d/new", .data = "2" },
             { .type = '0', .name = "e/w", .data = "2" },
             { .type = '0', .name = "e/.wh..wh..opq" },
             { .type = '0', .name = "g/.wh.nothing" },
             { .type = '0', .name = "nope/.wh.x" },
             { .type = '0', .name = "h", .data = "file over dir" }, );
  CHECK (apply_delete (&l1) == 0 && apply_delete (&l2) == 0,
         "two layers applied in one dir with delete whiteouts (%s)", last_err);
  CHECK (!lst ("a") && !lst (".wh.a"), "'.wh.a' deleted a");
  CHECK (!lst ("d/x") && !lst ("d/sub") && lst ("d/new"),
         "opaque dir: lower children gone, new one there");
  CHECK (!lst ("e/z") && lst ("e/w"),
         "an opaque marker after the layer's own child keeps that child");
  CHECK (lst ("g/keep") && !lst ("g/nothing"),
         "a whiteout of a missing name is fine");
  CHECK (!lst ("nope"), "a whiteout in a missing dir does not create it");
  CHECK (lst ("h") && S_ISREG (st.st_mode),
         "a file replaces a lower directory");
  struct strbuf l3 = TAR ({ .type = '5', .name = "d/", .mode = 0700 },
                          { .type = '0', .name = "d/more", .data = "3" }, );
  CHECK (apply_delete (&l3) == 0 && lst ("d/new") && lst ("d/more") && lst ("d")
             && (st.st_mode & 0777) == 0700,
         "dir over dir: attributes only, children kept");
  CHECK (outside_untouched (), "nothing outside");
  strbuf_release (&l1);
  strbuf_release (&l2);
  strbuf_release (&l3);
}

static void
test_replace (void)
{
  fresh ();
  struct strbuf t = TAR ({ .type = '0', .name = "p", .data = "file" },
                         { .type = '5', .name = "p/" },
                         { .type = '0', .name = "p/c", .data = "child" },
                         { .type = '0', .name = "q", .data = "one" },
                         { .type = '0', .name = "q", .data = "two" }, );
  CHECK (apply (&t) == 0, "entries replacing earlier ones (%s)", last_err);
  CHECK (lst ("p") && S_ISDIR (st.st_mode) && lst ("p/c"),
         "a dir replaces a file");
  char *s = read_rel ("q");
  CHECK_STR (s, "two", "the later file wins");
  free (s);
  strbuf_release (&t);
}

/* A pax or GNU long-name header and then the end: the entry it named is
 * lost, which must not pass as a complete layer. */
static void
test_lost_entry (void)
{
  struct strbuf pax = STRBUF_INIT;
  struct tb t = { STRBUF_INIT };
  pax_rec (&pax, "path", "named-by-pax");
  header (&t, 'x', "PaxHeader", NULL, 0, 0, 0, 0, pax.len, 0, 0);
  body (&t, pax.buf, pax.len);
  size_t no_end = t.sb.len;
  tb_end (&t);
  fresh ();
  CHECK (apply (&t.sb) < 0 && strstr (last_err, "pax header with no entry"),
         "a pax header right before the end fails: %s", last_err);
  strbuf_setlen (&t.sb, no_end);
  fresh ();
  CHECK (apply (&t.sb) < 0 && strstr (last_err, "pax header with no entry"),
         "a pax header at the end of the input fails: %s", last_err);
  strbuf_reset (&t.sb);
  header (&t, 'L', "././@LongLink", NULL, 0, 0, 0, 0, 13, 0, 0);
  body (&t, "named-by-gnu", 13);
  tb_end (&t);
  fresh ();
  CHECK (apply (&t.sb) < 0
             && strstr (last_err, "GNU long name header with no entry"),
         "a GNU long name right before the end fails: %s", last_err);
  CHECK (!lst ("named-by-gnu") && !lst ("named-by-pax"), "nothing made");
  strbuf_release (&pax);
  strbuf_release (&t.sb);
}

/* ".wh.foo/" with children: a whiteout used as a directory. */
static void
test_whiteout_dir (void)
{
  struct strbuf lower = TAR ({ .type = '0', .name = "foo", .data = "1" }, );
  struct strbuf t = TAR ({ .type = '5', .name = ".wh.foo/" },
                         { .type = '0', .name = ".wh.foo/bar", .data = "2" }, );
  fresh ();
  CHECK (apply (&t) < 0
             && !strcmp (last_err, "layer entry '.wh.foo/bar': '.wh.foo' "
                                   "is a whiteout, not a directory"),
         "overlay: a child of a whiteout is refused: %s", last_err);
  CHECK (!lst (".wh.foo"), "overlay: no '.wh.foo' made");
  fresh ();
  CHECK (apply_delete (&lower) == 0, "lower layer");
  CHECK (apply_delete (&t) < 0 && strstr (last_err, "is a whiteout, not a"),
         "delete mode: refused too: %s", last_err);
  CHECK (!lst (".wh.foo"), "delete mode: no '.wh.foo' made");
  strbuf_release (&t);
  t = TAR ({ .type = '0', .name = "d/.wh..wh..opq/x", .data = "2" }, );
  fresh ();
  CHECK (apply (&t) < 0 && strstr (last_err, "'d/.wh..wh..opq' is a whiteout"),
         "a child of an opaque marker is refused: %s", last_err);
  strbuf_release (&t);
  t = TAR ({ .type = '5', .name = ".wh.foo/" }, );
  fresh ();
  CHECK (apply (&t) == 0 && lst ("foo") && S_ISCHR (st.st_mode),
         "a childless '.wh.foo/' is still a whiteout (%s)", last_err);
  strbuf_release (&t);
  strbuf_release (&lower);
}

static void
test_sniff (void)
{
  static const uint8_t gz[] = { 0x1f, 0x8b, 8, 0 },
                       zs[] = { 0x28, 0xb5, 0x2f, 0xfd },
                       skip[] = { 0x50, 0x2a, 0x4d, 0x18 }, tar[] = "abcd";
  CHECK (layer_compression_sniff (gz, 4) == LAYER_GZIP, "gzip magic");
  CHECK (layer_compression_sniff (zs, 4) == LAYER_ZSTD, "zstd magic");
  CHECK (layer_compression_sniff (skip, 4) == LAYER_ZSTD,
         "zstd skippable frame magic");
  CHECK (layer_compression_sniff (tar, 4) == LAYER_UNCOMPRESSED, "plain tar");
}

int
main (void)
{
  if (geteuid () != 0)
    {
      SKIP ("test_apply needs root (devices, ownership, trusted xattrs)");
      return test_done ();
    }
  snprintf (base, sizeof base, "/tmp/imgtool-apply-%d", (int)getpid ());
  test_sniff ();
  test_basic ();
  test_compression ();
  test_long_names ();
  test_escapes ();
  test_whiteouts_overlay ();
  test_whiteouts_delete ();
  test_replace ();
  test_lost_entry ();
  test_whiteout_dir ();
  struct err *err = NULL;
  close (root_fd);
  fs_rm_rf (AT_FDCWD, base, &err);
  err_free (err);
  return test_done ();
}
