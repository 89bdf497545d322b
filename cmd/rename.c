/* imgtool rename CONTAINER NEW_NAME: docker rename, in any state. */
#include "cmd/command.h"
#include "cmd/containers.h"
#include "cmd/opttable.h"
#include "lib/err.h"

static const char usage_text[] = "imgtool rename CONTAINER NEW_NAME";

const struct cmd_spec cmd_rename_spec
    = { .name = "rename", .usage = usage_text, .opts = cmd_opts_help_only };

COMMAND (rename)
{
  struct svc s = { .cs = { .fd = -1 } };
  struct svc_container c = { 0 };
  int r;
  if ((r = cmd_no_options (argc, argv, &cmd_rename_spec, err)) != 0)
    return r < 0 ? -1 : 0;
  if (argc - optind != 2)
    return command_usage_error (usage_text, err);
  r = containers_load (&s, g->root, g->config_path, argv[optind], &c, err);
  if (r == 0)
    r = svc_rename (&s, &c, argv[optind + 1], err);
  svc_container_release (&c);
  svc_close (&s);
  return r < 0 ? err_wrap (err, "rename '%s'", argv[optind]) : 0;
}
