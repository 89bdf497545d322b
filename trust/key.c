/* Signing keys: see trust/key.h. */
#include "trust/key.h"
#include "layers/digest.h"
#include "lib/base64.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/xalloc.h"

#include <fcntl.h>
#include <jansson.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sodium.h>
#include <string.h>

#define KEY_FILE_MAX (1 << 20)

/* cosign's encrypted key: the PEM labels it reads (both) and the scrypt
 * costs its decryptors accept (go-securesystemslib: legacy 2^15, standard
 * 2^16, OWASP 2^17; r=8, p=1). Anything else is refused, not tried. */
static const char *const cosign_labels[]
    = { "ENCRYPTED SIGSTORE PRIVATE KEY", "ENCRYPTED COSIGN PRIVATE KEY" };

static bool
scrypt_params_ok (json_int_t n, json_int_t r, json_int_t p)
{
  return (n == 32768 || n == 65536 || n == 131072) && r == 8 && p == 1;
}

static const char *
kind_of (EVP_PKEY *k)
{
  switch (EVP_PKEY_get_base_id (k))
    {
    case EVP_PKEY_EC:
      return "ecdsa";
    case EVP_PKEY_RSA:
      return "rsa";
    case EVP_PKEY_ED25519:
      return "ed25519";
    default:
      return NULL;
    }
}

static int
key_finish (EVP_PKEY *pk, struct trust_key *out, struct err **err)
{
  unsigned char *der, *p;
  char fp[DIGEST_STR_LEN + 1];
  int n;
  out->kind = kind_of (pk);
  if (!out->kind)
    {
      EVP_PKEY_free (pk);
      return err_set (err, 0,
                      "unsupported key type (expected ECDSA, RSA or Ed25519)");
    }
  n = i2d_PUBKEY (pk, NULL);
  if (n <= 0)
    {
      EVP_PKEY_free (pk);
      return err_set (err, 0, "cannot encode the public key");
    }
  p = der = xmalloc ((size_t)n);
  i2d_PUBKEY (pk, &p);
  digest_buf (der, (size_t)n, fp);
  free (der);
  out->pkey = pk;
  out->fingerprint = xstrdup (fp);
  return 0;
}

/* The base64 body of the PEM block labelled label, decoded; NULL if the
 * text has no such block. */
static char *
pem_block (const char *pem, size_t len, const char *label, size_t *out_len)
{
  _cleanup_free_ char *begin = xasprintf ("-----BEGIN %s-----", label);
  _cleanup_free_ char *end = xasprintf ("-----END %s-----", label);
  _cleanup_free_ char *text = xstrndup (pem, len), *b64 = NULL;
  char *s = strstr (text, begin), *e, *w;
  if (!s || !(e = strstr (s, end)))
    return NULL;
  s += strlen (begin);
  w = b64 = xmalloc ((size_t)(e - s) + 1);
  for (; s < e; s++)
    if (*s != '\n' && *s != '\r' && *s != ' ' && *s != '\t')
      *w++ = *s;
  *w = 0;
  return base64_decode (b64, out_len);
}

static unsigned char *
json_b64 (json_t *o, const char *key, size_t *len)
{
  json_t *v = json_object_get (o, key);
  return json_is_string (v)
             ? (unsigned char *)base64_decode (json_string_value (v), len)
             : NULL;
}

