/* Masked and read-only paths under /proc and /sys: the kernel interfaces
 * that leak host information or let a container change the host, which
 * proc and sysfs do not namespace. */
#include "runtime/child.h"
#include "runtime/security.h"

#include "lib/err.h"
#include "lib/log.h"
#include "lib/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

/* docker's list (moby daemon/pkg/oci/defaults.go), plus /sys/fs/selinux
 * and /sys/dev/block from podman's: stricter than both. */
const char *const rt_masked_paths[] = {
  "/proc/acpi",          /* ACPI tables and events of the host */
  "/proc/asound",        /* host sound devices (podman makes it read-only) */
  "/proc/interrupts",    /* per-CPU interrupt counts: a side channel
                            (GHSA-6fw5-f8r9-fgfm) */
  "/proc/kcore",         /* the host's physical memory as an ELF core */
  "/proc/keys",          /* the keyring is not namespaced */
  "/proc/latency_stats", /* host-wide latency data */
  "/proc/sched_debug",   /* every host task's name and pid */
  "/proc/scsi",          /* host SCSI devices, writable for rescans */
  "/proc/timer_list",    /* host timers, with task names */
  "/proc/timer_stats",   /* same, on older kernels */
  "/sys/devices/virtual/powercap", /* RAPL energy counters: a side channel
                                      (Platypus, GHSA-jq35-85cj-fj4p) */
  "/sys/firmware",   /* host firmware tables (ACPI, EFI variables) */
  "/sys/fs/selinux", /* the host's SELinux policy interface */
  "/sys/dev/block",  /* the host's block devices by number (podman masks
                        it too) */
  NULL,
};

/* docker's list: visible, but a write would change the host. */
const char *const rt_readonly_paths[] = {
  "/proc/bus",           /* PCI/USB config space of host devices */
  "/proc/fs",            /* filesystem tunables (nfsd, ...) */
  "/proc/irq",           /* interrupt affinity of the host */
  "/proc/sys",           /* sysctls, most of them host-wide */
  "/proc/sysrq-trigger", /* writing 'b' reboots the host */
  NULL,
};

char **
rt_masked_paths_all (void)
{
  char **v = strv_dup ((char *const *)rt_masked_paths);
  /* docker masks each CPU's thermal_throttle counters (side channel,
   * GHSA-jq35-85cj-fj4p), those that exist. */
  for (int cpu = 0; cpu < 8192; cpu++)
    {
      char path[96];
      snprintf (path, sizeof path, "/sys/devices/system/cpu/cpu%d", cpu);
      if (access (path, F_OK) < 0)
        break;
      strncat (path, "/thermal_throttle", sizeof path - strlen (path) - 1);
      if (access (path, F_OK) == 0)
        strv_push (&v, xstrdup (path));
    }
  return v;
}

/* Open root/path without following any symlink, staying beneath root. */
static int
open_beneath (int rootfd, const char *path, int flags)
{
  while (*path == '/')
    path++;
  struct open_how how = {
    .flags = (uint64_t)(flags | O_CLOEXEC),
    .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
  };
  return (int)syscall (SYS_openat2, rootfd, path, &how, sizeof how);
}

static int
mask_one (int rootfd, int nullfd, const char *path, struct err **err)
{
  _cleanup_close_ int fd = open_beneath (rootfd, path, O_PATH);
  if (fd < 0)
    {
      if (errno == ENOENT)
        return 0; /* nothing to hide */
      return err_set (err, errno, "mask '%s'", path);
    }
  struct stat st;
  if (fstat (fd, &st) < 0)
    return err_set (err, errno, "mask '%s'", path);
  char target[32], src[32];
  rt_fd_path (fd, target);
  if (S_ISDIR (st.st_mode))
    {
      /* An empty read-only tmpfs that can hold nothing. */
      if (mount ("tmpfs", target, "tmpfs",
                 MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                 "nr_blocks=1,nr_inodes=1,mode=0755")
          < 0)
        return err_set (err, errno, "mask '%s'", path);
      return 0;
    }
  rt_fd_path (nullfd, src);
  if (mount (src, target, NULL, MS_BIND, NULL) < 0)
    return err_set (err, errno, "mask '%s'", path);
  /* read-only as well, as podman's (crun's) masks: reopen to reach the
   * bind just made */
  {
    _cleanup_close_ int top = open_beneath (rootfd, path, O_PATH);
    if (top < 0 || rt_mount_readonly (top, err) < 0)
      return err_set (err, errno, "mask '%s'", path);
  }
  return 0;
}

static int
readonly_one (int rootfd, const char *path, struct err **err)
{
  char target[32];
  {
    _cleanup_close_ int fd = open_beneath (rootfd, path, O_PATH);
    if (fd < 0)
      {
        if (errno == ENOENT)
          return 0;
        return err_set (err, errno, "make '%s' read-only", path);
      }
    rt_fd_path (fd, target);
    if (mount (target, target, NULL, MS_BIND | MS_REC, NULL) < 0)
      return err_set (err, errno, "make '%s' read-only", path);
  }
  /* Reopen to reach the bind mount just made, then remount it read-only
   * keeping the nosuid/nodev/noexec it had (a userns would refuse to drop
   * them). */
  _cleanup_close_ int fd = open_beneath (rootfd, path, O_PATH);
  struct statvfs sv;
  if (fd < 0 || fstatvfs (fd, &sv) < 0)
    return err_set (err, errno, "make '%s' read-only", path);
  unsigned long flags = MS_BIND | MS_REMOUNT | MS_RDONLY;
  if (sv.f_flag & ST_NOSUID)
    flags |= MS_NOSUID;
  if (sv.f_flag & ST_NODEV)
    flags |= MS_NODEV;
  if (sv.f_flag & ST_NOEXEC)
    flags |= MS_NOEXEC;
  rt_fd_path (fd, target);
  if (mount (NULL, target, NULL, flags, NULL) < 0)
    return err_set (err, errno, "make '%s' read-only", path);
  return 0;
}

int
rt_masks_apply (const struct rt_plan *p, int rootfd, struct err **err)
{
  /* --privileged sees the host's /proc and /sys as they are (docker). */
  if (p->privileged)
    return 0;

  /* The image controls /dev until the runtime replaced it; a symlink or
   * another device there would turn a mask into a bind of anything
   * (CVE-2025-31133), so check it is the null device. */
  _cleanup_close_ int nullfd = open_beneath (rootfd, "/dev/null", O_PATH);
  struct stat st;
  if (nullfd < 0 || fstat (nullfd, &st) < 0)
    return err_set (err, errno, "open '/dev/null' for masking");
  if (!S_ISCHR (st.st_mode) || st.st_rdev != makedev (1, 3))
    return err_set (err, 0, "'/dev/null' is not the null device (1:3)");

  _cleanup_strv_ char **masked = rt_masked_paths_all ();
  for (size_t i = 0; masked[i]; i++)
    if (mask_one (rootfd, nullfd, masked[i], err) < 0)
      return -1;
  for (size_t i = 0; rt_readonly_paths[i]; i++)
    if (readonly_one (rootfd, rt_readonly_paths[i], err) < 0)
      return -1;
  log_debug ("masked %zu paths, %zu read-only", strv_len (masked),
             ARRAY_SIZE (rt_readonly_paths) - 1);
  return 0;
}
