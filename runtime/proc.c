/* Process identity (proc.h). */
#include "runtime/proc.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/xalloc.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

uint64_t
rt_proc_start (pid_t pid)
{
  char path[64], buf[1024];
  _cleanup_close_ int fd = -1;
  ssize_t n;
  char *p;
  if (pid <= 0)
    return 0;
  snprintf (path, sizeof path, "/proc/%d/stat", (int)pid);
  fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return 0;
  n = fs_read_full (fd, buf, sizeof buf - 1);
  if (n <= 0)
    return 0;
  buf[n] = '\0';
  /* comm may hold spaces and parentheses: fields start after the last ')' */
  p = strrchr (buf, ')');
  if (!p)
    return 0;
  p++;
  if (p[0] == ' ' && (p[1] == 'Z' || p[1] == 'X'))
    return 0;
  for (int field = 3; field < 22; field++)
    {
      p = strchr (p + 1, ' ');
      if (!p)
        return 0;
    }
  return strtoull (p + 1, NULL, 10);
}

bool
rt_proc_same (pid_t pid, uint64_t start)
{
  uint64_t now = rt_proc_start (pid);
  return now && now == start;
}

char *
rt_boot_id (void)
{
  char *s = NULL;
  struct err *e = NULL;
  if (fs_read_file (AT_FDCWD, "/proc/sys/kernel/random/boot_id", 128, &s, NULL,
                    &e)
      < 0)
    {
      err_free (e);
      return xstrdup ("");
    }
  s[strcspn (s, "\n")] = '\0';
  return s;
}
