/* SHA-256 (FIPS 180-4) on the CPU's SHA extensions (x86 SHA-NI), without
 * a library.
 *
 * Why: every imgtool command hashes something (a manifest read back from
 * the store, chain IDs, the seccomp cache key), and with OpenSSL that costs
 * loading and relocating libcrypto at exec (90% of the dynamic loader's
 * work for imgtool) plus ~0.5 ms to set up its first digest: more than a
 * tenth of `imgtool run`. The SHA instructions hash as fast as OpenSSL
 * does with them. Where they are missing (older x86, other architectures)
 * sha256_native() is false and layers/digest.c uses OpenSSL, loaded on
 * first use, whose code for those CPUs is faster than portable C. */
#ifndef IMGTOOL_SHA256_H
#define IMGTOOL_SHA256_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sha256
{
  uint32_t h[8];
  uint64_t total; /* bytes hashed so far */
  uint8_t buf[64];
  size_t n; /* bytes waiting in buf */
};

/* Does this CPU have the instructions (checked once, with cpuid)? */
bool sha256_native (void);

/* Only when sha256_native() is true. */
void sha256_init (struct sha256 *s);
void sha256_update (struct sha256 *s, const void *data, size_t len);
void sha256_final (struct sha256 *s, uint8_t out[32]);

#endif
