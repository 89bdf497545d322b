/* --sysctl: checked as docker checks it when run parses its options, and
 * applied by the container's init before it runs anything. */
#ifndef IMGTOOL_SYSCTL_H
#define IMGTOOL_SYSCTL_H

#include <stdbool.h>

#include "runtime/plan.h"

struct err;

/* "key=value" as docker's ValidateSysctl and runc allow it: the
 * namespaced sysctls only (kernel.msg*, kernel.sem, kernel.shm*,
 * fs.mqueue.*, net.*, kernel.domainname), net.* not with the host's
 * network, the IPC ones not with the host's IPC. Exit 125. */
int rt_sysctl_check (const char *kv, enum rt_network_mode net, bool host_ipc,
                     struct err **err);

/* In the container's init, before pivot_root: each of p's sysctls
 * written through /proc/sys (which shows the writer's own namespaces). */
int rt_sysctls_apply (const struct rt_plan *p, struct err **err);

#endif
