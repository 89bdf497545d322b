/* imgtool wait CONTAINER...: docker wait, block until each container no
 * longer runs (restarts by its policy included) and print its exit code,
 * one line each, in the order given. */
#include "cmd/command.h"
#include "cmd/containers.h"
#include "cmd/opttable.h"
#include "lib/err.h"

#include <stdio.h>

static const char usage_text[] = "imgtool wait CONTAINER...";

const struct cmd_spec cmd_wait_spec
    = { .name = "wait", .usage = usage_text, .opts = cmd_opts_help_only };

COMMAND (wait)
{
  int r, status = 0;
  if ((r = cmd_no_options (argc, argv, &cmd_wait_spec, err)) != 0)
    return r < 0 ? -1 : 0;
  if (optind >= argc)
    return command_usage_error (usage_text, err);
  for (int i = optind; i < argc; i++)
    {
      struct svc s = { .cs = { .fd = -1 } };
      struct svc_container c = { 0 };
      struct err *e = NULL;
      int code = -1;
      if (containers_load (&s, g->root, g->config_path, argv[i], &c, &e) == 0)
        code = svc_wait (&s, &c, &e);
      if (e)
        {
          command_print_error ("wait '%s': %s", argv[i], e->msg);
          err_free (e);
          status = 1;
        }
      else
        {
          printf ("%d\n", code);
          fflush (stdout);
        }
      svc_container_release (&c);
      svc_close (&s);
    }
  return status;
}
