/* Container networking: a private IPv4 address on the imgtool0 bridge,
 * published ports, outbound NAT, and the /etc files that go with them.
 *
 * Done from the host side, daemonless: the runtime clones the container
 * with CLONE_NEWNET and, in the parent, attaches the plan's network object
 * (struct net_bridge below) with the child's pid before letting the child
 * go on. Its attach is net_setup:
 *   - takes <root>/networks/lock (one flock serialises every change);
 *   - ensures the bridge (pinned MAC, gateway address, up), the sysctls
 *     (ip_forward, route_localnet on the bridge) and the table `inet imgtool`;
 *   - allocates an address: <root>/networks/<net>/leases/<ip> (JSON: id,
 *     name, pid + start time + boot id, veth, ports, hosts file);
 *   - checks and records the host ports (<root>/networks/ports/<proto>-<port>);
 *   - creates the veth pair imgv<id[0:11]> (on the bridge, up) / eth0 (made
 *     directly in the container's netns), the address, lo up, the default
 *     route via the gateway;
 *   - adds DNAT rules for the published ports, tagged with the container id;
 *   - adds the container's line to the network's shared hosts file.
 * net_teardown undoes it; net_gc undoes it for containers that died without
 * tearing down (kill -9 of imgtool). The bridge and the table's base chains
 * stay, like docker0.
 *
 * Host ports are checked with bind() on HOST-IP:PORT (then released: no
 * proxy process stays, the DNAT rule carries the traffic) and recorded so
 * that two containers cannot take the same port. 127.0.0.1:PORT from the host
 * works through DNAT in the output hook plus route_localnet=1 on the bridge;
 * a raw-prerouting rule drops 127.0.0.0/8 arriving on any other interface
 * than lo, which route_localnet would otherwise let through (docker's
 * filterPortMappedOnLoopback). */
#ifndef IMGTOOL_NET_H
#define IMGTOOL_NET_H

#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct err;

#define NET_DEFAULT_NETWORK "bridge"
#define NET_DEFAULT_BRIDGE "imgtool0"
#define NET_DEFAULT_SUBNET "10.89.0.0/16"
#define NET_NFT_TABLE "imgtool" /* family inet */
#define NET_USER_DIR "user"     /* <root>/networks/user/<name> */
#define NET_USER_BRIDGE "imgbr" /* + 10 hex digits of the network's id */

enum net_proto
{
  NET_TCP = 0,
  NET_UDP = 1,
};

/* One -p spec. host_ip INADDR_ANY (0) means every host address. */
struct port_map
{
  struct in_addr host_ip; /* network byte order */
  uint16_t host_port;     /* 0 = pick a free one */
  uint16_t container_port;
  enum net_proto proto;
};

/* A network: the default one, from the config file's "default-network":
 * {"subnet": "10.89.0.0/16"}, or a user-defined one (network create,
 * netdef.c). */
struct net_config
{
  char name[64];
  char id[65];   /* 64 hex digits */
  bool internal; /* no route or NAT beyond the subnet */
  char bridge[IFNAMSIZ];
  struct in_addr subnet;  /* network address */
  struct in_addr gateway; /* subnet + 1, on the bridge */
  unsigned prefix;
};

struct net_request
{
  const char *root; /* the store root: <root>/networks, <root>/containers */
  const char *config_path;  /* JSON config file, may be NULL or missing */
  const char *network;      /* NULL = NET_DEFAULT_NETWORK */
  const char *container_id; /* 12..64 lowercase hex */
  const char *name;         /* container name, may be NULL */
  const char *hostname;     /* may be NULL: then name, then id[0:12] */
  const char *state_dir;    /* exists while the container lives (gc's
                               test); NULL = <root>/containers/<id> */
  const struct port_map *ports;
  size_t n_ports;
  struct in_addr prefer_ip; /* tried first when free (0: none): a
                               container started again keeps its address */
};

