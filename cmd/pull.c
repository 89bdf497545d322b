/* imgtool pull [--platform P] [--all-platforms] [--tls-verify=false]
 * [--cert-dir DIR] [--jobs N] [--no-unpack] [-q] REF
 *
 * The layers are unpacked into their snapshots while they download
 * (registry/unpack.h), so `run` finds them ready; --no-unpack (and
 * --all-platforms) only store the blobs, as skopeo copy does. */
#include "cmd/command.h"
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
    = "imgtool pull [--platform OS/ARCH[/VARIANT]] [--all-platforms] "
      "[--tls-verify=false] [--cert-dir DIR] [--jobs N] [--no-unpack] [-q] "
      "IMAGE[:TAG|@DIGEST]";

COMMAND (pull)
{
  static const struct option opts[] = {
    { "platform", required_argument, NULL, 'P' },
    { "all-platforms", no_argument, NULL, 'a' },
    { "tls-verify", optional_argument, NULL, 'T' },
    { "cert-dir", required_argument, NULL, 'C' },
    { "jobs", required_argument, NULL, 'j' },
    { "no-unpack", no_argument, NULL, 'U' },
    { "quiet", no_argument, NULL, 'q' },
    { "help", no_argument, NULL, 'h' },
    { 0 },
  };
  struct reg_pull_opts o = { .config_path = g->config_path,
                             .quiet = g->quiet };
  struct reg_pull_result res;
  struct store s;
  struct reg_unpack *u = NULL;
  bool verify = true, unpack = true;
  int c, ret;

  while ((c = command_getopt (argc, argv, "aj:qh", opts)) != -1)
    switch (c)
      {
      case 'P':
        o.platform = optarg;
        break;
      case 'a':
        o.all_platforms = true;
        break;
      case 'T':
        if (command_parse_bool (optarg, &verify) < 0)
          return command_usage_error (usage_text, err);
        break;
      case 'C':
        o.cert_dir = optarg;
        break;
      case 'j':
        if (command_parse_jobs (optarg, &o.jobs) < 0)
          return command_usage_error (usage_text, err);
        break;
      case 'U':
        unpack = false;
        break;
      case 'q':
        o.quiet = true;
        break;
      case 'h':
        printf ("usage: %s\n", usage_text);
        return 0;
      default:
        return command_bad_option (err);
      }
  if (optind != argc - 1)
    return command_usage_error (usage_text, err);
  o.no_tls_verify = !verify;
  o.out = stdout;
  if (store_open (&s, g->root, err) < 0)
    return -1;
  if (unpack && !o.all_platforms)
    {
      u = reg_unpack_new (&s);
      reg_unpack_hooks (u, &o);
    }
  ret = reg_pull (&s, &o, argv[optind], &res, err);
  reg_unpack_free (u);
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
