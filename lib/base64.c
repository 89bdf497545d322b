#include "lib/base64.h"
#include "lib/xalloc.h"

#include <openssl/evp.h>
#include <string.h>

char *
base64_encode (const void *data, size_t len)
{
  size_t out_len = 4 * ((len + 2) / 3) + 1;
  char *out = xmalloc (out_len);
  if (len > (size_t)0x3fffffff)
    abort ();
  EVP_EncodeBlock ((unsigned char *)out, data, (int)len);
  return out;
}

char *
base64_decode (const char *s, size_t *len)
{
  size_t n = strlen (s), pad = 0;
  unsigned char *out;
  int r;
  if (n % 4 || n > (size_t)0x3fffffff)
    return NULL;
  if (n && s[n - 1] == '=')
    pad++;
  if (n > 1 && s[n - 2] == '=')
    pad++;
  out = xmalloc (n / 4 * 3 + 1);
  r = EVP_DecodeBlock (out, (const unsigned char *)s, (int)n);
  if (r < 0 || (size_t)r < pad)
    {
      free (out);
      return NULL;
    }
  r -= (int)pad; /* EVP_DecodeBlock counts the padding as zero bytes */
  out[r] = '\0';
  if (len)
    *len = (size_t)r;
  return (char *)out;
}
