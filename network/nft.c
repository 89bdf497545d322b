/* The table `inet imgtool` (see nft.h). Scripts are built only from values
 * imgtool made or validated (addresses, ports, hex ids, the bridge name), so
 * no user text reaches the nft parser. */
#include "network/nft.h"
#include "lib/err.h"
#include "lib/strbuf.h"
#include "lib/userns.h"
#include "lib/xalloc.h"
#include "network/ipam.h"
#include "runtime/security.h"

#include <errno.h>
#include <jansson.h>
#include <libmnl/libmnl.h>
#include <linux/capability.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <nftables/libnftables.h>
#include <string.h>
#include <time.h>

#define T "inet " NET_NFT_TABLE

/* The context, made on first use; NULL without CAP_NET_ADMIN. why:
 * libnftables (1.0.6) prints "Operation not permitted (you must be root)"
 * to stderr itself when the kernel refuses, whatever its error buffer
 * holds; it is not asked at all then, and the refusal goes into err. */
static struct nft_ctx *
ctx_of (struct net_nft *n)
{
  /* in a user namespace the capability does not reach the host's netns */
  if (!n->ctx && rt_cap_effective (CAP_NET_ADMIN) && !userns_active ())
    {
      n->ctx = nft_ctx_new (NFT_CTX_DEFAULT);
      if (!n->ctx)
        abort ();
      nft_ctx_buffer_output (n->ctx);
      nft_ctx_buffer_error (n->ctx);
    }
  return n->ctx;
}

void
net_nft_release (struct net_nft *n)
{
  if (n->ctx)
    nft_ctx_free (n->ctx);
  n->ctx = NULL;
}

static int
count_msg (const struct nlmsghdr *nlh, void *data)
{
  (void)nlh;
  ++*(int *)data;
  return MNL_CB_OK;
}

/* Is chain `name` in our table? One NFT_MSG_GETCHAIN over raw nfnetlink
 * (libmnl), without libnftables. 1 yes, 0 no, -1 when the kernel cannot
 * say (the caller then asks libnftables). */
