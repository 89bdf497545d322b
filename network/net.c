/* Container networking: setup, teardown, gc, -p parsing, config (net.h). */
#include "network/net.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/log.h"
#include "lib/sha256.h"
#include "lib/strbuf.h"
#include "lib/xalloc.h"
#include "network/ipam.h"
#include "network/net_int.h"
#include "network/netlink.h"
#include "network/nft.h"
#include "runtime/plan.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

void
net_attachment_release (struct net_attachment *a)
{
  if (!a)
    return;
  free (a->ports);
  memset (a, 0, sizeof *a);
}

/* ---- -p specs ---- */

static int
parse_port (const char *s, size_t len, bool zero_ok, uint16_t *out)
{
  unsigned long v = 0;
  if (len == 0 || len > 5)
    return -1;
  for (size_t i = 0; i < len; i++)
    {
      if (!isdigit ((unsigned char)s[i]))
        return -1;
      v = v * 10 + (unsigned long)(s[i] - '0');
    }
  if (v > 65535 || (v == 0 && !zero_ok))
    return -1;
  *out = (uint16_t)v;
  return 0;
}

int
net_parse_publish (const char *spec, struct port_map *out, struct err **err)
{
  _cleanup_free_ char *s = xstrdup (spec);
  char *slash = strchr (s, '/'), *c1, *c2;
  const char *ip = NULL, *host = NULL, *ctr;
  memset (out, 0, sizeof *out);
  if (slash)
    {
      *slash = '\0';
      if (!strcmp (slash + 1, "tcp"))
        out->proto = NET_TCP;
      else if (!strcmp (slash + 1, "udp"))
        out->proto = NET_UDP;
      else
        return err_set (err, 0, "publish '%s': unknown protocol '%s'", spec,
                        slash + 1);
    }
  /* CONTAINER | HOST:CONTAINER | IP:HOST:CONTAINER | IP::CONTAINER */
  c1 = strchr (s, ':');
  c2 = c1 ? strrchr (s, ':') : NULL;
  if (!c1)
    ctr = s;
  else if (c1 == c2)
    {
      *c1 = '\0';
      host = s;
      ctr = c1 + 1;
    }
  else
    {
      *c1 = '\0';
      *c2 = '\0';
      ip = s;
      host = c1 + 1;
      ctr = c2 + 1;
      if (strchr (host, ':'))
        return err_set (err, 0,
                        "publish '%s': IPv6 host addresses are not "
                        "supported",
                        spec);
    }
  if (parse_port (ctr, strlen (ctr), false, &out->container_port) < 0)
    return err_set (err, 0, "publish '%s': invalid container port '%s'", spec,
                    ctr);
  if (host && *host
      && parse_port (host, strlen (host), true, &out->host_port) < 0)
    return err_set (err, 0, "publish '%s': invalid host port '%s'", spec, host);
  if (host && !*host && !ip)
    return err_set (err, 0, "publish '%s': invalid host port ''", spec);
  if (ip && *ip && inet_pton (AF_INET, ip, &out->host_ip) != 1)
    return err_set (err, 0, "publish '%s': invalid host address '%s'", spec,
                    ip);
  return 0;
}

char *
net_ports_text (const struct port_map *ports, size_t n)
{
  struct strbuf sb = STRBUF_INIT;
  for (size_t i = 0; i < n; i++)
    {
      char ip[INET_ADDRSTRLEN];
      strbuf_addf (&sb, "%s%s:%u->%u/%s", i ? ", " : "",
                   net_ip_str (ports[i].host_ip, ip), ports[i].host_port,
                   ports[i].container_port,
                   ports[i].proto == NET_UDP ? "udp" : "tcp");
    }
  return strbuf_detach (&sb, NULL);
}

/* ---- config ---- */

int
net_parse_subnet (const char *text, struct net_config *cfg, const char *where,
                  struct err **err)
{
  _cleanup_free_ char *s = xstrdup (text);
  char *slash = strchr (s, '/');
  uint16_t prefix;
  uint32_t mask;
  if (!slash || inet_pton (AF_INET, (*slash = '\0', s), &cfg->subnet) != 1
      || parse_port (slash + 1, strlen (slash + 1), true, &prefix) < 0)
    return err_set (err, 0, "%s: invalid subnet '%s'", where, text);
  /* At least 2 hosts besides the gateway; /8 is plenty. */
  if (prefix < 8 || prefix > 29)
    return err_set (err, 0, "%s: subnet '%s': prefix must be 8..29", where,
                    text);
  mask = ~0u << (32 - prefix);
  if (ntohl (cfg->subnet.s_addr) & ~mask)
    return err_set (err, 0, "%s: subnet '%s' is not a network address", where,
                    text);
  cfg->prefix = prefix;
  cfg->gateway.s_addr = htonl (ntohl (cfg->subnet.s_addr) + 1);
  return 0;
}

