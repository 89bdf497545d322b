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
    {
      free (p->mounts[i].source);
      free (p->mounts[i].destination);
      free (p->mounts[i].options);
    }
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
