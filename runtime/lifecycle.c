/* Signal names and OOM counts. */
#include "runtime/lifecycle.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/strbuf.h"
#include "lib/xalloc.h"
#include "runtime/cgroup.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/syscall.h>
#include <unistd.h>

int
rt_signal_parse (const char *s, int *sig, struct err **err)
{
  const char *name = s;
  char *end;
  long n;
  if (!strncasecmp (name, "SIG", 3))
    name += 3;
  n = strtol (s, &end, 10);
  if (*s && !*end)
    {
      if (n > 0 && n < NSIG)
        {
          *sig = (int)n;
          return 0;
        }
    }
  else
    for (int i = 1; i < NSIG; i++)
      {
        const char *abbrev = sigabbrev_np (i);
        if (abbrev && !strcasecmp (abbrev, name))
          {
            *sig = i;
            return 0;
          }
      }
  err_set (err, 0, "invalid signal '%s'", s);
  return err_exit (err, 125);
}

int
rt_oom_open (const struct rt_cgroup *cg)
{
  _cleanup_free_ char *dir = NULL;
  if (!cg || !cg->path)
    return -1;
  if (cg->mode == RT_CGROUP_V1)
    dir = xasprintf ("%s/memory/%s", cg->root, cg->path);
  else if (cg->mode == RT_CGROUP_V2)
    dir = xasprintf ("%s/%s", cg->root, cg->path);
  else
    return -1;
  return open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

long
rt_oom_count (int cgroup_fd)
{
  static const char *const files[] = { "memory.oom_control", "memory.events" };
  if (cgroup_fd < 0)
    return -1;
  for (size_t i = 0; i < ARRAY_SIZE (files); i++)
    {
      _cleanup_free_ char *buf = NULL;
      struct err *e = NULL;
      char *p;
      if (fs_read_file (cgroup_fd, files[i], 65536, &buf, NULL, &e) < 0)
        {
          err_free (e);
          continue;
        }
      if ((p = strstr (buf, "oom_kill ")))
        return strtol (p + 9, NULL, 10);
    }
  return -1;
}
