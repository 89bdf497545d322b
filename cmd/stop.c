/* imgtool stop [-t SECONDS] CONTAINER...: the stop signal (the image's
 * StopSignal, else SIGTERM), then SIGKILL after -t seconds (default 10);
 * all the containers at once, each with its own grace period.
 * imgtool restart [-t SECONDS] CONTAINER...: docker restart, the same
 * stop then a start, one container after the other (cmd/containers.h
 * says why). */
#include "cmd/command.h"
#include "cmd/containers.h"
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

/* stop's and restart's options: -t; 1 when --help was printed */
static int
parse_time (int argc, char **argv, const char *usage, int64_t *t,
            struct err **err)
{
  static const struct option opts[] = {
    { "time", required_argument, NULL, 't' },
    { "timeout", required_argument, NULL, 't' },
    { "help", no_argument, NULL, 'H' },
    { 0 },
  };
  int c;
  *t = -1;
  while ((c = command_getopt (argc, argv, "t:", opts)) != -1)
    switch (c)
      {
      case 't':
        if (rt_parse_int (optarg, "-t", t, err) < 0)
          return err_exit (err, 1); /* 125 is for run/exec (as kill) */
        break;
      case 'H':
        printf ("usage: %s\n", usage);
        return 1;
      default:
        return command_bad_option (err);
      }
  if (optind >= argc)
    return command_usage_error (usage, err);
  return 0;
}

COMMAND (stop)
{
  int64_t t;
  int r = parse_time (argc, argv, "imgtool stop [-t SECONDS] CONTAINER...", &t,
                      err);
  if (r != 0)
    return r < 0 ? -1 : 0;
  return containers_each (g, "stop", argv + optind, stop_one, &t);
}

COMMAND (restart)
{
  int64_t t;
  int r = parse_time (argc, argv, "imgtool restart [-t SECONDS] CONTAINER...",
                      &t, err);
  if (r != 0)
    return r < 0 ? -1 : 0;
  if (command_rootless ("restart", 1, err) < 0)
    return -1;
  return containers_each_serial (g, "restart", argv + optind, restart_one, &t);
}
