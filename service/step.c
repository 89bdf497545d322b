/* A build's RUN step through the service: the same network object and
 * network life as a container's, without a record (service.h). */
#include "lib/err.h"
#include "lib/xalloc.h"
#include "runtime/container.h"
#include "service/service.h"
#include "service/service_int.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>

/* Wait for the step; a byte on cancel_fd kills it. */
static int
wait_step (struct rt_container *ct, int cancel_fd, int *status,
           struct err **err)
{
  bool killed = false;
  for (;;)
    {
      struct pollfd pf[2] = { { .fd = ct->pidfd, .events = POLLIN },
                              { .fd = cancel_fd, .events = POLLIN } };
      int r = poll (pf, cancel_fd >= 0 && !killed ? 2 : 1, -1);
      if (r < 0 && errno != EINTR)
        {
          rt_kill (ct, SIGKILL, NULL);
          break;
        }
      if (r > 0 && cancel_fd >= 0 && !killed
          && (pf[1].revents & (POLLIN | POLLHUP)))
        {
          rt_kill (ct, SIGKILL, NULL);
          killed = true;
        }
      if (r > 0 && (pf[0].revents & (POLLIN | POLLHUP)))
        break;
    }
  return rt_wait (ct, status, err);
}

int
svc_run_step (struct svc *s, struct rt_plan *p, const struct rt_stdio *io,
              int cancel_fd, int *status, struct err **err)
{
  struct svc_container c = { 0 };
  struct rt_container ct;
  int r = -1;

  c.rec.id = p->id;
  if (p->network == RT_NET_BRIDGE)
    {
      /* a step has no record: its own state dir stands for it (network/'s
       * test of life), and its address goes when it ends */
      struct net_request req = { .root = s->root,
                                 .config_path = s->config_path,
                                 .state_dir = p->state_dir };
      c.net = xcalloc (1, sizeof *c.net);
      if (net_bridge_init (c.net, &req, err) < 0)
        goto out;
      p->net = &c.net->base;
      c.rec.plan.network = RT_NET_BRIDGE;
    }
  if (rt_start (p, io, &ct, err) < 0)
    goto out;
  r = wait_step (&ct, cancel_fd, status, err);
  svc_net_detach (s, &c);
out:
  p->net = NULL;
  if (c.net)
    {
      net_bridge_release (c.net);
      free (c.net);
    }
  return r;
}
