/* cgroups for one container: v1 (one directory per controller hierarchy)
 * or v2 (one unified directory), detected from the filesystem at the
 * cgroup root. Internal to runtime/ (and its unit test).
 *
 * A container's cgroup is <root>/<parent>/<id> (v2) or
 * <root>/<controller>/<parent>/<id> (v1), absolute in each hierarchy like
 * docker's cgroupfs driver. Limits are computed first as a list of
 * (controller, file, value) settings, then written: the list is what the
 * unit test checks without a kernel. */
#ifndef IMGTOOL_CGROUP_H
#define IMGTOOL_CGROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "runtime/plan.h"

struct err;

#define RT_CGROUP_ROOT "/sys/fs/cgroup"

enum rt_cgroup_mode
{
  RT_CGROUP_NONE, /* no cgroup filesystem we can use */
  RT_CGROUP_V1,   /* tmpfs at the root, one hierarchy per controller */
  RT_CGROUP_V2,   /* cgroup2 at the root */
};

struct rt_cgroup_setting
{
  const char *controller; /* v1 hierarchy dir / v2 controller name */
  const char *file;
  char value[48];
  bool optional; /* skip silently when the file does not exist */
};

#define RT_CGROUP_MAX_SETTINGS 32
#define RT_CGROUP_V1_MAX 8 /* hierarchies a container may join */

struct rt_cgroup
{
  enum rt_cgroup_mode mode;
  char *root; /* RT_CGROUP_ROOT, or a test's fake root */
  char *path; /* "<parent>/<id>" */
  int fd;     /* v2: the cgroup directory, for CLONE_INTO_CGROUP; else -1 */
  bool created;
  /* v1: the tasks file of each hierarchy joined (rt_cgroup_join_open) */
  int tasks_fd[RT_CGROUP_V1_MAX];
  size_t n_tasks;
};

/* What kind of cgroup filesystem is mounted at root (statfs magic). */
int rt_cgroup_detect (const char *root, enum rt_cgroup_mode *mode,
                      struct err **err);

/* Check l and turn it into the files to write for mode. */
int rt_cgroup_settings (enum rt_cgroup_mode mode, const struct rt_limits *l,
                        struct rt_cgroup_setting *out, size_t *n,
                        struct err **err);

/* cpu.shares (v1, 2..262144) to cpu.weight (v2, 1..10000), with the
 * formula runc and crun use since 2025 (1024 -> 100). 0 stays 0 (unset). */
uint64_t rt_cgroup_shares_to_weight (uint64_t shares);

struct rt_cgroup *rt_cgroup_new (const char *root, enum rt_cgroup_mode mode,
                                 const char *parent, const char *id);
void rt_cgroup_free (struct rt_cgroup *cg);

/* Create the cgroup directories, write the limits and apply the device
 * rules (rt_device_rules: v1 devices.deny/allow, v2 a device program).
 * On failure the directories made are removed again. */
int rt_cgroup_create (struct rt_cgroup *cg, const struct rt_limits *l,
                      const struct rt_device_rule *rules, size_t n_rules,
                      struct err **err);
/* How a container's process enters its cgroup. v2: CLONE_INTO_CGROUP
 * with cg->fd. v1: the process moves itself, first thing after the clone,
 * by writing "0" to the tasks file of every hierarchy (rt_cgroup_join_self).
 * Why not the parent writing its pid to cgroup.procs: moving a thread
 * group takes the writer side of the kernel's global
 * cgroup_threadgroup_rwsem, which waits for an RCU grace period (5-15 ms
 * at HZ=250, more than everything else a start does); a thread moving
 * itself skips that lock (Linux >= 5.5, "cgroup: Optimize single thread
 * migration"). The process is one thread right after clone, so moving the
 * thread moves the process, before any of its code runs.
 *
 * rt_cgroup_join_open opens the tasks files before the clone (the child
 * inherits them); rt_cgroup_join_close closes them (the parent after the
 * clone, the child after joining). Nothing to do on v2 or without
 * cgroups. */
int rt_cgroup_join_open (struct rt_cgroup *cg, struct err **err);
int rt_cgroup_join_self (const struct rt_cgroup *cg, struct err **err);
void rt_cgroup_join_close (struct rt_cgroup *cg);

/* Kill what is still inside, then remove the directories. */
int rt_cgroup_destroy (struct rt_cgroup *cg, struct err **err);

/* Move the calling process, which must be a single thread, into every
 * cgroup target is in (for exec). */
int rt_cgroup_join_pid (const char *root, pid_t target, struct err **err);

/* Version-specific halves (cgroup_v1.c, cgroup_v2.c). */
int rt_cgroup_v1_settings (const struct rt_limits *l,
                           struct rt_cgroup_setting *out, size_t *n,
                           struct err **err);
int rt_cgroup_v2_settings (const struct rt_limits *l,
                           struct rt_cgroup_setting *out, size_t *n,
                           struct err **err);
int rt_cgroup_v1_create (struct rt_cgroup *cg,
                         const struct rt_cgroup_setting *s, size_t n,
                         const struct rt_device_rule *rules, size_t n_rules,
                         struct err **err);
int rt_cgroup_v2_create (struct rt_cgroup *cg,
                         const struct rt_cgroup_setting *s, size_t n,
                         const struct rt_device_rule *rules, size_t n_rules,
                         struct err **err);
int rt_cgroup_v1_join_open (struct rt_cgroup *cg, struct err **err);
int rt_cgroup_v1_destroy (struct rt_cgroup *cg, struct err **err);
int rt_cgroup_v2_destroy (struct rt_cgroup *cg, struct err **err);

/* Shared helpers (cgroup.c). */
int rt_cgroup_write (int dirfd, const char *file, const char *value,
                     bool optional, struct err **err);
/* rmdir dirfd/path, killing its processes and retrying while busy. */
int rt_cgroup_rmdir (int dirfd, const char *path, struct err **err);
void rt_cgroup_add_setting (struct rt_cgroup_setting *out, size_t *n,
                            const char *controller, const char *file,
                            bool optional, const char *fmt, ...)
    __attribute__ ((format (printf, 6, 7)));

/* The v1 hierarchies a container joins, in order. */
extern const char *const rt_cgroup_v1_controllers[];

#endif
