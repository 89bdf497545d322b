#include "cmd/containers.h"
#include "cmd/command.h"
#include "layers/image_store.h"
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

int
containers_uses (const char *root, struct container_use **out, size_t *n,
                 struct err **err)
{
  struct rt_containers cs = { .fd = -1 };
  _cleanup_strv_ char **ids = NULL;
  *out = NULL;
  *n = 0;
  if (rt_containers_open (&cs, root, err) < 0
      || rt_record_list (&cs, &ids, err) < 0)
    {
      rt_containers_release (&cs);
      return -1;
    }
  *out = xcalloc (strv_len (ids) + 1, sizeof **out);
  for (char **id = ids; id && *id; id++)
    {
      struct rt_record rec = { 0 };
      struct container_use *u = &(*out)[*n];
      struct err *gone = NULL;
      if (rt_record_load (&cs, *id, &rec, &gone) < 0)
        {
          err_free (gone);
          rt_record_release (&rec);
          continue;
        }
      u->id = steal_pointer (&rec.id);
      u->image_id = steal_pointer (&rec.image_id);
      u->running = rec.state.status == RT_RUNNING;
      for (char **d = rec.plan.lower_dirs; d && *d; d++)
        {
          const char *slash = strrchr (*d, '/');
          strv_push (&u->snapshots,
                     xasprintf ("sha256:%s", slash ? slash + 1 : *d));
        }
      rt_record_release (&rec);
      (*n)++;
    }
  rt_containers_release (&cs);
  return 0;
}

void
containers_uses_free (struct container_use *u, size_t n)
{
  for (size_t i = 0; i < n; i++)
    {
      free (u[i].id);
      free (u[i].image_id);
      strv_free (u[i].snapshots);
    }
  free (u);
}

int
containers_store_gc (struct store *s, const struct container_use *u,
                     size_t n, uint64_t *freed_bytes, size_t *freed_blobs,
                     struct err **err)
{
  _cleanup_strv_ char **configs = NULL, **roots = NULL;
  for (size_t i = 0; i < n; i++)
    if (u[i].image_id)
      strv_push (&configs, xstrdup (u[i].image_id));
  if (image_manifests_of_configs (s, configs, &roots, err) < 0)
    return -1;
  return store_gc (s, roots, freed_bytes, freed_blobs, err);
}
