/* cgroups: layout detection, limit validation, and what v1 and v2 share.
 * See runtime/cgroup.h. */
#include "runtime/cgroup.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/userns.h"
#include "lib/xalloc.h"
#include "runtime/cgroup_deleg.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

int
rt_cgroup_detect (const char *root, enum rt_cgroup_mode *mode, struct err **err)
{
  struct statfs sfs;
  /* why: the hierarchy belongs to the initial namespace's root; rootless
   * containers get cgroups only in a delegated v2 subtree
   * (runtime/cgroup_deleg.h), else run in their caller's */
  if (userns_rootless () && !strcmp (root, RT_CGROUP_ROOT))
    {
      const char *why;
      *mode = rt_cgroup_delegated (&why) ? RT_CGROUP_V2 : RT_CGROUP_NONE;
      return 0;
    }
  if (statfs (root, &sfs) < 0)
    {
      if (errno == ENOENT)
        {
          *mode = RT_CGROUP_NONE;
          return 0;
        }
      return err_set (err, errno, "statfs '%s'", root);
    }
  if (sfs.f_type == CGROUP2_SUPER_MAGIC)
    *mode = RT_CGROUP_V2;
  else if (sfs.f_type == TMPFS_MAGIC)
    /* Hybrid (cgroup2 at root/unified) counts as v1: the controllers we
     * need are bound to the v1 hierarchies. */
    *mode = RT_CGROUP_V1;
  else
    *mode = RT_CGROUP_NONE;
  return 0;
}

uint64_t
rt_cgroup_shares_to_weight (uint64_t shares)
{
  double l, w;
  if (shares == 0)
    return 0;
  if (shares <= 2)
    return 1;
  if (shares >= 262144)
    return 10000;
  l = log2 ((double)shares);
  w = ceil (pow (10, (l * l + 125 * l) / 612.0 - 7.0 / 34.0));
  return w < 1 ? 1 : w > 10000 ? 10000 : (uint64_t)w;
}

void
rt_cgroup_add_setting (struct rt_cgroup_setting *out, size_t *n,
                       const char *controller, const char *file, bool optional,
                       const char *fmt, ...)
{
  va_list ap;
  struct rt_cgroup_setting *s;
  if (*n >= RT_CGROUP_MAX_SETTINGS)
    abort ();
  s = &out[(*n)++];
  s->controller = controller;
  s->file = file;
  s->optional = optional;
  va_start (ap, fmt);
  vsnprintf (s->value, sizeof s->value, fmt, ap);
  va_end (ap);
}

int
rt_cgroup_settings (enum rt_cgroup_mode mode, const struct rt_limits *l,
                    struct rt_cgroup_setting *out, size_t *n, struct err **err)
{
  *n = 0;
  /* The checks docker makes, with its messages' sense. */
  if (l->memory < 0)
    return err_set (err, 0, "invalid memory limit %lld", (long long)l->memory);
  if (l->memory > 0 && l->memory < 6 * 1024 * 1024)
    return err_set (err, 0, "minimum memory limit allowed is 6MB");
  if (l->memory_swap < -1)
    return err_set (err, 0, "invalid memory+swap limit %lld",
                    (long long)l->memory_swap);
  if (l->memory_swap > 0 && l->memory == 0)
    return err_set (err, 0, "a memory+swap limit needs a memory limit");
  if (l->memory_swap > 0 && l->memory_swap < l->memory)
    return err_set (err, 0,
                    "memory+swap limit must be at least the memory limit");
  if (l->cpu_quota < 0 || (l->cpu_quota > 0 && l->cpu_quota < 1000))
    return err_set (err, 0, "cpu quota must be at least 1000 microseconds");
  if (l->cpu_period != 0 && (l->cpu_period < 1000 || l->cpu_period > 1000000))
    return err_set (err, 0,
                    "cpu period must be between 1000 and 1000000 microseconds");
  if (l->cpu_shares < 0)
    return err_set (err, 0, "invalid cpu shares %lld",
                    (long long)l->cpu_shares);
  if (l->pids < -1)
    return err_set (err, 0, "invalid pids limit %lld", (long long)l->pids);
  switch (mode)
    {
    case RT_CGROUP_V1:
      return rt_cgroup_v1_settings (l, out, n, err);
    case RT_CGROUP_V2:
      return rt_cgroup_v2_settings (l, out, n, err);
    default:
      return 0;
    }
}

