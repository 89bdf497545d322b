/* docker's copy-up (volume.h: rt_volume_copy_up): the image's content at
 * a volume's mount point copied into the volume while it is empty. Runs
 * in the container's child before the volume is mounted, so the source is
 * the container's own root (the overlay, its writes included). Every name
 * is opened relative to its directory's fd without following symlinks, on
 * both sides: the image cannot make the copy read or write outside. */
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/xalloc.h"
#include "runtime/plan.h"
#include "runtime/volume.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#define MARKER "copy-up"

/* A hard-linked inode met before: where its first name was copied. */
struct link_seen
{
  dev_t dev;
  ino_t ino;
  char *path; /* relative to the volume's root */
};

struct copy
{
  int root; /* the volume's _data */
  struct link_seen *links;
  size_t n_links, alloc;
};

/* Extended attributes of an open file, copied as far as the volume's
 * file system takes them (docker ignores the ones it cannot set). */
static void
copy_xattrs (int src, int dst)
{
  char names[4096], value[65536];
  ssize_t n = flistxattr (src, names, sizeof names);
  for (ssize_t i = 0; n > 0 && i < n; i += (ssize_t)strlen (names + i) + 1)
    {
      ssize_t v = fgetxattr (src, names + i, value, sizeof value);
      if (v >= 0)
        (void)fsetxattr (dst, names + i, value, (size_t)v, 0);
    }
}

static int
copy_bytes (int src, int dst, const char *name, struct err **err)
{
  char buf[65536];
  ssize_t n;
  for (;;)
    {
      n = copy_file_range (src, NULL, dst, NULL, 1 << 30, 0);
      if (n == 0)
        return 0;
      if (n < 0)
        break;
    }
  if (errno != EXDEV && errno != EINVAL && errno != ENOSYS
      && errno != EOPNOTSUPP)
    return err_set (err, errno, "copy '%s'", name);
  while ((n = read (src, buf, sizeof buf)) != 0)
    if (n < 0 ? errno != EINTR : fs_write_all (dst, buf, (size_t)n) < 0)
      return err_set (err, errno, "copy '%s'", name);
  return 0;
}

/* Owner, then mode (a chown clears set-user-ID), xattrs and times of an
 * open copy. */
static int
set_attrs (int src, int dst, const struct stat *st, const char *name,
           struct err **err)
{
  struct timespec t[2] = { st->st_atim, st->st_mtim };
  if (fchown (dst, st->st_uid, st->st_gid) < 0
      || fchmod (dst, st->st_mode & 07777) < 0)
    return err_set (err, errno, "copy '%s'", name);
  copy_xattrs (src, dst);
  if (futimens (dst, t) < 0)
    return err_set (err, errno, "copy '%s'", name);
  return 0;
}

static int copy_dir (struct copy *c, int src, int dst, const char *rel,
                     struct err **err);

