/* The container's root: the plan's overlay stack mounted in the child's
 * private mount namespace, then pivot_root into it with the old root
 * detached. */
#include "layers/overlay.h"
#include "layers/ovl.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/xalloc.h"
#include "runtime/child.h"
#include "runtime/plan.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

static bool
dir_empty (int fd)
{
  int dup = fcntl (fd, F_DUPFD_CLOEXEC, 3);
  DIR *d = dup >= 0 ? fdopendir (dup) : NULL;
  struct dirent *de;
  bool empty = true;
  if (!d)
    {
      if (dup >= 0)
        close (dup);
      return false;
    }
  while (empty && (de = readdir (d)))
    empty = !strcmp (de->d_name, ".") || !strcmp (de->d_name, "..");
  closedir (d);
  return empty;
}

/* The mount points every root needs (/dev, /proc, /sys, and the files of
 * /etc that the runtime binds its own over), made in a fresh upper dir
 * before the overlay is mounted. A mkdir or create on the host is one
 * journal operation; through overlayfs each is a copy-up (work dir,
 * xattrs, rename), 0.5-1.5 ms apiece on a busy disk, about 5 ms of the
 * container's setup. What the container sees is what rt_mounts_setup
 * would make through the overlay: an upper directory hides a lower
 * non-directory (rt_ensure_dir replaces an image's symlinked /proc too),
 * an upper file hides what the image has at /etc/hosts (bind_etc_file
 * replaces it too). /etc is seeded only when the image's /etc is a real
 * directory, so a symlinked /etc still resolves inside the image as
 * before; the builder drops these again from a RUN step's upper
 * (builder/run.c). Only an empty upper is seeded (a restarted container's
 * upper holds what its process wrote), and nothing is followed. Best
 * effort: what is left out, the mounts code makes as before. */
