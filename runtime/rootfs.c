/* The container's root: the plan's overlay stack mounted in the child's
 * private mount namespace, then pivot_root into it with the old root
 * detached. */
#include "runtime/child.h"
#include "runtime/plan.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Append the kernel's own explanation (the fs context log) to err. */
static int
fs_err (int fsfd, struct err **err, const char *what)
{
  char log[256];
  int saved = errno;
  ssize_t n = read (fsfd, log, sizeof log - 1);
  if (n > 2)
    {
      log[n] = '\0';
      log[strcspn (log, "\n")] = '\0';
      return err_set (err, saved, "%s (%s)", what, log + 2);
    }
  return err_set (err, saved, "%s", what);
}

/* TEMPORARY until branch `layers` lands layer_overlay_mount(): the new
 * mount API with one "lowerdir+" per layer, so the page-sized limit of
 * mount(2)'s option string does not apply (100+ layers mount). */
static int
overlay_mount (char *const *lower, const char *upper, const char *work,
               const char *target, bool readonly, struct err **err)
{
  _cleanup_close_ int fsfd = fsopen ("overlay", FSOPEN_CLOEXEC);
  _cleanup_close_ int mfd = -1;
  if (fsfd < 0)
    return err_set (err, errno, "overlay");
  for (size_t i = 0; lower[i]; i++)
    if (fsconfig (fsfd, FSCONFIG_SET_STRING, "lowerdir+", lower[i], 0) < 0)
      return fs_err (fsfd, err, "overlay lower dir");
  if (upper
      && (fsconfig (fsfd, FSCONFIG_SET_STRING, "upperdir", upper, 0) < 0
          || fsconfig (fsfd, FSCONFIG_SET_STRING, "workdir", work, 0) < 0))
    return fs_err (fsfd, err, "overlay upper dir");
  if (fsconfig (fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
    return fs_err (fsfd, err, "mount overlay");
  mfd = fsmount (fsfd, FSMOUNT_CLOEXEC, readonly ? MOUNT_ATTR_RDONLY : 0);
  if (mfd < 0)
    return err_set (err, errno, "mount overlay");
  if (move_mount (mfd, "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH) < 0)
    return err_set (err, errno, "mount overlay on '%s'", target);
  return 0;
}

int
rt_rootfs_mount (const struct rt_plan *p, const char *target,
                 struct err **err)
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
  return overlay_mount (p->lower_dirs, upper ? upper : p->upper_dir,
                        work ? work : p->work_dir, target, false, err);
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
