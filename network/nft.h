/* The nftables table `inet imgtool` through libnftables (the library, not
 * the nft program). Internal to runtime/net*.
 *
 *   rawpre      (filter, prerouting, raw)   drop 127.0.0.0/8 not from lo
 *                                           (route_localnet is on for the
 *                                           bridge); per network, drop
 *                                           traffic to its subnet that does
 *                                           not come from its bridge (no
 *                                           direct access, no other
 *                                           network)
 *   prerouting  (nat, dstnat)     fib daddr type local jump hostports
 *   output      (nat, -100)       fib daddr type local jump hostports
 *   hostports   (regular)         per container: DNAT rules, comment = id
 *   postrouting (nat, srcnat)     masquerade the subnet going out not via
 *                                 the bridge; loopback-sourced and hairpin
 *                                 (ct status dnat) traffic onto the bridge
 *   forward     (filter, filter)  accept each subnet's traffic; an
 *                                 internal network's leaving or entering
 *                                 its bridge is dropped
 *
 * The base chains are flushed and refilled by net_nft_ensure (one atomic
 * batch, so it is idempotent); hostports is never flushed. */
#ifndef IMGTOOL_NFT_H
#define IMGTOOL_NFT_H

#include "network/net.h"

struct nft_ctx;

/* A libnftables context made on first use: loading libnftables and setting
 * up a context cost ~1 ms, and a container without published ports needs
 * none when the table is already in place (net_nft_ensure probes it over
 * raw netlink). */
struct net_nft
{
  struct nft_ctx *ctx;
};
#define NET_NFT_INIT                                                           \
  {                                                                            \
    NULL                                                                       \
  }
void net_nft_release (struct net_nft *n);

/* The table with the rules of every network in cfgs (all of them: the
 * base chains are rewritten whole). */
int net_nft_ensure (struct net_nft *n, const struct net_config *cfgs,
                    size_t ncfg, struct err **err);

/* Add the DNAT rules of a container's ports to ip. */
int net_nft_add_ports (struct net_nft *n, const char *container_id,
                       struct in_addr ip, const struct port_map *ports,
                       size_t n_ports, struct err **err);

/* Delete every hostports rule whose comment is container_id. A missing
 * table is fine. */
int net_nft_del_container (struct net_nft *n, const char *container_id,
                           struct err **err);

/* The comments (container ids) of the hostports rules, NULL-terminated. */
int net_nft_owners (struct net_nft *n, char ***out, struct err **err);

#endif
