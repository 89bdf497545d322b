/* Rootless networking: libslirp beside the container (network/slirp.c).
 *
 * The container gets a new netns with a tap device, tap0, made and
 * configured from a thread that enters that netns (10.0.2.100/24, default
 * route via 10.0.2.2, DNS 10.0.2.3: slirp4netns's addresses). libslirp's
 * loop runs in a thread of the process that attached it (the foreground
 * run, or the -d monitor), in the host's netns, and turns the tap's
 * frames into the user's own sockets. Published ports are slirp host
 * forwards: the user's listening sockets on the host. No helper program,
 * no root. */
#ifndef IMGTOOL_SLIRP_H
#define IMGTOOL_SLIRP_H

#include "network/net.h"
#include "runtime/plan.h"

#define NET_SLIRP_GUEST "10.0.2.100"

struct net_slirp_loop;

struct net_slirp
{
  struct rt_net base;
  bool host_loopback;     /* the container may reach the host's 127.0.0.1 */
  struct port_map *ports; /* random host ports chosen at attach */
  size_t n_ports;
  struct net_slirp_loop *loop; /* while attached */
};

/* --network slirp4netns[:allow_host_loopback=true|false]: 1 and *mode
 * set, 0 when spec is not slirp4netns, -1 with *err for an unknown or
 * bad option (err_set keeps the first error, so the caller may add its
 * own for 0). */
int net_slirp_parse (const char *spec, enum rt_network_mode *mode,
                     struct err **err);

/* Copies ports. Fails on a host port below
 * net.ipv4.ip_unprivileged_port_start. */
int net_slirp_init (struct net_slirp *n, const struct port_map *ports,
                    size_t n_ports, bool host_loopback, struct err **err);
/* Detaches (stops the loop) and frees. */
void net_slirp_release (struct net_slirp *n);

#endif
