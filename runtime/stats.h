/* A running container's resource use as docker stats reads it (moby
 * daemon/stats_unix.go): CPU time, memory, block I/O and pids from its
 * cgroup (v1 or v2), network bytes from its network namespace, and the
 * host's CPU time from /proc/stat. */
#ifndef IMGTOOL_STATS_H
#define IMGTOOL_STATS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct rt_stats
{
  bool cgroup; /* the cgroup numbers below were read */
  uint64_t cpu_ns;
  uint64_t mem_usage; /* without the inactive file cache (docker's) */
  uint64_t mem_limit; /* 0: none (the host's memory then) */
  uint64_t pids;
  uint64_t blk_read, blk_write;
  bool net; /* the network numbers were read */
  uint64_t net_rx, net_tx;
};

/* The container id's cgroup (under parent, NULL "imgtool") in the cgroup
 * filesystem at cgroup_root (RT_CGROUP_ROOT, or a test's fake tree), and
 * the network of the namespace pid is in (pid <= 0: none). */
void rt_stats_read (const char *cgroup_root, const char *parent, const char *id,
                    pid_t pid, struct rt_stats *out);

/* The two halves, for a cgroup at a given place (unit tests use a fake
 * tree): v2's cgroup directory; v1's root and "<parent>/<id>". The
 * memory numbers are left alone (memset first) when unreadable. */
void rt_stats_read_v2 (const char *dir, struct rt_stats *out);
void rt_stats_read_v1 (const char *root, const char *path,
                       struct rt_stats *out);

/* The host's CPU time in ns (the first 7 fields of /proc/stat's cpu line,
 * at 100 ticks a second as docker counts) and its online CPUs. */
int rt_stats_system (uint64_t *cpu_ns, unsigned *ncpu);
/* The host's memory (MemTotal) in bytes, 0 if unknown. */
uint64_t rt_stats_host_memory (void);

#endif
