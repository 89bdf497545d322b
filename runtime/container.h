/* The runtime core: one plan in, one container process out, its exit
 * status back (DESIGN.md). `run`, `exec` and the builder's RUN steps call
 * these; nothing else in imgtool clones, mounts or pivots.
 *
 * Life of a container:
 *   rt_start ─► (parent) cgroup created + limits written, clone3 into new
 *               namespaces, child waits on a sync socket; parent puts it in
 *               the cgroup, attaches plan->net, says "go"
 *            ─► (child) rootfs, /proc /dev /sys, masks, hostname, user,
 *               caps, no_new_privs, seccomp, close_range, exec
 *   rt_wait  ─► forwards signals, reaps, returns docker's exit status,
 *               removes the cgroup (mounts die with the mount namespace)
 *
 * Exit statuses as docker: the process's own; 128+N when killed by signal
 * N; 127 command not found; 126 not executable; 125 imgtool failed to set
 * the container up (then *err says why, in one line, and err->exit is set
 * to the status). */
#ifndef IMGTOOL_CONTAINER_H
#define IMGTOOL_CONTAINER_H

#include <stdbool.h>
#include <sys/types.h>

#include "runtime/plan.h"

struct err;
struct rt_cgroup;

/* The container process's stdio. Each fd is dup'ed into 0/1/2 of the
 * container; -1 means /dev/null. With plan->tty, in/out/err are ignored:
 * the core opens a pty in the container's own devpts, its slave becomes
 * 0, 1, 2, the controlling terminal and /dev/console, and the master comes
 * back in rt_container.console; the pty starts with the window size of
 * the terminal winsize_from (-1: none). The caller keeps its fds. */
struct rt_stdio
{
  int in;
  int out;
  int err;
  int winsize_from; /* with plan->tty: the user's terminal, or -1 */
};
#define RT_STDIO_INIT                                                          \
  {                                                                            \
    .in = 0, .out = 1, .err = 2, .winsize_from = -1                            \
  }

/* A started container. Filled by rt_start, released by rt_wait (or
 * rt_container_release if the caller gives up on it). */
struct rt_container
{
  pid_t pid; /* the container's PID 1, in the caller's pid ns */
  int pidfd; /* pidfd of pid (O_CLOEXEC); signals go through it */
  char *id;  /* copy of plan->id */
  struct rt_cgroup *cgroup; /* opaque; NULL if none */
  bool reaped;              /* rt_wait has collected the exit status */
  int console;              /* with plan->tty: the pty master (O_CLOEXEC),
                               else -1; closed by rt_container_release */
};

/* Start the container: returns once the process has been exec'd (or
 * failed to). On failure nothing is left behind (no process, no cgroup).
 * Its PID 1 has the parent-death signal SIGKILL: the container dies with
 * the thread that calls rt_start (keep that thread alive while it runs).
 * The container starts with no signal blocked and every disposition the
 * default, whatever the caller's: block the signals you forward (and
 * open their signalfd) before rt_start, so none is lost or kills the
 * caller while the container is unwatched. */
int rt_start (const struct rt_plan *p, const struct rt_stdio *io,
              struct rt_container *out, struct err **err);

/* Wait for it, forwarding SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1,
 * SIGUSR2 and SIGWINCH from the caller to the container's PID 1; returns
 * the exit status as docker reports it (128+N for signal N) in *status.
 * Cleans up the cgroup. Releases *c. */
int rt_wait (struct rt_container *c, int *status, struct err **err);

/* rt_start + rt_wait. */
int rt_run (const struct rt_plan *p, const struct rt_stdio *io, int *status,
            struct err **err);

/* Send sig to the container's PID 1 (through its pidfd). */
int rt_kill (struct rt_container *c, int sig, struct err **err);

/* Free what rt_start allocated, without waiting (the process, if any, is
 * left running; its cgroup stays until rt_cleanup). */
void rt_container_release (struct rt_container *c);

/* exec: start p->argv (env, cwd, user, caps, seccomp, no_new_privs and
 * tty from p; rootfs fields ignored) inside the running container whose
 * PID 1 is target (a pid in the caller's pid ns): joins every namespace of
 * target, its cgroup(s), then the same seccomp and capabilities. With
 * p->tty the pty comes from the container's devpts (out->console), as
 * for rt_start. Fills out like rt_start (no cgroup of its own, no id);
 * wait for it with rt_wait. */
int rt_exec_start (pid_t target, const struct rt_plan *p,
                   const struct rt_stdio *io, struct rt_container *out,
                   struct err **err);

/* rt_exec_start + rt_wait: returns the docker exit status. */
int rt_exec (pid_t target, const struct rt_plan *p, const struct rt_stdio *io,
             int *status, struct err **err);

/* Remove what a dead container may have left: its cgroup(s) (killing any
 * straggler in them first). Mounts live in the container's own mount
 * namespace and vanish with it; nothing is mounted on the host.
 * cgroup_parent NULL = "imgtool". A container that never existed is fine. */
int rt_cleanup (const char *id, const char *cgroup_parent, struct err **err);

struct stat;
/* Is this entry of a container's upper dir (dirfd/name, tar path path
 * such as "etc/hosts", its lstat st) only a mount point the runtime made
 * (/dev, /proc, /sys, the empty /etc files it binds its own over), not a
 * change of the container's? lower_dirs: the plan's (char *const *), or
 * NULL. A commit and a RUN step leave these out of their layer: this is
 * their struct layer_diff_skip's fn (layers/diff.h). */
bool rt_rootfs_made_by_runtime (void *lower_dirs, int dirfd, const char *name,
                                const char *path, const struct stat *st);

/* CVE-2019-5736: re-exec the current program from a sealed memfd copy so
 * that /proc/self/exe of every imgtool process that enters a container
 * refers to a read-only, unlinkable copy instead of the host binary. Call
 * first thing in main() for commands that start containers (run, exec,
 * build, start). Returns 0 if already sealed; otherwise does not return
 * unless it failed. */
int rt_seal_self (char **argv, struct err **err);

/* True when /proc/self/exe is a sealed memfd (rt_seal_self has run). */
bool rt_self_sealed (void);

#endif
