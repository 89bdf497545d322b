/* /dev in the container: a small tmpfs with the six standard nodes, the
 * usual links, a private devpts (ptmx -> pts/ptmx), shm and mqueue; and
 * /dev/console bound to the pty slave when there is a terminal. */
#include "runtime/child.h"
#include "lib/err.h"
#include "lib/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

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

static int
mount_at (int devfd, const char *name, const char *type, unsigned long flags,
          const char *data, struct err **err)
{
  char p[32];
  _cleanup_close_ int fd = -1;
  if (mkdirat (devfd, name, 0755) < 0 && errno != EEXIST)
    return err_set (err, errno, "create '/dev/%s'", name);
  fd = openat (devfd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return err_set (err, errno, "open '/dev/%s'", name);
  if (mount (type, rt_fd_path (fd, p), type, flags, data) < 0)
    return err_set (err, errno, "mount %s on '/dev/%s'", type, name);
  return 0;
}

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

int
rt_dev_setup (int rootfd, int tty, struct err **err)
{
  _cleanup_close_ int dev = -1, devfd = -1;
  char p[32];
  if (rt_ensure_dir (rootfd, "dev", err) < 0)
    return -1;
  dev = openat (rootfd, "dev", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (dev < 0)
    return err_set (err, errno, "open '/dev' in the container");
  if (mount ("tmpfs", rt_fd_path (dev, p), "tmpfs",
             MS_NOSUID | MS_STRICTATIME, "mode=755,size=65536k")
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
  if (mount_at (devfd, "pts", "devpts", MS_NOSUID | MS_NOEXEC,
                "newinstance,ptmxmode=0666,mode=0620,gid=5", err)
          < 0
      || mount_at (devfd, "shm", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
                   "mode=1777,size=65536k", err)
             < 0
      || mount_at (devfd, "mqueue", "mqueue",
                   MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL, err)
             < 0)
    return -1;
  if (tty >= 0)
    {
      char t[32];
      _cleanup_close_ int c = openat (devfd, "console",
                                      O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
                                      0620);
      if (c < 0)
        return err_set (err, errno, "create '/dev/console'");
      if (mount (rt_fd_path (tty, t), rt_fd_path (c, p), NULL, MS_BIND, NULL)
          < 0)
        return err_set (err, errno, "bind the terminal on '/dev/console'");
    }
  return 0;
}
