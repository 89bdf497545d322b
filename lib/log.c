#include "lib/log.h"

#include <stdarg.h>
#include <stdio.h>

enum log_level log_level = LOG_WARN;

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
  va_start (ap, fmt);
  vlog (LOG_DEBUG, "debug: ", fmt, ap);
  va_end (ap);
}
