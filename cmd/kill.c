/* imgtool kill [-s SIGNAL] CONTAINER...: send a signal (default KILL). */
#include "cmd/command.h"
#include "cmd/containers.h"
#include "lib/err.h"
#include "runtime/lifecycle.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>

static const char usage_text[] = "imgtool kill [-s SIGNAL] CONTAINER...";

static int
kill_one (struct svc *s, struct svc_container *c, void *data, struct err **err)
{
  return svc_kill (s, c, *(int *)data, err);
}

COMMAND (kill)
{
  static const struct option opts[] = {
    { "signal", required_argument, NULL, 's' },
    { "help", no_argument, NULL, 'H' },
    { 0 },
  };
  int c, sig = SIGKILL;

  while ((c = command_getopt (argc, argv, "s:", opts)) != -1)
    switch (c)
      {
      case 's':
        if (rt_signal_parse (optarg, &sig, err) < 0)
          return err_exit (err, 1);
        break;
      case 'H':
        printf ("usage: %s\n", usage_text);
        return 0;
      default:
        return command_bad_option (err);
      }
  if (optind >= argc)
    return command_usage_error (usage_text, err);
  return containers_each (g, "kill", argv + optind, kill_one, &sig);
}