struct net_attachment
{
  struct net_config net;
  char host_veth[IFNAMSIZ];
  char ifname[IFNAMSIZ]; /* in the container: eth0 */
  struct in_addr ip;
  struct port_map *ports; /* as requested, with random host ports chosen */
  size_t n_ports;
};

void net_attachment_release (struct net_attachment *a);

/* Parse "[IP:]HOST:CONTAINER[/tcp|udp]" or "[IP::]CONTAINER[/proto]"
 * (random host port). */
int net_parse_publish (const char *spec, struct port_map *out,
                       struct err **err);

/* Is host_ip:port free on the host? bind() and close; a port of 0 gets a
 * free one. "bind 0.0.0.0:8080: Address already in use" otherwise. */
int net_check_host_port (struct port_map *p, struct err **err);

/* docker ps's PORTS text: "0.0.0.0:8080->80/tcp, 127.0.0.1:5353->53/udp"
 * ("" for none). Allocated. */
char *net_ports_text (const struct port_map *ports, size_t n);

/* "A.B.C.D/N" into cfg's subnet, prefix and gateway (subnet + 1). */
int net_parse_subnet (const char *text, struct net_config *cfg,
                      const char *where, struct err **err);

/* Read the network's settings: defaults, overridden by the config file's
 * "default-network". name NULL = default. */
int net_config_load (const char *config_path, const char *name,
                     struct net_config *out, struct err **err);

/* Attach the container whose init is container_pid (in its own netns) to
 * the network. On failure nothing is left behind. */
int net_setup (const struct net_request *req, pid_t container_pid,
               struct net_attachment *out, struct err **err);

/* Remove the container's veth, rules, port records and lease. Idempotent:
 * a container without any of them is fine. */
int net_teardown (const char *root, const char *container_id, struct err **err);

/* Tear down every container whose lease says it is dead: its pid is gone
 * (or was reused: start time and boot id differ) or its state dir
 * (net_request.state_dir, default <root>/containers/<id>) is gone. Also
 * drops rules, port records and imgtool veths that no lease owns. Call at
 * the start of a command. */
int net_gc (const char *root, struct err **err);

/* The plan's network object for --network bridge (runtime/plan.h's
 * struct rt_net; the container service makes one): attach is net_setup
 * plus the container's resolv.conf, detach is net_teardown. req is
 * borrowed (root, config_path, ports; container_id, name, hostname and
 * state_dir default to the plan's). base.hosts_path is the network's
 * shared hosts file (net_etc.c). */
#include "runtime/plan.h"
struct net_bridge
{
  struct rt_net base;
  struct net_request req;
  struct net_attachment att; /* filled by attach */
};
int net_bridge_init (struct net_bridge *b, const struct net_request *req,
                     struct err **err);
void net_bridge_release (struct net_bridge *b);

/* Write dir/resolv.conf for a container on a bridge network. */
struct rt_plan;
int net_write_resolv (const char *dir, const struct rt_plan *p,
                      struct err **err);
/* --add-host on the network: the container's own hosts file in its state
 * dir, the network's shared one (shared_path) as it is now plus p's extra
 * lines. A snapshot: names of containers started later are not in it. */
int net_write_own_hosts (const char *shared_path, const struct rt_plan *p,
                         struct err **err);

/* The network's shared hosts file (net_etc.c): its path; its head (the
 * localhost lines and the gateway's names); one container's line ("" when
 * no name is fit for one); add and blank a container's line (lock held,
 * netfd = <root>/networks/<net>). */
char *net_hosts_path (const char *root, const char *net);
/* Create the file (with its head) when missing: it must exist before a
 * container's child bind-mounts it. */
int net_hosts_ensure (const char *root, const struct net_config *cfg,
                      struct err **err);
char *net_hosts_render (struct in_addr gateway);
char *net_hosts_entry (struct in_addr ip, const char *hostname,
                       const char *name);
int net_hosts_add (int netfd, const struct net_config *cfg, struct in_addr ip,
                   const char *hostname, const char *name, struct err **err);
