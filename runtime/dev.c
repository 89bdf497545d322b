/* /dev in the container: a small tmpfs with the six standard nodes, the
 * usual links, a private devpts (ptmx -> pts/ptmx), shm and mqueue; and,
 * with a terminal, a pty of that devpts bound on /dev/console. */
#include "runtime/child.h"
#include "runtime/console.h"
#include "lib/err.h"
#include "lib/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <linux/magic.h>
#include <linux/openat2.h>

#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO ('T', 0x41)
#endif

static const struct
{
  const char *name;
  unsigned maj, min;
} nodes[] = {
  { "null", 1, 3 },    { "zero", 1, 5 },    { "full", 1, 7 },
  { "random", 1, 8 },  { "urandom", 1, 9 }, { "tty", 5, 0 },
};

static const struct
{
  const char *name, *target;
} links[] = {
  { "fd", "/proc/self/fd" },        { "stdin", "/proc/self/fd/0" },
  { "stdout", "/proc/self/fd/1" },  { "stderr", "/proc/self/fd/2" },
  { "ptmx", "pts/ptmx" },
};

/* The node by mknod; in a user namespace (EPERM) bind the host's. */
static int
make_node (int devfd, const char *name, unsigned maj, unsigned min,
           struct err **err)
{
  _cleanup_free_ char *host = NULL;
  _cleanup_close_ int fd = -1;
  char p[32];
  if (mknodat (devfd, name, S_IFCHR | 0666, makedev (maj, min)) == 0)
    return 0;
  if (errno != EPERM)
    return err_set (err, errno, "create '/dev/%s'", name);
  fd = openat (devfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
  if (fd < 0)
    return err_set (err, errno, "create '/dev/%s'", name);
  host = xasprintf ("/dev/%s", name);
  if (mount (host, rt_fd_path (fd, p), NULL, MS_BIND, NULL) < 0)
    return err_set (err, errno, "bind '/dev/%s'", name);
  return 0;
}

/* A new pty of the devpts instance at rootfd's /dev/pts. why: its ptmx
 * must be the real one, not a file or device the image (or, for exec, the
 * running container) put there, and the slave comes from TIOCGPTPEER on
 * the master, so no path in a /dev/pts someone else controls is looked up
 * (runc 531ef794e, CVE-2025-52565). */
int
rt_pty_open_in (int rootfd, struct rt_pty *pty, struct err **err)
{
  struct open_how how = {
    .flags = O_RDWR | O_NOCTTY | O_CLOEXEC,
    .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
  };
  struct stat st;
  struct statfs sf;
  int unlock = 0;
  pty->master = pty->slave = -1;
  pty->master = (int) syscall (SYS_openat2, rootfd, "/dev/pts/ptmx", &how,
                               sizeof how);
  if (pty->master < 0)
    return err_set (err, errno, "open '/dev/pts/ptmx' in the container");
  if (fstat (pty->master, &st) < 0 || fstatfs (pty->master, &sf) < 0
      || !S_ISCHR (st.st_mode) || st.st_rdev != makedev (5, 2)
      || sf.f_type != DEVPTS_SUPER_MAGIC)
    {
      err_set (err, 0, "'/dev/pts/ptmx' in the container is not a devpts "
                       "pty multiplexer");
      goto fail;
    }
  if (ioctl (pty->master, TIOCSPTLCK, &unlock) < 0)
    {
      err_set (err, errno, "unlock the pty");
      goto fail;
    }
  pty->slave = ioctl (pty->master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (pty->slave < 0)
    {
      err_set (err, errno, "open the pty's peer");
      goto fail;
    }
  return 0;
fail:
  rt_pty_close (pty);
  return -1;
}

int
rt_dev_setup (int rootfd, struct rt_pty *pty, struct err **err)
{
  _cleanup_close_ int dev = -1, devfd = -1;
  char p[32];
  if (rt_ensure_dir (rootfd, "dev", err) < 0)
    return -1;
  dev = openat (rootfd, "dev", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (dev < 0)
    return err_set (err, errno, "open '/dev' in the container");
  /* why: noexec as podman's, nothing in /dev is a program */
  if (mount ("tmpfs", rt_fd_path (dev, p), "tmpfs",
             MS_NOSUID | MS_NOEXEC | MS_STRICTATIME, "mode=755,size=65536k")
      < 0)
    return err_set (err, errno, "mount tmpfs on '/dev'");
  devfd = openat (rootfd, "dev", O_RDONLY | O_DIRECTORY | O_NOFOLLOW
                                     | O_CLOEXEC);
  if (devfd < 0)
    return err_set (err, errno, "open '/dev' in the container");
  for (size_t i = 0; i < ARRAY_SIZE (nodes); i++)
    if (make_node (devfd, nodes[i].name, nodes[i].maj, nodes[i].min, err) < 0)
      return -1;
  for (size_t i = 0; i < ARRAY_SIZE (links); i++)
    if (symlinkat (links[i].target, devfd, links[i].name) < 0)
      return err_set (err, errno, "create '/dev/%s'", links[i].name);
  /* newinstance: the container's ptys are not the host's */
  if (rt_mount_at (devfd, "/dev", "pts", "devpts", MS_NOSUID | MS_NOEXEC,
                   "newinstance,ptmxmode=0666,mode=0620,gid=5", err)
          < 0
      || rt_mount_at (devfd, "/dev", "shm", "tmpfs",
                      MS_NOSUID | MS_NODEV | MS_NOEXEC,
                      "mode=1777,size=65536k", err)
             < 0
      || rt_mount_at (devfd, "/dev", "mqueue", "mqueue",
                      MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL, err)
             < 0)
    return -1;
  if (pty)
    {
      char t[32];
      _cleanup_close_ int c = -1;
      /* the pty lives in the devpts just mounted: a slave opened in
       * another mount namespace cannot be bound here (EINVAL) */
      if (rt_pty_open_in (rootfd, pty, err) < 0)
        return -1;
      c = openat (devfd, "console", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
                  0620);
      if (c < 0)
        return err_set (err, errno, "create '/dev/console'");
      if (mount (rt_fd_path (pty->slave, t), rt_fd_path (c, p), NULL, MS_BIND,
                 NULL)
          < 0)
        return err_set (err, errno, "bind the terminal on '/dev/console'");
    }
  return 0;
}
