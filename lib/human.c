#include "lib/human.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
human_size (int64_t bytes, char *buf, size_t len)
{
  static const char *const units[] = { "B", "kB", "MB", "GB", "TB", "PB" };
  double v = (double)bytes;
  size_t u = 0;
  while (v >= 1000.0 && u + 1 < sizeof units / sizeof units[0])
    {
      v /= 1000.0;
      u++;
    }
  snprintf (buf, len, "%.3g%s", v, units[u]);
}

void
human_ago (time_t then, time_t now, char *buf, size_t len)
{
  long d = (long)(now - then);
  struct
  {
    long limit, unit;
    const char *name;
  } steps[] = {
    { 60 * 60, 60, "minute" },
    { 48 * 3600, 3600, "hour" },
    { 14 * 86400, 86400, "day" },
    { 60 * 86400, 7 * 86400, "week" },
    { 2 * 365 * 86400L, 30 * 86400, "month" },
  };
  if (d < 1)
    snprintf (buf, len, "Less than a second ago");
  else if (d < 60)
    snprintf (buf, len, "%ld second%s ago", d, d == 1 ? "" : "s");
  else if (d < 120)
    snprintf (buf, len, "About a minute ago");
  else
    {
      for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++)
        if (d < steps[i].limit)
          {
            long n = d / steps[i].unit;
            if (n == 1 && steps[i].unit == 3600)
              snprintf (buf, len, "About an hour ago");
            else
              snprintf (buf, len, "%ld %ss ago", n, steps[i].name);
            return;
          }
      snprintf (buf, len, "%ld years ago", d / (365 * 86400L));
    }
}

int
rfc3339_parse (const char *s, time_t *out)
{
  struct tm tm = { 0 };
  const char *p;
  long off = 0;
  if (!s)
    return -1;
  p = strptime (s, "%Y-%m-%dT%H:%M:%S", &tm);
  if (!p)
    return -1;
  if (*p == '.')
    for (p++; *p >= '0' && *p <= '9'; p++)
      ;
  if (*p == '+' || *p == '-')
    {
      int h, m;
      if (sscanf (p + 1, "%2d:%2d", &h, &m) != 2)
        return -1;
      off = (h * 3600L + m * 60L) * (*p == '-' ? -1 : 1);
    }
  else if (*p != 'Z' && *p != 'z')
    return -1;
  *out = timegm (&tm) - off;
  return 0;
}

void
rfc3339_format (time_t t, char *buf, size_t len)
{
  struct tm tm;
  gmtime_r (&t, &tm);
  strftime (buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void
human_time_go (time_t t, char *buf, size_t len)
{
  struct tm tm;
  localtime_r (&t, &tm);
  strftime (buf, len, "%Y-%m-%d %H:%M:%S %z %Z", &tm);
}

int
human_size_parse (const char *s, int64_t *out)
{
  static const char units[] = "kmg";
  const char *u;
  char *end;
  long long v;
  int64_t mul = 1;
  if (!s || !isdigit ((unsigned char)*s))
    return -1;
  errno = 0;
  v = strtoll (s, &end, 10);
  if (errno || v <= 0)
    return -1;
  if (*end && (u = strchr (units, tolower ((unsigned char)*end))))
    {
      for (long i = 0; i <= u - units; i++)
        mul *= 1024;
      end++;
    }
  if (*end && strcmp (end, "b") && strcmp (end, "B")
      && (mul == 1 || (strcmp (end, "iB") && strcmp (end, "ib"))))
    return -1;
  return __builtin_mul_overflow ((int64_t)v, mul, out) ? -1 : 0;
}

int
human_duration_parse (const char *s, int64_t *ns)
{
  static const struct
  {
    const char *unit;
    double ns;
  } units[] = { { "ns", 1 },  { "us", 1e3 }, { "µs", 1e3 },  { "ms", 1e6 },
                { "s", 1e9 }, { "m", 60e9 }, { "h", 3600e9 } };
  double total = 0;
  if (!strcmp (s, "0"))
    {
      *ns = 0;
      return 0;
    }
  if (!*s)
    return -1;
  while (*s)
    {
      char *end;
      size_t best = 0, best_len = 0;
      double v;
      if (!isdigit ((unsigned char)*s) && *s != '.')
        return -1;
      v = strtod (s, &end);
      if (end == s)
        return -1;
      s = end;
      for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        {
          size_t l = strlen (units[i].unit);
          if (!strncmp (s, units[i].unit, l) && l > best_len)
            best = i, best_len = l;
        }
      if (!best_len)
        return -1;
      total += v * units[best].ns;
      s += best_len;
    }
  if (total > 9.2e18)
    return -1;
  *ns = (int64_t)total;
  return 0;
}

/* The nanoseconds of ".123" (at most 9 digits); p after it. */
static int64_t
fraction_ns (const char **p)
{
  int64_t ns = 0, scale = 100000000;
  if (**p != '.')
    return 0;
  for ((*p)++; isdigit ((unsigned char)**p); (*p)++)
    {
      ns += (**p - '0') * scale;
      scale /= 10;
    }
  return ns;
}

int
human_time_parse (const char *s, int64_t now_ns, int64_t *ns)
{
  static const char *const layouts[]
      = { "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d" };
  int64_t d;
  if (!s || !*s)
    return -1;
  if (human_duration_parse (s, &d) == 0 && strcmp (s, "0"))
    {
      *ns = now_ns - d;
      return 0;
    }
  for (size_t i = 0; i < sizeof layouts / sizeof layouts[0]; i++)
    {
      struct tm tm = { 0 };
      const char *p = strptime (s, layouts[i], &tm);
      int64_t frac;
      time_t t;
      if (!p)
        continue;
      frac = i == 0 ? fraction_ns (&p) : 0;
      if (*p == 'Z' || *p == 'z')
        {
          if (p[1])
            continue;
          t = timegm (&tm);
        }
      else if (*p == '+' || *p == '-')
        {
          int h, m, n = 0;
          if (sscanf (p + 1, "%2d:%2d%n", &h, &m, &n) != 2 || p[1 + n])
            continue;
          t = timegm (&tm) - (h * 3600L + m * 60L) * (*p == '-' ? -1 : 1);
        }
      else if (!*p)
        {
          tm.tm_isdst = -1; /* no zone: the local one, as docker's */
          t = mktime (&tm);
        }
      else
        continue;
      /* int64 nanoseconds end in 2262: later is "never" */
      *ns = t > 9000000000 ? INT64_MAX : (int64_t)t * 1000000000 + frac;
      return 0;
    }
  {
    /* Unix seconds[.nanoseconds] */
    const char *p = s;
    char *end;
    long long sec;
    errno = 0;
    sec = strtoll (p, &end, 10);
    if (end == p || errno)
      return -1;
    if (sec > 9000000000 || sec < -9000000000)
      sec = sec > 0 ? 9000000000 : -9000000000;
    p = end;
    d = fraction_ns (&p);
    if (*p)
      return -1;
    *ns = (int64_t)sec * 1000000000 + d;
    return 0;
  }
}
