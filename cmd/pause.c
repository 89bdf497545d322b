/* imgtool pause CONTAINER... / imgtool unpause CONTAINER...: docker's,
 * through the cgroup freezer (service/freeze.c). */
#include "cmd/command.h"
#include "cmd/containers.h"
#include "cmd/opttable.h"
#include "lib/err.h"

#include <stdio.h>

static int
pause_one (struct svc *s, struct svc_container *c, void *data, struct err **err)
{
  (void)data;
  return svc_pause (s, c, err);
}

static int
unpause_one (struct svc *s, struct svc_container *c, void *data,
             struct err **err)
{
  (void)data;
  return svc_unpause (s, c, err);
}

const struct cmd_spec cmd_pause_spec = { .name = "pause",
                                         .usage = "imgtool pause CONTAINER...",
                                         .opts = cmd_opts_help_only };
const struct cmd_spec cmd_unpause_spec
    = { .name = "unpause",
        .usage = "imgtool unpause CONTAINER...",
        .opts = cmd_opts_help_only };

static int
freeze_command (struct global *g, int argc, char **argv,
                const struct cmd_spec *spec, svc_fn fn, struct err **err)
{
  int r;
  if ((r = cmd_no_options (argc, argv, spec, err)) != 0)
    return r < 0 ? -1 : 0;
  if (optind >= argc)
    return command_usage_error (spec->usage, err);
  return containers_each_serial (g, argv[0], argv + optind, fn, NULL);
}

COMMAND (pause)
{
  return freeze_command (g, argc, argv, &cmd_pause_spec, pause_one, err);
}

COMMAND (unpause)
{
  return freeze_command (g, argc, argv, &cmd_unpause_spec, unpause_one, err);
}
