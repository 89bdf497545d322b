/* imgtool pull [--platform P] [--all-platforms] [--tls-verify=false]
 * [--cert-dir DIR] [--jobs N] [--no-unpack] [-q] REF
 *
 * The layers are unpacked into their snapshots while they download
 * (registry/unpack.h), so `run` finds them ready; --no-unpack (and
 * --all-platforms) only store the blobs, as skopeo copy does. */
#include "cmd/command.h"
#include "cmd/regflags.h"
#include "layers/snapshot.h"
#include "layers/store.h"
#include "lib/err.h"
#include "lib/xalloc.h"
#include "registry/client.h"
#include "registry/ref.h"
#include "registry/unpack.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage_text[]
    = "imgtool pull " REGFLAGS_USAGE_PLATFORM " [--all-platforms] "
      REGFLAGS_USAGE_TRANSFER " [--no-unpack] [-q] IMAGE[:TAG|@DIGEST]";

COMMAND (pull)
{
  static const struct option opts[] = {
    REGFLAGS_OPT_PLATFORM,
    REGFLAGS_OPT_ALL_PLATFORMS,
    REGFLAGS_OPTS_TRANSFER,
    { "no-unpack", no_argument, NULL, 'U' },
    REGFLAGS_OPT_QUIET,
    REGFLAGS_OPT_HELP,
    { 0 },
  };
  struct reg_pull_opts o = { .config_path = g->config_path, .out = stdout };
  struct reg_pull_result res;
  struct regflags rf;
  struct store s;
  struct reg_unpack *u = NULL;
  bool unpack = true;
  int c, rc, ret;

  regflags_init (&rf, usage_text, g->quiet);
  while ((c = command_getopt (argc, argv, "aj:qh", opts)) != -1)
    switch (c)
      {
      case 'U':
        unpack = false;
        break;
      default:
        if ((rc = regflags_option (&rf, c, optarg, err)) != 0)
          return rc < 0 ? -1 : 0;
      }
  if (optind != argc - 1)
    return command_usage_error (usage_text, err);
  regflags_pull_opts (&rf, &o);
  if (store_open (&s, g->root, err) < 0)
    return -1;
  if (unpack && !o.all_platforms)
    {
      u = reg_unpack_new (&s);
      reg_unpack_hooks (u, &o);
    }
  ret = reg_pull (&s, &o, argv[optind], &res, err);
  reg_unpack_free (u);
  snapshot_flush_later (&s);
  store_release (&s);
  if (ret < 0)
    return -1;
  if (!o.quiet)
    {
      struct ref r;
      _cleanup_free_ char *familiar = NULL;
      struct err *ignored = NULL;
      if (ref_parse (res.name, &r, &ignored) == 0)
        {
          familiar = ref_familiar (&r);
          ref_release (&r);
        }
      err_free (ignored);
      printf ("Digest: %s\n", res.top.digest);
      printf ("Status: %s for %s\n",
              res.updated ? "Downloaded newer image" : "Image is up to date",
              familiar ? familiar : res.name);
    }
  printf ("%s\n", res.name);
  reg_pull_result_release (&res);
  return 0;
}
