/* Rootless on cgroup v2: the delegated subtree (runtime/cgroup_deleg.h). */
#include "runtime/cgroup_deleg.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/xalloc.h"
#include "runtime/plan.h"
#include "runtime/rootless.h"

#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

char *
rt_cgroup2_mount_parse (const char *mountinfo)
{
  /* "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS [TAGS...] - FSTYPE SRC SUPER" */
  for (const char *line = mountinfo; line && *line;)
    {
      const char *end = strchr (line, '\n');
      _cleanup_free_ char *l
          = end ? xstrndup (line, (size_t)(end - line)) : xstrdup (line);
      char root[4096], point[4096];
      const char *dash = strstr (l, " - ");
      line = end ? end + 1 : NULL;
      if (!dash || strncmp (dash + 3, "cgroup2 ", 8)
          || sscanf (l, "%*s %*s %*s %4095s %4095s", root, point) != 2)
        continue;
      if (!strcmp (root, "/"))
        return xstrdup (point);
    }
  return NULL;
}

char *
rt_cgroup2_self_parse (const char *proc_cgroup)
{
  for (const char *p = proc_cgroup; p && *p;)
    {
      const char *end = strchr (p, '\n');
      if (!strncmp (p, "0::", 3))
        return end ? xstrndup (p + 3, (size_t)(end - p - 3)) : xstrdup (p + 3);
      p = end ? end + 1 : NULL;
    }
  return NULL;
}

/* dir, its cgroup.procs and its cgroup.subtree_control are ours */
static bool
owned (const char *dir)
{
  static const char *const files[]
      = { ".", "cgroup.procs", "cgroup.subtree_control" };
  for (size_t i = 0; i < sizeof files / sizeof *files; i++)
    {
      _cleanup_free_ char *p = xasprintf ("%s/%s", dir, files[i]);
      struct stat st;
      if (lstat (p, &st) < 0 || st.st_uid != geteuid ())
        return false;
    }
  return true;
}

int
rt_cgroup_delegation_find (const char *mnt, const char *self, char **dir,
                           char **why)
{
  _cleanup_free_ char *path = xasprintf ("%s%s", mnt, self);
  char *p = path + strlen (mnt);
  *dir = *why = NULL;
  /* down from below the root: the first cgroup we own is the delegation */
  for (p += strspn (p, "/"); *p; p += strspn (p, "/"))
    {
      char *end = p + strcspn (p, "/");
      char c = *end;
      *end = '\0';
      if (owned (path))
        {
          if (c == '\0')
            {
              *why = xasprintf ("the delegated cgroup '%s' holds this "
                                "process: move it into a child cgroup",
                                path);
              return 0;
            }
          *dir = xstrdup (path);
          return 1;
        }
      *end = c;
      p = end;
    }
  *why = xasprintf ("no cgroup that holds this process ('%s') is delegated "
                    "to you",
                    path);
  return 0;
}

static const char *
find (const char **why)
{
  static bool done;
  static char *dir, *reason;
  if (!done)
    {
      _cleanup_free_ char *text = NULL, *self = NULL;
      struct err *e = NULL;
      const char *mnt = rt_cgroup2_mount ();
      done = true;
      if (!mnt)
        reason = xstrdup ("no cgroup2 hierarchy is mounted");
      else if (fs_read_file (AT_FDCWD, "/proc/self/cgroup", 1 << 16, &text,
                             NULL, &e)
                   < 0
               || !(self = rt_cgroup2_self_parse (text)))
        reason = xstrdup ("this process is in no cgroup v2");
      else
        rt_cgroup_delegation_find (mnt, self, &dir, &reason);
      err_free (e);
    }
  *why = reason;
  return dir;
}

const char *
rt_cgroup_delegated (const char **why)
{
  return find (why);
}

const char *
rt_cgroup2_mount (void)
{
  static bool done;
  static char *mnt;
  if (!done)
    {
      _cleanup_free_ char *text = NULL;
      struct err *e = NULL;
      done = true;
      if (fs_read_file (AT_FDCWD, "/proc/self/mountinfo", 1 << 22, &text, NULL,
                        &e)
          == 0)
        mnt = rt_cgroup2_mount_parse (text);
      err_free (e);
    }
  return mnt;
}

/* Is controller ctl in dir/cgroup.controllers? */
static bool
available (const char *dir, const char *ctl)
{
  _cleanup_free_ char *path = xasprintf ("%s/cgroup.controllers", dir);
  _cleanup_free_ char *text = NULL;
  struct err *e = NULL;
  size_t len = strlen (ctl);
  if (fs_read_file (AT_FDCWD, path, 4096, &text, NULL, &e) < 0)
    {
      err_free (e);
      return false;
    }
  for (char *p = text; (p = strstr (p, ctl)); p += len)
    if ((p == text || p[-1] == ' ') && strchr (" \n", p[len]))
      return true;
  return false;
}

int
rt_cgroup_limits_check (const char *dir, const char *why,
                        const struct rt_limits *l, struct err **err)
{
  static const struct
  {
    const char *flag, *controller;
  } ask[] = {
    { "--memory", "memory" },   { "--memory-swap", "memory" },
    { "--cpus", "cpu" },        { "--cpu-shares", "cpu" },
    { "--pids-limit", "pids" },
  };
  const bool asked[] = { l->memory > 0, l->memory_swap > 0, l->cpu_quota > 0,
                         l->cpu_shares > 0, l->pids > 0 };
  for (size_t i = 0; i < sizeof ask / sizeof *ask; i++)
    {
      if (!asked[i])
        continue;
      if (!dir)
        return err_set (err, 0,
                        "%s: rootless containers get no cgroup here (%s; a "
                        "delegated cgroup v2 subtree is needed, "
                        "docs/rootless.md)",
                        ask[i].flag, why);
      if (!available (dir, ask[i].controller))
        return err_set (err, 0,
                        "%s: the delegated cgroup '%s' has no '%s' "
                        "controller (its parent's cgroup.subtree_control "
                        "must enable it, docs/rootless.md)",
                        ask[i].flag, dir, ask[i].controller);
    }
  return 0;
}

int
rt_cgroup_rootless_check (const struct rt_limits *l, struct err **err)
{
  const char *why = NULL, *dir = rt_cgroup_delegated (&why);
  if (rt_cgroup_limits_check (dir, why, l, err) < 0)
    return -1;
  if (!dir)
    rt_rootless_warn_once ("cgroup",
                           "rootless: containers run without resource "
                           "limits (no delegated cgroup v2 subtree, "
                           "docs/rootless.md)");
  return 0;
}
