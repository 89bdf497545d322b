/* libcrypto (OpenSSL 3), loaded on the first call of one of its functions
 * (see lib/dynlib.h): relocating it was 90% of the dynamic loader's work at
 * every exec, and imgtool hashes with the CPU's SHA instructions where it
 * can (lib/sha256.h). What is left: SHA-256 on CPUs without them, base64
 * for registry auth, and the text of a TLS verification error (libcurl
 * has loaded libcrypto by then). One stub per function; the link fails on
 * a new one until it is added here. */
#include "lib/dynlib.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

static struct dynlib crypto_lib = DYNLIB_INIT ("libcrypto.so.3");

DYNLIB_STUB (crypto_lib, const char *, OpenSSL_version, (int t), (t))

DYNLIB_STUB (crypto_lib, EVP_MD_CTX *, EVP_MD_CTX_new, (void), ())
DYNLIB_STUB_VOID (crypto_lib, EVP_MD_CTX_free, (EVP_MD_CTX * ctx), (ctx))
DYNLIB_STUB (crypto_lib, const EVP_MD *, EVP_sha256, (void), ())
DYNLIB_STUB (crypto_lib, int, EVP_DigestInit_ex,
             (EVP_MD_CTX * ctx, const EVP_MD *type, ENGINE *impl),
             (ctx, type, impl))
DYNLIB_STUB (crypto_lib, int, EVP_DigestUpdate,
             (EVP_MD_CTX * ctx, const void *d, size_t cnt), (ctx, d, cnt))
DYNLIB_STUB (crypto_lib, int, EVP_DigestFinal_ex,
             (EVP_MD_CTX * ctx, unsigned char *md, unsigned int *s),
             (ctx, md, s))
DYNLIB_STUB (crypto_lib, int, EVP_MD_CTX_copy_ex,
             (EVP_MD_CTX * out, const EVP_MD_CTX *in), (out, in))
DYNLIB_STUB (crypto_lib, int, EVP_EncodeBlock,
             (unsigned char *t, const unsigned char *f, int n), (t, f, n))
DYNLIB_STUB (crypto_lib, int, EVP_DecodeBlock,
             (unsigned char *t, const unsigned char *f, int n), (t, f, n))
DYNLIB_STUB (crypto_lib, const char *, X509_verify_cert_error_string, (long n),
             (n))
