/* The container's root: the plan's overlay stack mounted in the child's
 * private mount namespace, then pivot_root into it with the old root
 * detached. */
#include "runtime/child.h"
#include "runtime/plan.h"
#include "layers/overlay.h"
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
  /* one lowerdir+ per layer, so 100+ layers mount; redirect_dir and
   * metacopy off, so a RUN step's upper dir holds its whole change for the
   * builder's differ (layers/overlay.h) */
  return layer_overlay_mount (p->lower_dirs, upper ? upper : p->upper_dir,
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
