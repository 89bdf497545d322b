#include "lib/fs.h"
#include "lib/err.h"
#include "lib/rundir.h"
#include "lib/xalloc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

int
fs_write_all (int fd, const void *buf, size_t len)
{
  const char *p = buf;
  while (len)
    {
      ssize_t n = write (fd, p, len);
      if (n < 0)
        {
          if (errno == EINTR)
            continue;
          return -1;
        }
      p += n;
      len -= (size_t)n;
    }
  return 0;
}

ssize_t
fs_read_full (int fd, void *buf, size_t len)
{
  size_t got = 0;
  while (got < len)
    {
      ssize_t n = read (fd, (char *)buf + got, len - got);
      if (n < 0)
        {
          if (errno == EINTR)
            continue;
          return -1;
        }
      if (n == 0)
        break;
      got += (size_t)n;
    }
  return (ssize_t)got;
}

int
fs_send_fd (int sock, const void *buf, size_t len, int fd)
{
  union
  {
    char buf[CMSG_SPACE (sizeof (int))];
    struct cmsghdr align;
  } ctl;
  struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
  struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
  ssize_t n;
  if (fd >= 0)
    {
      struct cmsghdr *c;
      memset (&ctl, 0, sizeof ctl);
      msg.msg_control = ctl.buf;
      msg.msg_controllen = sizeof ctl.buf;
      c = CMSG_FIRSTHDR (&msg);
      c->cmsg_level = SOL_SOCKET;
      c->cmsg_type = SCM_RIGHTS;
      c->cmsg_len = CMSG_LEN (sizeof (int));
      memcpy (CMSG_DATA (c), &fd, sizeof fd);
    }
  do
    n = sendmsg (sock, &msg, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    return -1;
  if ((size_t)n != len)
    {
      errno = EMSGSIZE;
      return -1;
    }
  return 0;
}

ssize_t
fs_recv_fd (int sock, void *buf, size_t len, int *fd)
{
  union
  {
    char buf[CMSG_SPACE (sizeof (int))];
    struct cmsghdr align;
  } ctl;
  struct iovec iov = { .iov_base = buf, .iov_len = len };
  struct msghdr msg = { .msg_iov = &iov,
                        .msg_iovlen = 1,
                        .msg_control = ctl.buf,
                        .msg_controllen = sizeof ctl.buf };
  ssize_t n;
  *fd = -1;
  do
    n = recvmsg (sock, &msg, MSG_CMSG_CLOEXEC);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    return -1;
  for (struct cmsghdr *c = CMSG_FIRSTHDR (&msg); c; c = CMSG_NXTHDR (&msg, c))
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS
        && c->cmsg_len == CMSG_LEN (sizeof (int)))
      memcpy (fd, CMSG_DATA (c), sizeof *fd);
  return n;
}

int
fs_read_fd (int fd, size_t max, char **out, size_t *len, struct err **err)
{
  _cleanup_free_ char *buf = NULL;
  size_t used = 0, alloc = 0;
  for (;;)
    {
      ssize_t n;
      buf = xgrow (buf, &alloc, used + 65536 + 1, 1);
      n = read (fd, buf + used, alloc - used - 1);
      if (n < 0)
        {
          if (errno == EINTR)
            continue;
          return err_set (err, errno, "read");
        }
      if (n == 0)
        break;
      used += (size_t)n;
      if (used > max)
        return err_set (err, EFBIG, "read");
    }
  buf[used] = '\0';
  if (len)
    *len = used;
  *out = steal_pointer (&buf);
  return 0;
}

int
fs_read_file (int dirfd, const char *path, size_t max, char **out, size_t *len,
              struct err **err)
{
  _cleanup_close_ int fd = openat (dirfd, path, O_RDONLY | O_CLOEXEC);
  struct err *e = NULL;
  if (fd < 0)
    return err_set (err, errno, "open '%s'", path);
  if (fs_read_fd (fd, max, out, len, &e) < 0)
    {
      err_set (err, e->errnum, "read '%s'", path);
      err_free (e);
      return -1;
    }
  return 0;
}

int
fs_fsync_dir (int dirfd, const char *path, struct err **err)
{
  _cleanup_free_ char *dir = xstrdup (path);
  char *slash = strrchr (dir, '/');
  const char *d = ".";
  _cleanup_close_ int fd = -1;
  if (slash)
    {
      *slash = '\0';
      d = slash == dir ? "/" : dir;
    }
  fd = openat (dirfd, d, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0 || fsync (fd) < 0)
    return err_set (err, errno, "sync directory of '%s'", path);
  return 0;
}

