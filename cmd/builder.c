/* imgtool builder prune [-a] [-f]: the build cache. Removes the RUN
 * --mount=type=cache directories no running step holds and the step
 * records whose layers no image keeps; with -a every step record (the
 * next build runs every step again). The blobs go at the next prune. */
#include "builder/builder.h"
#include "cmd/command.h"
#include "cmd/opttable.h"
#include "layers/store.h"
#include "lib/err.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

static const char usage_text[] = "imgtool builder prune [-a] [-f]";

static const struct cmd_opt builder_prune_opts[] = {
  CMD_OPT ("all", 'a', NULL, 0,
           "Remove all unused build cache, not just dangling ones", "--all"),
  CMD_OPT_FORCE,
  CMD_OPT_HELP,
  CMD_OPT_END,
};

const struct cmd_spec cmd_builder_prune_spec = {
  .name = "builder prune",
  .summary = "Remove the build cache and cache mounts",
  .usage = usage_text,
  .opts = builder_prune_opts,
};

static int
builder_prune (struct global *g, int argc, char **argv, struct err **err)
{
  struct store s;
  size_t records = 0, mounts = 0;
  bool all = false;
  int c, ret;
  while ((c = cmd_getopt (argc, argv, &cmd_builder_prune_spec)) != -1)
    switch (c)
      {
      case 'a':
        all = cmd_optbool;
        break;
      case 'f': /* nothing is asked: docker's flag is accepted */
        break;
      case CMD_OPT_HELP_ID:
        return 0;
      default:
        return command_bad_option (err);
      }
  if (optind != argc)
    return command_usage_error (usage_text, err);
  if (store_open (&s, g->root, err) < 0)
    return -1;
  ret = all ? build_cache_clear (&s, &records, err)
            : build_cache_prune (&s, &records, err);
  if (ret == 0)
    ret = build_cache_mounts_prune (&s, &mounts, err);
  store_release (&s);
  if (ret < 0)
    return -1;
  if (!g->quiet)
    printf ("Deleted %zu build cache records and %zu cache mounts\n", records,
            mounts);
  return 0;
}

static const struct cmd_spec *const builder_subs[]
    = { &cmd_builder_prune_spec, NULL };

const struct cmd_spec cmd_builder_spec = {
  .name = "builder",
  .usage = usage_text,
  .opts = cmd_opts_help_only,
  .subs = builder_subs,
};

COMMAND (builder)
{
  if (argc >= 2 && !strcmp (argv[1], "prune"))
    return builder_prune (g, argc - 1, argv + 1, err);
  if (argc >= 2 && (!strcmp (argv[1], "--help") || !strcmp (argv[1], "-h")))
    {
      cmd_help_print (&cmd_builder_spec, stdout);
      return 0;
    }
  if (argc < 2)
    return command_usage_error (usage_text, err);
  err_set (err, 0, "builder: unknown command '%s'", argv[1]);
  return err_exit (err, 2);
}
