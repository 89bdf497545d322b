/* What a container's monitor uses: signal names and OOM accounting (the
 * log file is logfile.h's; stop, kill and the rest are
 * service/service.h's). */
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

#endif
