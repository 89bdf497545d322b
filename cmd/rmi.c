/* imgtool rmi IMAGE...: remove names, then the blobs no name reaches. */
#include "cmd/command.h"
#include "cmd/lookup.h"
#include "layers/image_store.h"
#include "lib/err.h"
#include "lib/xalloc.h"
#include "registry/ref.h"

#include <stdio.h>
#include <string.h>

static const char usage_text[] = "imgtool rmi IMAGE...";

COMMAND (rmi)
{
  struct store s;
  uint64_t freed_bytes;
  size_t freed_blobs;
  int ret;
  if ((ret = command_no_options (argc, argv, usage_text, err)) != 0)
    return ret < 0 ? -1 : 0;
  argc -= optind - 1;
  argv += optind - 1;
  if (argc < 2)
    return command_usage_error (usage_text, err);
  if (store_open (&s, g->root, err) < 0)
    return -1;
  for (int i = 1; i < argc && ret == 0; i++)
    {
      struct store_ref ref;
      struct ref r;
      struct err *ignored = NULL;
      if (lookup_image (&s, argv[i], &ref, err) < 0)
        {
          ret = -1;
          break;
        }
      ret = store_ref_remove (&s, ref.name, err) < 0 ? -1 : 0;
      if (ret == 0 && ref_parse (ref.name, &r, &ignored) == 0)
        {
          _cleanup_free_ char *shown = ref_familiar (&r);
          printf ("Untagged: %s\n", shown);
          ref_release (&r);
        }
      err_free (ignored);
      store_ref_release (&ref);
    }
  /* docker frees an image's data with its last name: do the same. */
  if (ret == 0 && store_gc (&s, NULL, &freed_bytes, &freed_blobs, err) == 0
      && freed_blobs)
    printf ("Deleted: %zu blobs\n", freed_blobs);
  store_release (&s);
  return ret;
}
