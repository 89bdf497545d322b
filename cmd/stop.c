/* imgtool stop [-t SECONDS] CONTAINER...: the stop signal (the image's
 * StopSignal, else SIGTERM), then SIGKILL after -t seconds (default 10);
 * all the containers at once, each with its own grace period. */
#include "cmd/command.h"
#include "cmd/containers.h"
#include "lib/err.h"
#include "runtime/runopts.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>

static const char usage_text[] = "imgtool stop [-t SECONDS] CONTAINER...";

static int
stop_one (struct svc *s, struct svc_container *c, void *data, struct err **err)
{
  return svc_stop (s, c, (int)*(const int64_t *)data, err);
}

COMMAND (stop)
{
  static const struct option opts[] = {
    { "time", required_argument, NULL, 't' },
    { "timeout", required_argument, NULL, 't' },
    { "help", no_argument, NULL, 'H' },
    { 0 },
  };
  int64_t t = -1;
  int c;

  while ((c = command_getopt (argc, argv, "t:", opts)) != -1)
    switch (c)
      {
      case 't':
        if (rt_parse_int (optarg, "-t", &t, err) < 0)
          return err_exit (err, 1); /* 125 is for run/exec (as kill) */
        break;
      case 'H':
        printf ("usage: %s\n", usage_text);
        return 0;
      default:
        return command_bad_option (err);
      }
  if (optind >= argc)
    return command_usage_error (usage_text, err);
  return containers_each (g, "stop", argv + optind, stop_one, &t);
}
