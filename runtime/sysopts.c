/* --ulimit and --sysctl (sysopts.h). */
#include "runtime/sysopts.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const struct
{
  const char *name;
  int resource;
} ulimit_names[] = {
  { "core", RLIMIT_CORE },         { "cpu", RLIMIT_CPU },
  { "data", RLIMIT_DATA },         { "fsize", RLIMIT_FSIZE },
  { "locks", RLIMIT_LOCKS },       { "memlock", RLIMIT_MEMLOCK },
  { "msgqueue", RLIMIT_MSGQUEUE }, { "nice", RLIMIT_NICE },
  { "nofile", RLIMIT_NOFILE },     { "nproc", RLIMIT_NPROC },
  { "rss", RLIMIT_RSS },           { "rtprio", RLIMIT_RTPRIO },
  { "rttime", RLIMIT_RTTIME },     { "sigpending", RLIMIT_SIGPENDING },
  { "stack", RLIMIT_STACK },
};

static int
limit_value (const char *s, size_t len, rlim_t *out)
{
  char buf[32], *end;
  long long v;
  if (!len || len >= sizeof buf)
    return -1;
  memcpy (buf, s, len);
  buf[len] = '\0';
  if (!strcmp (buf, "unlimited") || !strcmp (buf, "-1"))
    {
      *out = RLIM_INFINITY;
      return 0;
    }
  errno = 0;
  v = strtoll (buf, &end, 10);
  if (errno || *end || v < 0 || buf[0] == '-' || buf[0] == '+')
    return -1;
  *out = (rlim_t)v;
  return 0;
}

int
rt_ulimit_parse (const char *spec, int *resource, struct rlimit *lim,
                 struct err **err)
{
  const char *eq = strchr (spec, '='), *colon;
  size_t i, n;
  if (!eq)
    {
      err_set (err, 0,
               "invalid ulimit argument: '%s': expected NAME=SOFT[:HARD]",
               spec);
      return err_exit (err, 125);
    }
  n = (size_t)(eq - spec);
  for (i = 0; i < sizeof ulimit_names / sizeof *ulimit_names; i++)
    if (strlen (ulimit_names[i].name) == n
        && !strncmp (ulimit_names[i].name, spec, n))
      break;
  if (i == sizeof ulimit_names / sizeof *ulimit_names)
    {
      err_set (err, 0, "invalid ulimit type: '%.*s'", (int)n, spec);
      return err_exit (err, 125);
    }
  *resource = ulimit_names[i].resource;
  colon = strchr (eq + 1, ':');
  if (limit_value (eq + 1, colon ? (size_t)(colon - eq - 1) : strlen (eq + 1),
                   &lim->rlim_cur)
          < 0
      || (colon
          && limit_value (colon + 1, strlen (colon + 1), &lim->rlim_max) < 0))
    {
      err_set (err, 0,
               "invalid ulimit argument: '%s': the limits must be "
               "numbers, -1 or unlimited",
               spec);
      return err_exit (err, 125);
    }
  if (!colon)
    lim->rlim_max = lim->rlim_cur;
  if (lim->rlim_cur > lim->rlim_max)
    {
      err_set (err, 0,
               "ulimit soft limit must be less than or equal to hard limit: "
               "'%s'",
               spec);
      return err_exit (err, 125);
    }
  return 0;
}

/* The IPC namespace's sysctls (docker's validation list). */
static bool
ipc_sysctl (const char *key, size_t n)
{
  static const char *const keys[]
      = { "kernel.msgmax", "kernel.msgmnb",         "kernel.msgmni",
          "kernel.sem",    "kernel.shmall",         "kernel.shmmax",
          "kernel.shmmni", "kernel.shm_rmid_forced" };
  for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
    if (strlen (keys[i]) == n && !strncmp (keys[i], key, n))
      return true;
  return n > 10 && !strncmp (key, "fs.mqueue.", 10);
}

int
rt_sysctl_check (const char *kv, enum rt_network_mode net, bool host_ipc,
                 struct err **err)
{
  const char *eq = strchr (kv, '=');
  size_t n = eq ? (size_t)(eq - kv) : 0;
  if (!eq || !n || strchr (kv, '/') || strstr (kv, ".."))
    {
      err_set (err, 0, "invalid --sysctl '%s': expected KEY=VALUE", kv);
      return err_exit (err, 125);
    }
  if (ipc_sysctl (kv, n))
    {
      if (host_ipc)
        {
          err_set (err, 0,
                   "sysctl '%.*s' is not allowed in the host's IPC "
                   "namespace",
                   (int)n, kv);
          return err_exit (err, 125);
        }
      return 0;
    }
  if (n > 4 && !strncmp (kv, "net.", 4))
    {
      if (net == RT_NET_HOST)
        {
          err_set (err, 0,
                   "sysctl '%.*s' is not allowed in the host's "
                   "network namespace",
                   (int)n, kv);
          return err_exit (err, 125);
        }
      return 0;
    }
  if (n == 17 && !strncmp (kv, "kernel.domainname", 17))
    return 0;
  err_set (err, 0,
           "sysctl '%.*s' is not allowed: only namespaced sysctls "
           "(kernel.msg*, kernel.sem, kernel.shm*, fs.mqueue.*, net.*, "
           "kernel.domainname) can be set for a container",
           (int)n, kv);
  return err_exit (err, 125);
}

int
rt_sysopts_apply (const struct rt_plan *p, struct err **err)
{
  for (char **s = p->sysctls; s && *s; s++)
    {
      const char *eq = strchr (*s, '=');
      _cleanup_free_ char *path = NULL;
      _cleanup_close_ int fd = -1;
      size_t len;
      if (!eq)
        continue;
      path = xasprintf ("/proc/sys/%.*s", (int)(eq - *s), *s);
      for (char *c = path + 10; *c; c++)
        if (*c == '.')
          *c = '/';
      fd = open (path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
      len = strlen (eq + 1);
      if (fd < 0 || fs_write_all (fd, eq + 1, len) < 0)
        return err_set (err, errno, "set sysctl '%.*s'", (int)(eq - *s), *s);
    }
  for (char **u = p->ulimits; u && *u; u++)
    {
      int res;
      struct rlimit lim;
      if (rt_ulimit_parse (*u, &res, &lim, err) < 0)
        return -1;
      if (setrlimit ((__rlimit_resource_t)res, &lim) < 0)
        return err_set (err, errno, "set ulimit '%s'", *u);
    }
  return 0;
}
