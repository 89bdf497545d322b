/* imgtool rm [-f] CONTAINER...: remove containers (-f kills a running one
 * first), all at once; their cgroups and directories go with them. */
#include "cmd/command.h"
#include "cmd/containers.h"
#include "lib/err.h"

#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

static const char usage_text[] = "imgtool rm [-f] CONTAINER...";

static int
remove_one (struct svc *s, struct svc_container *c, void *data,
            struct err **err)
{
  return svc_remove (s, c, *(const bool *)data, err);
}

COMMAND (rm)
{
  static const struct option opts[] = {
    { "force", no_argument, NULL, 'f' },
    { "help", no_argument, NULL, 'H' },
    { 0 },
  };
  bool force = false;
  int c;

  while ((c = command_getopt (argc, argv, "f", opts)) != -1)
    switch (c)
      {
      case 'f':
        force = true;
        break;
      case 'H':
        printf ("usage: %s\n", usage_text);
        return 0;
      default:
        return command_bad_option (err);
      }
  if (optind >= argc)
    return command_usage_error (usage_text, err);
  return containers_each (g, "rm", argv + optind, remove_one, &force);
}
