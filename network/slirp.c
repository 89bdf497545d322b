/* Rootless networking with libslirp (network/slirp.h). */
#include "network/slirp.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "runtime/etcfiles.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <net/route.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <slirp/libslirp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/pidfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* slirp4netns's defaults (slirp4netns main.c DEFAULT_*); the MTU is
 * podman's, which moves bulk data with fewer frames */
#define NET_CIDR "10.0.2.0"
#define NET_MASK "255.255.255.0"
#define NET_GATEWAY "10.0.2.2"
#define NET_DNS "10.0.2.3"
#define NET_DHCP "10.0.2.15"
#define NET_MTU 65520
#define TAP_NAME "tap0"

static struct in_addr
ip4 (const char *s)
{
  struct in_addr a;
  inet_pton (AF_INET, s, &a);
  return a;
}

/* ---- the tap, made in the container's netns ------------------------- */

struct tap_req
{
  int netns;
  int fd;
  int errnum;
  const char *what;
};

static int
set_addr (int s, unsigned long req, const char *ip)
{
  struct ifreq ifr;
  struct sockaddr_in *sin = (struct sockaddr_in *)&ifr.ifr_addr;
  memset (&ifr, 0, sizeof ifr);
  strcpy (ifr.ifr_name, TAP_NAME);
  sin->sin_family = AF_INET;
  sin->sin_addr = ip4 (ip);
  return ioctl (s, req, &ifr);
}

static int
configure (struct tap_req *r)
{
  _cleanup_close_ int s = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  struct ifreq ifr;
  struct rtentry rt;
  memset (&ifr, 0, sizeof ifr);
  strcpy (ifr.ifr_name, TAP_NAME);
  ifr.ifr_mtu = NET_MTU;
  if (s < 0 || ioctl (s, SIOCSIFMTU, &ifr) < 0)
    return r->what = "set the mtu of '" TAP_NAME "'", -1;
  if (set_addr (s, SIOCSIFADDR, NET_SLIRP_GUEST) < 0
      || set_addr (s, SIOCSIFNETMASK, NET_MASK) < 0)
    return r->what = "set the address of '" TAP_NAME "'", -1;
  memset (&ifr, 0, sizeof ifr);
  strcpy (ifr.ifr_name, TAP_NAME);
  ifr.ifr_flags = IFF_UP | IFF_RUNNING;
  if (ioctl (s, SIOCSIFFLAGS, &ifr) < 0)
    return r->what = "bring '" TAP_NAME "' up", -1;
  memset (&rt, 0, sizeof rt);
  ((struct sockaddr_in *)&rt.rt_dst)->sin_family = AF_INET;
  ((struct sockaddr_in *)&rt.rt_genmask)->sin_family = AF_INET;
  ((struct sockaddr_in *)&rt.rt_gateway)->sin_family = AF_INET;
  ((struct sockaddr_in *)&rt.rt_gateway)->sin_addr = ip4 (NET_GATEWAY);
  rt.rt_flags = RTF_UP | RTF_GATEWAY;
  rt.rt_dev = (char *)TAP_NAME;
  if (ioctl (s, SIOCADDRT, &rt) < 0)
    return r->what = "add the default route", -1;
  return 0;
}

