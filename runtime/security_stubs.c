/* TEMPORARY: weak stand-ins for branch runtime-security's seccomp.c,
 * caps.c and masks.c, so the runtime core builds and runs until that
 * branch is merged. DELETE THIS FILE when merging runtime-security.
 * No seccomp filter and no capability drop happen here. */
#include "runtime/security.h"

#include <stddef.h>

__attribute__ ((weak)) int
rt_seccomp_install (const struct rt_plan *p, struct err **err)
{
  (void) p;
  (void) err;
  return 0;
}

__attribute__ ((weak)) int
rt_caps_apply (const struct rt_plan *p, struct err **err)
{
  (void) p;
  (void) err;
  return 0;
}

/* TEMPORARY: docker's lists (moby daemon/pkg/oci/defaults.go). */
__attribute__ ((weak)) const char *const rt_masked_paths[] = {
  "/proc/acpi",        "/proc/asound",      "/proc/interrupts",
  "/proc/kcore",       "/proc/keys",        "/proc/latency_stats",
  "/proc/sched_debug", "/proc/scsi",        "/proc/timer_list",
  "/proc/timer_stats", "/sys/devices/virtual/powercap",
  "/sys/firmware",     NULL,
};

__attribute__ ((weak)) const char *const rt_readonly_paths[] = {
  "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
  NULL,
};