/* Decrypt cosign's JSON envelope into PKCS#8 DER. */
static int
cosign_decrypt (const char *env, size_t env_len, const char *pass,
                unsigned char **der, size_t *der_len, struct err **err)
{
  json_error_t je;
  json_t *j = json_loadb (env, env_len, 0, &je);
  json_t *kdf, *params, *cipher;
  _cleanup_free_ unsigned char *salt = NULL, *nonce = NULL, *ct = NULL;
  size_t salt_len = 0, nonce_len = 0, ct_len = 0;
  unsigned char key[crypto_secretbox_KEYBYTES];
  int ret = -1;

  if (!j)
    return err_set (err, 0, "encrypted key: not JSON: %s", je.text);
  kdf = json_object_get (j, "kdf");
  params = json_object_get (kdf, "params");
  cipher = json_object_get (j, "cipher");
  if (!json_is_object (kdf) || !json_is_object (params)
      || !json_is_object (cipher)
      || strcmp (json_string_value (json_object_get (kdf, "name")) ?: "",
                 "scrypt")
      || strcmp (json_string_value (json_object_get (cipher, "name")) ?: "",
                 "nacl/secretbox"))
    {
      err_set (err, 0, "encrypted key: expected scrypt and nacl/secretbox");
      goto out;
    }
  json_int_t n = json_integer_value (json_object_get (params, "N"));
  json_int_t r = json_integer_value (json_object_get (params, "r"));
  json_int_t p = json_integer_value (json_object_get (params, "p"));
  if (!scrypt_params_ok (n, r, p))
    {
      err_set (err, 0,
               "encrypted key: unexpected scrypt parameters N=%lld r=%lld "
               "p=%lld",
               (long long)n, (long long)r, (long long)p);
      goto out;
    }
  salt = json_b64 (kdf, "salt", &salt_len);
  nonce = json_b64 (cipher, "nonce", &nonce_len);
  ct = json_b64 (j, "ciphertext", &ct_len);
  if (!salt || !nonce || nonce_len != crypto_secretbox_NONCEBYTES || !ct
      || ct_len < crypto_secretbox_MACBYTES)
    {
      err_set (err, 0, "encrypted key: bad salt, nonce or ciphertext");
      goto out;
    }
  if (sodium_init () < 0
      || crypto_pwhash_scryptsalsa208sha256_ll (
             (const uint8_t *)(pass ? pass : ""), pass ? strlen (pass) : 0,
             salt, salt_len, (uint64_t)n, (uint32_t)r, (uint32_t)p, key,
             sizeof key)
             != 0)
    {
      err_set (err, 0, "encrypted key: scrypt failed");
      goto out;
    }
  *der_len = ct_len - crypto_secretbox_MACBYTES;
  *der = xmalloc (*der_len + 1);
  if (crypto_secretbox_open_easy (*der, ct, ct_len, nonce, key) != 0)
    {
      free (*der);
      *der = NULL;
      err_set (err, 0,
               "decrypt key: wrong passphrase (give it with "
               "--passphrase-file or COSIGN_PASSWORD)");
      goto out;
    }
  ret = 0;
out:
  explicit_bzero (key, sizeof key);
  json_decref (j);
  return ret;
}

static int
pass_cb (char *buf, int size, int rwflag, void *u)
{
  const char *pass = u ? u : "";
  int n = (int)strlen (pass);
  (void)rwflag;
  if (n > size)
    return -1;
  memcpy (buf, pass, (size_t)n);
  return n;
}

int
trust_key_private (const char *pem, size_t len, const char *pass,
                   struct trust_key *out, struct err **err)
{
  EVP_PKEY *pk = NULL;
  memset (out, 0, sizeof *out);
  for (size_t i = 0; i < ARRAY_SIZE (cosign_labels); i++)
    {
      size_t env_len, der_len = 0;
      _cleanup_free_ char *env
          = pem_block (pem, len, cosign_labels[i], &env_len);
      unsigned char *der = NULL;
      const unsigned char *p;
      if (!env)
        continue;
      if (cosign_decrypt (env, env_len, pass, &der, &der_len, err) < 0)
        return -1;
      p = der;
      pk = d2i_AutoPrivateKey (NULL, &p, (long)der_len);
      explicit_bzero (der, der_len);
      free (der);
      if (!pk)
        return err_set (err, 0, "encrypted key: not a PKCS#8 private key");
      return key_finish (pk, out, err);
    }
  BIO *b = BIO_new_mem_buf (pem, (int)len);
  if (b)
    pk = PEM_read_bio_PrivateKey (b, NULL, pass_cb, (void *)pass);
  BIO_free (b);
  ERR_clear_error ();
  if (!pk)
    return err_set (err, 0, "not a PEM private key (or a wrong passphrase)");
  return key_finish (pk, out, err);
}

int
trust_key_public (const char *pem, size_t len, struct trust_key *out,
                  struct err **err)
{
  EVP_PKEY *pk = NULL;
  BIO *b = BIO_new_mem_buf (pem, (int)len);
  memset (out, 0, sizeof *out);
  if (b)
    pk = PEM_read_bio_PUBKEY (b, NULL, pass_cb, NULL);
  BIO_free (b);
  ERR_clear_error ();
  if (!pk && strstr (pem, "PRIVATE KEY-----"))
    return trust_key_private (pem, len, NULL, out, err);
  if (!pk)
    return err_set (err, 0, "not a PEM public key");
  return key_finish (pk, out, err);
}

