/* The plan's life cycle: defaults and freeing (the fields are described
 * in runtime/plan.h). */
#include "runtime/plan.h"
#include "lib/xalloc.h"

#include <string.h>

void
rt_plan_init (struct rt_plan *p)
{
  memset (p, 0, sizeof *p);
  p->network = RT_NET_NONE;
  p->join_pid_fd = p->join_ipc_fd = p->join_net_fd = -1;
  /* why: no_new_privs stops setuid binaries regaining dropped privileges
   * and lets seccomp load without CAP_SYS_ADMIN (runtime-security.md §1) */
  p->no_new_privs = true;
}

const char *
rt_plan_joins (const char *mode)
{
  return mode && !strncmp (mode, "container:", 10) ? mode + 10 : NULL;
}

void
rt_device_release (struct rt_device *d)
{
  free (d->host);
  free (d->path);
  memset (d, 0, sizeof *d);
}

static char *
dup_or_null (const char *s)
{
  return s ? xstrdup (s) : NULL;
}

void
rt_mount_copy (struct rt_mount *dst, const struct rt_mount *src)
{
  *dst = *src;
  dst->source = dup_or_null (src->source);
  dst->destination = dup_or_null (src->destination);
  dst->options = dup_or_null (src->options);
  dst->name = dup_or_null (src->name);
  dst->mode = dup_or_null (src->mode);
  dst->propagation = dup_or_null (src->propagation);
  dst->labels = src->labels ? strv_dup (src->labels) : NULL;
}

void
rt_mount_release (struct rt_mount *m)
{
  free (m->source);
  free (m->destination);
  free (m->options);
  free (m->name);
  free (m->mode);
  free (m->propagation);
  strv_free (m->labels);
  memset (m, 0, sizeof *m);
}

void
rt_plan_release (struct rt_plan *p)
{
  strv_free (p->lower_dirs);
  free (p->upper_dir);
  free (p->work_dir);
  strv_free (p->argv);
  strv_free (p->env);
  free (p->cwd);
  free (p->user.groups);
  free (p->id);
  free (p->name);
  free (p->hostname);
  free (p->state_dir);
  for (size_t i = 0; i < p->n_mounts; i++)
    rt_mount_release (&p->mounts[i]);
  free (p->mounts);
  for (size_t i = 0; i < p->n_devices; i++)
    rt_device_release (&p->devices[i]);
  free (p->devices);
  free (p->cgroup_parent);
  free (p->seccomp_profile);
  free (p->seccomp_cache_dir);
  free (p->stop_signal);
  strv_free (p->extra_hosts);
  free (p->rlimits);
  strv_free (p->sysctls);
  strv_free (p->dns);
  strv_free (p->dns_search);
  strv_free (p->dns_options);
  free (p->pid_mode);
  free (p->ipc_mode);
  free (p->net_container);
  free (p->net_name);
  free (p->join_hosts);
  free (p->join_resolv);
  memset (p, 0, sizeof *p);
  p->join_pid_fd = p->join_ipc_fd = p->join_net_fd = -1;
}
