/* imgtool rm [-f] [-v] CONTAINER...: remove containers (-f kills a running
 * one first), all at once; their cgroups and directories go with them,
 * with -v their anonymous volumes too. */
#include "cmd/command.h"
#include "cmd/containers.h"
#include "cmd/opttable.h"
#include "lib/err.h"

#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

static const char usage_text[] = "imgtool rm [-f] [-v] CONTAINER...";

struct rm_opts
{
  bool force, volumes;
};

static int
remove_one (struct svc *s, struct svc_container *c, void *data,
            struct err **err)
{
  const struct rm_opts *o = data;
  if (svc_remove (s, c, o->force, err) < 0)
    return -1;
  if (o->volumes)
    svc_volumes_remove_anonymous (s, &c->rec.plan);
  return 0;
}

static const struct cmd_opt rm_opts[] = {
  CMD_OPT ("force", 'f', NULL, 0,
           "Force the removal of a running container (uses SIGKILL)",
           "--force"),
  CMD_OPT ("volumes", 'v', NULL, 0,
           "Remove anonymous volumes associated with the container",
           "--volumes"),
  CMD_OPT_HELP,
  CMD_OPT_END,
};

const struct cmd_spec cmd_rm_spec = {
  .name = "rm",
  .usage = usage_text,
  .opts = rm_opts,
};

COMMAND (rm)
{
  struct rm_opts o = { 0 };
  int c;

  while ((c = cmd_getopt (argc, argv, &cmd_rm_spec)) != -1)
    switch (c)
      {
      case 'f':
        o.force = cmd_optbool;
        break;
      case 'v':
        o.volumes = cmd_optbool;
        break;
      case CMD_OPT_HELP_ID:
        return 0;
      default:
        return command_bad_option (err);
      }
  if (optind >= argc)
    return command_usage_error (usage_text, err);
  return containers_each (g, "rm", argv + optind, remove_one, &o);
}
