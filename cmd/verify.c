/* imgtool verify --key PUB [--format json] [--tls-verify=false]
 * [--cert-dir DIR] IMAGE
 *
 * Checks every signature beside the image's digest (cosign's .sig tag)
 * with the public key: each that verifies over its payload and names the
 * digest is printed (the payload as signed, one per line; --format json:
 * a JSON array of them, as cosign verify prints). Exits 1 when none
 * verifies, with the reason of each. */
#include "cmd/command.h"
#include "cmd/opttable.h"
#include "cmd/regflags.h"
#include "lib/err.h"
#include "lib/xalloc.h"
#include "registry/session.h"
#include "trust/key.h"
#include "trust/sign.h"

#include <stdio.h>
#include <string.h>

static const char usage_text[]
    = "imgtool verify --key PUB [--format json] " REGFLAGS_USAGE_TLS_VERIFY
      " " REGFLAGS_USAGE_CERT_DIR " IMAGE";

static const struct cmd_opt verify_opts[] = {
  CMD_OPT ("key", 0, "FILE", 'k', "The public key (cosign format)", NULL),
  CMD_OPT ("format", 0, "FORMAT", 'f', "Output format: text or json", NULL),
  REGFLAGS_OPT_TLS_VERIFY,
  REGFLAGS_OPT_CERT_DIR,
  REGFLAGS_OPT_HELP,
  CMD_OPT_END,
};

const struct cmd_spec cmd_verify_spec = {
  .name = "verify",
  .usage = usage_text,
  .opts = verify_opts,
};

COMMAND (verify)
{
  struct regflags rf;
  struct reg_client c;
  struct reg_client_opts co = { .config_path = g->config_path };
  struct trust_key k;
  const char *key = NULL;
  _cleanup_free_ char *digest = NULL;
  bool json = false;
  json_t *payloads;
  int ch, rc, ret;

  regflags_init (&rf, usage_text, g->quiet);
  while ((ch = cmd_getopt (argc, argv, &cmd_verify_spec)) != -1)
    switch (ch)
      {
      case 'k':
        key = optarg;
        break;
      case 'f':
        if (strcmp (optarg, "json") && strcmp (optarg, "text"))
          {
            err_set (err, 0, "invalid --format '%s': expected json or text",
                     optarg);
            return err_exit (err, 2);
          }
        json = !strcmp (optarg, "json");
        break;
      default:
        if ((rc = regflags_option (&rf, ch, optarg, err)) != 0)
          return rc < 0 ? -1 : 0;
      }
  if (optind != argc - 1 || !key)
    return command_usage_error (usage_text, err);
  if (trust_key_load (key, false, NULL, &k, err) < 0)
    return err_wrap (err, "verify '%s'", argv[optind]);
  co.no_tls_verify = !rf.tls_verify;
  co.cert_dir = rf.cert_dir;
  if (reg_client_init (&c, &co, err) < 0)
    {
      trust_key_release (&k);
      return -1;
    }
  payloads = json_array ();
  ret = trust_verify_ref (&c, argv[optind], &k, &digest, payloads, err);
  reg_client_release (&c);
  trust_key_release (&k);
  if (ret < 0)
    {
      json_decref (payloads);
      return err_wrap (err, "verify '%s'", argv[optind]);
    }
  if (json)
    {
      _cleanup_free_ char *s
          = json_dumps (payloads, JSON_COMPACT | JSON_PRESERVE_ORDER);
      printf ("%s\n", s);
    }
  else
    {
      size_t i;
      json_t *p;
      json_array_foreach (payloads, i, p)
      {
        _cleanup_free_ char *s
            = json_dumps (p, JSON_COMPACT | JSON_PRESERVE_ORDER);
        printf ("%s\n", s);
      }
    }
  json_decref (payloads);
  return 0;
}
