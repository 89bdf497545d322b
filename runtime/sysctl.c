/* --sysctl (sysctl.h). */
#include "runtime/sysctl.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
rt_sysctls_apply (const struct rt_plan *p, struct err **err)
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
  return 0;
}
