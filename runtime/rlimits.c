/* --ulimit: see rlimits.h. */
#include "runtime/rlimits.h"
#include "lib/err.h"
#include "lib/xalloc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

static const struct
{
  const char *name;
  int resource;
} names[] = {
  { "core", RLIMIT_CORE },         { "cpu", RLIMIT_CPU },
  { "data", RLIMIT_DATA },         { "fsize", RLIMIT_FSIZE },
  { "locks", RLIMIT_LOCKS },       { "memlock", RLIMIT_MEMLOCK },
  { "msgqueue", RLIMIT_MSGQUEUE }, { "nice", RLIMIT_NICE },
  { "nofile", RLIMIT_NOFILE },     { "nproc", RLIMIT_NPROC },
  { "rss", RLIMIT_RSS },           { "rtprio", RLIMIT_RTPRIO },
  { "rttime", RLIMIT_RTTIME },     { "sigpending", RLIMIT_SIGPENDING },
  { "stack", RLIMIT_STACK },
};

static bool
parse_value (const char *s, size_t n, uint64_t *out)
{
  char buf[32], *end;
  if (n == 0 || n >= sizeof buf)
    return false;
  memcpy (buf, s, n);
  buf[n] = '\0';
  if (!strcmp (buf, "-1") || !strcmp (buf, "unlimited"))
    {
      *out = RLIM_INFINITY;
      return true;
    }
  errno = 0;
  unsigned long long v = strtoull (buf, &end, 10);
  if (*end || errno || buf[0] == '-')
    return false;
  *out = v;
  return true;
}

int
rt_rlimit_parse (const char *s, struct rt_rlimit *out, struct err **err)
{
  const char *eq = strchr (s, '=');
  size_t i;
  for (i = 0; eq && i < ARRAY_SIZE (names); i++)
    if (strlen (names[i].name) == (size_t)(eq - s)
        && !strncmp (s, names[i].name, (size_t)(eq - s)))
      break;
  if (!eq || i == ARRAY_SIZE (names))
    return err_set (err, 0, "invalid ulimit '%s': use NAME=SOFT[:HARD]", s);
  const char *v = eq + 1, *colon = strchr (v, ':');
  out->resource = names[i].resource;
  if (!parse_value (v, colon ? (size_t)(colon - v) : strlen (v), &out->soft)
      || !parse_value (colon ? colon + 1 : v,
                       colon ? strlen (colon + 1) : strlen (v), &out->hard))
    return err_set (err, 0, "invalid ulimit '%s': use NAME=SOFT[:HARD]", s);
  if (out->soft > out->hard)
    return err_set (err, 0, "invalid ulimit '%s': soft limit above hard", s);
  return 0;
}

void
rt_rlimit_add (struct rt_plan *p, const struct rt_rlimit *l)
{
  for (size_t i = 0; i < p->n_rlimits; i++)
    if (p->rlimits[i].resource == l->resource)
      {
        p->rlimits[i] = *l;
        return;
      }
  p->rlimits = xrealloc (p->rlimits, (p->n_rlimits + 1) * sizeof *p->rlimits);
  p->rlimits[p->n_rlimits++] = *l;
}

int
rt_rlimits_apply (const struct rt_plan *p, struct err **err)
{
  for (size_t i = 0; i < p->n_rlimits; i++)
    {
      struct rlimit r
          = { .rlim_cur = p->rlimits[i].soft, .rlim_max = p->rlimits[i].hard };
      if (setrlimit (p->rlimits[i].resource, &r) < 0)
        return err_set (err, errno, "set ulimit %d", p->rlimits[i].resource);
    }
  return 0;
}