/* One entry of a directory: name in src and dst. */
static int
copy_entry (struct copy *c, int src, int dst, const char *name, const char *rel,
            struct err **err)
{
  struct stat st;
  _cleanup_free_ char *path = xasprintf ("%s%s%s", rel, *rel ? "/" : "", name);
  _cleanup_close_ int s = -1, d = -1;
  if (fstatat (src, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return err_set (err, errno, "copy '%s'", path);
  if (!S_ISDIR (st.st_mode) && st.st_nlink > 1)
    {
      for (size_t i = 0; i < c->n_links; i++)
        if (c->links[i].dev == st.st_dev && c->links[i].ino == st.st_ino)
          {
            if (linkat (c->root, c->links[i].path, dst, name, 0) < 0)
              return err_set (err, errno, "link '%s'", path);
            return 0;
          }
      c->links = xgrow (c->links, &c->alloc, c->n_links + 1, sizeof *c->links);
      c->links[c->n_links++]
          = (struct link_seen){ st.st_dev, st.st_ino, xstrdup (path) };
    }
  if (S_ISDIR (st.st_mode))
    {
      if (mkdirat (dst, name, 0700) < 0)
        return err_set (err, errno, "create '%s'", path);
      s = openat (src, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      d = openat (dst, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (s < 0 || d < 0)
        return err_set (err, errno, "open '%s'", path);
      if (copy_dir (c, s, d, path, err) < 0)
        return -1;
      return set_attrs (s, d, &st, path, err);
    }
  if (S_ISREG (st.st_mode))
    {
      s = openat (src, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
      d = openat (dst, name,
                  O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
      if (s < 0 || d < 0)
        return err_set (err, errno, "open '%s'", path);
      if (copy_bytes (s, d, path, err) < 0)
        return -1;
      return set_attrs (s, d, &st, path, err);
    }
  if (S_ISLNK (st.st_mode))
    {
      char target[4096];
      struct timespec t[2] = { st.st_atim, st.st_mtim };
      ssize_t n = readlinkat (src, name, target, sizeof target - 1);
      if (n < 0)
        return err_set (err, errno, "read link '%s'", path);
      target[n] = '\0';
      if (symlinkat (target, dst, name) < 0
          || fchownat (dst, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0
          || utimensat (dst, name, t, AT_SYMLINK_NOFOLLOW) < 0)
        return err_set (err, errno, "copy link '%s'", path);
      return 0;
    }
  /* devices, fifos, sockets: made again, never opened */
  {
    struct timespec t[2] = { st.st_atim, st.st_mtim };
    if (mknodat (dst, name, st.st_mode, st.st_rdev) < 0
        || fchownat (dst, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0
        || fchmodat (dst, name, st.st_mode & 07777, 0) < 0
        || utimensat (dst, name, t, AT_SYMLINK_NOFOLLOW) < 0)
      return err_set (err, errno, "copy '%s'", path);
  }
  return 0;
}

/* The walk's place: the directories being copied. */
struct copy_at
{
  struct copy *c;
  int dst;
  const char *rel;
};

static int
copy_one (void *ctx, int src, const char *name, struct err **err)
{
  struct copy_at *at = ctx;
  return copy_entry (at->c, src, at->dst, name, at->rel, err);
}

static int
copy_dir (struct copy *c, int src, int dst, const char *rel, struct err **err)
{
  struct copy_at at = { c, dst, rel };
  return fs_dir_each (src, ".", copy_one, &at, err);
}

static int
any_entry (void *ctx, int dirfd, const char *name, struct err **err)
{
  return 1;
}

static int
remove_entry (void *ctx, int dirfd, const char *name, struct err **err)
{
  return fs_rm_rf (dirfd, name, err);
}

int
rt_volume_copy_up (int rootfd, const struct rt_mount *m, struct err **err)
{
  _cleanup_close_ int data = -1, vol = -1, src = -1, lock = -1;
  struct copy c = { 0 };
  struct stat st;
  bool redo;
  int r;

  src = fs_open_in_root (rootfd, m->destination, O_RDONLY | O_DIRECTORY, 0);
  if (src < 0)
    return 0; /* nothing there, or not a directory: nothing to copy */
  data = open (m->source, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (data < 0)
    return err_set (err, errno, "open volume '%s'", m->name ? m->name : "");
  vol = openat (data, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (vol < 0)
    return err_set (err, errno, "open volume '%s'", m->name ? m->name : "");
  /* one copy at a time: another container may mount it meanwhile */
  lock = openat (data, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (lock < 0 || flock (lock, LOCK_EX) < 0)
    return err_set (err, errno, "lock volume '%s'", m->name ? m->name : "");
  redo = faccessat (vol, MARKER, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
  /* docker's rule: only into an empty volume; a copy cut short (the
   * marker) is emptied and done again */
  if (!redo && (r = fs_dir_each (data, ".", any_entry, NULL, err)) != 0)
    return r < 0 ? -1 : 0;
  if (redo && fs_dir_each (data, ".", remove_entry, NULL, err) < 0)
    return -1;
  r = openat (vol, MARKER, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (r < 0)
    return err_set (err, errno, "mark volume '%s'", m->name ? m->name : "");
  close (r);
  c.root = data;
  r = copy_dir (&c, src, data, "", err);
  if (r == 0 && fstat (src, &st) == 0)
    r = set_attrs (src, data, &st, m->destination, err);
  for (size_t i = 0; i < c.n_links; i++)
    free (c.links[i].path);
  free (c.links);
  if (r < 0)
    return err_wrap (err, "copy '%s' into its volume", m->destination);
  if (unlinkat (vol, MARKER, 0) < 0)
    return err_set (err, errno, "mark volume '%s'", m->name ? m->name : "");
  return 0;
}
