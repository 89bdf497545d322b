/* imgtool kill [-s SIGNAL] CONTAINER...: send a signal (default KILL). */
#include "cmd/command.h"
#include "cmd/containers.h"
#include "cmd/opttable.h"
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

static const struct cmd_opt opts[] = {
  CMD_OPT ("signal", 's', "SIGNAL", 0, "Signal to send to the container (KILL)",
           "--signal"),
  CMD_OPT_HELP,
  CMD_OPT_END,
};

const struct cmd_spec cmd_kill_spec
    = { .name = "kill", .usage = usage_text, .opts = opts };

COMMAND (kill)
{
  int c, sig = SIGKILL;

  while ((c = cmd_getopt (argc, argv, &cmd_kill_spec)) != -1)
    switch (c)
      {
      case 's':
        if (rt_signal_parse (optarg, &sig, err) < 0)
          return err_exit (err, 1);
        break;
      case CMD_OPT_HELP_ID:
        return 0;
      default:
        return command_bad_option (err);
      }
  if (optind >= argc)
    return command_usage_error (usage_text, err);
  return containers_each (g, "kill", argv + optind, kill_one, &sig);
}