struct rt_cgroup *
rt_cgroup_new (const char *root, enum rt_cgroup_mode mode, const char *parent,
               const char *id)
{
  struct rt_cgroup *cg = xcalloc (1, sizeof *cg);
  const char *why, *deleg;
  if (!root)
    root = RT_CGROUP_ROOT;
  /* rootless: the delegated subtree stands for the root */
  if (mode == RT_CGROUP_V2 && userns_rootless ()
      && !strcmp (root, RT_CGROUP_ROOT) && (deleg = rt_cgroup_delegated (&why)))
    root = deleg;
  cg->mode = mode;
  cg->root = xstrdup (root);
  cg->path = xasprintf ("%s/%s", parent && *parent ? parent : "imgtool", id);
  cg->fd = -1;
  return cg;
}

void
rt_cgroup_free (struct rt_cgroup *cg)
{
  if (!cg)
    return;
  rt_cgroup_join_close (cg);
  if (cg->fd >= 0)
    close (cg->fd);
  free (cg->root);
  free (cg->path);
  free (cg);
}

int
rt_cgroup_write (int dirfd, const char *file, const char *value, bool optional,
                 struct err **err)
{
  _cleanup_close_ int fd = openat (dirfd, file, O_WRONLY | O_CLOEXEC);
  if (fd < 0)
    {
      if (optional && errno == ENOENT)
        return 0;
      return err_set (err, errno, "open cgroup file '%s'", file);
    }
  if (write (fd, value, strlen (value)) < 0)
    return err_set (err, errno, "write '%s' to cgroup file '%s'", value, file);
  return 0;
}

/* Kill every process listed in dirfd/path/cgroup.procs. */
static void
kill_procs (int dirfd, const char *path)
{
  _cleanup_free_ char *file = xasprintf ("%s/cgroup.procs", path);
  _cleanup_free_ char *buf = NULL;
  struct err *e = NULL;
  if (fs_read_file (dirfd, file, 1 << 20, &buf, NULL, &e) < 0)
    {
      err_free (e);
      return;
    }
  for (char *p = buf, *end; *p; p = end)
    {
      long pid = strtol (p, &end, 10);
      if (end == p)
        break;
      if (pid > 0)
        kill ((pid_t)pid, SIGKILL);
      while (*end == '\n')
        end++;
    }
}

int
rt_cgroup_rmdir (int dirfd, const char *path, struct err **err)
{
  /* Processes leave a cgroup asynchronously after they are reaped; wait
   * up to 5 s, killing stragglers (e.g. from an exec'd process). */
  for (int i = 0; i < 5000; i++)
    {
      struct timespec ts = { 0, 1000000 };
      if (unlinkat (dirfd, path, AT_REMOVEDIR) == 0 || errno == ENOENT)
        return 0;
      if (errno != EBUSY)
        return err_set (err, errno, "remove cgroup '%s'", path);
      kill_procs (dirfd, path);
      nanosleep (&ts, NULL);
    }
  return err_set (err, EBUSY, "remove cgroup '%s'", path);
}

int
rt_cgroup_create (struct rt_cgroup *cg, const struct rt_limits *l,
                  const struct rt_device_rule *rules, size_t n_rules,
                  struct err **err)
{
  struct rt_cgroup_setting s[RT_CGROUP_MAX_SETTINGS];
  size_t n;
  int r;
  if (rt_cgroup_settings (cg->mode, l, s, &n, err) < 0)
    return -1;
  switch (cg->mode)
    {
    case RT_CGROUP_V1:
      r = rt_cgroup_v1_create (cg, s, n, rules, n_rules, err);
      break;
    case RT_CGROUP_V2:
      r = rt_cgroup_v2_create (cg, s, n, rules, n_rules, err);
      break;
    default:
      return 0;
    }
  if (r < 0)
    {
      struct err *e = NULL;
      rt_cgroup_destroy (cg, &e);
      err_free (e);
      return err_wrap (err, "cgroup '%s'", cg->path);
    }
  return 0;
}

