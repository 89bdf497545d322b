/* --pid, --ipc and --network container:ID at a start: the named container
 * must run; its namespaces are joined through a pidfd checked to be its
 * recorded process (a pid reused meanwhile is not joined), and with its
 * network its /etc/hosts and resolv.conf are copied (runtime/join.h). */
#include "lib/err.h"
#include "lib/xalloc.h"
#include "network/net.h"
#include "service/service_int.h"

#include <string.h>
#include <unistd.h>

/* A pidfd of the running container id, and its record in *out. */
static int
running_pidfd (struct svc *s, const char *id, const char *what,
               struct svc_container *out, struct err **err)
{
  int fd;
  if (svc_load (s, id, out, err) < 0)
    return err_wrap (err, "cannot join %s", what);
  fd = out->rec.state.status == RT_RUNNING ? rt_record_pidfd (&out->rec) : -1;
  if (fd < 0)
    {
      err_set (err, 0, "cannot join %s of a non running container: %s", what,
               id);
      svc_container_release (out);
      return err_exit (err, 125);
    }
  return fd;
}

int
svc_join_open (struct svc *s, struct rt_plan *p, struct err **err)
{
  struct svc_container t = { 0 };
  const char *id;
  p->join_pid_fd = p->join_ipc_fd = p->join_net_fd = -1;
  if ((id = rt_plan_joins (p->pid_mode)))
    {
      if ((p->join_pid_fd = running_pidfd (s, id, "PID", &t, err)) < 0)
        goto fail;
      svc_container_release (&t);
    }
  if ((id = rt_plan_joins (p->ipc_mode)))
    {
      const char *mode;
      if ((p->join_ipc_fd = running_pidfd (s, id, "IPC", &t, err)) < 0)
        goto fail;
      mode = t.rec.plan.ipc_mode;
      /* docker: only a donor made --ipc shareable lends its IPC */
      if (!mode || (strcmp (mode, "shareable") && strcmp (mode, "host")))
        {
          svc_container_release (&t);
          err_set (err, 0,
                   "cannot join IPC of container %s: non-shareable IPC (run "
                   "it with --ipc shareable)",
                   id);
          err_exit (err, 125);
          goto fail;
        }
      svc_container_release (&t);
    }
  if (p->network == RT_NET_CONTAINER)
    {
      if ((p->join_net_fd
           = running_pidfd (s, p->net_container, "network", &t, err))
          < 0)
        goto fail;
      free (p->join_hosts);
      free (p->join_resolv);
      p->join_hosts = t.rec.plan.network == RT_NET_BRIDGE
                          ? net_hosts_path (s->root, t.rec.plan.net_name
                                                         ? t.rec.plan.net_name
                                                         : NET_DEFAULT_NETWORK)
                          : rt_record_path (&s->cs, t.rec.id, "hosts");
      p->join_resolv = rt_record_path (&s->cs, t.rec.id, "resolv.conf");
      svc_container_release (&t);
    }
  return 0;
fail:
  svc_join_close (p);
  return -1;
}

void
svc_join_close (struct rt_plan *p)
{
  int *fds[] = { &p->join_pid_fd, &p->join_ipc_fd, &p->join_net_fd };
  for (size_t i = 0; i < 3; i++)
    if (*fds[i] >= 0)
      {
        close (*fds[i]);
        *fds[i] = -1;
      }
  free (p->join_hosts);
  free (p->join_resolv);
  p->join_hosts = p->join_resolv = NULL;
}
