/* Raw rtnetlink (libmnl): links, addresses, routes. Internal to runtime/net*.
 * A socket is bound to the netns it was created in; net_nl_open_netns()
 * makes one inside a container's netns (in a short-lived thread that
 * setns()es, so the caller's own netns never changes). */
#ifndef IMGTOOL_NETLINK_H
#define IMGTOOL_NETLINK_H

#include <netinet/in.h>
#include <stdint.h>

struct err;
struct mnl_socket;

struct net_nl
{
  struct mnl_socket *sock;
  uint32_t portid;
  uint32_t seq;
};

int net_nl_open (struct net_nl *nl, struct err **err);
/* Open a socket inside the netns that netns_fd refers to. */
int net_nl_open_netns (struct net_nl *nl, int netns_fd, struct err **err);
void net_nl_close (struct net_nl *nl);

/* ifindex of name, 0 if there is none, -1 on error. master_out (may be
 * NULL) gets its IFLA_MASTER or 0. */
int net_nl_link_index (struct net_nl *nl, const char *name, int *master_out,
                       struct err **err);

/* Create a bridge with a fixed MAC (so it does not follow its ports' MACs),
 * up. EEXIST is an error (the caller checks first). */
int net_nl_bridge_add (struct net_nl *nl, const char *name,
                       const uint8_t mac[6], struct err **err);

/* Create veth host_name (on master_index, up) with its peer peer_name made
 * directly in the netns of peer_netns_fd. */
int net_nl_veth_add (struct net_nl *nl, const char *host_name, int master_index,
                     const char *peer_name, int peer_netns_fd,
                     struct err **err);

/* Delete a link by name; a missing one is fine. */
int net_nl_link_del (struct net_nl *nl, const char *name, struct err **err);

int net_nl_link_up (struct net_nl *nl, int ifindex, struct err **err);

/* Add ip/prefix on ifindex; an existing identical address is fine. */
int net_nl_addr_add (struct net_nl *nl, int ifindex, struct in_addr ip,
                     unsigned prefix, struct err **err);

/* Add the default route via gw on ifindex. */
int net_nl_route_default (struct net_nl *nl, struct in_addr gw, int ifindex,
                          struct err **err);

/* Names of the links whose master is master_index (NULL-terminated). */
int net_nl_links_of (struct net_nl *nl, int master_index, char ***out,
                     struct err **err);

#endif
