/* cgroup v1: one directory per controller hierarchy,
 * <root>/<controller>/<parent>/<id>. */
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/xalloc.h"
#include "runtime/cgroup.h"
#include "runtime/devices.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The hierarchies a container joins: the ones we write limits to, plus
 * devices for the device allowlist and freezer for pause and commit.
 * Others (cpuacct, blkio...) are left as the caller's, to keep start-up
 * cheap. */
const char *const rt_cgroup_v1_controllers[] = {
  "pids", "memory", "cpu", "devices", "freezer", NULL,
};

int
rt_cgroup_v1_settings (const struct rt_limits *l, struct rt_cgroup_setting *out,
                       size_t *n, struct err **err)
{
  (void)err;
  if (l->memory > 0)
    {
      int64_t sw = l->memory_swap;
      rt_cgroup_add_setting (out, n, "memory", "memory.limit_in_bytes", false,
                             "%lld", (long long)l->memory);
      /* docker: without --memory-swap, swap may equal the memory limit */
      if (sw == 0)
        sw = 2 * l->memory;
      /* memsw exists only with swap accounting; a default can be skipped */
      rt_cgroup_add_setting (out, n, "memory", "memory.memsw.limit_in_bytes",
                             l->memory_swap == 0, "%lld", (long long)sw);
    }
  if (l->cpu_shares > 0)
    rt_cgroup_add_setting (out, n, "cpu", "cpu.shares", false, "%lld",
                           (long long)(l->cpu_shares < 2 ? 2 : l->cpu_shares));
  if (l->cpu_quota > 0 || l->cpu_period > 0)
    rt_cgroup_add_setting (out, n, "cpu", "cpu.cfs_period_us", false, "%lld",
                           (long long)(l->cpu_period ? l->cpu_period : 100000));
  if (l->cpu_quota > 0)
    rt_cgroup_add_setting (out, n, "cpu", "cpu.cfs_quota_us", false, "%lld",
                           (long long)l->cpu_quota);
  /* why: a default pids limit keeps a fork bomb inside the container */
  if (l->pids == -1)
    rt_cgroup_add_setting (out, n, "pids", "pids.max", false, "max");
  else
    rt_cgroup_add_setting (out, n, "pids", "pids.max", false, "%lld",
                           (long long)(l->pids ? l->pids : RT_DEFAULT_PIDS));
  return 0;
}

static bool
needed (const char *ctl, const struct rt_cgroup_setting *s, size_t n)
{
  if (!strcmp (ctl, "pids") || !strcmp (ctl, "memory")
      || !strcmp (ctl, "devices") || !strcmp (ctl, "freezer"))
    return true; /* always joined: default limit, accounting, devices,
                    pause */
  for (size_t i = 0; i < n; i++)
    if (!strcmp (s[i].controller, ctl))
      return true;
  return false;
}

/* The device rules in dirfd (the devices hierarchy's cgroup): deny all,
 * then allow each rule; or allow all. */
static int
write_devices (int dirfd, const struct rt_device_rule *r, size_t n,
               struct err **err)
{
  char buf[RT_DEVICE_RULE_LEN];
  if (rt_device_rules_allow_all (r, n))
    return rt_cgroup_write (dirfd, "devices.allow", "a", false, err);
  /* why: the devices cgroup is all that stops a container with CAP_MKNOD
   * (or a node in its image) from opening the host's disks */
  if (rt_cgroup_write (dirfd, "devices.deny", "a", false, err) < 0)
    return -1;
  for (size_t i = 0; i < n; i++)
    if (rt_cgroup_write (dirfd, "devices.allow",
                         rt_device_rule_format (&r[i], buf), false, err)
        < 0)
      return -1;
  return 0;
}

int
rt_cgroup_v1_create (struct rt_cgroup *cg, const struct rt_cgroup_setting *s,
                     size_t n, const struct rt_device_rule *rules,
                     size_t n_rules, struct err **err)
{
  _cleanup_close_ int rootfd
      = open (cg->root, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0)
    return err_set (err, errno, "open '%s'", cg->root);
  /* A hierarchy that is not mounted is fine for the defaults (pids,
   * devices), an error when a limit was asked for: check before making
   * anything. */
  for (size_t i = 0; i < n; i++)
    {
      struct stat st;
      if ((!strcmp (s[i].controller, "memory")
           || !strcmp (s[i].controller, "cpu"))
          && fstatat (rootfd, s[i].controller, &st, 0) < 0)
        return err_set (err, 0, "cgroup v1 controller '%s' is not mounted",
                        s[i].controller);
    }
  cg->created = true;
  for (size_t c = 0; rt_cgroup_v1_controllers[c]; c++)
    {
      const char *ctl = rt_cgroup_v1_controllers[c];
      _cleanup_free_ char *dir = xasprintf ("%s/%s", ctl, cg->path);
      _cleanup_close_ int fd = -1;
      struct stat st;
      if (!needed (ctl, s, n))
        continue;
      if (fstatat (rootfd, ctl, &st, 0) < 0)
        continue; /* not mounted: checked above */
      if (fs_mkdir_p (rootfd, dir, 0755, err) < 0)
        return -1;
      fd = openat (rootfd, dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
      if (fd < 0)
        return err_set (err, errno, "open cgroup '%s'", dir);
      for (size_t i = 0; i < n; i++)
        if (!strcmp (s[i].controller, ctl)
            && rt_cgroup_write (fd, s[i].file, s[i].value, s[i].optional, err)
                   < 0)
          return -1;
      if (!strcmp (ctl, "devices")
          && write_devices (fd, rules, n_rules, err) < 0)
        return -1;
    }
  return 0;
}

int
rt_cgroup_v1_join_open (struct rt_cgroup *cg, struct err **err)
{
  _cleanup_close_ int rootfd
      = open (cg->root, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0)
    return err_set (err, errno, "open '%s'", cg->root);
  for (size_t c = 0; rt_cgroup_v1_controllers[c]; c++)
    {
      _cleanup_free_ char *f
          = xasprintf ("%s/%s/tasks", rt_cgroup_v1_controllers[c], cg->path);
      int fd = openat (rootfd, f, O_WRONLY | O_CLOEXEC);
      if (fd < 0 && errno == ENOENT)
        continue; /* only the hierarchies rt_cgroup_v1_create made */
      if (fd < 0)
        {
          rt_cgroup_join_close (cg);
          return err_set (err, errno, "open cgroup file '%s'", f);
        }
      cg->tasks_fd[cg->n_tasks++] = fd;
    }
  return 0;
}

int
rt_cgroup_v1_destroy (struct rt_cgroup *cg, struct err **err)
{
  _cleanup_close_ int rootfd
      = open (cg->root, O_PATH | O_DIRECTORY | O_CLOEXEC);
  int r = 0;
  if (rootfd < 0)
    return errno == ENOENT ? 0 : err_set (err, errno, "open '%s'", cg->root);
  for (size_t c = 0; rt_cgroup_v1_controllers[c]; c++)
    {
      _cleanup_free_ char *dir
          = xasprintf ("%s/%s", rt_cgroup_v1_controllers[c], cg->path);
      if (!strcmp (rt_cgroup_v1_controllers[c], "freezer"))
        {
          /* a frozen process would never die for the rmdir's kill */
          _cleanup_free_ char *f = xasprintf ("%s/freezer.state", dir);
          struct err *e = NULL;
          if (rt_cgroup_write (rootfd, f, "THAWED", true, &e) < 0)
            err_free (e);
        }
      if (rt_cgroup_rmdir (rootfd, dir, err) < 0)
        r = -1;
    }
  return r;
}
