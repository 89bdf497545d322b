/* Resource limits of a container's process (--ulimit): docker's
 * NAME=SOFT[:HARD] spelling, set with setrlimit before exec. */
#ifndef IMGTOOL_RLIMITS_H
#define IMGTOOL_RLIMITS_H

#include "runtime/plan.h"

struct err;

/* "nofile=1024:2048", "nproc=100" (hard = soft), -1 = unlimited. Names:
 * core cpu data fsize locks memlock msgqueue nice nofile nproc rss rtprio
 * rttime sigpending stack. */
int rt_rlimit_parse (const char *s, struct rt_rlimit *out, struct err **err);
/* Add or replace (same resource) in the plan. */
void rt_rlimit_add (struct rt_plan *p, const struct rt_rlimit *l);
/* In the child, before the switch to the container's user. */
int rt_rlimits_apply (const struct rt_plan *p, struct err **err);

#endif