int
trust_key_load (const char *path, bool private, const char *pass,
                struct trust_key *out, struct err **err)
{
  _cleanup_free_ char *pem = NULL;
  size_t len;
  int r;
  memset (out, 0, sizeof *out);
  if (fs_read_file (AT_FDCWD, path, KEY_FILE_MAX, &pem, &len, err) < 0)
    return err_wrap (err, "read key '%s'", path);
  r = private ? trust_key_private (pem, len, pass, out, err)
              : trust_key_public (pem, len, out, err);
  explicit_bzero (pem, len);
  if (r < 0)
    return err_wrap (err, "key '%s'", path);
  return 0;
}

void
trust_key_release (struct trust_key *k)
{
  if (k->pkey) /* a zeroed key never loads libcrypto */
    EVP_PKEY_free (k->pkey);
  free (k->fingerprint);
  memset (k, 0, sizeof *k);
}

/* cosign hashes with SHA-256 for ECDSA and RSA; Ed25519 signs the bytes. */
static const EVP_MD *
md_for (const struct trust_key *k)
{
  return strcmp (k->kind, "ed25519") ? EVP_sha256 () : NULL;
}

int
trust_key_sign (const struct trust_key *k, const void *data, size_t len,
                unsigned char **sig, size_t *sig_len, struct err **err)
{
  EVP_MD_CTX *ctx = EVP_MD_CTX_new ();
  int ok = ctx && EVP_DigestSignInit (ctx, NULL, md_for (k), NULL, k->pkey) == 1
           && EVP_DigestSign (ctx, NULL, sig_len, data, len) == 1;
  *sig = NULL;
  if (ok)
    {
      *sig = xmalloc (*sig_len);
      ok = EVP_DigestSign (ctx, *sig, sig_len, data, len) == 1;
    }
  EVP_MD_CTX_free (ctx);
  ERR_clear_error ();
  if (!ok)
    {
      free (*sig);
      *sig = NULL;
      return err_set (err, 0, "signing with the %s key failed", k->kind);
    }
  return 0;
}

bool
trust_key_verify (const struct trust_key *k, const void *data, size_t len,
                  const void *sig, size_t sig_len)
{
  EVP_MD_CTX *ctx = EVP_MD_CTX_new ();
  bool ok = ctx
            && EVP_DigestVerifyInit (ctx, NULL, md_for (k), NULL, k->pkey) == 1
            && EVP_DigestVerify (ctx, sig, sig_len, data, len) == 1;
  EVP_MD_CTX_free (ctx);
  ERR_clear_error ();
  return ok;
}

/* The length of a DER element at p (of n bytes): header plus content, or
 * 0 when it does not fit. */
static size_t
der_len (const unsigned char *p, size_t n)
{
  size_t len, hdr = 2;
  if (n < 2)
    return 0;
  len = p[1];
  if (len & 0x80)
    {
      size_t k = len & 0x7f;
      if (k == 0 || k > 2 || n < 2 + k)
        return 0;
      len = 0;
      for (size_t i = 0; i < k; i++)
        len = len << 8 | p[2 + i];
      hdr += k;
    }
  return hdr + len <= n ? hdr + len : 0;
}

/* ECDSA-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER }, exactly. */
static bool
ecdsa_der (const unsigned char *p, size_t sig_len)
{
  size_t hdr, r, s;
  if (sig_len < 8 || p[0] != 0x30 || der_len (p, sig_len) != sig_len)
    return false;
  hdr = (p[1] & 0x80) ? 2 + (p[1] & 0x7f) : 2;
  if (p[hdr] != 0x02 || !(r = der_len (p + hdr, sig_len - hdr)))
    return false;
  if (hdr + r >= sig_len || p[hdr + r] != 0x02
      || !(s = der_len (p + hdr + r, sig_len - hdr - r)))
    return false;
  return hdr + r + s == sig_len;
}

bool
trust_key_sig_wellformed (const struct trust_key *k, const void *sig,
                          size_t sig_len)
{
  /* The shape of k's kind, or of another kind's: a signature by a key
   * of another type is "another key", not garbage. RSA: 2048 to 8192
   * bits. */
  if (!strcmp (k->kind, "rsa")
      && sig_len == (size_t)EVP_PKEY_get_size (k->pkey))
    return true;
  return sig_len == 64 || ecdsa_der (sig, sig_len)
         || (sig_len >= 256 && sig_len <= 1024 && sig_len % 128 == 0);
}
