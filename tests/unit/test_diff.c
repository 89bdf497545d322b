/* Unit tests for layers/diff.c, tarfs.c and tarwriter.c: a real overlay
 * mount is changed through its merged dir, unmounted, and its upper dir
 * diffed; libarchive (an independent reader) reads the layer back. */
#include "layers/copy.h"
#include "layers/diff.h"
#include "layers/digest.h"
#include "layers/export.h"
#include "layers/store.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/strbuf.h"
#include "lib/xalloc.h"
#include "tests/unit/test.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

static char root[64];

static char *
P (const char *rel)
{
  static char buf[8][512];
  static int i;
  i = (i + 1) % 8;
  snprintf (buf[i], sizeof buf[i], "%s/%s", root, rel);
  return buf[i];
}

static void
put_file (const char *rel, const char *content, mode_t mode)
{
  int fd = open (P (rel), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0 || fs_write_all (fd, content, strlen (content)) < 0)
    {
      perror (rel);
      exit (2);
    }
  fchmod (fd, mode);
  close (fd);
}

static void
set_mtime (const char *rel, time_t t)
{
  struct timespec ts[2] = { { t, 0 }, { t, 0 } };
  utimensat (AT_FDCWD, P (rel), ts, AT_SYMLINK_NOFOLLOW);
}

struct ent
{
  char *path;
  int type; /* AE_IF* */
  unsigned mode;
  long uid, gid;
  long long mtime, size;
  char *link; /* hardlink target */
  char *symlink;
  char *xattrs; /* "name=value;" ... */
  char *data;
};

struct tarlist
{
  struct ent *e;
  size_t n;
  char *diff_id; /* sha256 of the decompressed stream */
};

static void
tarlist_free (struct tarlist *l)
{
  for (size_t i = 0; i < l->n; i++)
    {
      free (l->e[i].path);
      free (l->e[i].link);
      free (l->e[i].symlink);
      free (l->e[i].xattrs);
      free (l->e[i].data);
    }
  free (l->e);
  free (l->diff_id);
  memset (l, 0, sizeof *l);
}

static int
read_tar (const char *file, struct tarlist *l)
{
  memset (l, 0, sizeof *l);
  struct archive *a = archive_read_new ();
  archive_read_support_filter_all (a);
  archive_read_support_format_tar (a);
  if (archive_read_open_filename (a, file, 65536) != ARCHIVE_OK)
    {
      printf ("# open: %s\n", archive_error_string (a));
      archive_read_free (a);
      return -1;
    }
  struct archive_entry *ae;
  int r;
  while ((r = archive_read_next_header (a, &ae)) == ARCHIVE_OK)
    {
      l->e = xrealloc (l->e, (l->n + 1) * sizeof *l->e);
      struct ent *e = &l->e[l->n++];
      memset (e, 0, sizeof *e);
      e->path = xstrdup (archive_entry_pathname (ae));
      e->type = (int)archive_entry_filetype (ae);
      e->mode = archive_entry_perm (ae);
      e->uid = (long)archive_entry_uid (ae);
      e->gid = (long)archive_entry_gid (ae);
      e->mtime = archive_entry_mtime (ae);
      e->size = archive_entry_size (ae);
      if (archive_entry_hardlink (ae))
        e->link = xstrdup (archive_entry_hardlink (ae));
      if (archive_entry_symlink (ae))
        e->symlink = xstrdup (archive_entry_symlink (ae));
      struct strbuf xs = STRBUF_INIT;
      const char *xn;
      const void *xv;
      size_t xl;
      archive_entry_xattr_reset (ae);
      while (archive_entry_xattr_next (ae, &xn, &xv, &xl) == ARCHIVE_OK)
        {
          strbuf_addf (&xs, "%s=", xn);
          strbuf_add (&xs, xv, xl);
          strbuf_addch (&xs, ';');
        }
      e->xattrs = strbuf_detach (&xs, NULL);
      if (e->type == AE_IFREG && e->size < 4096)
        {
          e->data = xcalloc (1, (size_t)e->size + 1);
          archive_read_data (a, e->data, (size_t)e->size);
        }
    }
  if (r != ARCHIVE_EOF)
    printf ("# read: %s\n", archive_error_string (a));
  archive_read_free (a);
  if (r != ARCHIVE_EOF)
    return -1;

  /* The decompressed bytes, hashed: must be the diff_id. */
  a = archive_read_new ();
  archive_read_support_filter_all (a);
  archive_read_support_format_raw (a);
  if (archive_read_open_filename (a, file, 65536) != ARCHIVE_OK
      || archive_read_next_header (a, &ae) != ARCHIVE_OK)
    {
      archive_read_free (a);
      return -1;
    }
  struct digester d;
  digester_init (&d);
  char buf[65536];
  ssize_t n;
  while ((n = archive_read_data (a, buf, sizeof buf)) > 0)
    digester_update (&d, buf, (size_t)n);
  l->diff_id = xmalloc (DIGEST_STR_LEN + 1);
  digester_final (&d, l->diff_id);
  digester_release (&d);
  archive_read_free (a);
  return n < 0 ? -1 : 0;
}

