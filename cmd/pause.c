/* imgtool pause CONTAINER... / imgtool unpause CONTAINER...: docker's,
 * through the cgroup freezer (service/freeze.c). */
#include "cmd/command.h"
#include "cmd/containers.h"
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

static int
freeze_command (struct global *g, int argc, char **argv, svc_fn fn,
                struct err **err)
{
  char usage[64];
  int r;
  snprintf (usage, sizeof usage, "imgtool %s CONTAINER...", argv[0]);
  if ((r = command_no_options (argc, argv, usage, err)) != 0)
    return r < 0 ? -1 : 0;
  if (optind >= argc)
    return command_usage_error (usage, err);
  return containers_each_serial (g, argv[0], argv + optind, fn, NULL);
}

COMMAND (pause) { return freeze_command (g, argc, argv, pause_one, err); }

COMMAND (unpause) { return freeze_command (g, argc, argv, unpause_one, err); }
