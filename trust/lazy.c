/* The libcrypto functions that signing uses, and libsodium (cosign's
 * encrypted keys: scrypt and NaCl secretbox), loaded on their first call
 * as lib/crypto_lazy.c does for the rest of libcrypto (lib/dynlib.h says
 * why): only sign, verify and a pull under a signature policy need them. */
#include "lib/dynlib.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sodium.h>

static struct dynlib ssl_lib = DYNLIB_INIT ("libcrypto.so.3");
static struct dynlib sodium_lib = DYNLIB_INIT ("libsodium.so.23");

DYNLIB_STUB (ssl_lib, BIO *, BIO_new_mem_buf, (const void *buf, int len),
             (buf, len))
DYNLIB_STUB (ssl_lib, int, BIO_free, (BIO * a), (a))
DYNLIB_STUB (ssl_lib, EVP_PKEY *, PEM_read_bio_PrivateKey,
             (BIO * bp, EVP_PKEY **x, pem_password_cb *cb, void *u),
             (bp, x, cb, u))
DYNLIB_STUB (ssl_lib, EVP_PKEY *, PEM_read_bio_PUBKEY,
             (BIO * bp, EVP_PKEY **x, pem_password_cb *cb, void *u),
             (bp, x, cb, u))
DYNLIB_STUB (ssl_lib, EVP_PKEY *, d2i_AutoPrivateKey,
             (EVP_PKEY * *a, const unsigned char **pp, long length),
             (a, pp, length))
DYNLIB_STUB_VOID (ssl_lib, EVP_PKEY_free, (EVP_PKEY * k), (k))
DYNLIB_STUB (ssl_lib, int, EVP_PKEY_get_base_id, (const EVP_PKEY *k), (k))
DYNLIB_STUB (ssl_lib, int, EVP_PKEY_get_size, (const EVP_PKEY *k), (k))
DYNLIB_STUB (ssl_lib, int, i2d_PUBKEY, (const EVP_PKEY *a, unsigned char **pp),
             (a, pp))
DYNLIB_STUB (ssl_lib, int, EVP_DigestSignInit,
             (EVP_MD_CTX * ctx, EVP_PKEY_CTX **pctx, const EVP_MD *type,
              ENGINE *e, EVP_PKEY *pkey),
             (ctx, pctx, type, e, pkey))
DYNLIB_STUB (ssl_lib, int, EVP_DigestSign,
             (EVP_MD_CTX * ctx, unsigned char *sigret, size_t *siglen,
              const unsigned char *tbs, size_t tbslen),
             (ctx, sigret, siglen, tbs, tbslen))
DYNLIB_STUB (ssl_lib, int, EVP_DigestVerifyInit,
             (EVP_MD_CTX * ctx, EVP_PKEY_CTX **pctx, const EVP_MD *type,
              ENGINE *e, EVP_PKEY *pkey),
             (ctx, pctx, type, e, pkey))
DYNLIB_STUB (ssl_lib, int, EVP_DigestVerify,
             (EVP_MD_CTX * ctx, const unsigned char *sig, size_t siglen,
              const unsigned char *tbs, size_t tbslen),
             (ctx, sig, siglen, tbs, tbslen))
DYNLIB_STUB_VOID (ssl_lib, ERR_clear_error, (void), ())

DYNLIB_STUB (sodium_lib, int, sodium_init, (void), ())
DYNLIB_STUB (sodium_lib, int, crypto_pwhash_scryptsalsa208sha256_ll,
             (const uint8_t *passwd, size_t passwdlen, const uint8_t *salt,
              size_t saltlen, uint64_t N, uint32_t r, uint32_t p, uint8_t *buf,
              size_t buflen),
             (passwd, passwdlen, salt, saltlen, N, r, p, buf, buflen))
DYNLIB_STUB (sodium_lib, int, crypto_secretbox_open_easy,
             (unsigned char *m, const unsigned char *c, unsigned long long clen,
              const unsigned char *n, const unsigned char *k),
             (m, c, clen, n, k))
