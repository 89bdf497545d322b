/* Helpers shared by the commands that act on existing containers. */
#include "cmd/containers.h"
#include "cmd/command.h"
#include "layers/image_store.h"
#include "lib/err.h"
#include "lib/xalloc.h"

#include <stdio.h>
#include <string.h>

int
containers_load (struct svc *s, const char *root, const char *config_path,
                 const char *key, struct svc_container *c, struct err **err)
{
  memset (c, 0, sizeof *c);
  if (!s->cs.path && svc_open (s, root, config_path, err) < 0)
    return -1;
  return svc_load (s, key, c, err);
}

/* in the order given, each failure naming its container */
static int
report (const char *verb, char **names, struct err **errs, size_t n)
{
  int status = 0;
  for (size_t i = 0; i < n; i++)
    {
      if (!errs[i])
        {
          printf ("%s\n", names[i]);
          continue;
        }
      command_print_error ("%s '%s': %s", verb, names[i], errs[i]->msg);
      err_free (errs[i]);
      status = 1;
    }
  free (errs);
  return status;
}

int
containers_each (struct global *g, const char *verb, char **names, svc_fn fn,
                 void *data)
{
  size_t n = strv_len (names);
  struct err **errs = xcalloc (n + 1, sizeof *errs);
  struct svc s;
  struct err *e = NULL;
  /* leftovers of containers that died unwatched, before acting on these */
  if (svc_open (&s, g->root, g->config_path, &e) == 0)
    {
      svc_net_gc (&s);
      svc_close (&s);
    }
  err_free (e);
  svc_each (g->root, g->config_path, names, fn, data, errs);
  return report (verb, names, errs, n);
}

int
containers_each_serial (struct global *g, const char *verb, char **names,
                        svc_fn fn, void *data)
{
  size_t n = strv_len (names);
  struct err **errs = xcalloc (n + 1, sizeof *errs);
  for (size_t i = 0; i < n; i++)
    {
      struct svc s = { .cs = { .fd = -1 } };
      struct svc_container c = { 0 };
      if (containers_load (&s, g->root, g->config_path, names[i], &c, &errs[i])
          == 0)
        fn (&s, &c, data, &errs[i]);
      svc_container_release (&c);
      svc_close (&s);
    }
  return report (verb, names, errs, n);
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
containers_store_gc (struct store *s, const struct container_use *u, size_t n,
                     uint64_t *freed_bytes, size_t *freed_blobs,
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