/* The default network's id: a hash of its name, the same everywhere. */
static void
default_id (char out[65])
{
  struct sha256 s;
  uint8_t d[32];
  sha256_init (&s);
  sha256_update (&s, "imgtool network " NET_DEFAULT_NETWORK,
                 strlen ("imgtool network " NET_DEFAULT_NETWORK));
  sha256_final (&s, d);
  for (int i = 0; i < 32; i++)
    snprintf (out + 2 * i, 3, "%02x", d[i]);
}

int
net_config_load (const char *config_path, const char *name,
                 struct net_config *out, struct err **err)
{
  json_t *root = NULL, *dn, *sub;
  json_error_t je;
  int r = 0;
  memset (out, 0, sizeof *out);
  if (name && strcmp (name, NET_DEFAULT_NETWORK))
    return err_set (err, 0, "network '%s' not found", name);
  snprintf (out->name, sizeof out->name, "%s", NET_DEFAULT_NETWORK);
  snprintf (out->bridge, sizeof out->bridge, "%s", NET_DEFAULT_BRIDGE);
  default_id (out->id);
  if (net_parse_subnet (NET_DEFAULT_SUBNET, out, "default", err) < 0)
    return -1;
  if (!config_path || access (config_path, F_OK) < 0)
    return 0;
  root = json_load_file (config_path, 0, &je);
  if (!root)
    return err_set (err, 0, "config '%s': line %d: %s", config_path, je.line,
                    je.text);
  dn = json_object_get (root, "default-network");
  if (dn)
    {
      sub = json_object_get (dn, "subnet");
      if (!json_is_object (dn) || (sub && !json_is_string (sub)))
        r = err_set (err, 0,
                     "config '%s': \"default-network\" must be "
                     "{\"subnet\": \"A.B.C.D/N\"}",
                     config_path);
      else if (sub)
        {
          _cleanup_free_ char *where = xasprintf ("config '%s'", config_path);
          r = net_parse_subnet (json_string_value (sub), out, where, err);
        }
    }
  json_decref (root);
  return r;
}

/* The subnet a network was set up with, saved in <root>/networks/<net>/subnet
 * so that teardown and gc (which get no config path) see the same one. */
static void
save_subnet (int netfd, const struct net_config *cfg)
{
  char ip[INET_ADDRSTRLEN];
  _cleanup_free_ char *text = NULL, *cur = NULL;
  struct err *e = NULL;
  text = xasprintf ("%s/%u\n", net_ip_str (cfg->subnet, ip), cfg->prefix);
  if (fs_read_file (netfd, "subnet", 64, &cur, NULL, &e) == 0
      && !strcmp (cur, text))
    return;
  err_clear (&e);
  if (fs_write_file_atomic (netfd, "subnet", text, strlen (text), 0600, &e) < 0)
    log_warn ("%s", e->msg);
  err_free (e);
}

/* The default network as last set up under root (defaults if never). */
static int
saved_config (const char *root, struct net_config *cfg, struct err **err)
{
  _cleanup_free_ char *path = NULL, *text = NULL;
  struct err *e = NULL;
  if (net_config_load (NULL, NULL, cfg, err) < 0)
    return -1;
  path = xasprintf ("%s/networks/%s/subnet", root, cfg->name);
  if (fs_read_file (AT_FDCWD, path, 64, &text, NULL, &e) < 0)
    {
      err_free (e);
      return 0;
    }
  text[strcspn (text, "\n")] = '\0';
  return net_parse_subnet (text, cfg, path, err);
}

/* ---- helpers ---- */

int
net_check_id (const char *id, struct err **err)
{
  size_t n = id ? strlen (id) : 0;
  if (n < 12 || n > 64 || strspn (id, "0123456789abcdef") != n)
    return err_set (err, 0, "invalid container id '%s'", id ? id : "");
  return 0;
}

/* The host end: imgv + the id's first 11 hex digits (docker-like, easy to
 * match by eye); attempt > 0 gives a hash of the id instead, for ids that
 * share a prefix with a running container's. */
void
net_veth_name (const char *id, unsigned attempt, char out[IFNAMSIZ])
{
  uint64_t h = 1469598103934665603ull;
  if (attempt == 0)
    {
      snprintf (out, IFNAMSIZ, VETH_PREFIX "%.11s", id);
      return;
    }
  for (const char *p = id; *p; p++)
    h = (h ^ (uint8_t)*p) * 1099511628211ull;
  h = (h ^ attempt) * 1099511628211ull;
  snprintf (out, IFNAMSIZ, VETH_PREFIX "%011llx",
            (unsigned long long)(h & ((1ull << 44) - 1)));
}

/* A locally administered unicast MAC derived from the bridge and subnet, so
 * a recreated bridge gets the same one. */
