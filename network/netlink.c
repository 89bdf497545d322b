/* Raw rtnetlink over libmnl (see netlink.h). */
#include "network/netlink.h"
#include "lib/err.h"
#include "lib/xalloc.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <net/if.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>

#define NL_BUF 32768

static int
nl_bind (struct net_nl *nl, struct mnl_socket *sock)
{
  if (mnl_socket_bind (sock, 0, MNL_SOCKET_AUTOPID) < 0)
    {
      int e = errno;
      mnl_socket_close (sock);
      errno = e;
      return -1;
    }
  nl->sock = sock;
  nl->portid = mnl_socket_get_portid (sock);
  nl->seq = (uint32_t)time (NULL);
  return 0;
}

int
net_nl_open (struct net_nl *nl, struct err **err)
{
  struct mnl_socket *s = mnl_socket_open2 (NETLINK_ROUTE, SOCK_CLOEXEC);
  if (!s || nl_bind (nl, s) < 0)
    return err_set (err, errno, "open netlink socket");
  return 0;
}

struct ns_open
{
  int netns_fd;
  struct mnl_socket *sock;
  int errnum;
};

/* Runs in its own thread: setns() changes only this thread's netns, and a
 * socket keeps the netns it was made in after the thread is gone. */
static void *
ns_open_thread (void *p)
{
  struct ns_open *a = p;
  if (setns (a->netns_fd, CLONE_NEWNET) < 0)
    {
      a->errnum = errno;
      return NULL;
    }
  a->sock = mnl_socket_open2 (NETLINK_ROUTE, SOCK_CLOEXEC);
  if (!a->sock)
    a->errnum = errno;
  return NULL;
}

int
net_nl_open_netns (struct net_nl *nl, int netns_fd, struct err **err)
{
  struct ns_open a = { .netns_fd = netns_fd };
  pthread_t t;
  int r = pthread_create (&t, NULL, ns_open_thread, &a);
  if (r)
    return err_set (err, r, "start netns thread");
  pthread_join (t, NULL);
  if (!a.sock)
    return err_set (err, a.errnum,
                    "open netlink socket in the container's "
                    "network namespace");
  if (nl_bind (nl, a.sock) < 0)
    return err_set (err, errno, "bind netlink socket");
  return 0;
}

void
net_nl_close (struct net_nl *nl)
{
  if (nl->sock)
    mnl_socket_close (nl->sock);
  nl->sock = NULL;
}

/* Send one request and read replies until its ACK (or DONE for dumps).
 * Returns 0, or -1 with errno (the kernel's error for NLMSG_ERROR). */