int
rt_cgroup_join_open (struct rt_cgroup *cg, struct err **err)
{
  return cg && cg->mode == RT_CGROUP_V1 ? rt_cgroup_v1_join_open (cg, err) : 0;
}

int
rt_cgroup_join_self (const struct rt_cgroup *cg, struct err **err)
{
  for (size_t i = 0; cg && i < cg->n_tasks; i++)
    if (write (cg->tasks_fd[i], "0", 1) != 1)
      return err_set (err, errno, "join cgroup '%s'", cg->path);
  return 0;
}

void
rt_cgroup_join_close (struct rt_cgroup *cg)
{
  for (size_t i = 0; cg && i < cg->n_tasks; i++)
    close (cg->tasks_fd[i]);
  if (cg)
    cg->n_tasks = 0;
}

int
rt_cgroup_destroy (struct rt_cgroup *cg, struct err **err)
{
  if (!cg)
    return 0;
  switch (cg->mode)
    {
    case RT_CGROUP_V1:
      return rt_cgroup_v1_destroy (cg, err);
    case RT_CGROUP_V2:
      return rt_cgroup_v2_destroy (cg, err);
    default:
      return 0;
    }
}

int
rt_cgroup_join_pid (const char *root, pid_t target, struct err **err)
{
  _cleanup_free_ char *list = xasprintf ("/proc/%d/cgroup", (int)target);
  _cleanup_free_ char *buf = NULL;
  _cleanup_close_ int rootfd = -1;
  enum rt_cgroup_mode mode;
  const char *file;
  if (rt_cgroup_detect (root, &mode, err) < 0)
    return -1;
  if (mode == RT_CGROUP_NONE)
    return 0;
  /* v1: the thread, not the thread group (see rt_cgroup_join_open) */
  file = mode == RT_CGROUP_V1 ? "tasks" : "cgroup.procs";
  if (fs_read_file (AT_FDCWD, list, 1 << 16, &buf, NULL, err) < 0)
    return -1;
  /* rootless: /proc's v2 paths are from the cgroup2 mount, wherever it is
   * (/sys/fs/cgroup/unified on a hybrid host) */
  if (mode == RT_CGROUP_V2 && userns_rootless () && rt_cgroup2_mount ())
    root = rt_cgroup2_mount ();
  rootfd = open (root, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0)
    return err_set (err, errno, "open '%s'", root);
  /* Lines are "N:controllers:/path"; v1 uses the first controller's
   * directory (a name=X hierarchy lives in X), v2 is "0::/path". */
  for (char *line = buf, *next; line && *line; line = next)
    {
      char *ctl, *path, *comma;
      _cleanup_free_ char *dir = NULL;
      next = strchr (line, '\n');
      if (next)
        *next++ = '\0';
      ctl = strchr (line, ':');
      if (!ctl)
        continue;
      ctl++;
      path = strchr (ctl, ':');
      if (!path)
        continue;
      *path++ = '\0';
      if (!strcmp (path, "/"))
        continue; /* the root: nothing to join */
      if (mode == RT_CGROUP_V2 ? *ctl != '\0' : *ctl == '\0')
        continue;
      if ((comma = strchr (ctl, ',')))
        *comma = '\0';
      if (!strncmp (ctl, "name=", 5))
        ctl += 5;
      dir = *ctl ? xasprintf ("%s%s/%s", ctl, path, file)
                 : xasprintf ("%s/%s", path + 1, file);
      if (rt_cgroup_write (rootfd, dir, "0", false, err) < 0)
        return err_wrap (err, "join cgroup of pid %d", (int)target);
    }
  return 0;
}
