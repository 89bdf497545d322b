/* Process identity: a pid is only a name until it is checked against the
 * start time (and the boot) recorded with it; pids are reused. */
#ifndef IMGTOOL_PROC_H
#define IMGTOOL_PROC_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* Start time of pid in clock ticks since boot (/proc/<pid>/stat field
 * 22), 0 if it is not there or a zombie (a zombie has left its
 * namespaces; its parent, a killed monitor's PID 1, may never reap it). */
uint64_t rt_proc_start (pid_t pid);

/* pid is alive and still the same process (start time matches). */
bool rt_proc_same (pid_t pid, uint64_t start);

/* This boot's id (/proc/sys/kernel/random/boot_id), "" if unknown;
 * allocated. */
char *rt_boot_id (void);

#endif