static int
nl_talk (struct net_nl *nl, struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
  char buf[NL_BUF];
  uint32_t seq = ++nl->seq;
  int r;
  /* NLM_F_DUMP's bits mean EXCL/REPLACE on NEW requests: a dump is a GET
   * (rtnetlink types: GET = 2 mod 4) with both bits. */
  bool dump = (nlh->nlmsg_type & 3) == 2
              && (nlh->nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP;
  nlh->nlmsg_seq = seq;
  if (!dump)
    nlh->nlmsg_flags |= NLM_F_ACK;
  if (mnl_socket_sendto (nl->sock, nlh, nlh->nlmsg_len) < 0)
    return -1;
  for (;;)
    {
      ssize_t n = mnl_socket_recvfrom (nl->sock, buf, sizeof buf);
      if (n < 0)
        {
          if (errno == EINTR)
            continue;
          return -1;
        }
      r = mnl_cb_run (buf, (size_t)n, seq, nl->portid, cb, data);
      if (r <= MNL_CB_STOP)
        return r < 0 ? -1 : 0;
    }
}

static struct nlmsghdr *
put_link_msg (char *buf, uint16_t type, uint16_t flags, struct ifinfomsg **ifm)
{
  struct nlmsghdr *nlh = mnl_nlmsg_put_header (buf);
  nlh->nlmsg_type = type;
  nlh->nlmsg_flags = NLM_F_REQUEST | flags;
  *ifm = mnl_nlmsg_put_extra_header (nlh, sizeof **ifm);
  (*ifm)->ifi_family = AF_UNSPEC;
  return nlh;
}

struct link_query
{
  int index;
  int master;
  char name[IFNAMSIZ];
  int want_master; /* for dumps */
  char **names;
};

static int
link_attr_cb (const struct nlattr *attr, void *data)
{
  const struct nlattr **tb = data;
  int type = mnl_attr_get_type (attr);
  if (mnl_attr_type_valid (attr, IFLA_MAX) < 0)
    return MNL_CB_OK;
  tb[type] = attr;
  return MNL_CB_OK;
}

static int
link_cb (const struct nlmsghdr *nlh, void *data)
{
  struct link_query *q = data;
  const struct ifinfomsg *ifm = mnl_nlmsg_get_payload (nlh);
  const struct nlattr *tb[IFLA_MAX + 1] = { 0 };
  int master = 0;
  mnl_attr_parse (nlh, sizeof *ifm, link_attr_cb, tb);
  if (tb[IFLA_MASTER])
    master = (int)mnl_attr_get_u32 (tb[IFLA_MASTER]);
  if (q->want_master)
    {
      if (master == q->want_master && tb[IFLA_IFNAME])
        strv_push (&q->names, xstrdup (mnl_attr_get_str (tb[IFLA_IFNAME])));
      return MNL_CB_OK;
    }
  q->index = ifm->ifi_index;
  q->master = master;
  return MNL_CB_OK;
}

int
net_nl_link_index (struct net_nl *nl, const char *name, int *master_out,
                   struct err **err)
{
  char buf[NL_BUF];
  struct ifinfomsg *ifm;
  struct nlmsghdr *nlh = put_link_msg (buf, RTM_GETLINK, 0, &ifm);
  struct link_query q = { 0 };
  mnl_attr_put_strz (nlh, IFLA_IFNAME, name);
  if (nl_talk (nl, nlh, link_cb, &q) < 0)
    {
      if (errno == ENODEV)
        return 0;
      return err_set (err, errno, "look up link '%s'", name);
    }
  if (master_out)
    *master_out = q.master;
  return q.index;
}

int
net_nl_bridge_add (struct net_nl *nl, const char *name, const uint8_t mac[6],
                   struct err **err)
{
  char buf[NL_BUF];
  struct ifinfomsg *ifm;
  struct nlmsghdr *nlh
      = put_link_msg (buf, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, &ifm);
  struct nlattr *linkinfo;
  ifm->ifi_flags = IFF_UP;
  ifm->ifi_change = IFF_UP;
  mnl_attr_put_strz (nlh, IFLA_IFNAME, name);
  /* A MAC given at creation is never replaced by the ports' MACs: the
   * bridge keeps one address and neighbours' ARP caches stay right. */
  mnl_attr_put (nlh, IFLA_ADDRESS, 6, mac);
  linkinfo = mnl_attr_nest_start (nlh, IFLA_LINKINFO);
  mnl_attr_put_strz (nlh, IFLA_INFO_KIND, "bridge");
  mnl_attr_nest_end (nlh, linkinfo);
  if (nl_talk (nl, nlh, NULL, NULL) < 0)
    return err_set (err, errno, "create bridge '%s'", name);
  return 0;
}

int
net_nl_veth_add (struct net_nl *nl, const char *host_name, int master_index,
                 const char *peer_name, int peer_netns_fd, struct err **err)
{
  char buf[NL_BUF];
  struct ifinfomsg *ifm, *peer;
  struct nlmsghdr *nlh
      = put_link_msg (buf, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, &ifm);
  struct nlattr *linkinfo, *infodata, *peerinfo;
  ifm->ifi_flags = IFF_UP;
  ifm->ifi_change = IFF_UP;
  mnl_attr_put_strz (nlh, IFLA_IFNAME, host_name);
  mnl_attr_put_u32 (nlh, IFLA_MASTER, (uint32_t)master_index);
  linkinfo = mnl_attr_nest_start (nlh, IFLA_LINKINFO);
  mnl_attr_put_strz (nlh, IFLA_INFO_KIND, "veth");
  infodata = mnl_attr_nest_start (nlh, IFLA_INFO_DATA);
  peerinfo = mnl_attr_nest_start (nlh, VETH_INFO_PEER);
  peer = mnl_nlmsg_put_extra_header (nlh, sizeof *peer);
  peer->ifi_family = AF_UNSPEC;
  mnl_attr_put_strz (nlh, IFLA_IFNAME, peer_name);
  mnl_attr_put_u32 (nlh, IFLA_NET_NS_FD, (uint32_t)peer_netns_fd);
  mnl_attr_nest_end (nlh, peerinfo);
  mnl_attr_nest_end (nlh, infodata);
  mnl_attr_nest_end (nlh, linkinfo);
  if (nl_talk (nl, nlh, NULL, NULL) < 0)
    return err_set (err, errno, "create veth '%s'", host_name);
  return 0;
}

int
net_nl_link_del (struct net_nl *nl, const char *name, struct err **err)
{
  char buf[NL_BUF];
  struct ifinfomsg *ifm;
  struct nlmsghdr *nlh = put_link_msg (buf, RTM_DELLINK, 0, &ifm);
  mnl_attr_put_strz (nlh, IFLA_IFNAME, name);
  if (nl_talk (nl, nlh, NULL, NULL) < 0 && errno != ENODEV)
    return err_set (err, errno, "delete link '%s'", name);
  return 0;
}

int
net_nl_link_up (struct net_nl *nl, int ifindex, struct err **err)
{
  char buf[NL_BUF];
  struct ifinfomsg *ifm;
  struct nlmsghdr *nlh = put_link_msg (buf, RTM_NEWLINK, 0, &ifm);
  ifm->ifi_index = ifindex;
  ifm->ifi_flags = IFF_UP;
  ifm->ifi_change = IFF_UP;
  if (nl_talk (nl, nlh, NULL, NULL) < 0)
    return err_set (err, errno, "set link %d up", ifindex);
  return 0;
}

int
net_nl_addr_add (struct net_nl *nl, int ifindex, struct in_addr ip,
                 unsigned prefix, struct err **err)
{
  char buf[NL_BUF];
  struct nlmsghdr *nlh = mnl_nlmsg_put_header (buf);
  struct ifaddrmsg *ifa;
  struct in_addr brd = ip;
  nlh->nlmsg_type = RTM_NEWADDR;
  nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL;
  ifa = mnl_nlmsg_put_extra_header (nlh, sizeof *ifa);
  ifa->ifa_family = AF_INET;
  ifa->ifa_prefixlen = (unsigned char)prefix;
  ifa->ifa_scope = RT_SCOPE_UNIVERSE;
  ifa->ifa_index = (unsigned)ifindex;
  mnl_attr_put (nlh, IFA_LOCAL, sizeof ip, &ip);
  mnl_attr_put (nlh, IFA_ADDRESS, sizeof ip, &ip);
  if (prefix < 31)
    {
      brd.s_addr |= htonl (prefix ? (1u << (32 - prefix)) - 1 : ~0u);
      mnl_attr_put (nlh, IFA_BROADCAST, sizeof brd, &brd);
    }
  if (nl_talk (nl, nlh, NULL, NULL) < 0 && errno != EEXIST)
    return err_set (err, errno, "add address to link %d", ifindex);
  return 0;
}

int
net_nl_route_default (struct net_nl *nl, struct in_addr gw, int ifindex,
                      struct err **err)
{
  char buf[NL_BUF];
  struct nlmsghdr *nlh = mnl_nlmsg_put_header (buf);
  struct rtmsg *rtm;
  nlh->nlmsg_type = RTM_NEWROUTE;
  nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL;
  rtm = mnl_nlmsg_put_extra_header (nlh, sizeof *rtm);
  rtm->rtm_family = AF_INET;
  rtm->rtm_dst_len = 0;
  rtm->rtm_table = RT_TABLE_MAIN;
  rtm->rtm_protocol = RTPROT_BOOT;
  rtm->rtm_scope = RT_SCOPE_UNIVERSE;
  rtm->rtm_type = RTN_UNICAST;
  mnl_attr_put (nlh, RTA_GATEWAY, sizeof gw, &gw);
  mnl_attr_put_u32 (nlh, RTA_OIF, (uint32_t)ifindex);
  if (nl_talk (nl, nlh, NULL, NULL) < 0)
    return err_set (err, errno, "add default route");
  return 0;
}

int
net_nl_links_of (struct net_nl *nl, int master_index, char ***out,
                 struct err **err)
{
  char buf[NL_BUF];
  struct ifinfomsg *ifm;
  struct nlmsghdr *nlh = put_link_msg (buf, RTM_GETLINK, NLM_F_DUMP, &ifm);
  struct link_query q = { .want_master = master_index };
  q.names = xcalloc (1, sizeof *q.names);
  if (nl_talk (nl, nlh, link_cb, &q) < 0)
    {
      strv_free (q.names);
      return err_set (err, errno, "list links");
    }
  *out = q.names;
  return 0;
}
