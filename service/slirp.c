/* A rootless container's network object: libslirp (network/slirp.h),
 * attached by whoever starts the container (the foreground run or the
 * -d monitor), whose thread then serves it until the container ends. */
#include "network/slirp.h"
#include "lib/xalloc.h"
#include "service/service_int.h"

#include <stdlib.h>

int
svc_slirp_make (struct svc_container *c, const struct port_map *ports,
                size_t n_ports, struct err **err)
{
  enum rt_network_mode m = c->rec.plan.network;
  if (m != RT_NET_SLIRP && m != RT_NET_SLIRP_LOOPBACK)
    return 0;
  c->slirp = xcalloc (1, sizeof *c->slirp);
  if (net_slirp_init (c->slirp, ports, n_ports, m == RT_NET_SLIRP_LOOPBACK, err)
      < 0)
    {
      free (c->slirp);
      c->slirp = NULL;
      return -1;
    }
  c->rec.plan.net = &c->slirp->base;
  return 0;
}

void
svc_slirp_started (struct svc_container *c)
{
  struct rt_state *st = &c->rec.state;
  if (!c->slirp || !c->slirp->loop)
    return;
  free (st->ip);
  free (st->ports);
  st->ip = xstrdup (NET_SLIRP_GUEST);
  st->ports = net_ports_text (c->slirp->ports, c->slirp->n_ports);
}

void
svc_slirp_release (struct svc_container *c)
{
  if (!c->slirp)
    return;
  if (c->rec.plan.net == &c->slirp->base)
    c->rec.plan.net = NULL;
  net_slirp_release (c->slirp);
  free (c->slirp);
  c->slirp = NULL;
}
