/* Image documents. Only image_chain_ids lives here for now (written on
 * the layers branch for snapshots; the lead's image.c replaces this file
 * and must keep the function exactly as declared in image.h). */
#include "layers/image.h"
#include "layers/digest.h"
#include "lib/xalloc.h"

#include <string.h>

char **
image_chain_ids (char *const *diff_ids)
{
  size_t n = strv_len (diff_ids);
  char **out = xcalloc (n + 1, sizeof (char *));
  for (size_t i = 0; i < n; i++)
    {
      if (i == 0)
        out[i] = xstrdup (diff_ids[0]);
      else
        {
          _cleanup_free_ char *s = xasprintf ("%s %s", out[i - 1], diff_ids[i]);
          out[i] = xmalloc (DIGEST_STR_LEN + 1);
          digest_buf (s, strlen (s), out[i]);
        }
    }
  return out;
}
