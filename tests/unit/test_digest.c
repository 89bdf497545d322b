/* layers/digest.c and lib/sha256.c: FIPS 180-4 test vectors on both
 * backends (the CPU's SHA instructions and OpenSSL), the two compared on
 * every length and split. That SHA-NI leaves libcrypto unloaded is
 * checked in integration/00-cli (the unit programs link libarchive, which
 * needs it). */
#include "layers/digest.h"
#include "lib/sha256.h"
#include "tests/unit/test.h"

#include <stdlib.h>

static const struct
{
  const char *what, *msg, *sum;
  size_t repeat;
} vectors[] = {
  { "empty", "",
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", 1 },
  { "abc", "abc",
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", 1 },
  { "448 bits", "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
    "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1", 1 },
  { "896 bits",
    "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmno"
    "pjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
    "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1", 1 },
  { "a million 'a'", "a",
    "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0",
    1000000 },
};

static void
sum_of (const char *msg, size_t repeat, char out[DIGEST_STR_LEN + 1])
{
  struct digester d;
  digester_init (&d);
  for (size_t i = 0; i < repeat; i++)
    digester_update (&d, msg, strlen (msg));
  digester_final (&d, out);
  digester_release (&d);
}

static void
vectors_on (const char *backend)
{
  char got[DIGEST_STR_LEN + 1], want[DIGEST_STR_LEN + 1];
  for (size_t i = 0; i < sizeof vectors / sizeof vectors[0]; i++)
    {
      sum_of (vectors[i].msg, vectors[i].repeat, got);
      snprintf (want, sizeof want, "sha256:%s", vectors[i].sum);
      CHECK_STR (got, want, "%s: FIPS 180-4 vector '%s'", backend,
                 vectors[i].what);
    }
}

/* Both backends on the same bytes, every length up to three blocks and
 * long inputs fed in odd pieces; a copy taken midway ends the same. */
static void
backends_agree (void)
{
  size_t big = 1 << 20;
  unsigned char *buf = malloc (big);
  int same_lengths = 1, same_splits = 1, same_copy = 1;
  unsigned seed = 12345;
  for (size_t i = 0; i < big; i++)
    buf[i] = (unsigned char)((seed = seed * 1103515245 + 12345) >> 16);
  for (size_t len = 0; len <= 200; len++)
    {
      char a[DIGEST_STR_LEN + 1], b[DIGEST_STR_LEN + 1];
      digest_force_openssl (false);
      digest_buf (buf, len, a);
      digest_force_openssl (true);
      digest_buf (buf, len, b);
      same_lengths &= !strcmp (a, b);
    }
  CHECK (same_lengths, "SHA-NI and OpenSSL agree on every length 0..200");
  for (int round = 0; round < 4; round++)
    {
      size_t len = big - (size_t)round, off = 0;
      char a[DIGEST_STR_LEN + 1], b[DIGEST_STR_LEN + 1];
      struct digester d;
      digest_force_openssl (true);
      digest_buf (buf, len, a);
      digest_force_openssl (false);
      digester_init (&d);
      while (off < len)
        {
          size_t n = (seed = seed * 1103515245 + 12345) % 300;
          if (n > len - off)
            n = len - off;
          digester_update (&d, buf + off, n);
          off += n;
        }
      digester_final (&d, b);
      digester_release (&d);
      same_splits &= !strcmp (a, b);
    }
  for (int openssl = 0; openssl < 2; openssl++)
    {
      /* a copy taken midway, fed the rest on its own, ends as the whole
       * does, whatever the original is fed after the copy */
      char whole[DIGEST_STR_LEN + 1], c[DIGEST_STR_LEN + 1];
      struct digester d, copy;
      digest_force_openssl (openssl);
      digest_buf (buf, big, whole);
      digester_init (&d);
      digester_update (&d, buf, big / 2 + 7);
      digester_copy (&copy, &d);
      digester_update (&d, "junk", 4);
      digester_update (&copy, buf + big / 2 + 7, big - big / 2 - 7);
      digester_final (&copy, c);
      same_copy &= !strcmp (c, whole);
      digester_release (&d);
      digester_release (&copy);
    }
  CHECK (same_splits, "SHA-NI in pieces of 0-299 bytes = OpenSSL in one");
  CHECK (same_copy,
         "a copy taken midway is a state of its own (both backends)");
  free (buf);
  digest_force_openssl (false);
}

int
main (void)
{
  if (sha256_native ())
    {
      vectors_on ("SHA-NI");
      {
        /* final resets the state: the next digest starts afresh */
        struct digester d;
        char a[DIGEST_STR_LEN + 1], b[DIGEST_STR_LEN + 1];
        digester_init (&d);
        digester_update (&d, "xyz", 3);
        digester_final (&d, a);
        digester_update (&d, "abc", 3);
        digester_final (&d, b);
        digester_release (&d);
        CHECK_STR (
            b,
            "sha256:"
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
            "SHA-NI: final resets for the next digest");
      }
      backends_agree ();
    }
  else
    SKIP ("this CPU has no SHA instructions: only OpenSSL is used");
  digest_force_openssl (true);
  vectors_on ("OpenSSL");
  digest_force_openssl (false);
  return test_done ();
}
