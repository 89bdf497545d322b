/* imgtool sign --key KEY [--passphrase-file FILE] [--sign-identity REF]
 * [--recursive] [--tls-verify=false] [--cert-dir DIR] IMAGE
 *
 * Signs an image in its registry as cosign does (trust/sign.h). podman's
 * spellings --sign-by-sigstore-private-key and --sign-passphrase-file are
 * the same options. An image only in the store must be pushed first (or
 * pushed with push --sign-with). */
#include "trust/sign.h"
#include "cmd/command.h"
#include "cmd/lookup.h"
#include "cmd/opttable.h"
#include "cmd/regflags.h"
#include "cmd/signkey.h"
#include "layers/store.h"
#include "lib/err.h"
#include "lib/xalloc.h"
#include "registry/session.h"
#include "trust/key.h"
#include "trust/sigstore.h"

#include <stdio.h>
#include <string.h>

static const char usage_text[]
    = "imgtool sign --key KEY [--passphrase-file FILE] [--sign-identity REF] "
      "[--recursive] " REGFLAGS_USAGE_TLS_VERIFY " " REGFLAGS_USAGE_CERT_DIR
      " IMAGE";

/* Only in the store? Then the registry's "not found" gets advice. */
static void
advise_push (struct global *g, const char *image, struct err **err)
{
  struct store s;
  struct store_ref ref = { 0 };
  struct err *e = NULL;
  if (!strstr ((*err)->msg, "404") || store_open (&s, g->root, &e) < 0)
    {
      err_free (e);
      return;
    }
  if (lookup_image (&s, image, &ref, &e) == 0)
    {
      err_clear (err);
      err_set (err, 0,
               "sign '%s': the image is only in the store; push it first, "
               "or push it with 'imgtool push --sign-with KEY'",
               image);
    }
  err_free (e);
  store_ref_release (&ref);
  store_release (&s);
}

static const struct cmd_opt sign_opts[] = {
  SIGNKEY_OPTS,
  CMD_OPT ("sign-identity", 0, "REF", 'i',
           "The identity to sign for, instead of the image reference", NULL),
  CMD_OPT ("recursive", 0, NULL, 'R', "Sign every image of an index too", NULL),
  REGFLAGS_OPT_TLS_VERIFY,
  REGFLAGS_OPT_CERT_DIR,
  REGFLAGS_OPT_HELP,
  CMD_OPT_END,
};

const struct cmd_spec cmd_sign_spec = {
  .name = "sign",
  .usage = usage_text,
  .opts = sign_opts,
};

COMMAND (sign)
{
  struct signkey sk = { 0 };
  struct regflags rf;
  struct reg_client c;
  struct reg_client_opts co = { .config_path = g->config_path };
  struct trust_key k;
  const char *identity = NULL;
  _cleanup_strv_ char **done = NULL;
  bool recursive = false;
  int ch, rc, ret;

  regflags_init (&rf, usage_text, g->quiet);
  while ((ch = cmd_getopt (argc, argv, &cmd_sign_spec)) != -1)
    switch (ch)
      {
      case 'i':
        identity = optarg;
        break;
      case 'R':
        recursive = cmd_optbool;
        break;
      default:
        if ((rc = signkey_option (&sk, ch, optarg)) > 0)
          break;
        if ((rc = regflags_option (&rf, ch, optarg, err)) != 0)
          return rc < 0 ? -1 : 0;
      }
  if (optind != argc - 1 || !sk.key)
    return command_usage_error (usage_text, err);
  if (signkey_load (&sk, &k, err) < 0)
    return err_wrap (err, "sign '%s'", argv[optind]);
  co.no_tls_verify = !rf.tls_verify;
  co.cert_dir = rf.cert_dir;
  if (reg_client_init (&c, &co, err) < 0)
    {
      trust_key_release (&k);
      return -1;
    }
  ret = trust_sign_ref (&c, argv[optind], &k, identity, recursive, &done, err);
  reg_client_release (&c);
  trust_key_release (&k);
  if (ret < 0)
    {
      err_wrap (err, "sign '%s'", argv[optind]);
      advise_push (g, argv[optind], err);
      return -1;
    }
  for (char **d = done; d && *d; d++)
    {
      _cleanup_free_ char *tag = trust_sig_tag (*d);
      printf ("Signed %s (%s)\n", *d, tag);
    }
  return 0;
}
