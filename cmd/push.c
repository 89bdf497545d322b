/* imgtool push [--all] [--platform P] [--tls-verify=false] [--cert-dir DIR]
 * [--jobs N] [--chunk-size SIZE] [-q] IMAGE [DESTINATION]
 *
 * docker: push NAME[:TAG]; podman: push SRC [DEST]. IMAGE is looked up in
 * the store (a name or an image ID); DESTINATION defaults to its name.
 * From an index, one platform's image is pushed unless --all is given. */
#include "registry/push.h"
#include "cmd/command.h"
#include "cmd/lookup.h"
#include "cmd/regflags.h"
#include "layers/store.h"
#include "lib/err.h"
#include "lib/human.h"
#include "lib/xalloc.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage_text[]
    = "imgtool push [--all] " REGFLAGS_USAGE_PLATFORM
      " " REGFLAGS_USAGE_TRANSFER
      " [--chunk-size SIZE] [-q] IMAGE [DESTINATION]";

COMMAND (push)
{
  static const struct option opts[] = {
    REGFLAGS_OPT_ALL,
    REGFLAGS_OPT_ALL_PLATFORMS,
    REGFLAGS_OPT_PLATFORM,
    REGFLAGS_OPTS_TRANSFER,
    { "chunk-size", required_argument, NULL, 'c' },
    REGFLAGS_OPT_QUIET,
    REGFLAGS_OPT_HELP,
    { 0 },
  };
  struct reg_push_opts o = { .config_path = g->config_path, .out = stdout };
  struct reg_push_result res;
  struct reg_push_source src;
  struct store_ref ref = { 0 };
  struct regflags rf;
  struct store s;
  const char *dest;
  int c, rc, ret;

  regflags_init (&rf, usage_text, g->quiet);
  while ((c = command_getopt (argc, argv, "aj:qh", opts)) != -1)
    switch (c)
      {
      case 'c':
        if (human_size_parse (optarg, &o.chunk_size) < 0)
          return command_usage_error (usage_text, err);
        break;
      default:
        if ((rc = regflags_option (&rf, c, optarg, err)) != 0)
          return rc < 0 ? -1 : 0;
      }
  if (optind != argc - 1 && optind != argc - 2)
    return command_usage_error (usage_text, err);
  regflags_push_opts (&rf, &o);
  if (store_open (&s, g->root, err) < 0)
    return -1;
  if (lookup_image (&s, argv[optind], &ref, err) < 0)
    {
      store_release (&s);
      return err_wrap (err, "push '%s'", argv[optind]);
    }
  dest = optind + 1 < argc ? argv[optind + 1] : ref.name;
  o.hints = &s;
  src = reg_push_source_store (&s);
  ret = reg_push (&src, ref.digest, ref.media_type, dest, &o, &res, err);
  store_ref_release (&ref);
  store_release (&s);
  if (ret < 0)
    return -1;
  /* docker's last line, which scripts read. */
  printf ("%s: digest: %s size: %lld\n", res.reference, res.digest,
          (long long)res.size);
  reg_push_result_release (&res);
  return 0;
}
