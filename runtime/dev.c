/* /dev in the container: a small tmpfs with the six standard nodes, the
 * usual links, a private devpts (ptmx -> pts/ptmx), shm and mqueue; the
 * host's devices with --privileged and those of --device; and, with a
 * terminal, a pty of that devpts bound on /dev/console. */
#include "lib/err.h"
#include "lib/userns.h"
#include "lib/xalloc.h"
#include "runtime/child.h"
#include "runtime/console.h"
#include "runtime/devices.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO ('T', 0x41)
#endif

static const struct
{
  const char *name;
  unsigned maj, min;
} nodes[] = {
  { "null", 1, 3 },   { "zero", 1, 5 },    { "full", 1, 7 },
  { "random", 1, 8 }, { "urandom", 1, 9 }, { "tty", 5, 0 },
};

static const struct
{
  const char *name, *target;
} links[] = {
  { "fd", "/proc/self/fd" },       { "stdin", "/proc/self/fd/0" },
  { "stdout", "/proc/self/fd/1" }, { "stderr", "/proc/self/fd/2" },
  { "ptmx", "pts/ptmx" },
};

/* The node name in dirfd (shown in errors), of type and permissions
 * mode and number rdev, owned by uid:gid; by mknod, or in a user
 * namespace (EPERM) as a bind of the host's node host. */
static int
make_node (int dirfd, const char *name, const char *shown, const char *host,
           mode_t mode, dev_t rdev, uid_t uid, gid_t gid, struct err **err)
{
  _cleanup_close_ int fd = -1;
  char p[32];
  if (mknodat (dirfd, name, mode, rdev) == 0)
    {
      if ((uid || gid)
          && fchownat (dirfd, name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
        return err_set (err, errno, "chown '%s'", shown);
      return 0;
    }
  if (errno != EPERM)
    return err_set (err, errno, "create '%s'", shown);
  fd = openat (dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
               mode & 07777);
  if (fd < 0)
    return err_set (err, errno, "create '%s'", shown);
  if (mount (host, rt_fd_path (fd, p), NULL, MS_BIND, NULL) < 0)
    return err_set (err, errno, "bind '%s' on '%s'", host, shown);
  return 0;
}

/* d at its path in the container, its parents made; a node already
 * there is replaced (--device) or kept (replace false: the host's
 * devices under --privileged do not replace the standard ones). */
static int
make_device (int rootfd, const struct rt_device *d, bool replace,
             struct err **err)
{
  _cleanup_free_ char *dir = xstrdup (d->path);
  _cleanup_close_ int dfd = -1;
  char *slash = strrchr (dir, '/');
  const char *name = slash + 1;
  struct stat st;
  *slash = '\0';
  dfd = rt_open_in_root (rootfd, *dir ? dir : "/", true, false, err);
  if (dfd < 0)
    return -1;
  if (fstatat (dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
    {
      if (!replace)
        return 0;
      if (unlinkat (dfd, name, 0) < 0)
        return err_set (err, errno, "replace '%s' in the container", d->path);
    }
  return make_node (dfd, name, d->path, d->host,
                    (d->type == 'b' ? S_IFBLK : S_IFCHR) | (d->mode & 07777),
                    makedev (d->major, d->minor), d->uid, d->gid, err);
}

/* docker --privileged: every device node of the host's /dev. */
static int
host_devices (int rootfd, struct err **err)
{
  struct rt_device *devs = NULL;
  size_t n = 0;
  int r = rt_device_walk ("/dev", "/dev", true, RT_DEV_RWM, &devs, &n, err);
  for (size_t i = 0; r == 0 && i < n; i++)
    r = make_device (rootfd, &devs[i], false, err);
  for (size_t i = 0; i < n; i++)
    rt_device_release (&devs[i]);
  free (devs);
  return r;
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
  pty->master
      = (int)syscall (SYS_openat2, rootfd, "/dev/pts/ptmx", &how, sizeof how);
  if (pty->master < 0)
    return err_set (err, errno, "open '/dev/pts/ptmx' in the container");
  if (fstat (pty->master, &st) < 0 || fstatfs (pty->master, &sf) < 0
      || !S_ISCHR (st.st_mode) || st.st_rdev != makedev (5, 2)
      || sf.f_type != DEVPTS_SUPER_MAGIC)
    {
      err_set (err, 0,
               "'/dev/pts/ptmx' in the container is not a devpts "
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
rt_dev_setup (int rootfd, const struct rt_plan *pl, struct rt_pty *pty,
              struct err **err)
{
  _cleanup_close_ int dev = -1, devfd = -1;
  char p[32], shm_opts[64];
  snprintf (shm_opts, sizeof shm_opts, "mode=1777,size=%lldk",
            pl->shm_size > 0 ? (long long)(pl->shm_size + 1023) / 1024
                             : 65536LL);
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
  devfd
      = openat (rootfd, "dev", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (devfd < 0)
    return err_set (err, errno, "open '/dev' in the container");
  for (size_t i = 0; i < ARRAY_SIZE (nodes); i++)
    {
      char path[32]; /* the same in the container and on the host */
      snprintf (path, sizeof path, "/dev/%s", nodes[i].name);
      if (make_node (devfd, nodes[i].name, path, path, S_IFCHR | 0666,
                     makedev (nodes[i].maj, nodes[i].min), 0, 0, err)
          < 0)
        return -1;
    }
  for (size_t i = 0; i < ARRAY_SIZE (links); i++)
    if (symlinkat (links[i].target, devfd, links[i].name) < 0)
      return err_set (err, errno, "create '/dev/%s'", links[i].name);
  /* newinstance: the container's ptys are not the host's */
  /* gid 5 (tty) exists only when the user namespace maps it */
  if (rt_mount_at (devfd, "/dev", "pts", "devpts", MS_NOSUID | MS_NOEXEC,
                   userns_single () ? "newinstance,ptmxmode=0666,mode=0620"
                                    : "newinstance,ptmxmode=0666,mode=0620,"
                                      "gid=5",
                   err)
          < 0
      || rt_mount_at (devfd, "/dev", "shm", "tmpfs",
                      MS_NOSUID | MS_NODEV | MS_NOEXEC, shm_opts, err)
             < 0
      || rt_mount_at (devfd, "/dev", "mqueue", "mqueue",
                      MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL, err)
             < 0)
    return -1;
  if (pl->privileged && host_devices (rootfd, err) < 0)
    return -1;
  for (size_t i = 0; i < pl->n_devices; i++)
    if (make_device (rootfd, &pl->devices[i], true, err) < 0)
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
