/* The options of `run` and `create`, parsed into the request
 * that cmd/run.c turns into a container record and a plan. */
#ifndef IMGTOOL_RUNFLAGS_H
#define IMGTOOL_RUNFLAGS_H

#include <stdbool.h>
#include <stdint.h>

#include "cmd/regflags.h"
#include "cmd/runflags_monitor.h"
#include "network/net.h"
#include "runtime/plan.h"

struct err;

enum run_pull
{
  RUN_PULL_MISSING, /* pull when the store does not have it (default) */
  RUN_PULL_NEVER,
  RUN_PULL_ALWAYS,
};

struct run_flags
{
  bool help; /* --help: nothing else was parsed */
  bool rm, interactive, tty, detach, read_only, privileged;
  bool no_new_privs;
  char *name;
  char **env; /* --env-file then -e, in command-line order */
  char *workdir, *user, *hostname;
  bool entrypoint_set;
  char *entrypoint;
  struct rt_mount *mounts;
  size_t n_mounts;
  struct rt_limits limits;
  uint64_t cap_add, cap_drop;
  struct rt_device *devices; /* --device, in order */
  size_t n_devices;
  char *seccomp;                /* NULL default, "unconfined", or a path */
  enum rt_network_mode network; /* default bridge (docker) */
  struct port_map *ports;       /* -p, in order */
  size_t n_ports;
  bool publish_all; /* -P: every EXPOSEd port, random host port */
  enum run_pull pull;
  struct regflags reg; /* --platform, --tls-verify (for the pull) */
  char *rootfs;        /* --rootfs DIR: run a directory, not an image */
  char *stop_signal;
  int stop_timeout;                 /* -1 = default */
  struct run_monitor_flags monitor; /* --log-*, --health-* */
  /* the everyday flags (docker's) */
  char **ulimits, **sysctls; /* checked (runtime/sysopts.h) */
  int64_t shm_size;          /* 0 = default */
  bool init;
  char **add_hosts; /* "name:ip" or "name:host-gateway" */
  char **dns, **dns_search, **dns_options;
  char **labels;    /* --label-file then --label, "k=v" */
  char **expose;    /* "80/tcp", ranges expanded */
  char **group_add; /* names or gids, resolved in the image */
  char *cidfile;
  char *pid_mode, *ipc_mode; /* as plan.h's, "container:NAME" until run
                                resolves NAME */
  char *net_container;       /* --network container:NAME */
  char *restart;             /* --restart as given (checked), NULL for none */
  char *net_name;            /* --network NAME: a user network */
  const char *memory_arg, *swap_arg; /* -m, --memory-swap as given */
  bool rootfs_flag;                  /* --rootfs */
  char *image; /* the first argument (or the rootfs dir) */
  char **args; /* the command after the image */
};

/* Parse argv (argv[0] is the command name). Errors exit 125. */
int run_flags_parse (int argc, char **argv, struct run_flags *f,
                     struct err **err);
void run_flags_release (struct run_flags *f);

/* The everyday flags' handlers (cmd/opttable.h), in
 * cmd/runflags_everyday.c, checked as docker checks them. Errors exit
 * 125. */
struct cmd_opt;
#define RUN_HANDLER(name)                                                      \
  int run_set_##name (void *target, const struct cmd_opt *o, const char *arg,  \
                      struct err **err)
RUN_HANDLER (ulimit);
RUN_HANDLER (shm_size);
RUN_HANDLER (add_host);
RUN_HANDLER (dns);
RUN_HANDLER (dns_search);
RUN_HANDLER (label);
RUN_HANDLER (label_file);
RUN_HANDLER (expose);
RUN_HANDLER (group_add);
RUN_HANDLER (pid);
RUN_HANDLER (ipc);

/* docker's conflicts with --network container:NAME (exit 125). */
int run_flags_conflicts (const struct run_flags *f, struct err **err);

/* Bit 63 of a cap mask means "ALL" (plan.h). */
int run_flags_cap (const char *name, uint64_t *mask, struct err **err);

#endif
