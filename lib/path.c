#include "lib/path.h"
#include "lib/xalloc.h"

#include <stdbool.h>
#include <string.h>

char *
path_clean (const char *p)
{
  size_t n = strlen (p);
  if (n == 0)
    return xstrdup (".");
  bool rooted = p[0] == '/';
  char *out = xmalloc (n + 2);
  size_t w = 0, r = 0, dotdot = 0; /* dotdot: where ".." may backtrack to */
  if (rooted)
    {
      out[w++] = '/';
      r = dotdot = 1;
    }
  while (r < n)
    {
      if (p[r] == '/')
        r++;
      else if (p[r] == '.' && (r + 1 == n || p[r + 1] == '/'))
        r++;
      else if (p[r] == '.' && p[r + 1] == '.'
               && (r + 2 == n || p[r + 2] == '/'))
        {
          r += 2;
          if (w > dotdot)
            {
              w--;
              while (w > dotdot && out[w] != '/')
                w--;
            }
          else if (!rooted)
            {
              if (w > 0)
                out[w++] = '/';
              out[w++] = '.';
              out[w++] = '.';
              dotdot = w;
            }
        }
      else
        {
          if ((rooted && w != 1) || (!rooted && w != 0))
            out[w++] = '/';
          for (; r < n && p[r] != '/'; r++)
            out[w++] = p[r];
        }
    }
  if (w == 0)
    out[w++] = '.';
  out[w] = '\0';
  return out;
}
