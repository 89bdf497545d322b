/* The plan: everything the runtime core needs to start one container
 * process. `run` and the builder's RUN steps fill a plan and hand it to
 * the container service (service/service.h), which starts it with
 * rt_start(); `exec` calls rt_exec_start() with the container's plan. The
 * core turns it into namespaces, mounts, cgroup limits, seccomp and
 * capabilities, execs the process and returns its exit status. Plan,
 * then execute (bubblewrap): parsers only fill this struct; nothing here
 * touches the system until rt_start(). */
#ifndef IMGTOOL_PLAN_H
#define IMGTOOL_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct err;

enum rt_mount_kind
{
  RT_MOUNT_BIND,   /* source = host path; created if missing (docker -v) */
  RT_MOUNT_TMPFS,  /* --tmpfs dest[:opts] */
  RT_MOUNT_VOLUME, /* a volume (runtime/volume.h): source = its _data dir,
                      filled when the container is created */
};

struct rt_mount
{
  enum rt_mount_kind kind;
  char *source;      /* host path for binds */
  char *destination; /* absolute path in the container */
  bool readonly;
  char *options; /* tmpfs options ("size=64m,mode=1777"), or NULL */
  /* Volumes: the name (NULL until an anonymous one is made), whether it
   * was made for this container (-v /dst, the image's VOLUME: rm -v
   * removes it), and volume-nocopy (no copy of the image's content). */
  char *name;
  bool anonymous;
  bool nocopy;
  char *mode;        /* docker's Mounts[].Mode ("z", "ro", ""), or NULL */
  char *propagation; /* bind propagation ("rprivate", ...), or NULL */
  char **labels;     /* --mount volume-label=K=V for a volume made for it */
};

enum rt_network_mode
{
  RT_NET_NONE,   /* a new netns with only lo */
  RT_NET_HOST,   /* the host's netns */
  RT_NET_BRIDGE, /* a new netns joined to the imgtool0 bridge */
  RT_NET_SLIRP,  /* rootless: a new netns with a tap served by libslirp */
  RT_NET_SLIRP_LOOPBACK, /* the same, the host's loopback reachable */
  RT_NET_CONTAINER,      /* another container's netns (net_container) */
};

/* The plan's network object: how the core reaches network/ without
 * knowing it. The core calls attach in the parent after clone and before
 * the child goes on, with the child's pid (its netns is
 * /proc/<pid>/ns/net); the child does not exec before it returns. attach
 * may rewrite state_dir/resolv.conf in place (O_TRUNC, not rename: the
 * child may have bind-mounted it). Returns 0, or -1 with *err set (the
 * container is then torn down). detach gives everything back and is
 * idempotent; the container service calls it when the container ends.
 * hosts_path, when set before rt_start, is the file the child bind-mounts
 * read-only as /etc/hosts instead of state_dir/hosts (the network's
 * shared one, network/net_etc.c says why). */
struct rt_plan;
struct rt_net;
struct rt_net_ops
{
  int (*attach) (struct rt_net *n, const struct rt_plan *p, pid_t pid,
                 struct err **err);
  int (*detach) (struct rt_net *n, const char *container_id, struct err **err);
};
struct rt_net
{
  const struct rt_net_ops *ops;
  char *hosts_path;
};

struct rt_limits
{
  int64_t memory;      /* bytes, 0 = unlimited */
  int64_t memory_swap; /* bytes incl. memory, 0 = default, -1 = unlimited */
  int64_t cpu_quota;   /* microseconds per cpu_period, 0 = unlimited */
  int64_t cpu_period;  /* microseconds, default 100000 */
  int64_t cpu_shares;  /* 0 = default */
  int64_t pids;        /* 0 = default (RT_DEFAULT_PIDS), -1 = unlimited */
};

#define RT_DEFAULT_PIDS 2048 /* podman's default; docker has none */

/* Device access, as the devices cgroup spells it: r, w, m (mknod). */
#define RT_DEV_READ 1u
#define RT_DEV_WRITE 2u
#define RT_DEV_MKNOD 4u
#define RT_DEV_RWM 7u
#define RT_DEV_ANY (-1) /* any major or minor */

/* One rule of the device cgroup: allow access to devices of type
 * ('c', 'b', or 'a' for every device) and major:minor. The rules of a
 * container come from rt_device_rules (runtime/devices.h): everything
 * denied but what a rule allows. */
struct rt_device_rule
{
  char type;            /* 'c', 'b' or 'a' */
  int64_t major, minor; /* or RT_DEV_ANY */
  unsigned access;      /* RT_DEV_* bits */
};

/* A host device given to the container (--device): created at path in
 * the container with the host node's type, numbers, mode and owner, and
 * allowed with access. */
struct rt_device
{
  char *host; /* the host path it came from */
  char *path; /* absolute path in the container */
  char type;  /* 'c' or 'b' */
  uint32_t major, minor;
  uint32_t mode; /* permission bits */
  uid_t uid;
  gid_t gid;
  unsigned access; /* RT_DEV_* bits */
};

