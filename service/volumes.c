/* A container's volumes (runtime/volume.h): made when it is created,
 * its anonymous ones removed with it (rm -v, run --rm). */
#include "lib/err.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "runtime/volume.h"
#include "service/service_int.h"

#include <string.h>
#include <sys/file.h>
#include <unistd.h>

int
svc_volumes_prepare (struct svc *s, struct rt_plan *p, struct err **err)
{
  struct rt_volumes vs = { .fd = -1 };
  int lock = -1;
  bool any = false;
  for (size_t i = 0; i < p->n_mounts; i++)
    any = any || p->mounts[i].kind == RT_MOUNT_VOLUME;
  if (!any)
    return -2;
  if (rt_volumes_open (&vs, s->root, err) < 0
      || (lock = rt_volumes_lock (&vs, LOCK_SH, err)) < 0)
    goto fail;
  for (size_t i = 0; i < p->n_mounts; i++)
    {
      struct rt_mount *m = &p->mounts[i];
      struct rt_volume v;
      bool made;
      if (m->kind != RT_MOUNT_VOLUME)
        continue;
      if (rt_volume_create (&vs, m->name, m->labels, m->anonymous, &v, &made,
                            err)
          < 0)
        goto fail;
      free (m->name);
      free (m->source);
      m->name = steal_pointer (&v.name);
      m->source = steal_pointer (&v.mountpoint);
      rt_volume_release (&v);
    }
  rt_volumes_release (&vs);
  return lock;
fail:
  if (lock >= 0)
    close (lock);
  rt_volumes_release (&vs);
  return -1;
}

void
svc_volumes_remove_anonymous (struct svc *s, const struct rt_plan *p)
{
  struct rt_volumes vs = { .fd = -1 };
  struct rt_volume_users u = { 0 };
  struct err *e = NULL;
  _cleanup_close_ int lock = -1;
  bool any = false;
  for (size_t i = 0; i < p->n_mounts; i++)
    any = any
          || (p->mounts[i].kind == RT_MOUNT_VOLUME && p->mounts[i].anonymous
              && p->mounts[i].name);
  if (!any)
    return;
  /* exclusive: no container is being made with them meanwhile */
  if (rt_volumes_open (&vs, s->root, &e) < 0
      || (lock = rt_volumes_lock (&vs, LOCK_EX, &e)) < 0
      || rt_volume_users_scan (&s->cs, &u, &e) < 0)
    goto out;
  for (size_t i = 0; i < p->n_mounts; i++)
    {
      const struct rt_mount *m = &p->mounts[i];
      _cleanup_free_ char *users = NULL;
      if (m->kind != RT_MOUNT_VOLUME || !m->anonymous || !m->name)
        continue;
      /* docker keeps one another container still uses, silently */
      users = rt_volume_users_of (&u, m->name);
      if (*users)
        continue;
      if (rt_volume_remove (&vs, m->name, NULL, &e) < 0)
        {
          log_warn ("%s", e->msg);
          err_clear (&e);
        }
    }
out:
  if (e)
    log_warn ("remove the anonymous volumes: %s", e->msg);
  err_free (e);
  rt_volume_users_release (&u);
  rt_volumes_release (&vs);
}
