/* Internal to runtime/: the steps the container's child runs between
 * clone and exec, one file each (rootfs.c, mounts.c, dev.c, ns.c,
 * process.c). All paths inside the new root are resolved fd-relative
 * with openat2(RESOLVE_IN_ROOT) so an image's symlinks cannot point a
 * mount at the host (CVE-2021-30465, CVE-2026-41579). */
#ifndef IMGTOOL_CHILD_H
#define IMGTOOL_CHILD_H

#include <stdbool.h>
#include <sys/types.h>

struct rt_plan;
struct rt_pty;
struct rt_stdio;
struct err;

/* rootfs.c: mount the plan's overlay at target (an existing directory),
 * and later pivot into it, detaching the old root. */
int rt_rootfs_mount (const struct rt_plan *p, const char *target,
                     struct err **err);
int rt_rootfs_pivot (int rootfd, bool readonly, struct err **err);

/* mounts.c: helpers and the container's mount table. */
/* O_PATH fd of path inside rootfd, creating what is missing: directories
 * on the way, and the last component as a directory (or an empty file
 * when file is true). */
int rt_open_in_root (int rootfd, const char *path, bool create, bool file,
                     struct err **err);
/* Make rootfd/name a real directory, replacing an image's symlink or file
 * (CVE-2026-41579; docker's init layer does the same). */
int rt_ensure_dir (int rootfd, const char *name, struct err **err);
/* Mount type (with flags, data) on dirfd/name, a directory made if
 * missing, never through a symlink; dirname names dirfd in errors. */
int rt_mount_at (int dirfd, const char *dirname, const char *name,
                 const char *type, unsigned long flags, const char *data,
                 struct err **err);
/* "/proc/self/fd/N" for an fd, in buf. */
const char *rt_fd_path (int fd, char buf[static 32]);
/* /proc, /sys, the plan's binds and tmpfs, /etc/{hostname,hosts,resolv.conf}
 * and the masked / read-only paths, all under rootfd before pivot. */
int rt_mounts_setup (int rootfd, const struct rt_plan *p, struct err **err);
/* The v1 hierarchies (their controller lists) in which the calling
 * process has the container's own cgroup (path ending in "/<id>"), read
 * from /proc/self/cgroup before the cgroup namespace is entered. */
char **rt_cgroup_v1_own (const char *id);
/* /sys/fs/cgroup in the container (after pivot_root, in its cgroup
 * namespace), read-only unless privileged, as docker's: cgroup2 for
 * RT_CGROUP_V2; for RT_CGROUP_V1 a tmpfs with the v1_own hierarchies. */
int rt_mount_cgroups (int mode, char *const *v1_own, bool privileged,
                      struct err **err);
/* Bind a private recursive copy of the mount at fd read-only. */
int rt_mount_readonly (int fd, struct err **err);

/* dev.c: /dev as a tmpfs with the standard nodes, links, pts, shm and
 * mqueue; every host device with p->privileged (docker's walk of the
 * host's /dev); then p->devices at their paths (parents made, a node
 * already there replaced); with pty non-NULL, a new pty of that devpts
 * (rt_pty_open_in) in *pty, its slave bound on /dev/console. */
int rt_dev_setup (int rootfd, const struct rt_plan *p, struct rt_pty *pty,
                  struct err **err);
/* A new pty of the devpts at rootfd's /dev/pts (checked to be a devpts
 * ptmx; the slave by TIOCGPTPEER), both fds O_CLOEXEC. */
int rt_pty_open_in (int rootfd, struct rt_pty *pty, struct err **err);

/* ns.c: bring lo up in the current network namespace. */
int rt_net_lo_up (struct err **err);

/* state files the parent writes into p->state_dir before clone. */
int rt_write_etc_files (const struct rt_plan *p, struct err **err);

/* container.c: the sync socket between imgtool and a container's child
 * (or exec helper). The child reports a failure ("<status>\0<message>")
 * and exits; rt_sync_read reads one message, taking an fd that comes
 * with it into *fd (-1 if none): 0 at EOF (the child exec'd), the length,
 * or -1 with *err set (then a failure report, with its exit status). */
int rt_sync_pair (int sv[2], struct err **err); /* SOCK_SEQPACKET, fds > 2 */
void __attribute__ ((noreturn)) rt_child_fail (int sync, struct err *e);
ssize_t rt_sync_read (int sync, char *buf, size_t len, int *fd,
                      struct err **err);

/* process.c: from the new session to execve, in the container's root
 * with the plan's namespaces joined: setsid; io as 0, 1, 2 (the pty
 * slave tty for all three when >= 0, then also the controlling terminal;
 * -1 in io = the container's /dev/null); umask 022; chdir to p->cwd
 * (created if missing, checked to be inside the root); groups, gid, uid;
 * capabilities, no_new_privs and seccomp in runc's order; close_range;
 * no signal blocked and every disposition the default (the caller's mask
 * and ignored signals survive exec otherwise); execve p->argv, searching
 * PATH from p->env like docker. alone: the process is the container's
 * only one (rt_start's child), so its root cannot change under the exec
 * (see exec_named in process.c). A parent-death signal set before stays
 * set across the user switch; sync is the socket whose other end the
 * parent holds until the exec. prog: the seccomp program the parent
 * prepared (security.h). Returns only on failure, err->exit 127 (not
 * found), 126 (not executable) or 125. */
struct rt_seccomp_prog;
int rt_process_start (const struct rt_plan *p,
                      const struct rt_seccomp_prog *prog,
                      const struct rt_stdio *io, int tty, bool alone, int sync,
                      struct err **err);

#endif