static void
seed_upper (char *const *lowers, const char *upper)
{
  static const char *const dirs[] = { "dev", "proc", "sys" };
  static const char *const etc_files[] = { "hostname", "hosts", "resolv.conf" };
  _cleanup_close_ int up
      = open (upper, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  _cleanup_close_ int etc = -1;
  struct stat st;
  if (up < 0 || !dir_empty (up))
    return;
  for (size_t i = 0; i < ARRAY_SIZE (dirs); i++)
    mkdirat (up, dirs[i], 0755);
  if (ovl_lower_kind (lowers, "etc", &st) != 'd'
      || mkdirat (up, "etc", 0755) < 0)
    return;
  /* as a copy-up would: the image's owner and mode */
  etc = openat (up, "etc", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (etc < 0)
    return;
  if (fchown (etc, st.st_uid, st.st_gid) < 0
      || fchmod (etc, st.st_mode & 07777) < 0)
    {
      /* an /etc the image did not have this way: let the overlay make it */
      unlinkat (up, "etc", AT_REMOVEDIR);
      return;
    }
  for (size_t i = 0; i < ARRAY_SIZE (etc_files); i++)
    {
      int fd
          = openat (etc, etc_files[i],
                    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
      if (fd >= 0)
        close (fd);
    }
}

/* What seed_upper (or the mounts code, through the overlay) made in an
 * upper dir as mount points, and nothing of the container's own: an
 * empty regular file etc/hostname, etc/hosts or etc/resolv.conf (the
 * bind mount over it took every write), or a plain directory dev, proc,
 * sys or etc that the layers lack and that holds only such entries. */
bool
rt_rootfs_made_by_runtime (void *lower_dirs, int dirfd, const char *name,
                           const char *path, const struct stat *st)
{
  char *const *lowers = lower_dirs;
  static const char *const files[]
      = { "etc/hostname", "etc/hosts", "etc/resolv.conf" };
  static const char *const dirs[] = { "etc", "dev", "proc", "sys" };
  struct stat lst;
  bool listed = false;
  if (S_ISREG (st->st_mode))
    {
      for (size_t i = 0; i < ARRAY_SIZE (files); i++)
        listed |= !strcmp (path, files[i]);
      return listed && st->st_size == 0;
    }
  for (size_t i = 0; i < ARRAY_SIZE (dirs); i++)
    listed |= !strcmp (path, dirs[i]);
  if (!S_ISDIR (st->st_mode) || !listed
      || (lowers && ovl_lower_kind (lowers, path, &lst)))
    return false;
  _cleanup_close_ int fd
      = openat (dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  char v[2];
  if (fd < 0 || fgetxattr (fd, "trusted.overlay.opaque", v, sizeof v) > 0)
    return false;
  int dup = fcntl (fd, F_DUPFD_CLOEXEC, 3);
  DIR *d = dup >= 0 ? fdopendir (dup) : NULL;
  struct dirent *de;
  bool all = d != NULL;
  if (!d && dup >= 0)
    close (dup);
  while (all && (de = readdir (d)))
    {
      struct stat cst;
      if (!strcmp (de->d_name, ".") || !strcmp (de->d_name, ".."))
        continue;
      _cleanup_free_ char *cpath = xasprintf ("%s/%s", path, de->d_name);
      all = fstatat (fd, de->d_name, &cst, AT_SYMLINK_NOFOLLOW) == 0
            && rt_rootfs_made_by_runtime (lower_dirs, fd, de->d_name, cpath,
                                          &cst);
    }
  if (d)
    closedir (d);
  return all;
}

int
rt_rootfs_mount (const struct rt_plan *p, const char *target, struct err **err)
{
  _cleanup_free_ char *upper = NULL, *work = NULL;
  if (!p->lower_dirs || !p->lower_dirs[0])
    return err_set (err, 0, "the plan has no root filesystem layers");
  if (!p->upper_dir || !p->work_dir)
    {
      /* No upper dir given: a tmpfs holds the writable layer, and is
       * covered by the overlay (it lives only in this mount namespace). */
      if (mount ("tmpfs", target, "tmpfs", MS_NOSUID | MS_NODEV, "mode=755")
          < 0)
        return err_set (err, errno, "mount tmpfs on '%s'", target);
      upper = xasprintf ("%s/upper", target);
      work = xasprintf ("%s/work", target);
      if (mkdir (upper, 0755) < 0 || mkdir (work, 0755) < 0)
        return err_set (err, errno, "create the writable layer");
    }
  else
    seed_upper (p->lower_dirs, p->upper_dir);
  /* one lowerdir+ per layer, so 100+ layers mount; redirect_dir and
   * metacopy off, so a RUN step's upper dir holds its whole change for the
   * builder's differ (layers/overlay.h) */
  return layer_overlay_mount (
      p->lower_dirs, upper ? upper : p->upper_dir, work ? work : p->work_dir,
      target, p->volatile_upper ? LAYER_OVERLAY_VOLATILE : 0, err);
}

int
rt_rootfs_pivot (int rootfd, bool readonly, struct err **err)
{
  _cleanup_close_ int oldroot = open ("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (oldroot < 0)
    return err_set (err, errno, "open '/'");
  if (fchdir (rootfd) < 0)
    return err_set (err, errno, "enter the root filesystem");
  /* pivot_root(".", ".") stacks the old root on the new one (runc, LXC);
   * not chroot, which a root process can escape */
  if (syscall (SYS_pivot_root, ".", ".") < 0)
    return err_set (err, errno, "pivot_root");
  if (fchdir (oldroot) < 0)
    return err_set (err, errno, "enter the old root");
  /* the mount namespace is private, so this does not reach the host */
  if (umount2 (".", MNT_DETACH) < 0)
    return err_set (err, errno, "detach the old root");
  if (chdir ("/") < 0)
    return err_set (err, errno, "chdir '/'");
  if (readonly)
    {
      struct mount_attr attr = { .attr_set = MOUNT_ATTR_RDONLY };
      /* only the root mount: /dev, /proc, tmpfs and volumes keep theirs */
      if (mount_setattr (AT_FDCWD, "/", 0, &attr, sizeof attr) < 0)
        return err_set (err, errno, "make the root filesystem read-only");
    }
  return 0;
}
