/* Overlay mounts of many layers (see overlay.h). mount(2) cuts its option
 * string at one page, which 64-hex snapshot paths fill at ~50 layers; the
 * new mount API takes each lower dir in its own fsconfig() call. */
#include "layers/overlay.h"
#include "lib/err.h"
#include "lib/strbuf.h"
#include "lib/userns.h"
#include "lib/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

/* The kernel's own messages for a failed fsconfig (e.g. "overlayfs:
 * failed to resolve 'x'"), for the error text. */
static void
fs_log (int fsfd, char *buf, size_t len)
{
  ssize_t n;
  buf[0] = '\0';
  while ((n = read (fsfd, buf, len - 1)) > 0)
    {
      buf[n] = '\0';
      if (buf[n - 1] == '\n')
        buf[n - 1] = '\0';
    }
}

/* 0 mounted, -1 error, 1 the kernel lacks what this needs (fall back). */
static int
mount_new_api (char *const *lowers, const char *upper, const char *work,
               const char *target, unsigned flags, struct err **err)
{
  char msg[512];
  bool userns = userns_active ();
  _cleanup_close_ int fsfd = fsopen ("overlay", FSOPEN_CLOEXEC);
  _cleanup_close_ int mfd = -1;
  if (fsfd < 0)
    return errno == ENOSYS ? 1 : err_set (err, errno, "fsopen overlay");
  fsconfig (fsfd, FSCONFIG_SET_STRING, "source", "imgtool", 0);
  for (size_t i = 0; lowers[i]; i++)
    if (fsconfig (fsfd, FSCONFIG_SET_STRING, "lowerdir+", lowers[i], 0) < 0)
      {
        int e = errno;
        fs_log (fsfd, msg, sizeof msg);
        if (i == 0 && e == EINVAL && strstr (msg, "lowerdir+"))
          return 1; /* Linux < 6.8 */
        return err_set (err, e, "overlay lower dir '%s'%s%s", lowers[i],
                        *msg ? ": " : "", msg);
      }
  if (upper
      && (fsconfig (fsfd, FSCONFIG_SET_STRING, "upperdir", upper, 0) < 0
          || fsconfig (fsfd, FSCONFIG_SET_STRING, "workdir", work, 0) < 0))
    {
      int e = errno;
      fs_log (fsfd, msg, sizeof msg);
      return err_set (err, e, "overlay upper dir '%s'%s%s", upper,
                      *msg ? ": " : "", msg);
    }
  /* why: a plain upper dir (no redirects, no metadata-only copy-ups) is
   * what the builder diffs, and no index ties snapshots to one mount;
   * older kernels without these knobs have them off anyway */
  /* why: in a user namespace trusted.* cannot be set; the layers carry
   * user.overlay.* instead (Linux >= 5.11), and userxattr wants redirects
   * "nofollow" (none made, none followed), not "off" */
  if (userns && fsconfig (fsfd, FSCONFIG_SET_FLAG, "userxattr", NULL, 0) < 0)
    return err_set (err, errno,
                    "overlay: no userxattr (rootless needs Linux >= 5.11)");
  fsconfig (fsfd, FSCONFIG_SET_STRING, "redirect_dir",
            userns ? "nofollow" : "off", 0);
  fsconfig (fsfd, FSCONFIG_SET_STRING, "index", "off", 0);
  fsconfig (fsfd, FSCONFIG_SET_STRING, "metacopy", "off", 0);
  if (upper && (flags & LAYER_OVERLAY_VOLATILE))
    fsconfig (fsfd, FSCONFIG_SET_FLAG, "volatile", NULL, 0);
  fs_log (fsfd, msg, sizeof msg); /* drop warnings of ignored knobs */
  if (fsconfig (fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
    {
      int e = errno;
      fs_log (fsfd, msg, sizeof msg);
      return err_set (err, e, "create overlay%s%s", *msg ? ": " : "", msg);
    }
  mfd = fsmount (fsfd, FSMOUNT_CLOEXEC,
                 (flags & LAYER_OVERLAY_RDONLY) ? MOUNT_ATTR_RDONLY : 0);
  if (mfd < 0)
    return err_set (err, errno, "fsmount overlay");
  if (move_mount (mfd, "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH) < 0)
    return err_set (err, errno, "mount overlay on '%s'", target);
  return 0;
}

/* mount(2) with each lower dir as /proc/self/fd/N (~17 bytes a layer). */
static int
mount_legacy (char *const *lowers, const char *upper, const char *work,
              const char *target, unsigned flags, struct err **err)
{
  size_t n = strv_len (lowers);
  _cleanup_free_ int *fds = xcalloc (n ? n : 1, sizeof (int));
  _cleanup_strbuf_ struct strbuf opt = STRBUF_INIT;
  int rc = -1;
  size_t opened = 0, base;
  strbuf_addstr (&opt, "lowerdir=");
  for (; opened < n; opened++)
    {
      fds[opened] = open (lowers[opened], O_PATH | O_DIRECTORY | O_CLOEXEC);
      if (fds[opened] < 0)
        {
          err_set (err, errno, "overlay lower dir '%s'", lowers[opened]);
          goto out;
        }
      strbuf_addf (&opt, "%s/proc/self/fd/%d", opened ? ":" : "", fds[opened]);
    }
  if (upper)
    {
      if (strpbrk (upper, ",:") || strpbrk (work, ",:"))
        {
          err_set (err, 0, "overlay dir '%s' has ',' or ':' in its path",
                   upper);
          goto out;
        }
      strbuf_addf (&opt, ",upperdir=%s,workdir=%s", upper, work);
    }
  if (userns_active ())
    strbuf_addstr (&opt, ",userxattr");
  base = opt.len;
  if (upper && (flags & LAYER_OVERLAY_VOLATILE))
    strbuf_addstr (&opt, ",volatile");
  if (opt.len >= (size_t)sysconf (_SC_PAGESIZE))
    strbuf_setlen (&opt, base); /* it only saves syncs */
  if (opt.len >= (size_t)sysconf (_SC_PAGESIZE))
    {
      err_set (err, 0,
               "too many layers (%zu) for this kernel's overlay "
               "(Linux >= 6.8 has no such limit)",
               n);
      goto out;
    }
  {
    unsigned long mflags = (flags & LAYER_OVERLAY_RDONLY) ? MS_RDONLY : 0;
    rc = mount ("imgtool", target, "overlay", mflags, opt.buf);
    if (rc < 0 && errno == EINVAL && opt.len > base)
      {
        /* Linux < 5.10 has no "volatile": it only saved syncs */
        strbuf_setlen (&opt, base);
        rc = mount ("imgtool", target, "overlay", mflags, opt.buf);
      }
    if (rc < 0)
      err_set (err, errno, "mount overlay on '%s'", target);
  }
out:
  for (size_t i = 0; i < opened; i++)
    close (fds[i]);
  return rc;
}

/* overlayfs wants two lower dirs when it has no upper: one layer alone is
 * bind-mounted read-only instead. */
static int
bind_readonly (const char *dir, const char *target, struct err **err)
{
  struct mount_attr attr = { .attr_set = MOUNT_ATTR_RDONLY };
  _cleanup_close_ int fd
      = open_tree (AT_FDCWD, dir, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
  if (fd < 0)
    return err_set (err, errno, "bind '%s'", dir);
  if (mount_setattr (fd, "", AT_EMPTY_PATH, &attr, sizeof attr) < 0)
    return err_set (err, errno, "make '%s' read-only", dir);
  if (move_mount (fd, "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH) < 0)
    return err_set (err, errno, "mount '%s' on '%s'", dir, target);
  return 0;
}

int
layer_overlay_mount (char *const *lower_dirs, const char *upper,
                     const char *work, const char *target, unsigned flags,
                     struct err **err)
{
  int rc;
  if (!lower_dirs || !lower_dirs[0])
    return err_set (err, 0, "overlay needs at least one lower dir");
  if (!upper != !work)
    return err_set (err, 0, "overlay needs both an upper and a work dir");
  if (!upper && !lower_dirs[1])
    return bind_readonly (lower_dirs[0], target, err);
  rc = mount_new_api (lower_dirs, upper, work, target, flags, err);
  if (rc == 1)
    rc = mount_legacy (lower_dirs, upper, work, target, flags, err);
  return rc;
}
