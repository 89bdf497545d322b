/* A running container's place on its networks after it started (net.h):
 * `network connect` (one more veth, into another network's bridge, its
 * address from that network's IPAM, its names in that network's hosts
 * file), `network disconnect` (that attachment undone, as teardown does
 * it) and `rename` (its lines in the hosts files of every network it is
 * on, and its leases, name the new name). Every change holds the
 * networks lock, as net_setup does. */
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/xalloc.h"
#include "network/ipam.h"
#include "network/net.h"
#include "network/net_int.h"
#include "network/netlink.h"
#include "network/nft.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* The default network, then the user-defined ones. */
static char **
all_networks (const char *root)
{
  char **names = net_def_names (root);
  char **v = xcalloc (strv_len (names) + 2, sizeof *v);
  v[0] = xstrdup (NET_DEFAULT_NETWORK);
  memcpy (v + 1, names, strv_len (names) * sizeof *v);
  free (names); /* its strings now belong to v */
  return v;
}

/* The lease's names for the hosts file: hostname, name, aliases. */
static int
hosts_add_lease (int netfd, const struct net_config *cfg,
                 const struct net_lease *l, struct err **err)
{
  size_t n = strv_len (l->aliases);
  _cleanup_free_ const char **names = xcalloc (n + 3, sizeof *names);
  names[0] = l->hostname ? l->hostname : "";
  names[1] = l->name ? l->name : "";
  for (size_t i = 0; i < n; i++)
    names[i + 2] = l->aliases[i];
  return net_hosts_add_names (netfd, cfg, l->ip, names, err);
}

int
net_rename (const char *root, const char *config_path, const char *id,
            const char *name, struct err **err)
{
  _cleanup_close_ int lock = -1;
  _cleanup_strv_ char **nets = NULL;
  int r = 0;
  if (net_check_id (id, err) < 0)
    return -1;
  lock = net_ipam_lock (root, err);
  if (lock < 0)
    return -1;
  nets = all_networks (root);
  for (char **net = nets; *net; net++)
    {
      _cleanup_free_ char *dir = net_dir_path (root, *net);
      _cleanup_close_ int netfd
          = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      struct net_config cfg;
      struct net_lease l;
      if (netfd < 0 || net_ipam_find (netfd, id, &l) != 1)
        continue;
      free (l.name);
      l.name = xstrdup (name);
      /* the old line goes, the new one comes: other containers resolve
       * the new name, no longer the old (docker's rename of the
       * endpoint's DNS names) */
      if (net_config_find (root, config_path, *net, &cfg, NULL, NULL, err) < 0
          || net_ipam_update (netfd, &l, err) < 0)
        r = -1;
      else
        {
          net_hosts_del (netfd, l.ip);
          if (hosts_add_lease (netfd, &cfg, &l, err) < 0)
            r = -1;
        }
      net_lease_release (&l);
      if (r < 0)
        break;
    }
  return r;
}

/* The first ethN (N >= 1) the container's netns does not have. */
static int
free_ifname (struct net_nl *ctr, char out[IFNAMSIZ], struct err **err)
{
  for (int i = 1; i < 1000; i++)
    {
      int idx;
      snprintf (out, IFNAMSIZ, "eth%d", i);
      idx = net_nl_link_index (ctr, out, NULL, err);
      if (idx <= 0)
        return idx;
    }
  return err_set (err, 0, "no free interface name in the container");
}

/* A host end name no link has: never one that exists, which may be a
 * live veth of this container on another network. */
static int
free_veth (struct net_nl *host, const char *id, char out[IFNAMSIZ],
           struct err **err)
{
  for (unsigned attempt = 1; attempt < 64; attempt++)
    {
      int idx;
      net_veth_name (id, attempt, out);
      idx = net_nl_link_index (host, out, NULL, err);
      if (idx <= 0)
        return idx;
    }
  return err_set (err, 0, "no free name for the host end of the veth");
}

