/* Joining another container's namespaces (join.h). */
#include "runtime/join.h"
#include "lib/err.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

int
rt_join_pid_before (const struct rt_plan *p, int *own, struct err **err)
{
  *own = -1;
  if (!rt_plan_joins (p->pid_mode))
    return 0;
  *own = open ("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
  if (*own < 0)
    return err_set (err, errno, "open our pid namespace");
  if (setns (p->join_pid_fd, CLONE_NEWPID) < 0)
    {
      close (*own);
      *own = -1;
      return err_set (err, errno, "join the pid namespace of container '%s'",
                      rt_plan_joins (p->pid_mode));
    }
  return 0;
}

void
rt_join_pid_after (int *own)
{
  if (*own < 0)
    return;
  /* back to our own for later children (the ns is our own: allowed) */
  (void)setns (*own, CLONE_NEWPID);
  close (*own);
  *own = -1;
}

int
rt_join_in_child (const struct rt_plan *p, struct err **err)
{
  if (rt_plan_joins (p->ipc_mode) && setns (p->join_ipc_fd, CLONE_NEWIPC) < 0)
    return err_set (err, errno, "join the IPC namespace of container '%s'",
                    rt_plan_joins (p->ipc_mode));
  if (p->network == RT_NET_CONTAINER
      && setns (p->join_net_fd, CLONE_NEWNET) < 0)
    return err_set (err, errno, "join the network namespace of container '%s'",
                    p->net_container ? p->net_container : "");
  return 0;
}
