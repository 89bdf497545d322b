/* The options of `run` (and a future `create`), parsed into the request
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
  char *image;                      /* the first argument (or the rootfs dir) */
  char **args;                      /* the command after the image */
};

extern const char run_flags_usage[];

/* Parse argv (argv[0] is the command name). Errors exit 125. */
int run_flags_parse (int argc, char **argv, struct run_flags *f,
                     struct err **err);
void run_flags_release (struct run_flags *f);

/* Bit 63 of a cap mask means "ALL" (plan.h). */
int run_flags_cap (const char *name, uint64_t *mask, struct err **err);

#endif
