/* What a container's monitor uses: signal names, OOM accounting, and the
 * log file (stop, kill and the rest are service/service.h's). */
#ifndef IMGTOOL_LIFECYCLE_H
#define IMGTOOL_LIFECYCLE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <time.h>

struct err;

/* "SIGTERM", "TERM", "term", "15" -> 15. Unknown: invalid signal 'x'. */
int rt_signal_parse (const char *s, int *sig, struct err **err);

/* OOM kills in a container's memory cgroup (struct rt_container's): open
 * it after rt_start, read the count before rt_wait removes the cgroup.
 * -1 when unknown. */
struct rt_cgroup;
int rt_oom_open (const struct rt_cgroup *cg);
long rt_oom_count (int cgroup_fd);

/* The log of a detached container, in the CRI format (one record a line):
 *   2024-05-01T10:00:00.123456789Z stdout F a whole line
 *   2024-05-01T10:00:00.123456789Z stderr P part of a longer line
 * F ends a line (its newline is not stored), P is a part without one. */
struct rt_log;
struct rt_log *rt_log_open (const char *path, struct err **err);
void rt_log_write (struct rt_log *l, int stream, const char *buf, size_t len);
/* Flush partial lines and close. */
void rt_log_close (struct rt_log *l);

/* Parse one record line (without its '\n'). Returns false if it is not
 * one. *text points into line. */
bool rt_log_parse (char *line, const char **time, int *stream, bool *partial,
                   const char **text, size_t *len);

#endif
