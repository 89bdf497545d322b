/* Diagnostics on stderr. Errors are not logged here: they travel up as
 * struct err and cmd/main.c prints them once. This is for warnings (a
 * degraded but working path) and -v/--debug tracing. */
#ifndef IMGTOOL_LOG_H
#define IMGTOOL_LOG_H

enum log_level
{
  LOG_QUIET = 0, /* warnings suppressed too (-q does not do this) */
  LOG_WARN = 1,  /* default */
  LOG_INFO = 2,  /* -v */
  LOG_DEBUG = 3, /* --debug or IMGTOOL_DEBUG=1 */
};

extern enum log_level log_level;

/* Debug lines carry the milliseconds since this was called (main does). */
void log_start_clock (void);
void log_warn (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));
void log_info (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));
void log_debug (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));

#endif
