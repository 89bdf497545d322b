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
