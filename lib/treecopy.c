/* Copy a tree fd by fd (treecopy.h). */
#include "lib/treecopy.h"
#include "lib/err.h"
#include "lib/xalloc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

static void
owner_of (const struct stat *st, const struct treecopy_opts *o, uid_t *u,
          gid_t *g)
{
  *u = o->owner == TREECOPY_OWNER_SET ? o->uid : st->st_uid;
  *g = o->owner == TREECOPY_OWNER_SET ? o->gid : st->st_gid;
}

/* Owner (if asked), mode and times of what fd is. */
static int
finish_fd (int fd, const struct stat *st, const struct treecopy_opts *o,
           const char *what, struct err **err)
{
  struct timespec ts[2] = { st->st_atim, st->st_mtim };
  if (o->owner != TREECOPY_OWNER_CALLER)
    {
      uid_t u;
      gid_t g;
      owner_of (st, o, &u, &g);
      if (fchown (fd, u, g) < 0)
        return err_set (err, errno, "chown '%s'", what);
    }
  /* after the chown, which clears set-user-ID bits */
  if (fchmod (fd, st->st_mode & 07777) < 0)
    return err_set (err, errno, "chmod '%s'", what);
  futimens (fd, ts);
  return 0;
}

/* Remove what is at dir/name unless it is a directory. */
static int
clear_slot (int dir, const char *name, bool *is_dir, struct err **err)
{
  struct stat st;
  *is_dir = false;
  if (fstatat (dir, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return errno == ENOENT ? 0 : err_set (err, errno, "stat '%s'", name);
  if (S_ISDIR (st.st_mode))
    {
      *is_dir = true;
      return 0;
    }
  if (unlinkat (dir, name, 0) < 0)
    return err_set (err, errno, "replace '%s'", name);
  return 0;
}

static int
copy_file (int src_dir, const char *src_name, const struct stat *st,
           int dst_dir, const char *dst_name, const struct treecopy_opts *o,
           struct err **err)
{
  _cleanup_close_ int in = -1, out = -1;
  bool is_dir;
  off_t left = st->st_size;
  in = openat (src_dir, src_name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (in < 0)
    return err_set (err, errno, "open '%s'", src_name);
  if (clear_slot (dst_dir, dst_name, &is_dir, err) < 0)
    return -1;
  if (is_dir)
    return err_set (err, EISDIR, "cannot overwrite directory '%s' with a file",
                    dst_name);
  out = openat (dst_dir, dst_name,
                O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (out < 0)
    return err_set (err, errno, "create '%s'", dst_name);
  while (left > 0)
    {
      ssize_t n = copy_file_range (in, NULL, out, NULL, (size_t)left, 0);
      if (n < 0
          && (errno == EXDEV || errno == EINVAL || errno == ENOSYS
              || errno == EOPNOTSUPP))
        {
          /* across filesystems on older kernels: by hand */
          char buf[1 << 16];
          n = read (in, buf, sizeof buf);
          if (n > 0 && write (out, buf, (size_t)n) != n)
            return err_set (err, errno ? errno : EIO, "write '%s'", dst_name);
        }
      if (n < 0)
        return err_set (err, errno, "copy '%s'", src_name);
      if (n == 0)
        break; /* it shrank meanwhile */
      left -= n;
    }
  return finish_fd (out, st, o, dst_name, err);
}

static int
copy_dir (int src_dir, const char *src_name, const struct stat *st, int dst_dir,
          const char *dst_name, const struct treecopy_opts *o, struct err **err)
{
  _cleanup_close_ int in = -1, out = -1;
  bool is_dir;
  in = openat (src_dir, src_name,
               O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
  if (in < 0)
    return err_set (err, errno, "open '%s'", src_name);
  if (clear_slot (dst_dir, dst_name, &is_dir, err) < 0)
    return -1;
  if (!is_dir && mkdirat (dst_dir, dst_name, 0700) < 0)
    return err_set (err, errno, "create directory '%s'", dst_name);
  out = openat (dst_dir, dst_name,
                O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
  if (out < 0)
    return err_set (err, errno, "open '%s'", dst_name);
  if (treecopy_contents (in, out, o, err) < 0)
    return -1;
  return finish_fd (out, st, o, dst_name, err);
}

static int
copy_other (int src_dir, const char *src_name, const struct stat *st,
            int dst_dir, const char *dst_name, const struct treecopy_opts *o,
            struct err **err)
{
  struct timespec ts[2] = { st->st_atim, st->st_mtim };
  bool is_dir;
  if (S_ISSOCK (st->st_mode))
    return 0;
  if (clear_slot (dst_dir, dst_name, &is_dir, err) < 0)
    return -1;
  if (is_dir)
    return err_set (err, EISDIR, "cannot overwrite directory '%s'", dst_name);
  if (S_ISLNK (st->st_mode))
    {
      char target[4097];
      ssize_t n = readlinkat (src_dir, src_name, target, sizeof target - 1);
      if (n < 0)
        return err_set (err, errno, "read link '%s'", src_name);
      target[n] = '\0';
      if (symlinkat (target, dst_dir, dst_name) < 0)
        return err_set (err, errno, "create link '%s'", dst_name);
    }
  else if (mknodat (dst_dir, dst_name, st->st_mode & (S_IFMT | 07777),
                    st->st_rdev)
           < 0)
    return err_set (err, errno, "create '%s'", dst_name);
  if (o->owner != TREECOPY_OWNER_CALLER)
    {
      uid_t u;
      gid_t g;
      owner_of (st, o, &u, &g);
      if (fchownat (dst_dir, dst_name, u, g, AT_SYMLINK_NOFOLLOW) < 0)
        return err_set (err, errno, "chown '%s'", dst_name);
    }
  if (!S_ISLNK (st->st_mode))
    (void)!fchmodat (dst_dir, dst_name, st->st_mode & 07777, 0);
  utimensat (dst_dir, dst_name, ts, AT_SYMLINK_NOFOLLOW);
  return 0;
}

static int
copy_entry (int src_dir, const char *src_name, const struct stat *st,
            int dst_dir, const char *dst_name, const struct treecopy_opts *o,
            struct err **err)
{
  if (S_ISREG (st->st_mode))
    return copy_file (src_dir, src_name, st, dst_dir, dst_name, o, err);
  if (S_ISDIR (st->st_mode))
    return copy_dir (src_dir, src_name, st, dst_dir, dst_name, o, err);
  return copy_other (src_dir, src_name, st, dst_dir, dst_name, o, err);
}

int
treecopy_contents (int src_fd, int dst_fd, const struct treecopy_opts *o,
                   struct err **err)
{
  int dfd = fcntl (src_fd, F_DUPFD_CLOEXEC, 0);
  DIR *d = dfd >= 0 ? fdopendir (dfd) : NULL;
  struct dirent *de;
  int r = 0;
  if (!d)
    {
      if (dfd >= 0)
        close (dfd);
      return err_set (err, errno, "read directory");
    }
  rewinddir (d);
  while (r == 0 && (errno = 0, de = readdir (d)))
    {
      struct stat st;
      if (!strcmp (de->d_name, ".") || !strcmp (de->d_name, ".."))
        continue;
      if (fstatat (src_fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        r = err_set (err, errno, "stat '%s'", de->d_name);
      else
        r = copy_entry (src_fd, de->d_name, &st, dst_fd, de->d_name, o, err);
    }
  if (r == 0 && errno)
    r = err_set (err, errno, "read directory");
  closedir (d);
  return r;
}

int
treecopy (int src_dir, const char *src_name, int dst_dir, const char *dst_name,
          const struct treecopy_opts *o, struct err **err)
{
  struct stat st;
  if (fstatat (src_dir, src_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return err_set (err, errno, "stat '%s'", src_name);
  return copy_entry (src_dir, src_name, &st, dst_dir, dst_name, o, err);
}