struct rt_rlimit
{
  int resource; /* RLIMIT_* */
  uint64_t soft, hard;
};

struct rt_user
{
  uid_t uid;
  gid_t gid;
  gid_t *groups; /* supplementary groups */
  size_t n_groups;
};

struct rt_plan
{
  /* Root filesystem: overlay of lower dirs (top first, as overlay's
   * lowerdir= wants), with upper/work dirs (NULL upper = read-only stack,
   * a tmpfs upper is then used). */
  char **lower_dirs; /* NULL-terminated, top layer first */
  char *upper_dir;
  char *work_dir;
  bool readonly_rootfs;
  /* The upper dir is discarded when the container ends (run --rm): the
   * overlay is mounted "volatile", without syncs (LAYER_OVERLAY_VOLATILE:
   * ~2 ms less at every exit; fsync() in the container then does not
   * reach the disk, as in podman's --rm containers). */
  bool volatile_upper;

  /* Process. */
  char **argv; /* resolved: entrypoint + cmd, never empty */
  char **env;  /* "K=V", NULL-terminated */
  char *cwd;   /* absolute; created if missing */
  struct rt_user user;
  bool tty;        /* a pty (its master comes back in rt_container) */
  bool stdin_open; /* -i */

  /* Identity. */
  char *id; /* container id (64 hex) */
  char *name;
  char *hostname;
  char *state_dir; /* containers/<id>: hostname, hosts, resolv.conf */

  /* Mounts after the root is in place, in order. */
  struct rt_mount *mounts;
  size_t n_mounts;

  /* Namespaces and network. */
  enum rt_network_mode network;
  /* With RT_NET_BRIDGE: the attachment, an object of network/ that the
   * container service puts here (NULL = only lo in a new netns). */
  struct rt_net *net;

  /* Limits and security. */
  struct rt_limits limits;
  char *cgroup_parent;       /* default "imgtool" */
  uint64_t cap_add;          /* bitmask of CAP_* to add to the default */
  uint64_t cap_drop;         /* bitmask to drop; bit 63 = "ALL" */
  bool privileged;           /* all caps, no seccomp, no masks, rw /sys,
                                every host device */
  struct rt_device *devices; /* --device, in order */
  size_t n_devices;
  bool no_new_privs;       /* default true */
  char *seccomp_profile;   /* NULL = default, "unconfined", or a path */
  char *seccomp_cache_dir; /* compiled filters (<store>/cache/seccomp);
                              NULL = compile on every start (~25 ms) */
  char *stop_signal;

  /* run's everyday flags, with docker's meaning (builds set the first
   * four for their RUN steps too) */
  /* Lines added to /etc/hosts ("IP\tNAME", --add-host), /dev/shm's size
   * in bytes (0: 64 MiB, --shm-size) and resource limits set before exec
   * (--ulimit, runtime/rlimits.h). */
  char **extra_hosts;
  int64_t shm_size;
  struct rt_rlimit *rlimits;
  size_t n_rlimits;
  char **sysctls; /* "net.ipv4.ip_forward=1" (runtime/sysctl.h) */
  bool init;      /* --init: a minimal init as PID 1 (runtime/init.c) */
  char **dns;     /* --dns, --dns-search, --dns-option: resolv.conf */
  char **dns_search;
  char **dns_options;

  /* --pid, --ipc, --network container:ID: namespaces shared instead of
   * new ones. pid_mode: NULL (private), "host" or "container:ID";
   * ipc_mode: NULL or "private", "shareable", "host" or "container:ID";
   * net_container: the ID with RT_NET_CONTAINER. */
  char *pid_mode;
  char *ipc_mode;
  char *net_container;
  /* With RT_NET_BRIDGE: a user-defined network's name (network
   * create); NULL = the default network. */
  char *net_name;
  /* Not in the record: what the container service opened for one start
   * (service/join.c): the namespaces to join (-1: none), and, with
   * RT_NET_CONTAINER, the files whose copies are the container's
   * /etc/hosts and /etc/resolv.conf. Read only when the mode names a
   * container (rt_plan_joins), so a zeroed plan joins nothing. */
  int join_pid_fd, join_ipc_fd, join_net_fd;
  char *join_hosts, *join_resolv;
};

void rt_plan_init (struct rt_plan *p);
/* The container ID a pid_mode or ipc_mode of "container:ID" names, else
 * NULL. */
const char *rt_plan_joins (const char *mode);
/* The plan as JSON and back (plan_json.c; config.json's "plan"): every
 * field but the network object, which is the container service's. */
typedef struct json_t json_t;
json_t *rt_plan_to_json (const struct rt_plan *p);
void rt_plan_from_json (json_t *o, struct rt_plan *p);
void rt_plan_release (struct rt_plan *p);
void rt_device_release (struct rt_device *d);
/* A deep copy of src into dst; and its release. */
void rt_mount_copy (struct rt_mount *dst, const struct rt_mount *src);
void rt_mount_release (struct rt_mount *m);

#endif
