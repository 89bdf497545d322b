#include "cmd/containers.h"
#include "lib/err.h"
#include "lib/xalloc.h"

#include <string.h>

int
containers_load (struct rt_containers *cs, const char *root, const char *key,
                 struct rt_record *rec, struct err **err)
{
  _cleanup_free_ char *id = NULL;
  memset (rec, 0, sizeof *rec);
  if (!cs->path && rt_containers_open (cs, root, err) < 0)
    return -1;
  if (rt_record_lookup (cs, key, &id, err) < 0)
    return -1;
  return rt_record_load (cs, id, rec, err);
}
