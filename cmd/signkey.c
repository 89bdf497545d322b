/* The signing key options: see cmd/signkey.h. */
#include "cmd/signkey.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/xalloc.h"
#include "registry/push.h"
#include "registry/session.h"
#include "trust/key.h"
#include "trust/sign.h"
#include "trust/sigstore.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
signkey_option (struct signkey *sk, int c, const char *arg)
{
  if (c == SIGNKEY_KEY)
    sk->key = arg;
  else if (c == SIGNKEY_PASSPHRASE_FILE)
    sk->passphrase_file = arg;
  else
    return 0;
  return 1;
}

int
signkey_load (const struct signkey *sk, struct trust_key *k, struct err **err)
{
  _cleanup_free_ char *pass = NULL;
  size_t len;
  int r;
  if (sk->passphrase_file)
    {
      if (fs_read_file (AT_FDCWD, sk->passphrase_file, 1 << 16, &pass, &len,
                        err)
          < 0)
        return err_wrap (err, "passphrase file '%s'", sk->passphrase_file);
      pass[strcspn (pass, "\r\n")] = 0;
    }
  else if (getenv ("COSIGN_PASSWORD"))
    pass = xstrdup (getenv ("COSIGN_PASSWORD"));
  r = trust_key_load (sk->key, true, pass, k, err);
  if (pass)
    explicit_bzero (pass, strlen (pass));
  return r;
}

int
signkey_push (const struct trust_key *k, const struct reg_push_opts *o,
              const struct reg_push_result *res, const char *identity,
              struct err **err)
{
  struct reg_client_opts co = { .config_path = o->config_path,
                                .no_tls_verify = o->no_tls_verify,
                                .cert_dir = o->cert_dir };
  struct reg_client c;
  _cleanup_free_ char *ref = xasprintf ("%s@%s", res->name, res->digest);
  _cleanup_strv_ char **done = NULL;
  int ret;
  if (reg_client_init (&c, &co, err) < 0)
    return -1;
  ret = trust_sign_ref (&c, ref, k, identity, false, &done, err);
  reg_client_release (&c);
  if (ret < 0)
    return err_wrap (err, "sign '%s'", ref);
  for (char **d = done; d && *d; d++)
    {
      _cleanup_free_ char *tag = trust_sig_tag (*d);
      if (!o->quiet)
        printf ("Signed %s (%s)\n", *d, tag);
    }
  return 0;
}
