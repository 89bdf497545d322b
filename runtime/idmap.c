/* Subordinate id ranges and the newuidmap arguments (runtime/idmap.h). */
#include "runtime/idmap.h"
#include "lib/err.h"
#include "lib/xalloc.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool
owner_matches (const char *field, const char *name, uint32_t id)
{
  char *end;
  unsigned long v;
  if (name && !strcmp (field, name))
    return true;
  errno = 0;
  v = strtoul (field, &end, 10);
  return *field && !*end && !errno && v == id;
}

static bool
parse_u32 (const char *s, uint32_t *out)
{
  char *end;
  unsigned long long v;
  errno = 0;
  v = strtoull (s, &end, 10);
  if (!*s || *end || errno || v > UINT32_MAX)
    return false;
  *out = (uint32_t)v;
  return true;
}

int
rt_subid_ranges (const char *path, const char *name, uint32_t id,
                 struct rt_idrange **out, struct err **err)
{
  FILE *f = fopen (path, "re");
  char *line = NULL;
  size_t cap = 0, alloc = 0;
  int n = 0;
  *out = NULL;
  if (!f)
    return errno == ENOENT ? 0 : err_set (err, errno, "open '%s'", path);
  while (getline (&line, &cap, f) > 0)
    {
      char *fields[3], *p = line;
      struct rt_idrange r;
      size_t k = 0;
      line[strcspn (line, "\n")] = '\0';
      if (*line == '#' || !*line)
        continue;
      for (; k < 3 && p; k++)
        fields[k] = strsep (&p, ":");
      if (k != 3 || p || !owner_matches (fields[0], name, id)
          || !parse_u32 (fields[1], &r.start)
          || !parse_u32 (fields[2], &r.count) || r.count == 0
          || (uint64_t)r.start + r.count > UINT32_MAX)
        continue;
      /* the own id is already inside id 0: mapping it twice is refused */
      if (id >= r.start && id - r.start < r.count)
        continue;
      *out = xgrow (*out, &alloc, (size_t)n + 1, sizeof **out);
      (*out)[n++] = r;
    }
  free (line);
  fclose (f);
  return n;
}

char **
rt_idmap_argv (const char *prog, int pid, uint32_t own,
               const struct rt_idrange *r, size_t n)
{
  char **v = xcalloc (2 + 3 * (n + 1) + 1, sizeof *v);
  size_t k = 0;
  uint64_t inside = 1;
  v[k++] = xstrdup (prog);
  v[k++] = xasprintf ("%d", pid);
  v[k++] = xstrdup ("0");
  v[k++] = xasprintf ("%" PRIu32, own);
  v[k++] = xstrdup ("1");
  for (size_t i = 0; i < n; i++)
    {
      v[k++] = xasprintf ("%" PRIu64, inside);
      v[k++] = xasprintf ("%" PRIu32, r[i].start);
      v[k++] = xasprintf ("%" PRIu32, r[i].count);
      inside += r[i].count;
    }
  return v;
}
