/* --pid, --ipc and --network container:ID (plan.h): the runtime's side of
 * joining another container's namespaces, through the fds the container
 * service opened for the start (service/join.c). */
#ifndef IMGTOOL_JOIN_H
#define IMGTOOL_JOIN_H

#include "runtime/plan.h"

struct err;

/* Before clone: with --pid container:ID, make the caller's children be
 * born in that pid namespace (*own keeps the caller's own, -1 when
 * nothing was changed). rt_join_pid_after turns it back. */
int rt_join_pid_before (const struct rt_plan *p, int *own, struct err **err);
void rt_join_pid_after (int *own);

/* In the child, first: setns into the IPC and network namespaces to
 * share. */
int rt_join_in_child (const struct rt_plan *p, struct err **err);

#endif
