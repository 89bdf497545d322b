/* SHA-256 on x86 SHA-NI: see lib/sha256.h. The block function follows the
 * instruction descriptions in Intel's SDM (SHA256RNDS2, SHA256MSG1,
 * SHA256MSG2); the padding is FIPS 180-4 §5.1.1. */
#include "lib/sha256.h"

#include <string.h>

static const uint32_t init_state[8] = {
  0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
  0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
};

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>

static const uint32_t round_k[64] = {
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1,
  0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
  0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
  0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147,
  0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
  0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
  0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
  0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
  0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

bool
sha256_native (void)
{
  static int have = -1;
  int h = __atomic_load_n (&have, __ATOMIC_RELAXED);
  if (h < 0)
    {
      unsigned a, b, c, d;
      h = __get_cpuid (1, &a, &b, &c, &d) && (c & bit_SSSE3) && (c & bit_SSE4_1)
          && __get_cpuid_count (7, 0, &a, &b, &c, &d) && (b & bit_SHA);
      __atomic_store_n (&have, h, __ATOMIC_RELAXED);
    }
  return h;
}

/* Hash n 64-byte blocks into h. The instructions keep the state as two
 * vectors, ABEF and CDGH (A in the top lane), and do two rounds per
 * SHA256RNDS2; the message schedule is four words per vector, w[g % 4]
 * holding words 4g..4g+3. */
__attribute__ ((target ("sha,sse4.1,ssse3"))) static void
blocks (uint32_t h[8], const uint8_t *p, size_t n)
{
  const __m128i bswap
      = _mm_set_epi8 (12, 13, 14, 15, 8, 9, 10, 11, 4, 5, 6, 7, 0, 1, 2, 3);
  __m128i dcba = _mm_loadu_si128 ((const __m128i *)&h[0]);
  __m128i hgfe = _mm_loadu_si128 ((const __m128i *)&h[4]);
  __m128i cdab = _mm_shuffle_epi32 (dcba, 0xB1);
  __m128i efgh = _mm_shuffle_epi32 (hgfe, 0x1B);
  __m128i abef = _mm_alignr_epi8 (cdab, efgh, 8);
  __m128i cdgh = _mm_blend_epi16 (efgh, cdab, 0xF0);

  for (; n; n--, p += 64)
    {
      __m128i abef0 = abef, cdgh0 = cdgh, w[4];
#pragma GCC unroll 16
      for (int g = 0; g < 16; g++)
        {
          __m128i m;
          if (g < 4)
            w[g] = _mm_shuffle_epi8 (
                _mm_loadu_si128 ((const __m128i *)(p + 16 * g)), bswap);
          else
            {
              /* W[t] = s1(W[t-2]) + W[t-7] + s0(W[t-15]) + W[t-16]:
               * w[g % 4] holds group g-4 until replaced, w[(g+1) % 4]
               * group g-3, w[(g+2) % 4] g-2, w[(g+3) % 4] g-1 */
              __m128i x = _mm_sha256msg1_epu32 (w[g % 4], w[(g + 1) % 4]);
              x = _mm_add_epi32 (
                  x, _mm_alignr_epi8 (w[(g + 3) % 4], w[(g + 2) % 4], 4));
              w[g % 4] = _mm_sha256msg2_epu32 (x, w[(g + 3) % 4]);
            }
          m = _mm_add_epi32 (
              w[g % 4], _mm_loadu_si128 ((const __m128i *)&round_k[4 * g]));
          cdgh = _mm_sha256rnds2_epu32 (cdgh, abef, m);
          abef
              = _mm_sha256rnds2_epu32 (abef, cdgh, _mm_shuffle_epi32 (m, 0x0E));
        }
      abef = _mm_add_epi32 (abef, abef0);
      cdgh = _mm_add_epi32 (cdgh, cdgh0);
    }

  {
    __m128i feba = _mm_shuffle_epi32 (abef, 0x1B);
    __m128i dchg = _mm_shuffle_epi32 (cdgh, 0xB1);
    _mm_storeu_si128 ((__m128i *)&h[0], _mm_blend_epi16 (feba, dchg, 0xF0));
    _mm_storeu_si128 ((__m128i *)&h[4], _mm_alignr_epi8 (dchg, feba, 8));
  }
}

#else

bool
sha256_native (void)
{
  return false;
}

static void
blocks (uint32_t h[8], const uint8_t *p, size_t n)
{
  (void)h, (void)p, (void)n;
  __builtin_trap (); /* callers check sha256_native() first */
}

#endif

void
sha256_init (struct sha256 *s)
{
  memcpy (s->h, init_state, sizeof s->h);
  s->total = 0;
  s->n = 0;
}

void
sha256_update (struct sha256 *s, const void *data, size_t len)
{
  const uint8_t *p = data;
  s->total += len;
  if (s->n)
    {
      size_t take = 64 - s->n < len ? 64 - s->n : len;
      memcpy (s->buf + s->n, p, take);
      s->n += take;
      p += take;
      len -= take;
      if (s->n < 64)
        return;
      blocks (s->h, s->buf, 1);
      s->n = 0;
    }
  if (len >= 64)
    {
      blocks (s->h, p, len / 64);
      p += len & ~(size_t)63;
      len &= 63;
    }
  memcpy (s->buf, p, len);
  s->n = len;
}

void
sha256_final (struct sha256 *s, uint8_t out[32])
{
  uint64_t bits = s->total * 8;
  s->buf[s->n++] = 0x80;
  if (s->n > 56)
    {
      memset (s->buf + s->n, 0, 64 - s->n);
      blocks (s->h, s->buf, 1);
      s->n = 0;
    }
  memset (s->buf + s->n, 0, 56 - s->n);
  for (int i = 0; i < 8; i++)
    s->buf[56 + i] = (uint8_t)(bits >> (56 - 8 * i));
  blocks (s->h, s->buf, 1);
  for (int i = 0; i < 8; i++)
    {
      out[4 * i] = (uint8_t)(s->h[i] >> 24);
      out[4 * i + 1] = (uint8_t)(s->h[i] >> 16);
      out[4 * i + 2] = (uint8_t)(s->h[i] >> 8);
      out[4 * i + 3] = (uint8_t)s->h[i];
    }
}
