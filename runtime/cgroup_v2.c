/* cgroup v2: one directory, <root>/<parent>/<id>, with the controllers it
 * needs enabled in the parents' cgroup.subtree_control. */
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/strbuf.h"
#include "lib/userns.h"
#include "lib/xalloc.h"
#include "runtime/cgroup.h"
#include "runtime/devices.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int
rt_cgroup_v2_settings (const struct rt_limits *l, struct rt_cgroup_setting *out,
                       size_t *n, struct err **err)
{
  (void)err;
  if (l->memory > 0)
    {
      rt_cgroup_add_setting (out, n, "memory", "memory.max", false, "%lld",
                             (long long)l->memory);
      /* v2 counts swap alone: swap.max = (memory+swap) - memory; docker's
       * default (no --memory-swap) allows as much swap as memory */
      if (l->memory_swap == -1)
        rt_cgroup_add_setting (out, n, "memory", "memory.swap.max", true,
                               "max");
      else
        rt_cgroup_add_setting (
            out, n, "memory", "memory.swap.max", l->memory_swap == 0, "%lld",
            (long long)(l->memory_swap ? l->memory_swap - l->memory
                                       : l->memory));
    }
  if (l->cpu_shares > 0)
    rt_cgroup_add_setting (out, n, "cpu", "cpu.weight", false, "%llu",
                           (unsigned long long)rt_cgroup_shares_to_weight (
                               (uint64_t)l->cpu_shares));
  if (l->cpu_quota > 0 || l->cpu_period > 0)
    {
      long long period = l->cpu_period ? l->cpu_period : 100000;
      if (l->cpu_quota > 0)
        rt_cgroup_add_setting (out, n, "cpu", "cpu.max", false, "%lld %lld",
                               (long long)l->cpu_quota, period);
      else
        rt_cgroup_add_setting (out, n, "cpu", "cpu.max", false, "max %lld",
                               period);
    }
  /* why: a default pids limit keeps a fork bomb inside the container */
  if (l->pids == -1)
    rt_cgroup_add_setting (out, n, "pids", "pids.max", true, "max");
  else
    /* optional only when it is our default: a user's limit must apply */
    rt_cgroup_add_setting (out, n, "pids", "pids.max", l->pids == 0, "%lld",
                           (long long)(l->pids ? l->pids : RT_DEFAULT_PIDS));
  return 0;
}

/* Is ctl listed in dirfd/cgroup.controllers? */
static bool
has_controller (const char *avail, const char *ctl)
{
  size_t len = strlen (ctl);
  for (const char *p = avail; (p = strstr (p, ctl)); p += len)
    if ((p == avail || p[-1] == ' ' || p[-1] == '\n')
        && (p[len] == ' ' || p[len] == '\n' || p[len] == '\0'))
      return true;
  return false;
}

int
rt_cgroup_v2_create (struct rt_cgroup *cg, const struct rt_cgroup_setting *s,
                     size_t n, const struct rt_device_rule *rules,
                     size_t n_rules, struct err **err)
{
  _cleanup_close_ int dirfd = open (cg->root, O_PATH | O_DIRECTORY | O_CLOEXEC);
  _cleanup_free_ char *avail = NULL;
  _cleanup_strbuf_ struct strbuf enable = STRBUF_INIT;
  static const char *const ctls[] = { "cpu", "memory", "pids" };
  _cleanup_free_ char *path = xstrdup (cg->path);
  struct err *e = NULL;
  if (dirfd < 0)
    return err_set (err, errno, "open '%s'", cg->root);
  if (fs_read_file (dirfd, "cgroup.controllers", 4096, &avail, NULL, &e) < 0)
    {
      err_free (e);
      avail = xstrdup ("");
    }
  /* Enable what the limits need and the root offers; a limit whose
   * controller is missing is an error, the default pids limit is not. */
  for (size_t c = 0; c < ARRAY_SIZE (ctls); c++)
    {
      bool want = false, must = false;
      for (size_t i = 0; i < n; i++)
        if (!strcmp (s[i].controller, ctls[c]))
          {
            want = true;
            must |= !s[i].optional;
          }
      if (!want)
        continue;
      if (!has_controller (avail, ctls[c]))
        {
          if (must)
            return err_set (err, 0,
                            "cgroup v2 controller '%s' is not "
                            "available",
                            ctls[c]);
          continue;
        }
      strbuf_addf (&enable, "%s+%s", enable.len ? " " : "", ctls[c]);
    }
  cg->created = true;
  /* Walk down <parent>/<id>: enable controllers in each ancestor, then
   * create the next level. The leaf holds only the container. */
  for (char *slash = path;; slash++)
    {
      _cleanup_close_ int next = -1;
      char c;
      slash += strcspn (slash, "/");
      c = *slash;
      *slash = '\0';
      if (enable.len
          && rt_cgroup_write (dirfd, "cgroup.subtree_control", enable.buf,
                              false, err)
                 < 0)
        return -1;
      if (mkdirat (dirfd, strrchr (path, '/') ? strrchr (path, '/') + 1 : path,
                   0755)
              < 0
          && errno != EEXIST)
        return err_set (err, errno, "create cgroup '%s'", path);
      next
          = openat (dirfd, strrchr (path, '/') ? strrchr (path, '/') + 1 : path,
                    O_PATH | O_DIRECTORY | O_CLOEXEC);
      if (next < 0)
        return err_set (err, errno, "open cgroup '%s'", path);
      close (dirfd);
      dirfd = steal_fd (&next);
      if (c == '\0')
        break;
      *slash = c;
    }
  /* the device rules first, before anything can join the cgroup; not
   * rootless: no device program can be loaded there, and mknod is
   * refused in a user namespace (devices are bound from the host) */
  if (!rt_device_rules_allow_all (rules, n_rules) && !userns_rootless ())
    {
      /* bpf() takes no O_PATH fd */
      _cleanup_close_ int fd
          = openat (dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (fd < 0)
        return err_set (err, errno, "open cgroup '%s'", path);
      if (rt_device_bpf_attach (fd, rules, n_rules, err) < 0)
        return -1;
    }
  for (size_t i = 0; i < n; i++)
    if (has_controller (avail, s[i].controller) || !s[i].optional)
      if (rt_cgroup_write (dirfd, s[i].file, s[i].value, s[i].optional, err)
          < 0)
        return -1;
  cg->fd = steal_fd (&dirfd);
  return 0;
}

int
rt_cgroup_v2_destroy (struct rt_cgroup *cg, struct err **err)
{
  _cleanup_close_ int rootfd
      = open (cg->root, O_PATH | O_DIRECTORY | O_CLOEXEC);
  _cleanup_free_ char *kill = xasprintf ("%s/cgroup.kill", cg->path);
  struct err *e = NULL;
  if (rootfd < 0)
    return errno == ENOENT ? 0 : err_set (err, errno, "open '%s'", cg->root);
  /* cgroup.kill (5.14+) takes every process out at once */
  if (rt_cgroup_write (rootfd, kill, "1", true, &e) < 0)
    err_free (e);
  return rt_cgroup_rmdir (rootfd, cg->path, err);
}
