/* imgtool stop [-t SECONDS] CONTAINER...: the stop signal (the image's
 * StopSignal, else SIGTERM), then SIGKILL after -t seconds (default 10);
 * all the containers at once, each with its own grace period.
 * imgtool restart [-t SECONDS] CONTAINER...: docker restart, the same
 * stop then a start, one container after the other (cmd/containers.h
 * says why). */
#include "cmd/command.h"
#include "cmd/containers.h"
#include "cmd/opttable.h"
#include "lib/err.h"
#include "runtime/runopts.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>

static int
stop_one (struct svc *s, struct svc_container *c, void *data, struct err **err)
{
  return svc_stop (s, c, (int)*(const int64_t *)data, err);
}

static int
restart_one (struct svc *s, struct svc_container *c, void *data,
             struct err **err)
{
  return svc_restart (s, c, (int)*(const int64_t *)data, err);
}

static const struct cmd_opt opts[] = {
  CMD_OPT ("time", 't', "SECONDS", 0,
           "Seconds to wait before killing the container (10)", "--time"),
  CMD_OPT ("timeout", 0, "SECONDS", 't', "The same as --time (podman's)", NULL),
  CMD_OPT_HELP,
  CMD_OPT_END,
};

const struct cmd_spec cmd_stop_spec
    = { .name = "stop",
        .usage = "imgtool stop [-t SECONDS] CONTAINER...",
        .opts = opts };
const struct cmd_spec cmd_restart_spec
    = { .name = "restart",
        .usage = "imgtool restart [-t SECONDS] CONTAINER...",
        .opts = opts };

/* stop's and restart's options: -t; 1 when --help was printed */
static int
parse_time (int argc, char **argv, const struct cmd_spec *spec, int64_t *t,
            struct err **err)
{
  int c;
  *t = -1;
  while ((c = cmd_getopt (argc, argv, spec)) != -1)
    switch (c)
      {
      case 't':
        if (rt_parse_int (optarg, "-t", t, err) < 0)
          return err_exit (err, 1); /* 125 is for run/exec (as kill) */
        break;
      case CMD_OPT_HELP_ID:
        return 1;
      default:
        return command_bad_option (err);
      }
  if (optind >= argc)
    return command_usage_error (spec->usage, err);
  return 0;
}

COMMAND (stop)
{
  int64_t t;
  int r = parse_time (argc, argv, &cmd_stop_spec, &t, err);
  if (r != 0)
    return r < 0 ? -1 : 0;
  return containers_each (g, "stop", argv + optind, stop_one, &t);
}

COMMAND (restart)
{
  int64_t t;
  int r = parse_time (argc, argv, &cmd_restart_spec, &t, err);
  if (r != 0)
    return r < 0 ? -1 : 0;
  if (command_rootless ("restart", 1, err) < 0)
    return -1;
  return containers_each_serial (g, "restart", argv + optind, restart_one, &t);
}
