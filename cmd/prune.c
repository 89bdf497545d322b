/* imgtool prune: remove blobs no reference reaches and stale temp files,
 * and the build cache records whose layers no image keeps (those steps
 * run again next time, as after `docker builder prune`). */
#include "builder/builder.h"
#include "cmd/command.h"
#include "layers/image_store.h"
#include "lib/err.h"
#include "lib/human.h"

#include <stdio.h>
#include <string.h>

static const char usage_text[] = "imgtool prune";

COMMAND (prune)
{
  struct store s;
  uint64_t freed_bytes;
  size_t freed_blobs, cache_records = 0;
  char size[32];
  int ret;
  if ((ret = command_no_options (argc, argv, usage_text, err)) != 0)
    return ret < 0 ? -1 : 0;
  if (optind != argc)
    return command_usage_error (usage_text, err);
  if (store_open (&s, g->root, err) < 0)
    return -1;
  ret = build_cache_prune (&s, &cache_records, err);
  if (ret == 0)
    ret = store_gc (&s, NULL, &freed_bytes, &freed_blobs, err);
  if (ret == 0)
    {
      if (cache_records)
        printf ("Deleted %zu build cache records\n", cache_records);
      human_size ((int64_t) freed_bytes, size, sizeof size);
      printf ("Deleted %zu blobs, reclaimed %s\n", freed_blobs, size);
    }
  store_release (&s);
  return ret;
}
