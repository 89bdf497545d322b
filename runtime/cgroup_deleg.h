/* Rootless on cgroup v2: the subtree root delegated to the user
 * (docs/rootless.md "cgroups"). Internal to runtime/ (and its unit test).
 *
 * A user owns a cgroup when its directory, cgroup.procs and
 * cgroup.subtree_control are the user's (what systemd's Delegate= and the
 * recipe in docs/rootless.md do). The delegated cgroup is the topmost
 * such ancestor of the caller's own cgroup; it must not be the caller's
 * own (the kernel's "no internal processes" rule: a cgroup with
 * processes cannot hand controllers to its children). Containers get
 * <delegated>/<parent>/<id>, as root's get /sys/fs/cgroup/<parent>/<id>. */
#ifndef IMGTOOL_CGROUP_DELEG_H
#define IMGTOOL_CGROUP_DELEG_H

struct err;
struct rt_limits;

/* The mount point of the cgroup2 hierarchy in a /proc/self/mountinfo
 * text (the first one of its root), or NULL. Allocated. */
char *rt_cgroup2_mount_parse (const char *mountinfo);

/* The path of the cgroup2 hierarchy ("0::/a/b") in a /proc/PID/cgroup
 * text, or NULL. Allocated. */
char *rt_cgroup2_self_parse (const char *proc_cgroup);

/* The delegated cgroup for a process in cgroup self ("/a/b") of the
 * cgroup2 hierarchy mounted at mnt: 1 and *dir (allocated, absolute), or
 * 0 and *why (allocated) saying why there is none. */
int rt_cgroup_delegation_find (const char *mnt, const char *self, char **dir,
                               char **why);

/* This process's delegated cgroup (cached); NULL with *why (static) when
 * there is none (cgroup v1, or nothing delegated). */
const char *rt_cgroup_delegated (const char **why);

/* The cgroup2 mount point of this process (cached), or NULL. */
const char *rt_cgroup2_mount (void);

/* Can a container in delegated cgroup dir (NULL: none, for reason why)
 * get the limits l asks for? 0, or an error naming the first limit and
 * why not. Pure but for reading dir/cgroup.controllers. */
int rt_cgroup_limits_check (const char *dir, const char *why,
                            const struct rt_limits *l, struct err **err);

/* Can a rootless container get the limits l asks for? 0, or an error
 * naming the first limit and why not; with no cgroup at all and no limit
 * asked, a warning once. */
int rt_cgroup_rootless_check (const struct rt_limits *l, struct err **err);

#endif
