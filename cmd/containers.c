#include "cmd/containers.h"
#include "cmd/command.h"
#include "lib/err.h"
#include "lib/log.h"
#include "runtime/net.h"
#include "lib/xalloc.h"

#include <stdio.h>
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

int
containers_each (const char *root, const char *verb, char **names,
                 containers_fn fn, void *data)
{
  struct rt_containers cs = { .fd = -1 };
  int status = 0;
  containers_net_gc (root);
  for (char **name = names; *name; name++)
    {
      struct rt_record rec;
      struct err *e = NULL;
      if (containers_load (&cs, root, *name, &rec, &e) == 0
          && fn (&cs, &rec, data, &e) == 0)
        printf ("%s\n", *name);
      rt_record_release (&rec);
      if (e)
        {
          command_print_error ("%s '%s': %s", verb, *name, e->msg);
          err_free (e);
          status = 1;
        }
    }
  rt_containers_release (&cs);
  return status;
}

void
containers_net_gc (const char *root)
{
  struct err *e = NULL;
  if (net_gc (root, &e) < 0)
    log_debug ("%s", e->msg);
  err_free (e);
}

void
containers_net_release (const char *root, const struct rt_record *rec)
{
  struct err *e = NULL;
  if (rec->plan.network != RT_NET_BRIDGE)
    return;
  if (net_teardown (root, rec->id, &e) < 0)
    log_warn ("%s", e->msg);
  err_free (e);
}