/* The same with any names (hostname, name, aliases), NULL-terminated. */
int net_hosts_add_names (int netfd, const struct net_config *cfg,
                         struct in_addr ip, const char *const *names,
                         struct err **err);
void net_hosts_del (int netfd, struct in_addr ip);

/* ---- user-defined networks (netdef.c) ----
 * <root>/networks/user/<name>/network.json: name, id, driver, subnet,
 * gateway, bridge, internal, labels, created. Their leases and hosts
 * file live beside it, as the default network's do in networks/bridge. */
struct net_create_opts
{
  const char *name;
  const char *driver;  /* NULL or "bridge" */
  const char *subnet;  /* NULL: a free 10.90.N.0/24 */
  const char *gateway; /* NULL: subnet + 1 */
  bool internal;
  char **labels; /* "k=v" */
};

/* A name docker accepts for a network: [a-zA-Z0-9][a-zA-Z0-9_.-]*. */
bool net_name_valid (const char *name);
/* Create one; *id_out gets its id (allocated). */
int net_def_create (const char *root, const char *config_path,
                    const struct net_create_opts *o, char **id_out,
                    struct err **err);
/* The settings of the network called name_or_id (name, full id or a
 * unique id prefix), default or user-defined. labels/created may be
 * NULL. */
int net_config_find (const char *root, const char *config_path,
                     const char *name_or_id, struct net_config *out,
                     char ***labels, long long *created, struct err **err);
/* The user-defined networks' names, sorted; NULL-terminated. */
char **net_def_names (const char *root);
/* Remove a user network: refused while a live container is on it. */
int net_def_remove (const char *root, const char *config_path,
                    const char *name_or_id, struct err **err);
/* Every network's settings, the default one first (as net_setup's
 * firewall needs them all). */
int net_all_configs (const char *root, const char *config_path,
                     struct net_config **out, size_t *n, struct err **err);

/* A running container's networks after its start (netconnect.c).
 * net_connect: one more interface (eth1, eth2...) in the container whose
 * init is pid, on req->network's bridge; req->prefer_ip, when set, is
 * the address it must get (--ip); its hostname, name and aliases go into
 * that network's hosts file. "endpoint with name X already exists in
 * network N" when it is on it already. net_disconnect undoes one (the
 * first network's too); "container ID is not connected to the network N"
 * when it is not. net_rename: the container's leases and hosts lines on
 * every network name the new name. */
int net_connect (const struct net_request *req, pid_t pid, char **aliases,
                 struct err **err);
int net_disconnect (const char *root, const char *config_path,
                    const char *network, const char *id, struct err **err);
int net_rename (const char *root, const char *config_path, const char *id,
                const char *name, struct err **err);
/* The networks container id has a lease on (inspect after connect): the
 * default one first, then the user-defined ones by name. *out is
 * allocated (net_endpoints_free); returns how many. */
struct net_endpoint
{
  char *network;
  struct in_addr ip;
  char **aliases; /* NULL or NULL-terminated */
};
size_t net_endpoints (const char *root, const char *id,
                      struct net_endpoint **out);
void net_endpoints_free (struct net_endpoint *v, size_t n);

/* `imgtool network ls|inspect`. */
struct net_lease_info
{
  char *container_id;
  char *name;
  struct in_addr ip;
  char *host_veth;
  pid_t pid;
  bool alive;
  struct port_map *ports;
  size_t n_ports;
};

struct net_info
{
  struct net_config net;
  bool bridge_exists;
  char **labels; /* "k=v" */
  long long created;
  struct net_lease_info *leases;
  size_t n_leases;
};

void net_info_release (struct net_info *info);

/* Every network imgtool knows (today: the default one). */
int net_list (const char *root, const char *config_path, struct net_info **out,
              size_t *n_out, struct err **err);
int net_inspect (const char *root, const char *config_path, const char *name,
                 struct net_info *out, struct err **err);

#endif