static struct ent *
find (struct tarlist *l, const char *path)
{
  for (size_t i = 0; i < l->n; i++)
    if (!strcmp (l->e[i].path, path))
      return &l->e[i];
  return NULL;
}

static char *
paths (struct tarlist *l)
{
  struct strbuf sb = STRBUF_INIT;
  for (size_t i = 0; i < l->n; i++)
    strbuf_addf (&sb, "%s%s", i ? " " : "", l->e[i].path);
  return strbuf_detach (&sb, NULL);
}

/* Diff upper (relative to root) into out (relative to root). */
static int
diff (const char *upper, char *const *lowers, const struct layer_opts *o,
      const char *out, struct layer_result *res, struct err **err)
{
  int ufd = open (P (upper), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  int ofd = open (P (out), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  struct layer_sink sink = { layer_sink_fd_write, &ofd, false };
  int r = layer_diff_to_sink (ufd, lowers, o, NULL, &sink, res, err);
  close (ufd);
  close (ofd);
  return r;
}

static char *
file_digest (const char *rel, int64_t *size)
{
  char *buf = NULL;
  size_t len = 0;
  struct err *err = NULL;
  if (fs_read_file (AT_FDCWD, P (rel), 1 << 30, &buf, &len, &err) < 0)
    {
      err_free (err);
      return xstrdup ("");
    }
  char *d = xmalloc (DIGEST_STR_LEN + 1);
  digest_buf (buf, len, d);
  free (buf);
  *size = (int64_t)len;
  return d;
}

static bool overlay_ok;

static void
make_lowers (void)
{
  /* l2 is the bottom layer, l1 above it (lowerdir=l1:l2). */
  mkdir (P ("l2"), 0755);
  put_file ("l2/bottom", "bottom\n", 0644);
  put_file ("l2/hidden", "hidden by l1\n", 0644);
  mkdir (P ("l2/d"), 0755);
  put_file ("l2/d/from-l2", "x", 0644);
  mkdir (P ("l1"), 0755);
  if (mknod (P ("l1/hidden"), S_IFCHR | 0, makedev (0, 0)) < 0)
    perror ("mknod");
  put_file ("l1/a.txt", "old a\n", 0644);
  mkdir (P ("l1/d"), 0755);
  put_file ("l1/d/x", "x\n", 0644);
  put_file ("l1/d/y", "y\n", 0644);
  mkdir (P ("l1/keep"), 0755);
  put_file ("l1/keep/k", "k\n", 0644);
  mkdir (P ("l1/opq"), 0755);
  put_file ("l1/opq/old1", "old1\n", 0644);
  mkdir (P ("l1/opq/sub"), 0755);
  put_file ("l1/opq/sub/deep", "deep\n", 0644);
  mkdir (P ("l1/perm"), 0755);
  put_file ("l1/gone", "gone\n", 0644);
  set_mtime ("l1/a.txt", 1000000);
}

static void
change_merged (void)
{
  put_file ("m/a.txt", "new a\n", 0644); /* copy-up, new content */
  unlink (P ("m/d/x"));                  /* whiteout in kept dir */
  unlink (P ("m/gone"));                 /* whiteout at the top */
  unlink (P ("m/bottom"));               /* exists only in l2 */
  struct err *err = NULL;
  fs_rm_rf (AT_FDCWD, P ("m/opq"), &err); /* opaque replace */
  err_free (err);
  mkdir (P ("m/opq"), 0755);
  mkdir (P ("m/opq/sub"), 0755);
  put_file ("m/opq/new", "new\n", 0644);
  put_file ("m/tmpfile", "t", 0644); /* made and removed: no trace */
  unlink (P ("m/tmpfile"));
  chmod (P ("m/perm"), 0700); /* dir change by itself */
  mkdir (P ("m/new"), 0755);
  put_file ("m/new/h1", "linked\n", 0600);
  CHECK (link (P ("m/new/h1"), P ("m/new/h2")) == 0, "make a hardlink");
  CHECK (symlink ("../a.txt", P ("m/new/sym")) == 0, "make a symlink");
  setxattr (P ("m/new/h1"), "user.test", "v1", 2, 0);
  mkfifo (P ("m/new/fifo"), 0640);
  set_mtime ("m/new/h1", 2000000000);
}

static void
test_overlay (void)
{
  struct err *err = NULL;
  mkdir (P ("u"), 0755);
  mkdir (P ("w"), 0755);
  mkdir (P ("m"), 0755);
  make_lowers ();
  char *opts = xasprintf ("lowerdir=%s:%s,upperdir=%s,workdir=%s", P ("l1"),
                          P ("l2"), P ("u"), P ("w"));
  if (mount ("overlay", P ("m"), "overlay", 0, opts) < 0)
    {
      SKIP ("overlay mount not permitted here: %s", strerror (errno));
      free (opts);
      return;
    }
  free (opts);
  overlay_ok = true;
  change_merged ();
  umount2 (P ("m"), 0);

  char *lowers[] = { xstrdup (P ("l1")), xstrdup (P ("l2")), NULL };
  struct layer_opts o = { .compression = LAYER_GZIP };
  struct layer_result res;
  CHECK (diff ("u", lowers, &o, "layer.tgz", &res, &err) == 0,
         "diff an overlay upper dir (%s)", err ? err->msg : "ok");
  err_clear (&err);

  struct tarlist l;
  CHECK (read_tar (P ("layer.tgz"), &l) == 0, "libarchive reads the layer");
  char *got = paths (&l);
  CHECK_STR (got,
             ".wh.bottom .wh.gone a.txt d/ d/.wh.x new/ new/fifo new/h1 "
             "new/h2 new/sym opq/ opq/.wh..wh..opq opq/new opq/sub/ perm/",
             "entries in order, whiteouts for lower paths only");
  free (got);
  struct ent *e = find (&l, "a.txt");
  CHECK (e && e->data && !strcmp (e->data, "new a\n"),
         "copied-up file carries its new content");
  CHECK (!find (&l, "keep/") && !find (&l, "keep/k"),
         "an untouched directory is not in the layer");
  CHECK (!find (&l, ".wh.tmpfile") && !find (&l, ".wh.hidden"),
         "no whiteout for a path absent below");
  e = find (&l, "perm/");
  CHECK (e && e->mode == 0700, "a chmod'ed dir is in the layer (%o)",
         e ? e->mode : 0);
  e = find (&l, ".wh.gone");
  CHECK (e && e->type == AE_IFREG && e->size == 0 && e->mtime == 0
             && e->mode == 0,
         "whiteout is an empty file with mtime 0");
  e = find (&l, "new/h2");
  CHECK (e && e->link && !strcmp (e->link, "new/h1"),
         "second name of an inode is a hardlink to the first");
  e = find (&l, "new/h1");
  CHECK (e && e->data && !strcmp (e->data, "linked\n") && e->mode == 0600,
         "the first name carries the data and mode");
  CHECK (e && e->xattrs && !strcmp (e->xattrs, "user.test=v1;"),
         "user xattr carried as SCHILY.xattr (%s)", e ? e->xattrs : "");
  CHECK (e && e->mtime == 2000000000, "mtime kept without an epoch");
  e = find (&l, "new/sym");
  CHECK (e && e->symlink && !strcmp (e->symlink, "../a.txt"), "symlink");
  e = find (&l, "new/fifo");
  CHECK (e && e->type == AE_IFIFO && e->mode == 0640, "fifo");
  bool ovl = false;
  for (size_t i = 0; i < l.n; i++)
    if (strstr (l.e[i].xattrs, "overlay."))
      ovl = true;
  CHECK (!ovl, "no overlay xattrs in the layer");
  CHECK_STR (l.diff_id, res.diff_id, "diff_id is the digest of the tar");
  int64_t size = 0;
  char *fd_ = file_digest ("layer.tgz", &size);
  CHECK_STR (fd_, res.digest, "digest is the digest of the blob");
  CHECK (size == res.size, "size is the blob size");
  CHECK_STR (res.media_type, "application/vnd.oci.image.layer.v1.tar+gzip",
             "gzip media type");
  free (fd_);
  tarlist_free (&l);

  /* Same input, same bytes. */
  struct layer_result res2;
  diff ("u", lowers, &o, "layer2.tgz", &res2, &err);
  CHECK_STR (res2.digest, res.digest, "diff twice gives the same digest");

  /* zstd and uncompressed share the diff_id. */
  o.compression = LAYER_ZSTD;
  CHECK (diff ("u", lowers, &o, "layer.tzst", &res2, &err) == 0, "zstd");
  CHECK_STR (res2.diff_id, res.diff_id, "zstd layer has the same diff_id");
  CHECK (read_tar (P ("layer.tzst"), &l) == 0 && l.n == 15
             && !strcmp (l.diff_id, res.diff_id),
         "zstd layer reads back");
  tarlist_free (&l);
  o.compression = LAYER_UNCOMPRESSED;
  CHECK (diff ("u", lowers, &o, "layer.tar", &res2, &err) == 0
             && !strcmp (res2.digest, res.diff_id),
         "an uncompressed layer's digest is its diff_id");

  /* SOURCE_DATE_EPOCH clamps newer mtimes, keeps older ones. */
  o.compression = LAYER_GZIP;
  o.clamp_mtime = true;
  o.source_date_epoch = 1500000000;
  CHECK (diff ("u", lowers, &o, "clamped.tgz", &res2, &err) == 0,
         "diff with an epoch");
  CHECK (strcmp (res2.diff_id, res.diff_id) != 0, "clamping changes the tar");
  read_tar (P ("clamped.tgz"), &l);
  bool all = l.n > 0;
  for (size_t i = 0; i < l.n; i++)
    if (l.e[i].mtime > 1500000000)
      all = false;
  CHECK (all, "no mtime after the epoch");
  e = find (&l, "new/h1");
  CHECK (e && e->mtime == 1500000000, "a newer mtime is clamped to it");
  e = find (&l, "a.txt");
  CHECK (e && e->mtime <= 1500000000 && e->mtime > 0, "mtimes are kept");
  tarlist_free (&l);
  err_clear (&err);
  free (lowers[0]);
  free (lowers[1]);
}

/* Hand-made upper dirs for cases overlay only produces in odd ways. */
static void
test_crafted (void)
{
  struct err *err = NULL;
  struct layer_opts o = { .compression = LAYER_UNCOMPRESSED };
  struct layer_result res;
  struct tarlist l;

  mkdir (P ("c1"), 0755);
  mknod (P ("c1/neverexisted"), S_IFCHR, makedev (0, 0));
  mknod (P ("c1/hidden"), S_IFCHR, makedev (0, 0));
  mkdir (P ("c1/newdir"), 0755);
  setxattr (P ("c1/newdir"), "trusted.overlay.opaque", "y", 1, 0);
  put_file ("c1/newdir/f", "f", 0644);
  mkdir (P ("c1/d"), 0755);
  setxattr (P ("c1/d"), "user.overlay.opaque", "y", 1, 0);
  char *lowers[] = { xstrdup (P ("l1")), xstrdup (P ("l2")), NULL };
  CHECK (diff ("c1", lowers, &o, "c1.tar", &res, &err) == 0, "crafted diff");
  read_tar (P ("c1.tar"), &l);
  char *got = paths (&l);
  CHECK_STR (got, "d/ d/.wh..wh..opq newdir/ newdir/f",
             "no whiteout for a path hidden or absent below; opaque marker "
             "only for a dir that exists below; user.overlay.opaque works");
  free (got);
  tarlist_free (&l);

  mkdir (P ("c2"), 0755);
  mkdir (P ("c2/r"), 0755);
  setxattr (P ("c2/r"), "trusted.overlay.redirect", "/x", 2, 0);
  CHECK (diff ("c2", lowers, &o, "c2.tar", &res, &err) == -1 && err
             && strstr (err->msg, "redirect"),
         "a redirect dir is refused (%s)", err ? err->msg : "");
  err_clear (&err);

  /* A name that a layer reader would take for a whiteout. */
  mkdir (P ("c4"), 0755);
  mkdir (P ("c4/.wh.foo"), 0755);
  put_file ("c4/.wh.foo/bar", "b", 0644);
  CHECK (diff ("c4", NULL, &o, "c4.tar", &res, &err) == -1 && err
             && strstr (err->msg, "'.wh.foo': a name starting with '.wh.' "
                                  "cannot go into a layer"),
         "a '.wh.' name in an upper dir is refused (%s)", err ? err->msg : "");
  err_clear (&err);

  /* Long paths, big ids: pax records. */
  mkdir (P ("c3"), 0755);
  char name[300];
  memset (name, 'n', 150);
  name[150] = '\0';
  mkdir (P ("c3/x"), 0755);
  char *long1 = xasprintf ("c3/x/%s", name);
  mkdir (P (long1), 0755);
  char *long2 = xasprintf ("%s/%s", long1, name);
  put_file (long2, "deep", 0644);
  CHECK (lchown (P (long2), 3000000, 4000000) == 0, "chown to big ids");
  CHECK (diff ("c3", NULL, &o, "c3.tar", &res, &err) == 0, "long paths");
  read_tar (P ("c3.tar"), &l);
  char *want = xasprintf ("x/%s/%s", name, name);
  struct ent *e = find (&l, want);
  CHECK (e && e->uid == 3000000 && e->gid == 4000000 && e->data
             && !strcmp (e->data, "deep"),
         "a 300-byte path and large ids survive (pax)");
  tarlist_free (&l);
  free (want);
  free (long1);
  free (long2);
  err_clear (&err);
  free (lowers[0]);
  free (lowers[1]);
}

static enum layer_copy_filter
no_logs (void *ctx, const char *path, bool is_dir)
{
  size_t n = strlen (path);
  (void)ctx;
  if (n > 4 && !strcmp (path + n - 4, ".log"))
    return LAYER_COPY_EXCLUDE;
  if (is_dir && !strcmp (path, "app/secret"))
    return LAYER_COPY_EXCLUDE_SUBTREE;
  if (is_dir && !strcmp (path, "app/hidden"))
    return LAYER_COPY_EXCLUDE; /* but app/hidden/keep is included */
  if (!strcmp (path, "app/hidden/drop"))
    return LAYER_COPY_EXCLUDE;
  return LAYER_COPY_INCLUDE;
}

static int
copy_layer (struct layer_copy **cp, const struct layer_opts *o,
            struct err **err)
{
  int ctx = open (P ("ctx"), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  struct layer_copy *c = layer_copy_new (o);
  struct tarfs_override ov = { .chown = true, .uid = 1000, .gid = 1000 };
  struct tarfs_override ov2 = { .chmod = true, .mode = 0755 };
  int r = layer_copy_add_path (c, ctx, "app", "/dst/", &ov, no_logs, NULL, err);
  if (r == 0)
    r = layer_copy_add_path (c, ctx, "/single.txt", "/dst/renamed.txt", &ov2,
                             NULL, NULL, err);
  if (r == 0)
    r = layer_copy_add_path (c, ctx, "lnk", "/dst/viasym", NULL, NULL, NULL,
                             err);
  layer_copy_add_data (c, "/etc/conf", "hello\n", 6, 0644, 0, 0, 5);
  layer_copy_add_dir (c, "/work/", 0750, 7, 8, 9);
  close (ctx);
  *cp = c;
  return r;
}

/* Write the layer c collected to file (and free c), then read it back. */
static void
write_and_read (struct layer_copy *c, const char *file,
                struct layer_result *res, struct tarlist *l)
{
  struct err *err = NULL;
  int ofd = open (P (file), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  struct layer_sink sink = { layer_sink_fd_write, &ofd, false };
  CHECK (layer_copy_write (c, &sink, res, &err) == 0, "write the layer %s (%s)",
         file, err ? err->msg : "ok");
  close (ofd);
  layer_copy_free (c);
  CHECK (read_tar (P (file), l) == 0, "read %s back", file);
  err_free (err);
}

static void
test_copy (void)
{
  struct err *err = NULL;
  mkdir (P ("ctx"), 0755);
  mkdir (P ("ctx/app"), 0711);
  mkdir (P ("ctx/app/sub"), 0755);
  mkdir (P ("ctx/app/secret"), 0755);
  mkdir (P ("ctx/app/hidden"), 0755);
  put_file ("ctx/app/a.txt", "a", 0644);
  put_file ("ctx/app/sub/b.txt", "b", 0600);
  put_file ("ctx/app/skip.log", "x", 0644);
  put_file ("ctx/app/secret/k", "k", 0644);
  put_file ("ctx/app/hidden/keep", "keep", 0644);
  put_file ("ctx/app/hidden/drop", "drop", 0644);
  put_file ("ctx/app/hl1", "same inode", 0644);
  put_file ("ctx/single.txt", "single", 0600);
  CHECK (link (P ("ctx/app/hl1"), P ("ctx/app/hl2")) == 0, "hardlink");
  CHECK (symlink ("a.txt", P ("ctx/app/link")) == 0, "symlink in tree");
  CHECK (symlink ("/single.txt", P ("ctx/lnk")) == 0, "absolute symlink");
  CHECK (symlink ("/etc/passwd", P ("ctx/escape")) == 0, "escaping symlink");

  struct layer_opts o = { .compression = LAYER_GZIP };
  struct layer_copy *c = NULL;
  CHECK (copy_layer (&c, &o, &err) == 0, "collect COPY sources (%s)",
         err ? err->msg : "ok");
  struct layer_result res, res2;
  struct tarlist l;
  write_and_read (c, "copy.tgz", &res, &l);
  char *got = paths (&l);
  CHECK_STR (got,
             "dst/ dst/a.txt dst/hidden/ dst/hidden/keep dst/hl1 dst/hl2 "
             "dst/link dst/renamed.txt dst/sub/ dst/sub/b.txt dst/viasym "
             "etc/conf work/",
             "COPY layer entries: sorted, filtered, no parents not asked for");
  free (got);
  struct ent *e = find (&l, "dst/");
  CHECK (e && e->mode == 0711 && e->uid == 1000 && e->gid == 1000,
         "dest dir takes the source dir's mode, --chown applies");
  e = find (&l, "dst/sub/b.txt");
  CHECK (e && e->mode == 0600 && e->uid == 1000 && e->data
             && !strcmp (e->data, "b"),
         "file mode kept, owner changed");
  e = find (&l, "dst/hl2");
  CHECK (e && e->link && !strcmp (e->link, "dst/hl1"), "hardlinks kept");
  e = find (&l, "dst/link");
  CHECK (e && e->symlink && !strcmp (e->symlink, "a.txt"),
         "symlinks inside a tree stay symlinks");
  e = find (&l, "dst/renamed.txt");
  CHECK (e && e->mode == 0755 && e->uid == 0 && !strcmp (e->data, "single"),
         "--chmod applies; without --chown the owner is the file's");
  e = find (&l, "dst/viasym");
  CHECK (e && e->type == AE_IFREG && e->data && !strcmp (e->data, "single"),
         "a symlink source is followed inside the context");
  e = find (&l, "etc/conf");
  CHECK (e && e->mtime == 5 && !strcmp (e->data, "hello\n"), "data entry");
  e = find (&l, "work/");
  CHECK (e && e->mode == 0750 && e->uid == 7 && e->gid == 8 && e->mtime == 9,
         "dir entry");
  CHECK_STR (l.diff_id, res.diff_id, "COPY layer diff_id");
  tarlist_free (&l);

  /* Same sources, same bytes; through the store. */
  struct store st;
  CHECK (store_open (&st, P ("store"), &err) == 0, "open a store");
  CHECK (copy_layer (&c, &o, &err) == 0
             && layer_copy_commit (c, &st, &res2, &err) == 0,
         "COPY layer into the store (%s)", err ? err->msg : "ok");
  layer_copy_free (c);
  CHECK_STR (res2.digest, res.digest, "COPY layers are reproducible");
  CHECK (store_has_blob (&st, res.digest)
             && store_blob_size (&st, res.digest) == res.size,
         "the blob is in the store with its size");

  int ctx = open (P ("ctx"), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  c = layer_copy_new (&o);
  CHECK (layer_copy_add_path (c, ctx, "escape", "/x", NULL, NULL, NULL, &err)
             == -1,
         "a symlink out of the context does not escape it (%s)",
         err ? err->msg : "");
  err_clear (&err);
  CHECK (layer_copy_add_path (c, ctx, "../../../etc/passwd", "/x", NULL, NULL,
                              NULL, &err)
             == -1,
         "../ cannot leave the context");
  err_clear (&err);
  layer_copy_free (c);
  close (ctx);

  /* layer_diff into the store too. */
  char *lowers[] = { xstrdup (P ("l1")), xstrdup (P ("l2")), NULL };
  int ufd = open (P ("u"), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  o.compression = LAYER_ZSTD;
  CHECK (layer_diff (ufd, lowers, &o, NULL, &st, &res, &err) == 0
             && store_has_blob (&st, res.digest),
         "layer_diff writes a store blob (%s)", err ? err->msg : "ok");
  char *path = store_blob_path (&st, res.digest);
  CHECK (read_tar (path, &l) == 0 && !strcmp (l.diff_id, res.diff_id),
         "the stored blob reads back to the diff_id");
  tarlist_free (&l);
  free (path);
  close (ufd);
  free (lowers[0]);
  free (lowers[1]);
  store_release (&st);
  err_clear (&err);
}

/* With the stage's file system as base, the parents of what is added
 * come with the layer as they are there (BuildKit's differ includes
 * them): /tmp keeps 1777, /home/app its owner and mode; a directory that
 * gets an entry right inside it takes the step's time, the others keep
 * theirs. */
static void
test_copy_parents (void)
{
  struct err *err = NULL;
  mkdir (P ("base"), 0755);
  mkdir (P ("base/tmp"), 0755);
  chmod (P ("base/tmp"), 01777);
  mkdir (P ("base/home"), 0755);
  mkdir (P ("base/home/app"), 0750);
  CHECK (chown (P ("base/home/app"), 1000, 1001) == 0, "chown app");
  set_mtime ("base/home/app", 1000);
  set_mtime ("base/home", 2000);
  set_mtime ("base/tmp", 3000);
  put_file ("pf.txt", "f", 0644);

  struct layer_opts o = { .compression = LAYER_GZIP };
  struct layer_copy *c = layer_copy_new (&o);
  int base = open (P ("base"), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  int src = open (root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  layer_copy_set_base (c, base, 7777);
  close (base);
  CHECK (layer_copy_add_path (c, src, "pf.txt", "/tmp/pf.txt", NULL, NULL, NULL,
                              &err)
             == 0,
         "add a file to /tmp");
  layer_copy_add_dir (c, "/home/app/new", 0755, 0, 0, 7777);
  layer_copy_add_data (c, "/home/app/new/d", "d", 1, 0644, 0, 0, 7777);
  close (src);
  struct layer_result res;
  struct tarlist l;
  write_and_read (c, "parents.tgz", &res, &l);
  char *got = paths (&l);
  CHECK_STR (got,
             "home/ home/app/ home/app/new/ home/app/new/d tmp/ tmp/pf.txt",
             "every parent is in the layer, before its children");
  free (got);
  struct ent *e = find (&l, "tmp/");
  CHECK (e && e->mode == 01777 && e->uid == 0 && e->mtime == 7777,
         "/tmp keeps 1777, and takes the step's time (a file went in)");
  e = find (&l, "home/app/");
  CHECK (e && e->mode == 0750 && e->uid == 1000 && e->gid == 1001
             && e->mtime == 7777,
         "an existing parent keeps its owner and mode");
  e = find (&l, "home/");
  CHECK (e && e->mode == 0755 && e->mtime == 2000,
         "a parent the step did not change keeps its mtime");
  tarlist_free (&l);
  err_clear (&err);
}

/* A sink that fails after `left` bytes. */
struct failing_sink
{
  size_t left;
};

static int
failing_write (void *ctx, const void *data, size_t len, struct err **err)
{
  struct failing_sink *f = ctx;
  (void)data;
  if (len > f->left)
    return err_set (err, ENOSPC, "write layer");
  f->left -= len;
  return 0;
}

/* A layer large enough that its output goes through the writer thread
 * (layers/tarwriter.c) and into the store with O_DIRECT (layers/store.c):
 * the same bytes and digests as the one-thread path would give. */
static void
test_big (void)
{
  struct err *err = NULL;
  struct layer_result res, res2, res3;
  struct layer_opts o = { .compression = LAYER_GZIP };
  mkdir (P ("big"), 0755);
  /* 12 MB that compress poorly, in files of odd sizes */
  uint64_t x = 88172645463325252ULL;
  for (int f = 0; f < 6; f++)
    {
      size_t n = (2u << 20) + (size_t)f * 4099 + 1;
      unsigned char *buf = xmalloc (n);
      for (size_t i = 0; i < n; i++)
        {
          x ^= x << 13, x ^= x >> 7, x ^= x << 17;
          buf[i] = (unsigned char)(f % 2 ? x : x & 0x3f);
        }
      char name[32];
      snprintf (name, sizeof name, "big/f%d", f);
      int fd = open (P (name), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
      CHECK (fd >= 0 && fs_write_all (fd, buf, n) == 0, "write %s", name);
      close (fd);
      set_mtime (name, 1600000000);
      free (buf);
    }
  set_mtime ("big", 1600000000);

  enum layer_compression comps[] = { LAYER_GZIP, LAYER_ZSTD };
  for (size_t c = 0; c < 2; c++)
    {
      o.compression = comps[c];
      const char *name = c ? "big.tzst" : "big.tgz";
      CHECK (diff ("big", NULL, &o, name, &res, &err) == 0,
             "diff a 12 MB dir (%s)", name);
      int64_t size = 0;
      char *fd_ = file_digest (name, &size);
      CHECK_STR (fd_, res.digest, "%s: digest is the blob's", name);
      CHECK (size == res.size && size > (4 << 20), "%s: size %lld", name,
             (long long)size);
      free (fd_);
      struct tarlist l;
      CHECK (read_tar (P (name), &l) == 0 && l.n == 6
                 && !strcmp (l.diff_id, res.diff_id),
             "%s: reads back, diff_id is the tar's", name);
      tarlist_free (&l);
      CHECK (diff ("big", NULL, &o, "big.again", &res2, &err) == 0
                 && !strcmp (res2.digest, res.digest),
             "%s: the same bytes twice", name);

      /* into a store: the same blob */
      struct store st;
      int ufd = open (P ("big"), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      CHECK (store_open (&st, P ("bigstore"), &err) == 0
                 && layer_diff (ufd, NULL, &o, NULL, &st, &res3, &err) == 0,
             "%s: into the store (%s)", name, err ? err->msg : "ok");
      close (ufd);
      CHECK_STR (res3.digest, res.digest, "%s: the store's blob digest", name);
      char *bp = store_blob_path (&st, res.digest);
      char *sd = file_digest (bp + strlen (root) + 1, &size);
      CHECK (!strcmp (sd, res.digest) && size == res.size,
             "%s: the stored file has the digest and size", name);
      free (sd);
      free (bp);
      store_release (&st);
      err_clear (&err);

      /* a sink that fails in the writer thread: the error comes back */
      struct failing_sink fs = { 3u << 20 };
      struct layer_sink sink = { failing_write, &fs, false };
      ufd = open (P ("big"), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      CHECK (layer_diff_to_sink (ufd, NULL, &o, NULL, &sink, &res2, &err) < 0
                 && err && err->errnum == ENOSPC,
             "%s: a sink's failure in the writer thread is the error (%s)",
             name, err ? err->msg : "none");
      close (ufd);
      err_clear (&err);
    }

  /* an error in the walk after the threads started: the writer is
     abandoned mid-layer, nothing hangs or leaks (ASan build) */
  mkdir (P ("big/zz"), 0755);
  if (setxattr (P ("big/zz"), "trusted.overlay.redirect", "/x", 2, 0) == 0)
    {
      o.compression = LAYER_ZSTD;
      CHECK (diff ("big", NULL, &o, "big.broken", &res, &err) < 0 && err
                 && strstr (err->msg, "redirect"),
             "an error after 12 MB ends the layer with it (%s)",
             err ? err->msg : "none");
      err_clear (&err);
      o.compression = LAYER_GZIP;
      CHECK (diff ("big", NULL, &o, "big.broken", &res, &err) < 0 && err,
             "the same with gzip");
      err_clear (&err);
    }
  else
    SKIP ("trusted xattrs not permitted here");
}

static bool
skip_proc (void *ctx, int dirfd, const char *name, const char *path,
           const struct stat *st)
{
  (void)dirfd;
  (void)name;
  (void)st;
  ++*(int *)ctx;
  return !strcmp (path, "proc");
}

/* export: an upper dir over l1 over l2, merged as overlayfs shows it;
 * and the differ's skip callback on the same upper dir. */
static void
test_export (void)
{
  struct err *err = NULL;
  struct tarlist l;
  char *lowers[] = { xstrdup (P ("l1")), xstrdup (P ("l2")), NULL };
  char *const empty[] = { "proc", "sys", NULL };
  mkdir (P ("x1"), 0755);
  put_file ("x1/a.txt", "upper a\n", 0600);
  mknod (P ("x1/bottom"), S_IFCHR, makedev (0, 0));
  mkdir (P ("x1/d"), 0755);
  setxattr (P ("x1/d"), "trusted.overlay.opaque", "y", 1, 0);
  put_file ("x1/d/only", "o", 0644);
  put_file ("x1/.wh.plain", "a file of that name", 0644);
  mkdir (P ("x1/keep"), 0755);
  mkdir (P ("x1/proc"), 0555);
  put_file ("x1/proc/junk", "j", 0644);
  int ufd = open (P ("x1"), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  int ofd = open (P ("x1.tar"), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  struct layer_sink sink = { layer_sink_fd_write, &ofd, false };
  CHECK (layer_export (ufd, lowers, empty, &sink, &err) == 0, "export (%s)",
         err ? err->msg : "ok");
  close (ofd);
  read_tar (P ("x1.tar"), &l);
  char *got = paths (&l);
  CHECK_STR (got,
             ".wh.plain a.txt d/ d/only gone keep/ keep/k opq/ opq/old1 "
             "opq/sub/ opq/sub/deep perm/ proc/ sys/",
             "export: the upper over the lowers; whiteouts hide (a lower's "
             "and the upper's), an opaque dir hides all below it, a '.wh.' "
             "name is a file, /proc is empty and /sys made");
  free (got);
  struct ent *e = find (&l, "a.txt");
  CHECK (e && e->data && !strcmp (e->data, "upper a\n") && e->mode == 0600,
         "the upper's file wins, with its mode");
  e = find (&l, "proc/");
  CHECK (e && e->mode == 0555, "an empty dir keeps its mode");
  tarlist_free (&l);

  /* the differ's skip callback: the entry and all below it left out */
  struct layer_opts o = { .compression = LAYER_UNCOMPRESSED };
  struct layer_result res;
  int calls = 0;
  struct layer_diff_skip skip = { skip_proc, &calls };
  unlink (P ("x1/.wh.plain")); /* a layer refuses that name */
  ofd = open (P ("x1d.tar"), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  sink.ctx = &ofd;
  CHECK (layer_diff_to_sink (ufd, lowers, &o, &skip, &sink, &res, &err) == 0,
         "diff with a skip callback (%s)", err ? err->msg : "ok");
  close (ofd);
  close (ufd);
  read_tar (P ("x1d.tar"), &l);
  got = paths (&l);
  CHECK_STR (got, ".wh.bottom a.txt d/ d/.wh..wh..opq d/only",
             "the skipped entry is not in the layer, nor what is below it");
  CHECK (calls > 0, "the callback was asked");
  free (got);
  tarlist_free (&l);
  free (lowers[0]);
  free (lowers[1]);
}

int
main (void)
{
  if (geteuid () != 0)
    {
      SKIP ("needs root for overlay mounts and trusted xattrs");
      return test_done ();
    }
  strcpy (root, "/var/tmp/imgtool-diff-XXXXXX");
  if (!mkdtemp (root))
    return 2;
  test_overlay ();
  if (overlay_ok)
    test_crafted ();
  if (overlay_ok)
    test_copy ();
  if (overlay_ok)
    test_export ();
  test_copy_parents ();
  test_big ();
  struct err *err = NULL;
  fs_rm_rf (AT_FDCWD, root, &err);
  err_free (err);
  return test_done ();
}