/* Its own thread: setns() moves only this thread into the netns. */
static void *
tap_thread (void *arg)
{
  struct tap_req *r = arg;
  struct ifreq ifr;
  int fd;
  r->what = "join the container's network namespace";
  if (setns (r->netns, CLONE_NEWNET) < 0)
    goto fail;
  r->what = "open '/dev/net/tun'";
  fd = open ("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0)
    goto fail;
  memset (&ifr, 0, sizeof ifr);
  strcpy (ifr.ifr_name, TAP_NAME);
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
  r->what = "create '" TAP_NAME "'";
  if (ioctl (fd, TUNSETIFF, &ifr) < 0 || configure (r) < 0)
    {
      r->errnum = errno;
      close (fd);
      return NULL;
    }
  r->fd = fd;
  return NULL;
fail:
  r->errnum = errno;
  return NULL;
}

static int
make_tap (pid_t pid, struct err **err)
{
  struct tap_req r = { .fd = -1 };
  pthread_t t;
  int e;
  /* a pidfd, not /proc/PID/ns/net: the child is not dumpable yet, and
   * its memory belongs to the initial user namespace, so ptrace's rule
   * would refuse us the /proc file */
  r.netns = pidfd_open (pid, 0);
  if (r.netns < 0)
    return err_set (err, errno, "pidfd_open %d", (int)pid);
  e = pthread_create (&t, NULL, tap_thread, &r);
  if (e == 0)
    pthread_join (t, NULL);
  close (r.netns);
  if (e)
    return err_set (err, e, "start a thread");
  if (r.fd >= 0)
    return r.fd;
  if (r.errnum == EACCES && !strcmp (r.what, "open '/dev/net/tun'"))
    return err_set (err, 0,
                    "open '/dev/net/tun': permission denied (rootless "
                    "networking needs it: as root, chmod 0666 /dev/net/tun; "
                    "or use --network none)");
  return err_set (err, r.errnum, "%s", r.what);
}

/* ---- the loop ------------------------------------------------------- */

struct timer
{
  struct timer *next;
  SlirpTimerCb cb;
  void *cb_opaque;
  int64_t expire_ms; /* -1: not armed */
};

struct net_slirp_loop
{
  Slirp *slirp;
  int tap, stop;
  pthread_t thread;
  struct pollfd *pfd;
  size_t npfd, apfd;
  struct timer *timers;
};

static int64_t
now_ns (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static ssize_t
cb_send (const void *buf, size_t len, void *opaque)
{
  struct net_slirp_loop *l = opaque;
  /* a full tap drops the frame: TCP retransmits, as on a wire */
  return write (l->tap, buf, len) < 0 && errno != EAGAIN ? -1 : (ssize_t)len;
}

static void
cb_guest_error (const char *msg, void *opaque)
{
  (void)opaque;
  log_debug ("slirp: %s", msg);
}

static int64_t
cb_clock (void *opaque)
{
  (void)opaque;
  return now_ns ();
}

static void *
cb_timer_new (SlirpTimerCb cb, void *cb_opaque, void *opaque)
{
  struct net_slirp_loop *l = opaque;
  struct timer *t = xcalloc (1, sizeof *t);
  t->cb = cb;
  t->cb_opaque = cb_opaque;
  t->expire_ms = -1;
  t->next = l->timers;
  l->timers = t;
  return t;
}

static void
cb_timer_free (void *timer, void *opaque)
{
  struct net_slirp_loop *l = opaque;
  for (struct timer **p = &l->timers; *p; p = &(*p)->next)
    if (*p == timer)
      {
        *p = (*p)->next;
        free (timer);
        return;
      }
}

static void
cb_timer_mod (void *timer, int64_t expire_ms, void *opaque)
{
  (void)opaque;
  ((struct timer *)timer)->expire_ms = expire_ms;
}

static void
cb_nothing (int fd, void *opaque)
{
  (void)fd;
  (void)opaque;
}

static void
cb_notify (void *opaque)
{
  (void)opaque;
}

static const SlirpCb callbacks = {
  .send_packet = cb_send,
  .guest_error = cb_guest_error,
  .clock_get_ns = cb_clock,
  .timer_new = cb_timer_new,
  .timer_free = cb_timer_free,
  .timer_mod = cb_timer_mod,
  .register_poll_fd = cb_nothing,
  .unregister_poll_fd = cb_nothing,
  .notify = cb_notify,
};

static int
add_poll (int fd, int events, void *opaque)
{
  struct net_slirp_loop *l = opaque;
  short ev = 0;
  ev |= events & SLIRP_POLL_IN ? POLLIN : 0;
  ev |= events & SLIRP_POLL_OUT ? POLLOUT : 0;
  ev |= events & SLIRP_POLL_PRI ? POLLPRI : 0;
  l->pfd = xgrow (l->pfd, &l->apfd, l->npfd + 1, sizeof *l->pfd);
  l->pfd[l->npfd] = (struct pollfd){ .fd = fd, .events = ev };
  return (int)l->npfd++;
}

static int
get_revents (int idx, void *opaque)
{
  struct net_slirp_loop *l = opaque;
  short re = l->pfd[idx].revents;
  int ev = 0;
  ev |= re & POLLIN ? SLIRP_POLL_IN : 0;
  ev |= re & POLLOUT ? SLIRP_POLL_OUT : 0;
  ev |= re & POLLPRI ? SLIRP_POLL_PRI : 0;
  ev |= re & POLLERR ? SLIRP_POLL_ERR : 0;
  ev |= re & POLLHUP ? SLIRP_POLL_HUP : 0;
  return ev;
}

/* Fire the timers that are due; a callback may re-arm or free timers, so
 * the walk starts over after each. */
static void
run_timers (struct net_slirp_loop *l)
{
  int64_t now = now_ns () / 1000000;
  for (bool again = true; again;)
    {
      again = false;
      for (struct timer *t = l->timers; t; t = t->next)
        if (t->expire_ms >= 0 && t->expire_ms <= now)
          {
            t->expire_ms = -1;
            t->cb (t->cb_opaque);
            again = true;
            break;
          }
    }
}

static void *
loop_thread (void *arg)
{
  struct net_slirp_loop *l = arg;
  static uint8_t frame[NET_MTU + 64];
  bool tap_ok = true;
  for (;;)
    {
      uint32_t timeout = UINT32_MAX;
      int64_t now = now_ns () / 1000000;
      int r;
      l->npfd = 0;
      add_poll (l->stop, SLIRP_POLL_IN, l);
      add_poll (tap_ok ? l->tap : -1, SLIRP_POLL_IN, l);
      slirp_pollfds_fill (l->slirp, &timeout, add_poll, l);
      for (struct timer *t = l->timers; t; t = t->next)
        if (t->expire_ms >= 0)
          timeout = t->expire_ms <= now ? 0
                    : (uint32_t)(t->expire_ms - now) < timeout
                        ? (uint32_t)(t->expire_ms - now)
                        : timeout;
      r = poll (l->pfd, l->npfd, timeout == UINT32_MAX ? -1 : (int)timeout);
      if (r > 0 && l->pfd[0].revents)
        break;
      if (r > 0 && (l->pfd[1].revents & (POLLERR | POLLHUP | POLLNVAL)))
        tap_ok = false; /* the container's netns is gone */
      else if (r > 0 && (l->pfd[1].revents & POLLIN))
        for (int i = 0; i < 64; i++)
          {
            ssize_t n = read (l->tap, frame, sizeof frame);
            if (n <= 0)
              {
                if (n == 0 || (errno != EAGAIN && errno != EINTR))
                  tap_ok = false;
                break;
              }
            slirp_input (l->slirp, frame, (int)n);
          }
      slirp_pollfds_poll (l->slirp, r < 0, get_revents, l);
      run_timers (l);
    }
  return NULL;
}

/* ---- ports ---------------------------------------------------------- */

static long
unprivileged_port_start (void)
{
  _cleanup_free_ char *buf = NULL;
  struct err *e = NULL;
  if (fs_read_file (AT_FDCWD, "/proc/sys/net/ipv4/ip_unprivileged_port_start",
                    64, &buf, NULL, &e)
      < 0)
    {
      err_free (e);
      return 1024;
    }
  return strtol (buf, NULL, 10);
}

/* ---- the network object --------------------------------------------- */

static void
loop_free (struct net_slirp_loop *l)
{
  if (l->slirp)
    slirp_cleanup (l->slirp);
  while (l->timers)
    cb_timer_free (l->timers, l);
  if (l->tap >= 0)
    close (l->tap);
  if (l->stop >= 0)
    close (l->stop);
  free (l->pfd);
  free (l);
}

static int
slirp_attach (struct rt_net *base, const struct rt_plan *p, pid_t pid,
              struct err **err)
{
  struct net_slirp *n = (struct net_slirp *)base;
  struct net_slirp_loop *l = xcalloc (1, sizeof *l);
  SlirpConfig cfg;
  int e;
  l->tap = -1;
  l->stop = eventfd (0, EFD_CLOEXEC);
  if (l->stop < 0)
    {
      err_set (err, errno, "eventfd");
      goto fail;
    }
  if ((l->tap = make_tap (pid, err)) < 0)
    goto fail;
  memset (&cfg, 0, sizeof cfg);
  cfg.version = 1;
  cfg.in_enabled = true;
  cfg.vnetwork = ip4 (NET_CIDR);
  cfg.vnetmask = ip4 (NET_MASK);
  cfg.vhost = ip4 (NET_GATEWAY);
  cfg.vdhcp_start = ip4 (NET_DHCP);
  cfg.vnameserver = ip4 (NET_DNS);
  cfg.if_mtu = cfg.if_mru = NET_MTU;
  /* why: as podman's allow_host_loopback=false, the host's loopback
   * services are not the container's to reach through 10.0.2.2 */
  cfg.disable_host_loopback = !n->host_loopback;
  l->slirp = slirp_new (&cfg, &callbacks, l);
  if (!l->slirp)
    {
      err_set (err, 0, "start libslirp");
      goto fail;
    }
  for (size_t i = 0; i < n->n_ports; i++)
    {
      struct port_map *m = &n->ports[i];
      /* a clear error now, not slirp's -1; a free port for -P */
      if (net_check_host_port (m, err) < 0)
        goto fail;
      if (slirp_add_hostfwd (l->slirp, m->proto == NET_UDP, m->host_ip,
                             m->host_port, ip4 (NET_SLIRP_GUEST),
                             m->container_port)
          < 0)
        {
          err_set (err, errno, "forward host port %u", (unsigned)m->host_port);
          goto fail;
        }
    }
  if (p->state_dir)
    {
      _cleanup_free_ char *resolv = xasprintf ("%s/resolv.conf", p->state_dir);
      /* in place: the child may have bind-mounted it (plan.h) */
      if (rt_write_in_place (resolv, "nameserver " NET_DNS "\n", err) < 0)
        goto fail;
    }
  if ((e = pthread_create (&l->thread, NULL, loop_thread, l)) != 0)
    {
      err_set (err, e, "start the slirp thread");
      goto fail;
    }
  n->loop = l;
  return 0;
fail:
  loop_free (l);
  return err_wrap (err, "network 'slirp4netns'");
}

static int
slirp_detach (struct rt_net *base, const char *container_id, struct err **err)
{
  struct net_slirp *n = (struct net_slirp *)base;
  struct net_slirp_loop *l = n->loop;
  uint64_t one = 1;
  (void)container_id;
  (void)err;
  if (!l)
    return 0;
  n->loop = NULL;
  if (write (l->stop, &one, sizeof one) == sizeof one)
    pthread_join (l->thread, NULL);
  loop_free (l);
  return 0;
}

static const struct rt_net_ops slirp_ops = { slirp_attach, slirp_detach };

int
net_slirp_parse (const char *spec, enum rt_network_mode *mode, struct err **err)
{
  static const char word[] = "slirp4netns";
  const char *opts = spec + sizeof word - 1;
  bool loopback = false;
  if (strncmp (spec, word, sizeof word - 1) || (*opts && *opts != ':'))
    return 0;
  if (*opts)
    {
      _cleanup_free_ char *copy = xstrdup (opts + 1);
      char *save = NULL;
      for (char *o = strtok_r (copy, ",", &save); o;
           o = strtok_r (NULL, ",", &save))
        if (!strcmp (o, "allow_host_loopback=true"))
          loopback = true;
        else if (!strcmp (o, "allow_host_loopback=false"))
          loopback = false;
        else
          return err_set (err, 0,
                          "invalid --network '%s': unknown slirp4netns "
                          "option '%s'",
                          spec, o);
    }
  *mode = loopback ? RT_NET_SLIRP_LOOPBACK : RT_NET_SLIRP;
  return 1;
}

int
net_slirp_init (struct net_slirp *n, const struct port_map *ports,
                size_t n_ports, bool host_loopback, struct err **err)
{
  long start = unprivileged_port_start ();
  memset (n, 0, sizeof *n);
  for (size_t i = 0; i < n_ports; i++)
    if (ports[i].host_port && ports[i].host_port < start)
      return err_set (err, 0,
                      "publish port %u: ports below %ld need root "
                      "(net.ipv4.ip_unprivileged_port_start = %ld): use a "
                      "higher port, or as root lower it with sysctl",
                      (unsigned)ports[i].host_port, start, start);
  n->base.ops = &slirp_ops;
  n->host_loopback = host_loopback;
  n->n_ports = n_ports;
  n->ports = xcalloc (n_ports ? n_ports : 1, sizeof *ports);
  if (n_ports)
    memcpy (n->ports, ports, n_ports * sizeof *ports);
  return 0;
}

void
net_slirp_release (struct net_slirp *n)
{
  struct err *e = NULL;
  slirp_detach (&n->base, NULL, &e);
  err_free (e);
  free (n->ports);
  memset (n, 0, sizeof *n);
}
