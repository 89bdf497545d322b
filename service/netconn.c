/* A running container's networks after its start (service.h): rename's
 * names on them, network connect and disconnect (network/netconnect.c
 * does the work). What connect adds lasts until the container stops:
 * its next start joins its own network only. */
#include "lib/err.h"
#include "network/net.h"
#include "service/service.h"

#include <stdlib.h>
#include <string.h>

static bool
runs (const struct rt_record *rec)
{
  return (rec->state.status == RT_RUNNING || rec->state.status == RT_PAUSED)
         && rec->state.pid > 0;
}

int
svc_rename_network (struct svc *s, const struct rt_record *rec,
                    struct err **err)
{
  if (rec->plan.network != RT_NET_BRIDGE || !runs (rec))
    return 0;
  if (net_rename (s->root, s->config_path, rec->id, rec->name, err) < 0)
    return -1;
  /* --add-host: its own hosts file, a copy of the network's, again */
  if (rec->plan.extra_hosts && rec->plan.state_dir)
    {
      char *shared
          = net_hosts_path (s->root, rec->plan.net_name ? rec->plan.net_name
                                                        : NET_DEFAULT_NETWORK);
      int r = net_write_own_hosts (shared, &rec->plan, err);
      free (shared);
      return r;
    }
  return 0;
}

/* docker refuses the modes that have no network of their own */
static int
connectable (const struct svc_container *c, struct err **err)
{
  const struct rt_record *rec = &c->rec;
  if (rec->plan.network == RT_NET_HOST)
    return err_set (err, 0,
                    "container cannot be disconnected from host "
                    "network or connected to host network");
  if (rec->plan.network == RT_NET_CONTAINER)
    return err_set (err, 0,
                    "container sharing network namespace with "
                    "another container or host cannot be connected "
                    "to any other network");
  if (rec->plan.network != RT_NET_BRIDGE)
    return err_set (err, 0,
                    "container cannot be connected to multiple "
                    "networks with one of the networks in private "
                    "(none) mode");
  if (!runs (rec))
    return err_set (err, 0, "container '%s' is not running",
                    rec->name ? rec->name : rec->id);
  return 0;
}

int
svc_network_connect (struct svc *s, struct svc_container *c,
                     const char *network, char **aliases, struct in_addr ip,
                     struct err **err)
{
  struct net_request req = { .root = s->root,
                             .config_path = s->config_path,
                             .network = network,
                             .container_id = c->rec.id,
                             .name = c->rec.name,
                             .hostname = c->rec.plan.hostname,
                             .state_dir = c->rec.plan.state_dir,
                             .prefer_ip = ip };
  if (connectable (c, err) < 0)
    return -1;
  return net_connect (&req, c->rec.state.pid, aliases, err);
}

int
svc_network_disconnect (struct svc *s, struct svc_container *c,
                        const char *network, bool force, struct err **err)
{
  /* -f: the record is not asked (docker's force: the endpoint goes even
   * when the container's state says otherwise) */
  if (!force && c->rec.plan.network != RT_NET_BRIDGE)
    return err_set (err, 0, "container %s is not connected to the network %s",
                    c->rec.id, network);
  return net_disconnect (s->root, s->config_path, network, c->rec.id, err);
}
