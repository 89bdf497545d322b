#include "lib/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>

enum log_level log_level = LOG_WARN;

static double
now_ms (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static double clock_base_ms;

void
log_start_clock (void)
{
  clock_base_ms = now_ms ();
}

static void
vlog (enum log_level level, const char *prefix, const char *fmt, va_list ap)
{
  if (log_level < level)
    return;
  /* One fprintf per line so lines of concurrent threads do not interleave. */
  char line[4096];
  vsnprintf (line, sizeof line, fmt, ap);
  fprintf (stderr, "imgtool: %s%s\n", prefix, line);
}

void
log_warn (const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  vlog (LOG_WARN, "warning: ", fmt, ap);
  va_end (ap);
}

void
log_info (const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  vlog (LOG_INFO, "", fmt, ap);
  va_end (ap);
}

void
log_debug (const char *fmt, ...)
{
  va_list ap;
  char prefix[48];
  if (log_level < LOG_DEBUG)
    return;
  /* the time since main() began: where a command spends its time */
  snprintf (prefix, sizeof prefix, "debug: +%.2fms ",
            now_ms () - clock_base_ms);
  va_start (ap, fmt);
  vlog (LOG_DEBUG, prefix, fmt, ap);
  va_end (ap);
}
