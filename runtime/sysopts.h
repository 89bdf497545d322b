/* --ulimit and --sysctl: checked as docker checks them when run parses its
 * options, and applied by the container's init before it runs anything. */
#ifndef IMGTOOL_SYSOPTS_H
#define IMGTOOL_SYSOPTS_H

#include <stdbool.h>
#include <sys/resource.h>

#include "runtime/plan.h"

struct err;

/* "nofile=1024[:2048]" (docker's names: core, cpu, data, fsize, locks,
 * memlock, msgqueue, nice, nofile, nproc, rss, rtprio, rttime,
 * sigpending, stack; -1 or "unlimited" for no limit; hard defaults to
 * soft and may not be below it) -> *resource and *lim. Exit 125. */
int rt_ulimit_parse (const char *spec, int *resource, struct rlimit *lim,
                     struct err **err);

/* "key=value" as docker's ValidateSysctl and runc allow it: the
 * namespaced sysctls only (kernel.msg*, kernel.sem, kernel.shm*,
 * fs.mqueue.*, net.*, kernel.domainname), net.* not with the host's
 * network, the IPC ones not with the host's IPC. Exit 125. */
int rt_sysctl_check (const char *kv, enum rt_network_mode net, bool host_ipc,
                     struct err **err);

/* In the container's init, before pivot_root: each of p's sysctls
 * written through /proc/sys (which shows the writer's own namespaces),
 * and its ulimits set (inherited by the process it execs). */
int rt_sysopts_apply (const struct rt_plan *p, struct err **err);

#endif