static int
write_replace (int dirfd, const char *path, const void *data, size_t len,
               mode_t mode, bool durable, struct err **err)
{
  _cleanup_free_ char *tmp = NULL;
  _cleanup_close_ int fd = -1;
  static unsigned counter;
  tmp = xasprintf ("%s.tmp-%d-%u", path, (int)getpid (),
                   __atomic_add_fetch (&counter, 1, __ATOMIC_RELAXED));
  fd = openat (dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0)
    return err_set (err, errno, "create '%s'", tmp);
  if (fs_write_all (fd, data, len) < 0 || (durable && fsync (fd) < 0))
    {
      err_set (err, errno, "write '%s'", tmp);
      unlinkat (dirfd, tmp, 0);
      return -1;
    }
  if (renameat (dirfd, tmp, dirfd, path) < 0)
    {
      err_set (err, errno, "rename '%s'", tmp);
      unlinkat (dirfd, tmp, 0);
      return -1;
    }
  return durable ? fs_fsync_dir (dirfd, path, err) : 0;
}

int
fs_write_file_atomic (int dirfd, const char *path, const void *data, size_t len,
                      mode_t mode, struct err **err)
{
  return write_replace (dirfd, path, data, len, mode, true, err);
}

int
fs_write_file_replace (int dirfd, const char *path, const void *data,
                       size_t len, mode_t mode, struct err **err)
{
  return write_replace (dirfd, path, data, len, mode, false, err);
}

int
fs_mkdir_p (int dirfd, const char *path, mode_t mode, struct err **err)
{
  _cleanup_free_ char *p = xstrdup (path);
  for (char *s = p + (*p == '/');; s++)
    {
      char c = *s;
      if (c != '/' && c != '\0')
        continue;
      *s = '\0';
      if (*p && mkdirat (dirfd, p, mode) < 0 && errno != EEXIST)
        return err_set (err, errno, "create directory '%s'", p);
      if (c == '\0')
        break;
      *s = '/';
    }
  return 0;
}

/* Remove dirfd/name; type is its d_type from readdir (DT_UNKNOWN when not
 * known): a name known not to be a directory is unlinked without a stat,
 * a directory is read with getdents64 on its own fd (no DIR: no fstat and
 * fcntls per directory). A container's record, removed at every `run
 * --rm`, costs a third of the system calls it did. */
