/* The container's mount table, built under the new root before pivot:
 * /proc, /sys, the plan's binds and tmpfs, /etc/{hostname,hosts,
 * resolv.conf}, masked and read-only paths. Every target inside the root
 * is resolved with openat2(RESOLVE_IN_ROOT) to an O_PATH fd and mounted
 * on through /proc/self/fd/N, so an image's symlinks stay inside it. */
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/strbuf.h"
#include "lib/userns.h"
#include "lib/xalloc.h"
#include "runtime/cgroup.h"
#include "runtime/child.h"
#include "runtime/plan.h"
#include "runtime/security.h"
#include "runtime/volume.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

const char *
rt_fd_path (int fd, char buf[static 32])
{
  snprintf (buf, 32, "/proc/self/fd/%d", fd);
  return buf;
}

static int
open_in (int rootfd, const char *path)
{
  struct open_how how = {
    .flags = O_PATH | O_CLOEXEC,
    /* why: symlinks in the image resolve inside it, never to the host */
    .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
  };
  return (int)syscall (SYS_openat2, rootfd, path, &how, sizeof how);
}

int
rt_open_in_root (int rootfd, const char *path, bool create, bool file,
                 struct err **err)
{
  int fd = open_in (rootfd, path);
  _cleanup_free_ char *buf = NULL;
  _cleanup_close_ int parent = -1;
  if (fd >= 0 || errno != ENOENT || !create)
    return fd >= 0 ? fd
                   : err_set (err, errno, "open '%s' in the container", path);
  /* Create it one component at a time, each parent resolved in the root. */
  buf = xstrdup (path);
  parent = fcntl (rootfd, F_DUPFD_CLOEXEC, 3);
  if (parent < 0)
    return err_set (err, errno, "dup");
  for (char *s = buf;;)
    {
      char *name, c;
      int next;
      while (*s == '/')
        s++;
      if (!*s)
        break;
      name = s;
      s += strcspn (s, "/");
      c = *s;
      *s = '\0';
      next = open_in (rootfd, buf);
      if (next < 0 && errno == ENOENT)
        {
          bool last = true;
          for (const char *t = s + (c != '\0'); *t; t++)
            if (*t != '/')
              last = false;
          if (last && file)
            {
              int f = openat (
                  parent, name,
                  O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
              if (f < 0)
                return err_set (err, errno, "create '%s' in the container",
                                buf);
              close (f);
            }
          else if (mkdirat (parent, name, 0755) < 0 && errno != EEXIST)
            return err_set (err, errno, "create '%s' in the container", buf);
          next = open_in (rootfd, buf);
        }
      if (next < 0)
        return err_set (err, errno, "open '%s' in the container", buf);
      close (parent);
      parent = next;
      *s = c;
    }
  return steal_fd (&parent);
}

int
rt_mount_readonly (int fd, struct err **err)
{
  struct mount_attr attr = { .attr_set = MOUNT_ATTR_RDONLY };
  /* mount_setattr changes only the read-only bit, so the nosuid, nodev,
   * noexec flags already there (locked in a user namespace) stay, and
   * AT_RECURSIVE makes the submounts read-only too */
  if (mount_setattr (fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr)
      < 0)
    return err_set (err, errno, "make mount read-only");
  return 0;
}

/* Make rootfd/name a real directory: an image may ship /proc, /sys or
 * /dev as a symlink (CVE-2026-41579); like docker's init layer, replace
 * it. */
int
rt_ensure_dir (int rootfd, const char *name, struct err **err)
{
  struct stat st;
  if (fstatat (rootfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
    {
      if (S_ISDIR (st.st_mode))
        return 0;
      if (unlinkat (rootfd, name, 0) < 0)
        return err_set (err, errno, "remove '/%s' in the container", name);
    }
  if (mkdirat (rootfd, name, 0755) < 0 && errno != EEXIST)
    return err_set (err, errno, "create '/%s' in the container", name);
  return 0;
}

static int
mount_fs (int rootfd, const char *dest, const char *type, unsigned long flags,
          const char *data, struct err **err)
{
  char fdp[32];
  _cleanup_close_ int fd = rt_open_in_root (rootfd, dest, true, false, err);
  if (fd < 0)
    return -1;
  if (mount (type, rt_fd_path (fd, fdp), type, flags, data) < 0)
    return err_set (err, errno, "mount %s on '%s'", type, dest);
  return 0;
}

/* Rootless with the host's network (--network host, build's default):
 * sysfs belongs to that netns's user namespace, so a new one is refused;
 * the host's /sys is bound instead, read-only as runc does rootless.
 * Called after mount_fs failed with *err set. */
static int
bind_host_sys (int rootfd, bool privileged, struct err **err)
{
  struct mount_attr attr
      = { .attr_set = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC
                      | (privileged ? 0 : MOUNT_ATTR_RDONLY) };
  _cleanup_close_ int tree = -1, dest = -1;
  if ((*err)->errnum != EPERM || !userns_active ())
    return -1;
  err_clear (err);
  tree = open_tree (AT_FDCWD, "/sys",
                    OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
  if (tree < 0)
    return err_set (err, errno, "bind the host's '/sys'");
  if (mount_setattr (tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr)
      < 0)
    return err_set (err, errno, "make '/sys' read-only");
  dest = rt_open_in_root (rootfd, "/sys", true, false, err);
  if (dest < 0)
    return -1;
  if (move_mount (tree, "", dest, "",
                  MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH)
      < 0)
    return err_set (err, errno, "mount the host's '/sys'");
  return 0;
}

/* Parse "ro,nosuid,size=64m,mode=1777" into flags and the data the
 * filesystem gets. */
static char *
parse_tmpfs_options (const char *opts, unsigned long *flags)
{
  static const struct
  {
    const char *name;
    unsigned long set, clear;
  } known[] = {
    { "ro", MS_RDONLY, 0 },       { "rw", 0, MS_RDONLY },
    { "nosuid", MS_NOSUID, 0 },   { "suid", 0, MS_NOSUID },
    { "nodev", MS_NODEV, 0 },     { "dev", 0, MS_NODEV },
    { "noexec", MS_NOEXEC, 0 },   { "exec", 0, MS_NOEXEC },
    { "noatime", MS_NOATIME, 0 }, { "relatime", MS_RELATIME, 0 },
  };
  _cleanup_free_ char *copy = xstrdup (opts ? opts : "");
  char *data = xstrdup (""), *save = NULL;
  for (char *o = strtok_r (copy, ",", &save); o;
       o = strtok_r (NULL, ",", &save))
    {
      size_t i;
      for (i = 0; i < ARRAY_SIZE (known); i++)
        if (!strcmp (o, known[i].name))
          {
            *flags = (*flags | known[i].set) & ~known[i].clear;
            break;
          }
      if (i == ARRAY_SIZE (known))
        {
          char *d = xasprintf ("%s%s%s", data, *data ? "," : "", o);
          free (data);
          data = d;
        }
    }
  return data;
}

/* bind-propagation: the bind's peer group within the container's
 * mounts (the container's namespace starts private, so "shared" reaches
 * its own submounts, not the host's). */
static int
set_propagation (int rootfd, const struct rt_mount *m, struct err **err)
{
  static const struct
  {
    const char *name;
    unsigned long flags;
  } modes[] = {
    { "private", MS_PRIVATE }, { "rprivate", MS_PRIVATE | MS_REC },
    { "shared", MS_SHARED },   { "rshared", MS_SHARED | MS_REC },
    { "slave", MS_SLAVE },     { "rslave", MS_SLAVE | MS_REC },
  };
  char fdp[32];
  _cleanup_close_ int top = -1;
  for (size_t i = 0; i < ARRAY_SIZE (modes); i++)
    if (!strcmp (m->propagation, modes[i].name))
      {
        /* rprivate is what the namespace gave it already */
        if (modes[i].flags == (MS_PRIVATE | MS_REC))
          return 0;
        top = rt_open_in_root (rootfd, m->destination, false, false, err);
        if (top < 0)
          return -1;
        if (mount (NULL, rt_fd_path (top, fdp), NULL, modes[i].flags, NULL) < 0)
          return err_set (err, errno, "set propagation of '%s'",
                          m->destination);
        return 0;
      }
  return 0;
}

static int
mount_plan_entry (int rootfd, const struct rt_mount *m, struct err **err)
{
  char fdp[32];
  _cleanup_close_ int fd = -1;
  if (!m->destination || m->destination[0] != '/')
    return err_set (err, 0, "mount destination '%s' is not absolute",
                    m->destination ? m->destination : "");
  if (m->kind == RT_MOUNT_TMPFS)
    {
      /* why: docker's --tmpfs defaults, no setuid or device files */
      unsigned long flags = MS_NOSUID | MS_NODEV | MS_NOEXEC;
      _cleanup_free_ char *data = parse_tmpfs_options (m->options, &flags);
      if (m->readonly)
        flags |= MS_RDONLY;
      fd = rt_open_in_root (rootfd, m->destination, true, false, err);
      if (fd < 0)
        return -1;
      if (mount ("tmpfs", rt_fd_path (fd, fdp), "tmpfs", flags, data) < 0)
        return err_set (err, errno, "mount tmpfs on '%s'", m->destination);
      return 0;
    }
  else
    {
      struct stat st;
      _cleanup_close_ int src = -1;
      if (!m->source || m->source[0] != '/')
        return err_set (err, 0, "bind source '%s' is not absolute",
                        m->source ? m->source : "");
      /* docker: an empty volume gets the image's content first */
      if (m->kind == RT_MOUNT_VOLUME && !m->nocopy
          && rt_volume_copy_up (rootfd, m, err) < 0)
        return -1;
      /* docker -v creates a missing source directory */
      if (stat (m->source, &st) < 0)
        {
          if (errno != ENOENT || fs_mkdir_p (AT_FDCWD, m->source, 0755, err) < 0
              || stat (m->source, &st) < 0)
            return err_set (err, errno, "bind source '%s'", m->source);
        }
      src = open (m->source, O_PATH | O_CLOEXEC);
      if (src < 0)
        return err_set (err, errno, "open bind source '%s'", m->source);
      fd = rt_open_in_root (rootfd, m->destination, true, !S_ISDIR (st.st_mode),
                            err);
      if (fd < 0)
        return -1;
      {
        char srcp[32];
        if (mount (rt_fd_path (src, srcp), rt_fd_path (fd, fdp), NULL,
                   MS_BIND | MS_REC, NULL)
            < 0)
          return err_set (err, errno, "bind '%s' on '%s'", m->source,
                          m->destination);
      }
      if (m->propagation && set_propagation (rootfd, m, err) < 0)
        return -1;
      if (m->readonly)
        {
          /* reopen: the fd we have is on the mount underneath */
          _cleanup_close_ int top
              = rt_open_in_root (rootfd, m->destination, false, false, err);
          if (top < 0 || rt_mount_readonly (top, err) < 0)
            return err_wrap (err, "bind '%s'", m->destination);
        }
    }
  return 0;
}

/* Bind state_dir/name over /etc/name (the runtime writes these files). An
 * image's symlink or file there is replaced, as docker's init layer does. */
static int
bind_etc_file (int etcfd, const char *src, const char *name, bool readonly,
               struct err **err)
{
  char a[32], b[32];
  struct stat st;
  _cleanup_close_ int fd = -1, sfd = open (src, O_PATH | O_CLOEXEC);
  /* a state file may be missing (the plan has none); a network's shared
   * file may not */
  if (sfd < 0)
    return errno == ENOENT && !readonly
               ? 0
               : err_set (err, errno, "open '%s'", src);
  if (fstatat (etcfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0
      && !S_ISREG (st.st_mode) && unlinkat (etcfd, name, 0) < 0)
    return err_set (err, errno, "replace '/etc/%s' in the container", name);
  fd = openat (etcfd, name, O_RDONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0)
    return err_set (err, errno, "create '/etc/%s' in the container", name);
  if (mount (rt_fd_path (sfd, a), rt_fd_path (fd, b), NULL, MS_BIND, NULL) < 0)
    return err_set (err, errno, "bind '/etc/%s'", name);
  if (readonly)
    {
      /* the mount itself, not the file under it that fd still names */
      _cleanup_close_ int mfd
          = openat (etcfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
      if (mfd < 0
          || mount (NULL, rt_fd_path (mfd, b), NULL,
                    MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV
                        | MS_NOEXEC,
                    NULL)
                 < 0)
        return err_set (err, errno, "make '/etc/%s' read-only", name);
    }
  return 0;
}

int
rt_mounts_setup (int rootfd, const struct rt_plan *p, struct err **err)
{
  if (rt_ensure_dir (rootfd, "proc", err) < 0
      || rt_ensure_dir (rootfd, "sys", err) < 0)
    return -1;
  /* a new procfs: it shows only the container's pid namespace */
  if (mount_fs (rootfd, "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL,
                err)
      < 0)
    return -1;
  /* why: a writable /sys lets root reconfigure the host's devices */
  if (mount_fs (rootfd, "/sys", "sysfs",
                MS_NOSUID | MS_NODEV | MS_NOEXEC
                    | (p->privileged ? 0 : MS_RDONLY),
                NULL, err)
          < 0
      && bind_host_sys (rootfd, p->privileged, err) < 0)
    return -1;
  for (size_t i = 0; i < p->n_mounts; i++)
    if (mount_plan_entry (rootfd, &p->mounts[i], err) < 0)
      return -1;
  if (p->state_dir)
    {
      static const char *const files[] = { "hostname", "hosts", "resolv.conf" };
      _cleanup_close_ int etc
          = rt_open_in_root (rootfd, "/etc", true, false, err);
      _cleanup_close_ int etcdir = -1;
      if (etc < 0)
        return -1;
      etcdir = openat (etc, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (etcdir < 0)
        return err_set (err, errno, "open '/etc' in the container");
      for (size_t i = 0; i < ARRAY_SIZE (files); i++)
        {
          /* why read-only: the network's shared hosts file is every
           * container's; one must not rewrite the others' names */
          bool shared = !strcmp (files[i], "hosts") && p->net
                        && p->net->hosts_path && !p->extra_hosts;
          _cleanup_free_ char *src
              = shared ? xstrdup (p->net->hosts_path)
                       : xasprintf ("%s/%s", p->state_dir, files[i]);
          if (bind_etc_file (etcdir, src, files[i], shared, err) < 0)
            return -1;
        }
    }
  /* why: /proc/kcore, /proc/keys, /sys/firmware... leak or change host
   * state; docker hides them unless --privileged (rt_masks_apply checks) */
  if (rt_masks_apply (p, rootfd, err) < 0)
    return -1;
  return 0;
}

char **
rt_cgroup_v1_own (const char *id)
{
  _cleanup_free_ char *buf = NULL;
  struct err *e = NULL;
  char **own = xcalloc (1, sizeof *own);
  size_t idlen = strlen (id);
  if (fs_read_file (AT_FDCWD, "/proc/self/cgroup", 1 << 16, &buf, NULL, &e) < 0)
    {
      err_free (e);
      return own;
    }
  /* "N:controllers:/path", ours when path ends in "/<id>" */
  for (char *line = buf, *next; line && *line; line = next)
    {
      char *ctl, *path;
      size_t len;
      next = strchr (line, '\n');
      if (next)
        *next++ = '\0';
      if (!(ctl = strchr (line, ':')) || !(path = strchr (++ctl, ':')))
        continue;
      *path++ = '\0';
      len = strlen (path);
      if (*ctl && strncmp (ctl, "name=", 5) != 0 && len > idlen
          && path[len - idlen - 1] == '/' && !strcmp (path + len - idlen, id))
        strv_push (&own, xstrdup (ctl));
    }
  return own;
}

int
rt_mount_at (int dirfd, const char *dirname, const char *name, const char *type,
             unsigned long flags, const char *data, struct err **err)
{
  char p[32];
  _cleanup_close_ int fd = -1;
  if (mkdirat (dirfd, name, 0755) < 0 && errno != EEXIST)
    return err_set (err, errno, "create '%s/%s'", dirname, name);
  fd = openat (dirfd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return err_set (err, errno, "open '%s/%s'", dirname, name);
  if (mount (type, rt_fd_path (fd, p), type, flags, data) < 0)
    return err_set (err, errno, "mount %s on '%s/%s'", type, dirname, name);
  return 0;
}

/* A cgroup v1 hierarchy (its controllers, e.g. "pids" or "cpu,cpuacct")
 * on dir/name, read-only unless flags lack MS_RDONLY. */
static int
mount_v1 (int dir, const char *ctls, unsigned long flags, struct err **err)
{
  if (rt_mount_at (dir, "/sys/fs/cgroup", ctls, "cgroup", flags, ctls, err) < 0)
    return -1;
  /* "cpu,cpuacct" is also reached as cpu and cpuacct (runc) */
  if (strchr (ctls, ','))
    {
      _cleanup_free_ char *copy = xstrdup (ctls);
      char *save = NULL;
      for (char *c = strtok_r (copy, ",", &save); c;
           c = strtok_r (NULL, ",", &save))
        if (symlinkat (ctls, dir, c) < 0 && errno != EEXIST)
          return err_set (err, errno, "link '/sys/fs/cgroup/%s'", c);
    }
  return 0;
}

int
rt_mount_cgroups (int mode, char *const *v1_own, bool privileged,
                  struct err **err)
{
  _cleanup_close_ int root = open ("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  _cleanup_close_ int fd = -1, dir = -1;
  /* why: read-only as docker's, a container must not change its limits */
  unsigned long flags
      = MS_NOSUID | MS_NODEV | MS_NOEXEC | (privileged ? 0 : MS_RDONLY);
  char p[32];
  if (root < 0)
    return err_set (err, errno, "open '/'");
  if (mode == RT_CGROUP_NONE)
    return 0;
  fd = open_in (root, "/sys/fs/cgroup");
  if (fd < 0)
    return 0; /* a kernel without it */
  if (mode == RT_CGROUP_V2)
    {
      if (mount ("cgroup2", rt_fd_path (fd, p), "cgroup2", flags, NULL) < 0)
        return err_set (err, errno, "mount cgroup2 on '/sys/fs/cgroup'");
      return 0;
    }
  /* v1: a tmpfs holding one mount per hierarchy the container has its
   * own cgroup in (the others would show the caller's) */
  if (mount ("tmpfs", rt_fd_path (fd, p), "tmpfs",
             MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=755,size=64k")
      < 0)
    return err_set (err, errno, "mount tmpfs on '/sys/fs/cgroup'");
  dir = open_in (root, "/sys/fs/cgroup");
  if (dir >= 0)
    {
      int d = openat (dir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      close (dir);
      dir = d;
    }
  if (dir < 0)
    return err_set (err, errno, "open '/sys/fs/cgroup'");
  for (size_t i = 0; v1_own && v1_own[i]; i++)
    if (mount_v1 (dir, v1_own[i], flags, err) < 0)
      return -1;
  if (!privileged)
    {
      _cleanup_close_ int top = open_in (root, "/sys/fs/cgroup");
      struct mount_attr attr = { .attr_set = MOUNT_ATTR_RDONLY };
      if (top < 0
          || mount_setattr (top, "", AT_EMPTY_PATH, &attr, sizeof attr) < 0)
        return err_set (err, errno, "make '/sys/fs/cgroup' read-only");
    }
  return 0;
}
