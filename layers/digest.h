/* Content digests: "sha256:<64 lowercase hex>" (OCI descriptor.md).
 * Only sha256 is produced; other grammatical algorithms are refused with a
 * clear error when they would have to be verified. */
#ifndef IMGTOOL_DIGEST_H
#define IMGTOOL_DIGEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/sha256.h"

struct err;

#define DIGEST_HEX_LEN 64
#define DIGEST_STR_LEN (7 + DIGEST_HEX_LEN) /* "sha256:" + hex */

/* SHA-256 on the CPU's SHA instructions where it has them (lib/sha256.h),
 * else OpenSSL's, loaded on first use (lib/crypto_lazy.c). */
struct digester
{
  struct sha256 native;
  void *evp; /* EVP_MD_CTX when OpenSSL hashes, else NULL */
};

void digester_init (struct digester *d);
void digester_update (struct digester *d, const void *data, size_t len);
/* Writes "sha256:<hex>" into out (DIGEST_STR_LEN + 1 bytes) and resets d
 * for reuse. */
void digester_final (struct digester *d, char out[DIGEST_STR_LEN + 1]);
/* Copy the running state (to hash a prefix without ending the stream). */
void digester_copy (struct digester *dst, const struct digester *src);
void digester_release (struct digester *d);

/* Tests: hash with OpenSSL even where the CPU has SHA instructions. */
void digest_force_openssl (bool on);

/* One-shot digest of a buffer. */
void digest_buf (const void *data, size_t len, char out[DIGEST_STR_LEN + 1]);

/* Is s a valid sha256 digest string (lowercase hex, exact length)? */
bool digest_is_sha256 (const char *s);
/* Is s grammatical per the OCI digest grammar (any algorithm)? */
bool digest_is_valid (const char *s);
/* Check s is a sha256 digest we can verify; a clear error otherwise. */
int digest_check (const char *s, struct err **err);
/* The hex part of a sha256 digest (pointer into s). */
static inline const char *
digest_hex (const char *s)
{
  return s + 7;
}
/* Short form for messages: "sha256:0123456789ab". Static buffer per call
 * site is not thread-safe, so the caller passes one of 20 bytes. */
const char *digest_short (const char *s, char buf[20]);

#endif
