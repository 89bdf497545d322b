/* Freezing a container for a moment: commit's --pause (service.h:
 * svc_freeze, svc_thaw). Only the cgroup changes (runtime/freezer.c); the
 * record keeps saying running, as the container is back before the
 * command ends. The pause/unpause commands, which record "paused", are
 * meant to share these two calls. */
#include "lib/err.h"
#include "runtime/container.h"
#include "service/service.h"

int
svc_freeze (struct svc *s, struct svc_container *c, struct err **err)
{
  const struct rt_record *rec = &c->rec;
  int frozen;
  (void)s;
  if (rec->state.status != RT_RUNNING)
    return 0;
  /* already frozen (paused): left as it is, and not thawed after */
  if ((frozen = rt_frozen (rec->id, rec->plan.cgroup_parent, err)) != 0)
    return frozen < 0 ? err_wrap (err, "freeze container '%s'", rec->name) : 0;
  if (rt_freeze (rec->id, rec->plan.cgroup_parent, true, err) < 0)
    return err_wrap (err, "freeze container '%s'", rec->name);
  return 1;
}

int
svc_thaw (struct svc *s, struct svc_container *c, struct err **err)
{
  const struct rt_record *rec = &c->rec;
  (void)s;
  if (rt_freeze (rec->id, rec->plan.cgroup_parent, false, err) < 0)
    return err_wrap (err, "thaw container '%s'", rec->name);
  return 0;
}