static void
bridge_mac (const struct net_config *cfg, uint8_t mac[6])
{
  uint64_t h = 1469598103934665603ull;
  char buf[64];
  int n = snprintf (buf, sizeof buf, "%s/%08x/%u", cfg->bridge,
                    cfg->subnet.s_addr, cfg->prefix);
  for (int i = 0; i < n; i++)
    h = (h ^ (uint8_t)buf[i]) * 1099511628211ull;
  mac[0] = 0x02;
  for (int i = 1; i < 6; i++)
    mac[i] = (uint8_t)(h >> (8 * i));
}

/* Write value to a /proc/sys file unless it already holds it. */
static int
sysctl_set (const char *path, const char *value, struct err **err)
{
  char cur[32] = "";
  _cleanup_close_ int fd = open (path, O_RDWR | O_CLOEXEC);
  ssize_t n;
  if (fd < 0)
    return err_set (err, errno, "open '%s'", path);
  n = fs_read_full (fd, cur, sizeof cur - 1);
  if (n > 0 && (size_t)n == strlen (value) + 1
      && !strncmp (cur, value, strlen (value)))
    return 0;
  if (lseek (fd, 0, SEEK_SET) < 0
      || fs_write_all (fd, value, strlen (value)) < 0)
    return err_set (err, errno, "write '%s'", path);
  return 0;
}

int
net_ensure_bridge (struct net_nl *nl, const struct net_config *cfg, int *index,
                   struct err **err)
{
  _cleanup_free_ char *rl = NULL;
  int idx = net_nl_link_index (nl, cfg->bridge, NULL, err);
  if (idx < 0)
    return -1;
  if (idx == 0)
    {
      uint8_t mac[6];
      bridge_mac (cfg, mac);
      if (net_nl_bridge_add (nl, cfg->bridge, mac, err) < 0)
        return -1;
      idx = net_nl_link_index (nl, cfg->bridge, NULL, err);
      if (idx <= 0)
        return idx < 0 ? -1 : err_set (err, ENODEV, "bridge '%s'", cfg->bridge);
    }
  if (net_nl_addr_add (nl, idx, cfg->gateway, cfg->prefix, err) < 0)
    return err_wrap (err, "bridge '%s'", cfg->bridge);
  /* Containers reach the outside and published ports reach containers
   * only if the host routes between interfaces. */
  if (sysctl_set ("/proc/sys/net/ipv4/ip_forward", "1", err) < 0)
    return -1;
  /* DNAT of 127.0.0.1:PORT to a container sends loopback-sourced packets
   * out of the bridge; route_localnet allows that (the raw rule in nft.c
   * drops what it would otherwise let in). */
  rl = xasprintf ("/proc/sys/net/ipv4/conf/%s/route_localnet", cfg->bridge);
  if (sysctl_set (rl, "1", err) < 0)
    return -1;
  *index = idx;
  return 0;
}

/* Is host_ip:port free on the host? bind() and close: no process stays to
 * hold it (daemonless); the record in <root>/networks/ports keeps other
 * imgtool containers off it. */
