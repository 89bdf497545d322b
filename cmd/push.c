/* imgtool push [--all] [--platform P] [--tls-verify=false] [--cert-dir DIR]
 * [--jobs N] [--chunk-size SIZE] [--compression FORMAT] [-q] IMAGE
 * [DESTINATION]
 *
 * docker: push NAME[:TAG]; podman: push SRC [DEST]. IMAGE is looked up in
 * the store (a name or an image ID); DESTINATION defaults to its name.
 * From an index, one platform's image is pushed unless --all is given. */
#include "registry/push.h"
#include "cmd/command.h"
#include "cmd/lookup.h"
#include "cmd/regflags.h"
#include "cmd/signkey.h"
#include "layers/recompress.h"
#include "layers/store.h"
#include "layers/tarwriter.h"
#include "lib/err.h"
#include "lib/human.h"
#include "lib/xalloc.h"
#include "trust/key.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char usage_text[]
    = "imgtool push [--all] " REGFLAGS_USAGE_PLATFORM
      " " REGFLAGS_USAGE_TRANSFER " [--chunk-size SIZE] [--compression FORMAT]"
      " [--sign-with KEY [--passphrase-file FILE]]"
      " [-q] IMAGE [DESTINATION]";

/* --compression (podman: --compression-format): the image is pushed with
 * its layers in that format, recompressed into the store first where they
 * are not (layers/recompress.h). Sets *digest to what to push. */
static int
push_recompressed (struct store *s, const struct store_ref *ref,
                   const char *platform, bool all, enum layer_compression c,
                   char **digest, struct err **err)
{
  struct platform want = { 0 }, *wp = NULL;
  struct image img = { 0 };
  int rc = -1, guard = -1;
  if (all)
    return err_set (err, 0,
                    "--compression pushes one platform's image: "
                    "drop --all");
  if (platform && platform_parse (platform, &want, err) < 0)
    return -1;
  if (platform)
    wp = &want;
  if ((guard = store_writer_guard (s, err)) >= 0
      && image_load_ref (s, ref, wp, &img, err) == 0)
    rc = image_recompress (s, &img, c, digest, err);
  image_release (&img);
  if (guard >= 0)
    close (guard);
  free (want.os);
  free (want.arch);
  free (want.variant);
  free (want.os_version);
  return rc;
}

COMMAND (push)
{
  static const struct option opts[] = {
    REGFLAGS_OPT_ALL,
    REGFLAGS_OPT_ALL_PLATFORMS,
    REGFLAGS_OPT_PLATFORM,
    REGFLAGS_OPTS_TRANSFER,
    { "chunk-size", required_argument, NULL, 'c' },
    { "compression", required_argument, NULL, 'C' },
    { "compression-format", required_argument, NULL, 'C' }, /* podman */
    { "sign-with", required_argument, NULL, SIGNKEY_KEY },
    SIGNKEY_OPTS,
    { "sign-identity", required_argument, NULL, 'i' },
    REGFLAGS_OPT_QUIET,
    REGFLAGS_OPT_HELP,
    { 0 },
  };
  struct reg_push_opts o = { .config_path = g->config_path, .out = stdout };
  struct reg_push_result res;
  struct reg_push_source src;
  struct store_ref ref = { 0 };
  struct regflags rf;
  struct signkey sk = { 0 };
  struct trust_key k = { 0 };
  const char *identity = NULL;
  enum layer_compression comp = LAYER_UNKNOWN;
  _cleanup_free_ char *recompressed = NULL;
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
      case 'i':
        identity = optarg;
        break;
      case 'C':
        if (layer_compression_parse (optarg, &comp, err) < 0)
          return err_exit (err, 2);
        break;
      default:
        if (signkey_option (&sk, c, optarg))
          break;
        if ((rc = regflags_option (&rf, c, optarg, err)) != 0)
          return rc < 0 ? -1 : 0;
      }
  if (optind != argc - 1 && optind != argc - 2)
    return command_usage_error (usage_text, err);
  regflags_push_opts (&rf, &o);
  if (sk.key && signkey_load (&sk, &k, err) < 0)
    return err_wrap (err, "push '%s'", argv[optind]);
  if (store_open (&s, g->root, err) < 0)
    {
      trust_key_release (&k);
      return -1;
    }
  if (lookup_image (&s, argv[optind], &ref, err) < 0)
    {
      store_release (&s);
      trust_key_release (&k);
      return err_wrap (err, "push '%s'", argv[optind]);
    }
  dest = optind + 1 < argc ? argv[optind + 1] : ref.name;
  o.hints = &s;
  src = reg_push_source_store (&s);
  if (comp != LAYER_UNKNOWN
      && push_recompressed (&s, &ref, o.platform, o.all, comp, &recompressed,
                            err)
             < 0)
    ret = err_wrap (err, "push '%s'", argv[optind]);
  else if (recompressed)
    ret = reg_push (&src, recompressed, MT_OCI_MANIFEST, dest, &o, &res, err);
  else
    ret = reg_push (&src, ref.digest, ref.media_type, dest, &o, &res, err);
  store_ref_release (&ref);
  store_release (&s);
  if (ret < 0)
    {
      trust_key_release (&k);
      return -1;
    }
  /* docker's last line, which scripts read. */
  printf ("%s: digest: %s size: %lld\n", res.reference, res.digest,
          (long long)res.size);
  ret = sk.key ? signkey_push (&k, &o, &res, identity, err) : 0;
  reg_push_result_release (&res);
  trust_key_release (&k);
  return ret;
}
