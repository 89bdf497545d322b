/* What net.c shares with the other files of network/ (netconnect.c). */
#ifndef IMGTOOL_NET_INT_H
#define IMGTOOL_NET_INT_H

#include "network/net.h"

struct net_nl;
struct net_nft;
struct net_lease;

#define VETH_PREFIX "imgv"

/* 12..64 lowercase hex, or "invalid container id". */
int net_check_id (const char *id, struct err **err);
/* The host end of a container's veth: imgv + the id's first 11 hex
 * digits; attempt > 0 gives a hash of the id and attempt instead. */
void net_veth_name (const char *id, unsigned attempt, char out[IFNAMSIZ]);
/* The network's bridge (made when missing: pinned MAC, gateway address,
 * up) and its sysctls; *index gets its ifindex. Lock held. */
int net_ensure_bridge (struct net_nl *nl, const struct net_config *cfg,
                       int *index, struct err **err);
/* /proc/<pid>/ns/net, opened. */
int net_netns_open (pid_t pid, struct err **err);
/* A new lease of req's container (its id, name, hostname: the name's or
 * the id's 12 digits when none; state dir, req->prefer_ip) with its host
 * veth, its process pid. */
int net_lease_fill (struct net_lease *l, const struct net_request *req,
                    const char *veth, pid_t pid, struct err **err);
/* Remove what container id holds in network net (lock held): rules,
 * veth, lease, hosts line, port records; *found set when it had a lease
 * there. */
int net_teardown_in (const char *root, struct net_nft *nft, struct net_nl *nl,
                     const char *net, const char *id, bool *found,
                     struct err **err);

#endif