int
net_check_host_port (struct port_map *p, struct err **err)
{
  struct sockaddr_in sa = { .sin_family = AF_INET,
                            .sin_addr = p->host_ip,
                            .sin_port = htons (p->host_port) };
  socklen_t len = sizeof sa;
  char ip[INET_ADDRSTRLEN];
  int one = 1;
  _cleanup_close_ int fd = socket (
      AF_INET, (p->proto == NET_UDP ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC,
      0);
  if (fd < 0)
    return err_set (err, errno, "socket");
  /* TCP: a TIME_WAIT leftover is no clash; a listener still is. */
  if (p->proto == NET_TCP)
    setsockopt (fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind (fd, (struct sockaddr *)&sa, sizeof sa) < 0)
    return err_set (err, errno, "bind %s:%u", net_ip_str (p->host_ip, ip),
                    p->host_port);
  if (p->host_port == 0)
    {
      if (getsockname (fd, (struct sockaddr *)&sa, &len) < 0)
        return err_set (err, errno, "getsockname");
      p->host_port = ntohs (sa.sin_port);
    }
  return 0;
}

static int teardown_locked (const char *root, struct net_nft *nft,
                            struct net_nl *nl, const char *id,
                            struct err **err);

/* Whether container id holds a live lease (lock held). */
static bool
owner_alive (const char *root, int netfd, const char *id)
{
  struct net_lease l;
  bool alive;
  if (net_ipam_find (netfd, id, &l) != 1)
    return false;
  alive = net_lease_alive (root, &l);
  net_lease_release (&l);
  return alive;
}

/* Reserve the host ports (lock held). A port held by a container that
 * died unwatched is reclaimed here, with the rest of what it held: no
 * sweep of every container at each start is needed for that. */
static int
reserve_ports (const char *root, int netfd, struct net_nft *nft,
               struct net_nl *nl, const char *id, struct port_map *ports,
               size_t n, struct err **err)
{
  size_t i;
  for (i = 0; i < n; i++)
    {
      bool random = ports[i].host_port == 0, reclaimed = false;
      int tries = 0;
      for (;;)
        {
          struct err *e = NULL;
          _cleanup_free_ char *owner = NULL;
          if (random)
            ports[i].host_port = 0;
          if (net_check_host_port (&ports[i], err) < 0)
            goto fail;
          if (net_ports_reserve (root, &ports[i], id, &e) == 0)
            break;
          if (!random && !reclaimed
              && (owner = net_ports_owner (root, &ports[i]))
              && strcmp (owner, id) && net_check_id (owner, NULL) == 0
              && !owner_alive (root, netfd, owner))
            {
              struct err *e2 = NULL;
              log_debug ("network: reclaiming container %s", owner);
              teardown_locked (root, nft, nl, owner, &e2);
              err_free (e2);
              err_free (e);
              reclaimed = true;
              continue;
            }
          if (!random || ++tries >= 32)
            {
              if (err && !*err)
                *err = e; /* pass the callee's error on */
              else
                err_free (e);
              goto fail;
            }
          err_free (e);
        }
      for (size_t j = 0; j < i; j++)
        if (ports[j].host_port == ports[i].host_port
            && ports[j].proto == ports[i].proto)
          {
            err_set (err, 0, "port %u is published twice", ports[i].host_port);
            goto fail;
          }
    }
  return 0;
fail:
  for (size_t j = 0; j < i; j++)
    net_ports_release (root, &ports[j], id);
  return -1;
}

/* Remove everything of container id (lock held): rules, veth, lease,
 * hosts line, port records. Found through the lease's index entry, so
 * the cost does not grow with the other containers. Errors are
 * collected, the rest still runs. The container's leases may be in any
 * network: the default one (one lookup), then each user-defined one
 * (network connect adds more). */
static int
teardown_locked (const char *root, struct net_nft *nft, struct net_nl *nl,
                 const char *id, struct err **err)
{
  _cleanup_strv_ char **names = net_def_names (root);
  bool found = false;
  int r = 0;
  if (net_teardown_in (root, nft, nl, NET_DEFAULT_NETWORK, id, &found, err) < 0)
    r = -1;
  for (char **p = names; *p; p++)
    if (net_teardown_in (root, nft, nl, *p, id, &found, err) < 0)
      r = -1;
  /* Rules without a lease (gc found them) are deleted. */
  if (!found && net_nft_del_container (nft, id, err) < 0)
    r = -1;
  if (!found)
    net_ports_release_owner (root, id);
  return r;
}

/* The part of teardown_locked in network net: *found set when the
 * container has a lease there. */
int
net_teardown_in (const char *root, struct net_nft *nft, struct net_nl *nl,
                 const char *net, const char *id, bool *found, struct err **err)
{
  _cleanup_free_ char *dir = net_dir_path (root, net);
  _cleanup_close_ int netfd = -1;
  struct net_lease l;
  bool leased;
  int r = 0;

  netfd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (netfd < 0)
    return errno == ENOENT ? 0 : err_set (err, errno, "open '%s'", dir);
  leased = net_ipam_find (netfd, id, &l) == 1;
  if (!leased)
    return 0;
  *found = true;
  /* Rules exist only for published ports, and only once the lease that
   * lists them is written: without either, no need to load libnftables. */
  if (l.n_ports && net_nft_del_container (nft, id, err) < 0)
    r = -1;
  net_hosts_del (netfd, l.ip);
  /* Only the veth its lease names: another container's may share the
   * name derived from a common id prefix. When the container's process
   * is gone the kernel removes the pair with its netns, and an explicit
   * delete would cost ~10-20 ms of synchronize_net; gc removes a veth
   * whose netns something else kept alive. */
  if (l.host_veth && net_lease_process_alive (&l)
      && net_nl_link_del (nl, l.host_veth, err) < 0)
    r = -1;
  for (size_t i = 0; i < l.n_ports; i++)
    net_ports_release (root, &l.ports[i], id);
  if (net_ipam_release (netfd, l.ip, err) < 0)
    r = -1;
  net_lease_release (&l);
  return r;
}

/* Choose the host end's name (lock held). A leftover holding the name (of
 * this container after a crash, or of a dead one, or of nobody) is torn
 * down; a live container of another id holding it makes us try the next
 * name. */
static int
pick_veth (const char *root, int netfd, struct net_nl *nl, struct net_nft *nft,
           const char *id, char out[IFNAMSIZ], struct err **err)
{
  struct net_lease *all = NULL;
  size_t n = 0;
  bool loaded = false;
  int r = -1;
  for (unsigned attempt = 0; attempt < 16; attempt++)
    {
      struct net_lease *owner = NULL;
      int idx;
      net_veth_name (id, attempt, out);
      idx = net_nl_link_index (nl, out, NULL, err);
      if (idx <= 0)
        {
          r = idx < 0 ? -1 : 0; /* free: the usual case, one lookup */
          goto done;
        }
      /* taken: by whom (the leases are read only on this rare path) */
      if (!loaded && net_ipam_load_all (netfd, &all, &n, err) < 0)
        return -1;
      loaded = true;
      for (size_t i = 0; i < n && !owner; i++)
        if (all[i].container_id && all[i].host_veth
            && !strcmp (all[i].host_veth, out))
          owner = &all[i];
      if (owner && strcmp (owner->container_id, id)
          && net_lease_alive (root, owner))
        continue;
      if (owner)
        r = teardown_locked (root, nft, nl, owner->container_id, err);
      else
        r = net_nl_link_del (nl, out, err);
      goto done;
    }
  err_set (err, 0, "no free name for the host end of the veth");
done:
  net_leases_free (all, n);
  return r;
}

/* ---- setup / teardown / gc ---- */

int
net_netns_open (pid_t pid, struct err **err)
{
  char path[64];
  int fd;
  snprintf (path, sizeof path, "/proc/%d/ns/net", (int)pid);
  fd = open (path, O_RDONLY | O_CLOEXEC);
  return fd >= 0 ? fd : err_set (err, errno, "open '%s'", path);
}

int
net_lease_fill (struct net_lease *l, const struct net_request *req,
                const char *veth, pid_t pid, struct err **err)
{
  l->container_id = xstrdup (req->container_id);
  l->name = req->name ? xstrdup (req->name) : NULL;
  l->hostname = req->hostname && *req->hostname ? xstrdup (req->hostname)
                : req->name && *req->name       ? xstrdup (req->name)
                                          : xstrndup (req->container_id, 12);
  l->host_veth = xstrdup (veth);
  l->state_dir = req->state_dir ? xstrdup (req->state_dir) : NULL;
  l->ip = req->prefer_ip;
  return net_lease_set_process (l, pid, err);
}

int
net_setup (const struct net_request *req, pid_t pid, struct net_attachment *out,
           struct err **err)
{
  struct net_config cfg = { 0 };
  _cleanup_free_ struct net_config *all = NULL;
  size_t n_all = 0;
  struct net_nl host = { 0 }, ctr = { 0 };
  struct net_nft nft = NET_NFT_INIT;
  _cleanup_close_ int lock = -1, netfd = -1, nsfd = -1;
  struct net_lease lease = { 0 };
  struct port_map *ports = NULL;
  char veth[IFNAMSIZ];
  int br = 0, eth0, lo;
  bool leased = false, reserved = false, linked = false;
  int r = -1;

  memset (out, 0, sizeof *out);
  if (net_check_id (req->container_id, err) < 0
      || (nsfd = net_netns_open (pid, err)) < 0)
    return -1;
  lock = net_ipam_lock (req->root, err);
  if (lock < 0)
    return -1;
  /* under the lock: a network being removed is either gone or stays */
  if (net_config_find (req->root, req->config_path, req->network, &cfg, NULL,
                       NULL, err)
      < 0)
    return -1;
  /* the firewall holds every network's rules; only the default one
   * needs no listing of the others */
  if (!req->network || !strcmp (req->network, NET_DEFAULT_NETWORK))
    {
      _cleanup_strv_ char **names = net_def_names (req->root);
      if (!names[0])
        {
          all = xcalloc (1, sizeof *all);
          all[0] = cfg;
          n_all = 1;
        }
    }
  if (!all
      && net_all_configs (req->root, req->config_path, &all, &n_all, err) < 0)
    return -1;
  netfd = net_ipam_open_net (req->root, cfg.name, err);
  if (netfd < 0)
    return -1;
  if (net_nl_open (&host, err) < 0)
    return -1;

  save_subnet (netfd, &cfg);
  if (net_ensure_bridge (&host, &cfg, &br, err) < 0
      || net_nft_ensure (&nft, all, n_all, err) < 0
      || pick_veth (req->root, netfd, &host, &nft, req->container_id, veth, err)
             < 0)
    goto out;

  if (req->n_ports)
    {
      ports = xcalloc (req->n_ports, sizeof *ports);
      memcpy (ports, req->ports, req->n_ports * sizeof *ports);
      lease.ports = ports; /* owned by the lease from here */
      if (reserve_ports (req->root, netfd, &nft, &host, req->container_id,
                         ports, req->n_ports, err)
          < 0)
        goto out;
      reserved = true;
    }

  lease.n_ports = req->n_ports;
  if (net_lease_fill (&lease, req, veth, pid, err) < 0
      || net_ipam_allocate (netfd, &cfg, &lease, err) < 0)
    goto out;
  leased = true;
  if (net_hosts_add (netfd, &cfg, lease.ip, lease.hostname, lease.name, err)
      < 0)
    goto out;

  if (net_nl_veth_add (&host, veth, br, "eth0", nsfd, err) < 0)
    goto out;
  linked = true;
  if (net_nl_open_netns (&ctr, nsfd, err) < 0)
    goto out;
  eth0 = net_nl_link_index (&ctr, "eth0", NULL, err);
  lo = eth0 > 0 ? net_nl_link_index (&ctr, "lo", NULL, err) : -1;
  if (eth0 <= 0 || lo <= 0)
    {
      err_set (err, ENODEV, "container interfaces");
      goto out;
    }
  if (net_nl_addr_add (&ctr, eth0, lease.ip, cfg.prefix, err) < 0
      || net_nl_link_up (&ctr, lo, err) < 0
      || net_nl_link_up (&ctr, eth0, err) < 0
      || (!cfg.internal
          && net_nl_route_default (&ctr, cfg.gateway, eth0, err) < 0))
    {
      err_wrap (err, "container network");
      goto out;
    }
  if (net_nft_add_ports (&nft, req->container_id, lease.ip, ports, req->n_ports,
                         err)
      < 0)
    goto out;

  out->net = cfg;
  snprintf (out->host_veth, sizeof out->host_veth, "%s", veth);
  snprintf (out->ifname, sizeof out->ifname, "eth0");
  out->ip = lease.ip;
  out->n_ports = req->n_ports;
  if (req->n_ports)
    {
      out->ports = xcalloc (req->n_ports, sizeof *out->ports);
      memcpy (out->ports, ports, req->n_ports * sizeof *ports);
    }
  r = 0;
out:
  if (r < 0)
    {
      struct err *e = NULL;
      if (req->n_ports) /* no rules otherwise */
        net_nft_del_container (&nft, req->container_id, &e);
      err_clear (&e);
      if (linked)
        net_nl_link_del (&host, veth, &e);
      err_clear (&e);
      if (leased)
        {
          net_hosts_del (netfd, lease.ip);
          net_ipam_release (netfd, lease.ip, &e);
        }
      err_clear (&e);
      if (reserved)
        for (size_t i = 0; i < req->n_ports; i++)
          net_ports_release (req->root, &ports[i], req->container_id);
      err_wrap (err, "network '%s'", cfg.name);
    }
  net_lease_release (&lease); /* frees ports */
  net_nl_close (&ctr);
  net_nl_close (&host);
  net_nft_release (&nft);
  return r;
}

int
net_teardown (const char *root, const char *container_id, struct err **err)
{
  struct net_nl nl = { 0 };
  struct net_nft nft = NET_NFT_INIT;
  _cleanup_close_ int lock = -1;
  int r;
  if (net_check_id (container_id, err) < 0)
    return -1;
  lock = net_ipam_lock (root, err);
  if (lock < 0 || net_nl_open (&nl, err) < 0)
    return -1;
  r = teardown_locked (root, &nft, &nl, container_id, err);
  net_nft_release (&nft);
  net_nl_close (&nl);
  return r < 0 ? err_wrap (err, "tear down network of '%s'", container_id) : 0;
}

/* One network as gc sees it: its settings, leases and directory. */
struct gc_net
{
  struct net_config cfg;
  int netfd;
  struct net_lease *all;
  size_t n;
};

/* Every network's leases (lock held): the default one, then the
 * user-defined ones; a network removed meanwhile is skipped. */
static int
gc_load (const char *root, struct gc_net **out, size_t *n_out, struct err **err)
{
  _cleanup_strv_ char **names = net_def_names (root);
  struct gc_net *v = xcalloc (strv_len (names) + 1, sizeof *v);
  size_t n = 0;
  if (saved_config (root, &v[0].cfg, err) < 0)
    goto fail;
  v[0].netfd = net_ipam_open_net (root, v[0].cfg.name, err);
  if (v[0].netfd < 0)
    goto fail;
  n = 1;
  for (char **p = names; *p; p++)
    {
      struct err *e = NULL;
      _cleanup_free_ char *dir = net_dir_path (root, *p);
      if (net_config_find (root, NULL, *p, &v[n].cfg, NULL, NULL, &e) < 0
          || (v[n].netfd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
        {
          err_free (e);
          continue;
        }
      n++;
    }
  for (size_t i = 0; i < n; i++)
    if (net_ipam_load_all (v[i].netfd, &v[i].all, &v[i].n, err) < 0)
      {
        *out = v;
        *n_out = n;
        return -1;
      }
  *out = v;
  *n_out = n;
  return 0;
fail:
  free (v);
  *out = NULL;
  *n_out = 0;
  return -1;
}

static void
gc_free (struct gc_net *v, size_t n)
{
  for (size_t i = 0; i < n; i++)
    {
      net_leases_free (v[i].all, v[i].n);
      if (v[i].netfd >= 0)
        close (v[i].netfd);
    }
  free (v);
}

int
net_gc (const char *root, struct err **err)
{
  struct net_nl nl = { 0 };
  struct net_nft nft = NET_NFT_INIT;
  _cleanup_close_ int lock = -1;
  struct gc_net *nets = NULL;
  size_t n_nets = 0, n = 0;
  _cleanup_strv_ char **live = xcalloc (1, sizeof *live);
  _cleanup_strv_ char **live_veths = xcalloc (1, sizeof *live_veths);
  _cleanup_strv_ char **dead = xcalloc (1, sizeof *dead);
  _cleanup_strv_ char **owners = NULL;
  int r = -1;

  lock = net_ipam_lock (root, err);
  if (lock < 0)
    return -1;
  if (gc_load (root, &nets, &n_nets, err) < 0)
    goto out;
  for (size_t k = 0; k < n_nets; k++)
    n += nets[k].n;
  /* Nothing recorded, nothing to reclaim: a lease is written before its
   * veth and rules exist and removed after they are gone. This keeps gc
   * free of netlink and nftables (and root) when networking is unused. */
  owners = net_ports_owners (root);
  if (n == 0 && !owners[0])
    {
      r = 0;
      goto out;
    }
  strv_free (steal_pointer (&owners));
  if (net_nl_open (&nl, err) < 0)
    goto out;

  for (size_t k = 0; k < n_nets; k++)
    for (size_t i = 0; i < nets[k].n; i++)
      {
        struct net_lease *l = &nets[k].all[i];
        if (net_lease_alive (root, l))
          {
            strv_push (&live, xstrdup (l->container_id));
            if (l->host_veth)
              strv_push (&live_veths, xstrdup (l->host_veth));
            continue;
          }
        if (l->container_id && !strv_has (dead, l->container_id))
          strv_push (&dead, xstrdup (l->container_id));
      }
  /* Rules and port records whose container has no live lease. */
  if (net_nft_owners (&nft, &owners, err) < 0)
    goto out;
  for (char **o = owners; *o; o++)
    if (!strv_has (live, *o) && !strv_has (dead, *o))
      strv_push (&dead, xstrdup (*o));
  strv_free (owners);
  owners = net_ports_owners (root);
  for (char **o = owners; *o; o++)
    if (!strv_has (live, *o) && !strv_has (dead, *o))
      strv_push (&dead, xstrdup (*o));

  for (char **d = dead; *d; d++)
    {
      struct err *e = NULL;
      log_debug ("network: reclaiming container %s", *d);
      if (net_check_id (*d, &e) == 0)
        teardown_locked (root, &nft, &nl, *d, &e);
      else
        net_ports_release_owner (root, *d);
      if (e)
        log_warn ("network gc: %s", e->msg);
      err_free (e);
    }
  for (size_t k = 0; k < n_nets; k++)
    {
      _cleanup_strv_ char **links = NULL;
      int br;
      /* leases that no index entry named (the teardowns above took the
       * others): just the file and the hosts line */
      for (size_t i = 0; i < nets[k].n; i++)
        if (!nets[k].all[i].container_id
            || !net_lease_alive (root, &nets[k].all[i]))
          {
            struct err *e = NULL;
            net_hosts_del (nets[k].netfd, nets[k].all[i].ip);
            net_ipam_release (nets[k].netfd, nets[k].all[i].ip, &e);
            err_free (e);
          }
      /* imgtool veths on the bridge that no live lease names. */
      br = net_nl_link_index (&nl, nets[k].cfg.bridge, NULL, err);
      if (br < 0)
        goto out;
      if (br == 0)
        continue;
      if (net_nl_links_of (&nl, br, &links, err) < 0)
        goto out;
      for (char **l = links; *l; l++)
        if (!strncmp (*l, VETH_PREFIX, strlen (VETH_PREFIX))
            && !strv_has (live_veths, *l) && net_nl_link_del (&nl, *l, err) < 0)
          goto out;
    }
  r = 0;
out:
  gc_free (nets, n_nets);
  net_nft_release (&nft);
  net_nl_close (&nl);
  return r < 0 ? err_wrap (err, "network gc") : 0;
}

static int
bridge_attach (struct rt_net *n, const struct rt_plan *p, pid_t pid,
               struct err **err)
{
  struct net_bridge *b = (struct net_bridge *)n;
  struct net_request req = b->req;
  if (!req.container_id)
    req.container_id = p->id;
  if (!req.name)
    req.name = p->name;
  if (!req.hostname)
    req.hostname = p->hostname;
  if (!req.state_dir)
    req.state_dir = p->state_dir;
  if (!req.prefer_ip.s_addr)
    req.prefer_ip = b->att.ip; /* the address of its last run */
  net_attachment_release (&b->att);
  if (net_setup (&req, pid, &b->att, err) < 0)
    return -1;
  if (p->state_dir
      && (net_write_resolv (p->state_dir, p, err) < 0
          || (p->extra_hosts
              && net_write_own_hosts (b->base.hosts_path, p, err) < 0)))
    {
      struct err *e = NULL;
      net_teardown (req.root, req.container_id, &e);
      err_free (e);
      net_attachment_release (&b->att);
      return -1;
    }
  return 0;
}

static int
bridge_detach (struct rt_net *n, const char *container_id, struct err **err)
{
  struct net_bridge *b = (struct net_bridge *)n;
  return net_teardown (b->req.root, container_id, err);
}

static const struct rt_net_ops bridge_ops = {
  .attach = bridge_attach,
  .detach = bridge_detach,
};

int
net_bridge_init (struct net_bridge *b, const struct net_request *req,
                 struct err **err)
{
  struct net_config cfg;
  memset (b, 0, sizeof *b);
  b->base.ops = &bridge_ops;
  b->req = *req;
  if (net_config_find (req->root, req->config_path, req->network, &cfg, NULL,
                       NULL, err)
          < 0
      || net_hosts_ensure (req->root, &cfg, err) < 0)
    return -1;
  b->base.hosts_path = net_hosts_path (req->root, cfg.name);
  return 0;
}

void
net_bridge_release (struct net_bridge *b)
{
  free (b->base.hosts_path);
  b->base.hosts_path = NULL;
  net_attachment_release (&b->att);
}

/* ---- ls / inspect ---- */

void
net_info_release (struct net_info *info)
{
  if (!info)
    return;
  for (size_t i = 0; i < info->n_leases; i++)
    {
      struct net_lease_info *l = &info->leases[i];
      free (l->container_id);
      free (l->name);
      free (l->host_veth);
      free (l->ports);
    }
  free (info->leases);
  strv_free (info->labels);
  memset (info, 0, sizeof *info);
}

int
net_inspect (const char *root, const char *config_path, const char *name,
             struct net_info *out, struct err **err)
{
  struct net_nl nl = { 0 };
  _cleanup_close_ int lock = -1, netfd = -1;
  struct net_lease *all = NULL;
  size_t n = 0;
  int idx;
  memset (out, 0, sizeof *out);
  if (net_config_find (root, config_path, name, &out->net, &out->labels,
                       &out->created, err)
      < 0)
    return -1;
  if (net_nl_open (&nl, err) < 0)
    return -1;
  idx = net_nl_link_index (&nl, out->net.bridge, NULL, err);
  net_nl_close (&nl);
  if (idx < 0)
    return -1;
  out->bridge_exists = idx > 0;
  lock = net_ipam_lock (root, err);
  if (lock < 0)
    return -1;
  netfd = net_ipam_open_net (root, out->net.name, err);
  if (netfd < 0 || net_ipam_load_all (netfd, &all, &n, err) < 0)
    return -1;
  out->leases = xcalloc (n + 1, sizeof *out->leases);
  for (size_t i = 0; i < n; i++)
    {
      struct net_lease_info *li = &out->leases[out->n_leases];
      if (!all[i].container_id)
        continue;
      li->alive = net_lease_alive (root, &all[i]);
      li->container_id = steal_pointer (&all[i].container_id);
      li->name = steal_pointer (&all[i].name);
      li->host_veth = steal_pointer (&all[i].host_veth);
      li->ip = all[i].ip;
      li->pid = all[i].pid;
      li->ports = steal_pointer (&all[i].ports);
      li->n_ports = all[i].n_ports;
      out->n_leases++;
    }
  net_leases_free (all, n);
  return 0;
}

int
net_list (const char *root, const char *config_path, struct net_info **out,
          size_t *n_out, struct err **err)
{
  _cleanup_strv_ char **names = net_def_names (root);
  size_t n = 0, cap = strv_len (names) + 1;
  struct net_info *v = xcalloc (cap, sizeof *v);
  for (size_t i = 0; i < cap; i++)
    {
      struct err *e = NULL;
      if (net_inspect (root, config_path, i ? names[i - 1] : NULL, &v[n], &e)
          == 0)
        n++;
      else if (i == 0)
        {
          free (v);
          if (err)
            *err = e;
          else
            err_free (e);
          return -1;
        }
      else /* removed meanwhile */
        err_free (e);
    }
  *out = v;
  *n_out = n;
  return 0;
}
