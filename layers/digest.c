#include "layers/digest.h"
#include "lib/err.h"
#include "lib/sha256.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Tests set this to check the OpenSSL path on a CPU with SHA-NI. */
static bool force_openssl;

void
digest_force_openssl (bool on)
{
  force_openssl = on;
}

static EVP_MD_CTX *
evp_new (void)
{
  EVP_MD_CTX *ctx = EVP_MD_CTX_new ();
  if (!ctx || !EVP_DigestInit_ex (ctx, EVP_sha256 (), NULL))
    abort ();
  return ctx;
}

void
digester_init (struct digester *d)
{
  d->evp = NULL;
  if (sha256_native () && !force_openssl)
    sha256_init (&d->native);
  else
    d->evp = evp_new ();
}

void
digester_update (struct digester *d, const void *data, size_t len)
{
  if (!len)
    return;
  if (!d->evp)
    sha256_update (&d->native, data, len);
  else if (!EVP_DigestUpdate (d->evp, data, len))
    abort ();
}

void
digester_final (struct digester *d, char out[DIGEST_STR_LEN + 1])
{
  unsigned char md[32];
  unsigned int n = 32;
  static const char hex[] = "0123456789abcdef";
  if (!d->evp)
    {
      sha256_final (&d->native, md);
      sha256_init (&d->native);
    }
  else if (!EVP_DigestFinal_ex (d->evp, md, &n) || n != 32
           || !EVP_DigestInit_ex (d->evp, EVP_sha256 (), NULL))
    abort ();
  memcpy (out, "sha256:", 7);
  for (int i = 0; i < 32; i++)
    {
      out[7 + 2 * i] = hex[md[i] >> 4];
      out[8 + 2 * i] = hex[md[i] & 15];
    }
  out[DIGEST_STR_LEN] = '\0';
}

void
digester_copy (struct digester *dst, const struct digester *src)
{
  *dst = *src;
  if (src->evp)
    {
      dst->evp = EVP_MD_CTX_new ();
      if (!dst->evp || !EVP_MD_CTX_copy_ex (dst->evp, src->evp))
        abort ();
    }
}

void
digester_release (struct digester *d)
{
  if (d->evp) /* a call would load libcrypto */
    EVP_MD_CTX_free (d->evp);
  d->evp = NULL;
}

void
digest_buf (const void *data, size_t len, char out[DIGEST_STR_LEN + 1])
{
  struct digester d;
  digester_init (&d);
  digester_update (&d, data, len);
  digester_final (&d, out);
  digester_release (&d);
}

bool
digest_is_sha256 (const char *s)
{
  if (!s || strncmp (s, "sha256:", 7) || strlen (s) != DIGEST_STR_LEN)
    return false;
  for (const char *p = s + 7; *p; p++)
    if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
      return false;
  return true;
}

/* algorithm := [a-z0-9]+([+._-][a-z0-9]+)*  encoded := [a-zA-Z0-9=_-]+ */
bool
digest_is_valid (const char *s)
{
  const char *p = s;
  bool need_alnum = true;
  if (!s)
    return false;
  for (; *p && *p != ':'; p++)
    {
      if ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9'))
        need_alnum = false;
      else if (strchr ("+._-", *p) && !need_alnum)
        need_alnum = true;
      else
        return false;
    }
  if (*p != ':' || need_alnum || p == s || !p[1])
    return false;
  for (p++; *p; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')
          || (*p >= '0' && *p <= '9') || strchr ("=_-", *p)))
      return false;
  return true;
}

int
digest_check (const char *s, struct err **err)
{
  if (digest_is_sha256 (s))
    return 0;
  if (digest_is_valid (s) && strncmp (s, "sha256:", 7))
    return err_set (err, 0, "unsupported digest algorithm in '%s'", s);
  return err_set (err, 0, "invalid digest '%s'", s ? s : "");
}

const char *
digest_short (const char *s, char buf[20])
{
  snprintf (buf, 20, "%.19s", s);
  return buf;
}