static int
chain_present (const char *name)
{
  char buf[8192];
  struct mnl_socket *nl = mnl_socket_open2 (NETLINK_NETFILTER, SOCK_CLOEXEC);
  struct nlmsghdr *nlh;
  struct nfgenmsg *nfg;
  uint32_t seq = (uint32_t)time (NULL), portid;
  int r = -1, found = 0;
  ssize_t len;
  if (!nl)
    return -1;
  if (mnl_socket_bind (nl, 0, MNL_SOCKET_AUTOPID) < 0)
    goto out;
  portid = mnl_socket_get_portid (nl);
  nlh = mnl_nlmsg_put_header (buf);
  nlh->nlmsg_type = (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETCHAIN;
  nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
  nlh->nlmsg_seq = seq;
  nfg = mnl_nlmsg_put_extra_header (nlh, sizeof *nfg);
  nfg->nfgen_family = NFPROTO_INET;
  nfg->version = NFNETLINK_V0;
  nfg->res_id = 0;
  mnl_attr_put_strz (nlh, NFTA_CHAIN_TABLE, NET_NFT_TABLE);
  mnl_attr_put_strz (nlh, NFTA_CHAIN_NAME, name);
  if (mnl_socket_sendto (nl, nlh, nlh->nlmsg_len) < 0)
    goto out;
  /* the chain's NEWCHAIN message, then the ack; or an error */
  while ((len = mnl_socket_recvfrom (nl, buf, sizeof buf)) > 0)
    {
      int cb = mnl_cb_run (buf, (size_t)len, seq, portid, count_msg, &found);
      if (cb == MNL_CB_ERROR)
        {
          r = errno == ENOENT ? 0 : -1;
          break;
        }
      if (cb == MNL_CB_STOP)
        {
          r = found > 0;
          break;
        }
    }
out:
  mnl_socket_close (nl);
  return r;
}

/* Run a script; on failure the first line of nft's message is the error. */
static int
run (struct nft_ctx *ctx, const char *script, const char *what,
     struct err **err)
{
  if (!ctx)
    return err_set (err, EPERM, "%s: nftables", what);
  if (nft_run_cmd_from_buffer (ctx, script) != 0)
    {
      const char *msg = nft_ctx_get_error_buffer (ctx);
      int len = msg ? (int)strcspn (msg, "\n") : 0;
      return err_set (err, 0, "%s: nftables: %.*s", what, len,
                      len ? msg : "failed");
    }
  return 0;
}

/* Append deletes of the old stamp chains (a config change) to s. */
static int
delete_stamps (struct nft_ctx *ctx, struct strbuf *s, struct err **err)
{
  unsigned flags = nft_ctx_output_get_flags (ctx);
  json_t *list, *items, *it;
  size_t i;
  int r;
  nft_ctx_output_set_flags (ctx, flags | NFT_CTX_OUTPUT_JSON);
  r = nft_run_cmd_from_buffer (ctx, "list chains inet");
  nft_ctx_output_set_flags (ctx, flags);
  if (r != 0)
    return 0;
  list = json_loads (nft_ctx_get_output_buffer (ctx), 0, NULL);
  if (!list)
    return err_set (err, 0, "list firewall chains: bad JSON from nftables");
  items = json_object_get (list, "nftables");
  json_array_foreach (items, i, it)
  {
    json_t *chain = json_object_get (it, "chain");
    const char *table = json_string_value (json_object_get (chain, "table"));
    const char *name = json_string_value (json_object_get (chain, "name"));
    if (table && name && !strcmp (table, NET_NFT_TABLE)
        && !strncmp (name, "stamp-", 6)
        && strspn (name + 6, "0123456789abcdef") == strlen (name + 6))
      strbuf_addf (s, "delete chain " T " %s\n", name);
  }
  json_decref (list);
  return 0;
}

/* One network's rules. Isolation between networks: rawpre drops what is
 * addressed to a network's subnet and does not come from its bridge, so a
 * container reaches no other network's containers. An internal network
 * gets no masquerade and no forwarding beyond its bridge. */
static void
network_rules (struct strbuf *s, const struct net_config *cfg)
{
  char net[INET_ADDRSTRLEN];
  _cleanup_free_ char *sub = NULL;
  const char *br = cfg->bridge;
  net_ip_str (cfg->subnet, net);
  sub = xasprintf ("%s/%u", net, cfg->prefix);
  /* Containers are reached through published ports, not directly from
   * other hosts (docker 28's raw-PREROUTING drop). */
  strbuf_addf (s, "add rule " T " rawpre iifname != \"%s\" ip daddr %s drop\n",
               br, sub);
  if (!cfg->internal)
    strbuf_addf (s,
                 "add rule " T " postrouting ip saddr %s oifname != \"%s\" "
                 "masquerade\n",
                 sub, br);
  strbuf_addf (s,
               "add rule " T " postrouting oifname \"%s\" ip saddr "
               "127.0.0.0/8 masquerade\n"
               "add rule " T " postrouting oifname \"%s\" ip saddr %s "
               "ct status dnat masquerade\n",
               br, br, sub);
  if (cfg->internal)
    strbuf_addf (s,
                 "add rule " T " forward iifname \"%s\" oifname != \"%s\" "
                 "drop\n"
                 "add rule " T " forward oifname \"%s\" iifname != \"%s\" "
                 "drop\n",
                 br, br, br, br);
  else
    strbuf_addf (s,
                 "add rule " T " forward oifname \"%s\" ct state "
                 "established,related accept\n"
                 "add rule " T " forward oifname \"%s\" ct status dnat "
                 "accept\n"
                 "add rule " T " forward iifname \"%s\" ip saddr %s accept\n",
                 br, br, br, sub);
}

int
net_nft_ensure (struct net_nft *n, const struct net_config *cfgs, size_t ncfg,
                struct err **err)
{
  struct nft_ctx *ctx;
  int present;
  _cleanup_strbuf_ struct strbuf s = STRBUF_INIT;

  /* The base chains are stamped with a chain named after a hash of their
   * script: when it is there nothing is rewritten. Rewriting (a flush)
   * would cost a synchronize_rcu, ~10 ms, when the nft socket closes. */
  _cleanup_free_ char *stamp = NULL;
  _cleanup_free_ char *probe = NULL;
  uint64_t h = 1469598103934665603ull;
  strbuf_addstr (&s, "add table " T "\n"
                     "add chain " T " hostports\n"
                     "add chain " T " rawpre { type filter hook prerouting "
                     "priority raw; policy accept; }\n"
                     "add chain " T " prerouting { type nat hook prerouting "
                     "priority dstnat; policy accept; }\n"
                     "add chain " T " output { type nat hook output "
                     "priority -100; policy accept; }\n"
                     "add chain " T " postrouting { type nat hook "
                     "postrouting priority srcnat; policy accept; }\n"
                     "add chain " T " forward { type filter hook forward "
                     "priority filter; policy accept; }\n"
                     "flush chain " T " rawpre\n"
                     "flush chain " T " prerouting\n"
                     "flush chain " T " output\n"
                     "flush chain " T " postrouting\n"
                     "flush chain " T " forward\n");
  /* route_localnet=1 on the bridge makes 127/8 routable there: never
   * accept loopback destinations from a real interface (docker does the
   * same for ports published on 127.0.0.1). */
  strbuf_addstr (&s, "add rule " T " rawpre iifname != \"lo\" ip daddr "
                     "127.0.0.0/8 drop\n");
  strbuf_addstr (&s, "add rule " T " prerouting fib daddr type local "
                     "jump hostports\n"
                     "add rule " T " output fib daddr type local "
                     "jump hostports\n");
  for (size_t i = 0; i < ncfg; i++)
    network_rules (&s, &cfgs[i]);
  for (size_t i = 0; i < s.len; i++)
    h = (h ^ (uint8_t)s.buf[i]) * 1099511628211ull;
  stamp = xasprintf ("stamp-%016llx", (unsigned long long)h);
  present = chain_present (stamp);
  if (present == 1)
    return 0;
  if (!(ctx = ctx_of (n)))
    return run (NULL, s.buf, "set up firewall table", err); /* refused */
  /* libnftables asks only when the kernel could not say */
  probe = present < 0 ? xasprintf ("list chain " T " %s", stamp) : NULL;
  if (probe && nft_run_cmd_from_buffer (ctx, probe) == 0)
    return 0;
  if (delete_stamps (ctx, &s, err) < 0)
    return -1;
  strbuf_addf (&s, "add chain " T " %s\n", stamp);
  return run (ctx, s.buf, "set up firewall table", err);
}

int
net_nft_add_ports (struct net_nft *n, const char *container_id,
                   struct in_addr ip, const struct port_map *ports,
                   size_t n_ports, struct err **err)
{
  _cleanup_strbuf_ struct strbuf s = STRBUF_INIT;
  char cip[INET_ADDRSTRLEN], hip[INET_ADDRSTRLEN];
  if (!n_ports)
    return 0;
  net_ip_str (ip, cip);
  for (size_t i = 0; i < n_ports; i++)
    {
      const char *proto = ports[i].proto == NET_UDP ? "udp" : "tcp";
      strbuf_addstr (&s, "add rule " T " hostports ");
      if (ports[i].host_ip.s_addr)
        strbuf_addf (&s, "ip daddr %s ", net_ip_str (ports[i].host_ip, hip));
      else
        strbuf_addstr (&s, "meta nfproto ipv4 ");
      strbuf_addf (&s, "%s dport %u dnat ip to %s:%u comment \"%s\"\n", proto,
                   ports[i].host_port, cip, ports[i].container_port,
                   container_id);
    }
  return run (ctx_of (n), s.buf, "publish ports", err);
}

/* The rules of hostports as (handle, comment) pairs via the JSON listing. */
static int
list_rules (struct nft_ctx *ctx, json_t **out, struct err **err)
{
  unsigned flags;
  const char *text;
  int r;
  *out = NULL;
  if (!ctx)
    return 0; /* nothing we may see */
  flags = nft_ctx_output_get_flags (ctx);
  nft_ctx_output_set_flags (ctx, flags | NFT_CTX_OUTPUT_JSON
                                     | NFT_CTX_OUTPUT_HANDLE);
  r = nft_run_cmd_from_buffer (ctx, "list chain " T " hostports");
  nft_ctx_output_set_flags (ctx, flags);
  if (r != 0)
    return 0; /* no table yet: nothing to list */
  text = nft_ctx_get_output_buffer (ctx);
  *out = json_loads (text ? text : "", 0, NULL);
  if (!*out)
    return err_set (err, 0, "list firewall rules: bad JSON from nftables");
  return 0;
}

/* Call fn for each rule of the listing with its handle and comment. */
static void
each_rule (json_t *list, void (*fn) (json_int_t, const char *, void *),
           void *data)
{
  json_t *items = json_object_get (list, "nftables"), *it;
  size_t i;
  json_array_foreach (items, i, it)
  {
    json_t *rule = json_object_get (it, "rule");
    const char *comment;
    if (!rule)
      continue;
    comment = json_string_value (json_object_get (rule, "comment"));
    fn (json_integer_value (json_object_get (rule, "handle")),
        comment ? comment : "", data);
  }
}

struct del_ctx
{
  const char *id;
  struct strbuf *s;
};

static void
del_one (json_int_t handle, const char *comment, void *data)
{
  struct del_ctx *d = data;
  if (!strcmp (comment, d->id))
    strbuf_addf (d->s, "delete rule " T " hostports handle %lld\n",
                 (long long)handle);
}

int
net_nft_del_container (struct net_nft *n, const char *container_id,
                       struct err **err)
{
  struct nft_ctx *ctx = ctx_of (n);
  _cleanup_strbuf_ struct strbuf s = STRBUF_INIT;
  json_t *list = NULL;
  struct del_ctx d = { container_id, &s };
  int r = 0;
  if (list_rules (ctx, &list, err) < 0)
    return -1;
  if (!list)
    return 0;
  each_rule (list, del_one, &d);
  json_decref (list);
  if (s.len)
    r = run (ctx, s.buf, "remove published ports", err);
  return r;
}

static void
owner_one (json_int_t handle, const char *comment, void *data)
{
  char ***v = data;
  (void)handle;
  if (!*comment)
    return;
  for (char **p = *v; *p; p++)
    if (!strcmp (*p, comment))
      return;
  strv_push (v, xstrdup (comment));
}

int
net_nft_owners (struct net_nft *n, char ***out, struct err **err)
{
  struct nft_ctx *ctx = ctx_of (n);
  json_t *list = NULL;
  char **v = xcalloc (1, sizeof *v);
  if (list_rules (ctx, &list, err) < 0)
    {
      strv_free (v);
      return -1;
    }
  if (list)
    each_rule (list, owner_one, &v);
  json_decref (list);
  *out = v;
  return 0;
}
