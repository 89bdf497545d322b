/* Which user namespace this process runs in (lib/userns.h). */
#include "lib/userns.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

bool
userns_map_parse (const char *text, unsigned *lines, unsigned long *ids,
                  bool *identity)
{
  const char *p = text;
  *lines = 0;
  *ids = 0;
  *identity = false;
  while (*p)
    {
      unsigned long in, out, count;
      int used = 0;
      if (sscanf (p, " %lu %lu %lu%n", &in, &out, &count, &used) != 3)
        break;
      p += used;
      (*lines)++;
      *ids += count;
      /* the initial namespace maps all 2^32-1 ids onto themselves */
      *identity = *lines == 1 && in == 0 && out == 0 && count == 4294967295UL;
      while (*p == '\n' || *p == ' ')
        p++;
    }
  return *lines > 0 && !*p;
}

/* 0 initial, 1 a multi-id namespace, 2 a single-id one. Read each time
 * (a few µs): a process changes namespace when it goes rootless. */
static int
kind (void)
{
  char buf[4096];
  unsigned lines;
  unsigned long ids;
  bool identity;
  int fd = open ("/proc/self/uid_map", O_RDONLY | O_CLOEXEC);
  ssize_t n = fd >= 0 ? read (fd, buf, sizeof buf - 1) : -1;
  if (fd >= 0)
    close (fd);
  buf[n > 0 ? n : 0] = '\0';
  if (!userns_map_parse (buf, &lines, &ids, &identity) || identity)
    return 0;
  return ids == 1 ? 2 : 1;
}

bool
userns_active (void)
{
  return kind () != 0;
}

bool
userns_rootless (void)
{
  return geteuid () != 0 || userns_active ();
}

bool
userns_single (void)
{
  return kind () == 2;
}
