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

struct rt_cgroup
{
  enum rt_cgroup_mode mode;
  char *root; /* RT_CGROUP_ROOT, or a test's fake root */
  char *path; /* "<parent>/<id>" */
  int fd;     /* v2: the cgroup directory, for CLONE_INTO_CGROUP; else -1 */
  bool created;
  pid_t primer; /* v1: the primer process (rt_cgroup_prime), or 0 */
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

/* Create the cgroup directories and write the limits. On failure the
 * directories made are removed again. */
int rt_cgroup_create (struct rt_cgroup *cg, const struct rt_limits *l,
                      struct err **err);
/* Move pid into the cgroup (every hierarchy on v1). */
int rt_cgroup_add (struct rt_cgroup *cg, pid_t pid, struct err **err);

/* cgroup v1: the first move of a process (rt_cgroup_add) takes the
 * writer side of the kernel's cgroup_threadgroup_rwsem, which waits for an
 * RCU grace period (8-15 ms here at HZ=250: more than everything else a
 * start does) unless one just passed. rt_cgroup_prime starts that wait
 * now, in a child process, with a no-op move of that process into the
 * cgroup it is already in, so the wait runs while the caller prepares and
 * clones;
 * the rwsem then stays ready for about a grace period, and the real move
 * does not wait again. Call it after rt_cgroup_create (the primer holds
 * cgroup_mutex, which mkdir needs); rt_cgroup_prime_end reaps the process
 * (rt_cgroup_free does too). Nothing happens on v2, where
 * CLONE_INTO_CGROUP takes no writer lock, or when our own cgroup cannot be
 * found: priming only saves time. */
void rt_cgroup_prime (struct rt_cgroup *cg);
void rt_cgroup_prime_end (struct rt_cgroup *cg);
/* Kill what is still inside, then remove the directories. */
int rt_cgroup_destroy (struct rt_cgroup *cg, struct err **err);

/* Move the calling process into every cgroup target is in (for exec). */
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
                         struct err **err);
int rt_cgroup_v2_create (struct rt_cgroup *cg,
                         const struct rt_cgroup_setting *s, size_t n,
                         struct err **err);
int rt_cgroup_v1_add (struct rt_cgroup *cg, pid_t pid, struct err **err);
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
