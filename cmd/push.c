/* imgtool push [--all] [--platform P] [--tls-verify=false] [--cert-dir DIR]
 * [--jobs N] [--chunk-size SIZE] [-q] IMAGE [DESTINATION]
 *
 * docker: push NAME[:TAG]; podman: push SRC [DEST]. IMAGE is looked up in
 * the store (a name or an image ID); DESTINATION defaults to its name.
 * From an index, one platform's image is pushed unless --all is given. */
#include "cmd/command.h"
#include "cmd/lookup.h"
#include "layers/store.h"
#include "lib/err.h"
#include "lib/human.h"
#include "lib/xalloc.h"
#include "registry/push.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage_text[]
    = "imgtool push [--all] [--platform OS/ARCH[/VARIANT]] "
      "[--tls-verify=false] [--cert-dir DIR] [--jobs N] [--chunk-size SIZE] "
      "[-q] IMAGE [DESTINATION]";

COMMAND (push)
{
  static const struct option opts[] = {
    { "all", no_argument, NULL, 'a' },
    { "all-platforms", no_argument, NULL, 'a' },
    { "platform", required_argument, NULL, 'P' },
    { "tls-verify", optional_argument, NULL, 'T' },
    { "cert-dir", required_argument, NULL, 'C' },
    { "jobs", required_argument, NULL, 'j' },
    { "chunk-size", required_argument, NULL, 'c' },
    { "quiet", no_argument, NULL, 'q' },
    { "help", no_argument, NULL, 'h' },
    { 0 },
  };
  struct reg_push_opts o = { .config_path = g->config_path,
                             .quiet = g->quiet };
  struct reg_push_result res;
  struct reg_push_source src;
  struct store_ref ref = { 0 };
  struct store s;
  const char *dest;
  bool verify = true;
  int c, ret;

  while ((c = command_getopt (argc, argv, "aj:qh", opts)) != -1)
    switch (c)
      {
      case 'a':
        o.all = true;
        break;
      case 'P':
        o.platform = optarg;
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
      case 'c':
        if (human_size_parse (optarg, &o.chunk_size) < 0)
          return command_usage_error (usage_text, err);
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
  if (optind != argc - 1 && optind != argc - 2)
    return command_usage_error (usage_text, err);
  o.no_tls_verify = !verify;
  o.out = stdout;
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
          (long long) res.size);
  reg_push_result_release (&res);
  return 0;
}
