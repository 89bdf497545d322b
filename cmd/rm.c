/* imgtool rm [-f] [-v] CONTAINER...: remove containers (-f kills a running
 * one first), all at once; their cgroups and directories go with them,
 * with -v their anonymous volumes too. */
#include "cmd/command.h"
#include "cmd/containers.h"
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

COMMAND (rm)
{
  static const struct option opts[] = {
    { "force", no_argument, NULL, 'f' },
    { "volumes", no_argument, NULL, 'v' },
    { "help", no_argument, NULL, 'H' },
    { 0 },
  };
  struct rm_opts o = { 0 };
  int c;

  while ((c = command_getopt (argc, argv, "fv", opts)) != -1)
    switch (c)
      {
      case 'f':
        o.force = true;
        break;
      case 'v':
        o.volumes = true;
        break;
      case 'H':
        printf ("usage: %s\n", usage_text);
        return 0;
      default:
        return command_bad_option (err);
      }
  if (optind >= argc)
    return command_usage_error (usage_text, err);
  return containers_each (g, "rm", argv + optind, remove_one, &o);
}