/* --ip: a host address of the subnet, not the gateway, not taken. */
static int
check_ip (int netfd, const struct net_config *cfg, struct in_addr ip,
          struct err **err)
{
  uint32_t mask = cfg->prefix ? ~0u << (32 - cfg->prefix) : 0;
  uint32_t a = ntohl (ip.s_addr), net = ntohl (cfg->subnet.s_addr);
  char s[INET_ADDRSTRLEN];
  _cleanup_free_ char *lease = xasprintf ("leases/%s", net_ip_str (ip, s));
  if ((a & mask) != net || a == net || a == (net | ~mask)
      || ip.s_addr == cfg->gateway.s_addr)
    return err_set (err, 0, "no configured subnet contains IP address %s", s);
  if (faccessat (netfd, lease, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
    return err_set (err, 0, "address %s is already in use", s);
  return 0;
}

int
net_connect (const struct net_request *req, pid_t pid, char **aliases,
             struct err **err)
{
  struct net_config cfg = { 0 };
  _cleanup_free_ struct net_config *all = NULL;
  size_t n_all = 0;
  struct net_nl host = { 0 }, ctr = { 0 };
  struct net_nft nft = NET_NFT_INIT;
  _cleanup_close_ int lock = -1, netfd = -1, nsfd = -1;
  struct net_lease lease = { 0 };
  char veth[IFNAMSIZ], ifname[IFNAMSIZ];
  int br = 0, idx, r = -1;
  bool leased = false, linked = false;

  if (net_check_id (req->container_id, err) < 0
      || (nsfd = net_netns_open (pid, err)) < 0)
    return -1;
  lock = net_ipam_lock (req->root, err);
  if (lock < 0
      || net_config_find (req->root, req->config_path, req->network, &cfg, NULL,
                          NULL, err)
             < 0)
    return -1;
  netfd = net_ipam_open_net (req->root, cfg.name, err);
  if (netfd < 0)
    return -1;
  if (net_ipam_find (netfd, req->container_id, &lease) == 1)
    {
      bool alive = net_lease_alive (req->root, &lease);
      net_lease_release (&lease);
      if (alive) /* docker's words */
        return err_set (err, 0,
                        "endpoint with name %s already exists in "
                        "network %s",
                        req->name ? req->name : req->container_id, cfg.name);
    }
  if (req->prefer_ip.s_addr && check_ip (netfd, &cfg, req->prefer_ip, err) < 0)
    return -1;
  if (net_all_configs (req->root, req->config_path, &all, &n_all, err) < 0
      || net_nl_open (&host, err) < 0)
    return -1;
  if (net_ensure_bridge (&host, &cfg, &br, err) < 0
      || net_nft_ensure (&nft, all, n_all, err) < 0
      || free_veth (&host, req->container_id, veth, err) < 0
      || net_nl_open_netns (&ctr, nsfd, err) < 0
      || free_ifname (&ctr, ifname, err) < 0)
    goto out;

  lease.aliases = aliases ? strv_dup (aliases) : NULL;
  if (net_lease_fill (&lease, req, veth, pid, err) < 0
      || net_ipam_allocate (netfd, &cfg, &lease, err) < 0)
    goto out;
  leased = true;
  if (hosts_add_lease (netfd, &cfg, &lease, err) < 0
      || net_nl_veth_add (&host, veth, br, ifname, nsfd, err) < 0)
    goto out;
  linked = true;
  idx = net_nl_link_index (&ctr, ifname, NULL, err);
  if (idx <= 0)
    {
      if (idx == 0)
        err_set (err, ENODEV, "container interface '%s'", ifname);
      goto out;
    }
  /* no default route: the container's first network keeps it, as
   * docker's does */
  if (net_nl_addr_add (&ctr, idx, lease.ip, cfg.prefix, err) < 0
      || net_nl_link_up (&ctr, idx, err) < 0)
    {
      err_wrap (err, "container network");
      goto out;
    }
  r = 0;
out:
  if (r < 0)
    {
      struct err *e = NULL;
      if (linked)
        net_nl_link_del (&host, veth, &e);
      err_clear (&e);
      if (leased)
        {
          net_hosts_del (netfd, lease.ip);
          net_ipam_release (netfd, lease.ip, &e);
        }
      err_free (e);
      err_wrap (err, "network '%s'", cfg.name);
    }
  net_lease_release (&lease);
  net_nl_close (&ctr);
  net_nl_close (&host);
  net_nft_release (&nft);
  return r;
}

int
net_disconnect (const char *root, const char *config_path, const char *network,
                const char *id, struct err **err)
{
  struct net_config cfg;
  struct net_nl nl = { 0 };
  struct net_nft nft = NET_NFT_INIT;
  _cleanup_close_ int lock = -1;
  bool found = false;
  int r;
  if (net_check_id (id, err) < 0)
    return -1;
  lock = net_ipam_lock (root, err);
  if (lock < 0
      || net_config_find (root, config_path, network, &cfg, NULL, NULL, err) < 0
      || net_nl_open (&nl, err) < 0)
    return -1;
  r = net_teardown_in (root, &nft, &nl, cfg.name, id, &found, err);
  net_nft_release (&nft);
  net_nl_close (&nl);
  if (r == 0 && !found) /* docker's words */
    return err_set (err, 0, "container %s is not connected to the network %s",
                    id, cfg.name);
  return r;
}

void
net_endpoints_free (struct net_endpoint *v, size_t n)
{
  for (size_t i = 0; i < n; i++)
    {
      free (v[i].network);
      strv_free (v[i].aliases);
    }
  free (v);
}

size_t
net_endpoints (const char *root, const char *id, struct net_endpoint **out)
{
  _cleanup_strv_ char **nets = all_networks (root);
  size_t n = 0;
  *out = xcalloc (strv_len (nets) + 1, sizeof **out);
  for (char **net = nets; *net; net++)
    {
      _cleanup_free_ char *dir = net_dir_path (root, *net);
      _cleanup_close_ int netfd
          = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      struct net_lease l;
      if (netfd < 0 || net_ipam_find (netfd, id, &l) != 1)
        continue;
      (*out)[n].network = xstrdup (*net);
      (*out)[n].ip = l.ip;
      (*out)[n].aliases = steal_pointer (&l.aliases);
      n++;
      net_lease_release (&l);
    }
  return n;
}