static int
rm_rf_at (int dirfd, const char *name, unsigned char type, dev_t dev,
          struct err **err)
{
  struct stat st;
  _cleanup_close_ int fd = -1;
  _cleanup_free_ char *buf = NULL; /* not on the stack: trees can be deep */
  const size_t bufsz = 8192;
  long n;
  if (type != DT_DIR && type != DT_UNKNOWN)
    {
      if (unlinkat (dirfd, name, 0) == 0 || errno == ENOENT)
        return 0;
      if (errno != EISDIR && errno != EPERM)
        return err_set (err, errno, "remove '%s'", name);
      /* replaced by a directory meanwhile: go on as for one */
    }
  fd = openat (dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    {
      if (errno == ENOENT)
        return 0;
      if (errno != ENOTDIR && errno != ELOOP)
        return err_set (err, errno, "open '%s'", name);
      /* not a directory (ELOOP: a symlink) */
      if (unlinkat (dirfd, name, 0) < 0 && errno != ENOENT)
        return err_set (err, errno, "remove '%s'", name);
      return 0;
    }
  if (fstat (fd, &st) < 0)
    return err_set (err, errno, "stat '%s'", name);
  if (st.st_dev != dev)
    return err_set (err, EBUSY, "remove '%s': a mount is on it", name);
  buf = xmalloc (bufsz);
  while ((n = syscall (SYS_getdents64, fd, buf, bufsz)) > 0)
    for (long off = 0; off < n;)
      {
        struct dirent64 *de = (struct dirent64 *)(buf + off);
        off += de->d_reclen;
        if (!strcmp (de->d_name, ".") || !strcmp (de->d_name, ".."))
          continue;
        if (rm_rf_at (fd, de->d_name, de->d_type, dev, err) < 0)
          return err_wrap (err, "%s", name);
      }
  if (n < 0)
    return err_set (err, errno, "read directory '%s'", name);
  if (unlinkat (dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
    return err_set (err, errno, "remove '%s'", name);
  return 0;
}

int
fs_rm_rf (int dirfd, const char *path, struct err **err)
{
  struct stat st;
  if (fstatat (dirfd, path, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return errno == ENOENT ? 0 : err_set (err, errno, "stat '%s'", path);
  return rm_rf_at (dirfd, path, DT_UNKNOWN, st.st_dev, err);
}

int
fs_lock (int dirfd, const char *path, int op, struct err **err)
{
  /* a rootless user's locks are in its runtime directory */
  int fd = rundir_open (dirfd, path, O_RDWR | O_CREAT | O_CLOEXEC, 0600, err);
  if (fd < 0)
    return -1;
  while (flock (fd, op) < 0)
    {
      if (errno == EINTR)
        continue;
      err_set (err, errno, "lock '%s'", path);
      close (fd);
      return -1;
    }
  return fd;
}

int
fs_lock_stable (int dirfd, const char *path, int op, struct err **err)
{
  for (;;)
    {
      struct stat a, b;
      int fd = openat (dirfd, path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
      if (fd < 0)
        return err_set (err, errno, "open lock '%s'", path);
      while (flock (fd, op) < 0)
        {
          int e = errno;
          if (e == EINTR)
            continue;
          close (fd);
          if (e == EWOULDBLOCK && (op & LOCK_NB))
            return -2;
          return err_set (err, e, "lock '%s'", path);
        }
      if (fstat (fd, &a) == 0
          && fstatat (dirfd, path, &b, AT_SYMLINK_NOFOLLOW) == 0
          && a.st_ino == b.st_ino && a.st_dev == b.st_dev)
        return fd;
      close (fd); /* unlinked or renamed while we waited: lock the new one */
    }
}

int
fs_open_dir (int dirfd, const char *path, struct err **err)
{
  int fd = openat (dirfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return err_set (err, errno, "open directory '%s'", path);
  return fd;
}

int
fs_dir_each (int at, const char *path,
             int (*fn) (void *ctx, int dirfd, const char *name,
                        struct err **err),
             void *ctx, struct err **err)
{
  int fd = openat (at, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  _cleanup_closedir_ DIR *d = fd >= 0 ? fdopendir (fd) : NULL;
  struct dirent *e;
  int r;
  if (!d)
    {
      if (fd >= 0)
        close (fd);
      return err_set (err, errno, "read directory '%s'", path);
    }
  while ((e = readdir (d)))
    if (strcmp (e->d_name, ".") && strcmp (e->d_name, "..")
        && (r = fn (ctx, dirfd (d), e->d_name, err)) != 0)
      return r;
  return 0;
}

int
fs_open_in_root (int root_fd, const char *path, int flags, mode_t mode)
{
  struct open_how how = {
    .flags = (uint64_t)(flags | O_CLOEXEC),
    .mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0,
    /* why: a path from an image must resolve inside its root, and
     * /proc magic links could jump anywhere */
    .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
  };
  for (int tries = 0;; tries++)
    {
      long fd = syscall (SYS_openat2, root_fd, *path ? path : ".", &how,
                         sizeof how);
      /* EAGAIN: a concurrent rename made the kernel give up; try again */
      if (fd >= 0 || errno != EAGAIN || tries > 16)
        return (int)fd;
    }
}

int
fs_read_each (int fd,
              int (*sink) (void *ctx, const void *buf, size_t len,
                           struct err **err),
              void *ctx, size_t *total, struct err **err)
{
  _cleanup_free_ char *buf = xmalloc (1u << 20);
  size_t sum = 0;
  int ret = 0;
  for (;;)
    {
      ssize_t n = read (fd, buf, 1u << 20);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          ret = err_set (err, errno, "read");
          break;
        }
      if (n == 0)
        break;
      sum += (size_t)n;
      if (sink (ctx, buf, (size_t)n, err) < 0)
        {
          ret = -1;
          break;
        }
    }
  if (total)
    *total = sum;
  return ret;
}

int
fs_output_open (struct fs_output *o, const char *path, struct err **err)
{
  struct stat st;
  *o = (struct fs_output){ .path = path, .fd = -1 };
  if (lstat (path, &st) == 0 && !S_ISREG (st.st_mode))
    {
      o->fd = open (path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
      if (o->fd < 0)
        return err_set (err, errno, "open '%s'", path);
      return 0;
    }
  o->tmp = xasprintf ("%s.tmp-XXXXXX", path);
  if ((o->fd = mkostemp (o->tmp, O_CLOEXEC)) < 0)
    {
      err_set (err, errno, "create '%s'", o->tmp);
      free (steal_pointer (&o->tmp));
      return -1;
    }
  mode_t mask = umask (0);
  umask (mask);
  fchmod (o->fd, 0666 & ~mask); /* as open(O_CREAT) would make it */
  return 0;
}

int
fs_output_commit (struct fs_output *o, struct err **err)
{
  if (o->tmp && rename (o->tmp, o->path) < 0)
    return err_set (err, errno, "write '%s'", o->path);
  free (steal_pointer (&o->tmp));
  return 0;
}

void
fs_output_abort (struct fs_output *o)
{
  if (o->tmp)
    unlink (o->tmp);
  free (steal_pointer (&o->tmp));
  if (o->fd >= 0)
    close (o->fd);
  o->fd = -1;
}
