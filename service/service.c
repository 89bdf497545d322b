/* The container service: records, transitions, the dead-monitor rule,
 * stop, kill and remove (service.h). The monitor itself is monitor.c. */
#include "service/service.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/log.h"
#include "lib/rundir.h"
#include "lib/xalloc.h"
#include "runtime/container.h"
#include "runtime/lifecycle.h"
#include "runtime/proc.h"
#include "service/service_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/file.h>
#include <sys/syscall.h>
#include <unistd.h>

/* docker's status for a container killed by SIGKILL */
#define EXIT_KILLED (128 + SIGKILL)

int
svc_open (struct svc *s, const char *root, const char *config_path,
          struct err **err)
{
  s->root = root;
  s->config_path = config_path;
  return rt_containers_open (&s->cs, root, err);
}

void
svc_close (struct svc *s)
{
  rt_containers_release (&s->cs);
}

void
svc_container_release (struct svc_container *c)
{
  if (c->net)
    {
      net_bridge_release (c->net);
      free (c->net);
    }
  svc_slirp_release (c);
  free (c->ports);
  rt_record_release (&c->rec);
  memset (c, 0, sizeof *c);
}

int
svc_make_net (struct svc *s, struct svc_container *c,
              const struct port_map *ports, size_t n_ports, struct err **err)
{
  struct net_request req = { .root = s->root,
                             .config_path = s->config_path,
                             .network = c->rec.plan.net_name,
                             .ports = ports,
                             .n_ports = n_ports };
  c->net = xcalloc (1, sizeof *c->net);
  if (net_bridge_init (c->net, &req, err) < 0)
    {
      free (steal_pointer (&c->net));
      return -1;
    }
  c->rec.plan.net = &c->net->base;
  return 0;
}

int
svc_create (struct svc *s, struct svc_container *c,
            const struct port_map *ports, size_t n_ports, struct err **err)
{
  int vlock;
  if (c->rec.plan.network == RT_NET_BRIDGE
      && svc_make_net (s, c, ports, n_ports, err) < 0)
    return err_exit (err, 125);
  if (n_ports && !c->rec.publish)
    c->rec.publish = svc_publish_specs (ports, n_ports);
  if (svc_slirp_make (c, ports, n_ports, err) < 0)
    return err_exit (err, 125);
  if ((vlock = svc_volumes_prepare (s, &c->rec.plan, err)) == -1)
    return err_exit (err, 125);
  if (rt_record_create (&s->cs, &c->rec, err) < 0)
    {
      if (vlock >= 0)
        close (vlock);
      svc_volumes_remove_anonymous (s, &c->rec.plan);
      return err_exit (err, 125);
    }
  if (vlock >= 0)
    close (vlock);
  return 0;
}

void
svc_net_detach (struct svc *s, struct svc_container *c)
{
  struct err *e = NULL;
  svc_slirp_release (c);
  if (c->rec.plan.network != RT_NET_BRIDGE)
    return;
  if (!c->net && svc_make_net (s, c, NULL, 0, &e) < 0)
    {
      log_warn ("%s", e->msg);
      err_free (e);
      return;
    }
  if (c->net->base.ops->detach (&c->net->base, c->rec.id, &e) < 0)
    log_warn ("%s", e->msg);
  err_free (e);
}

void
svc_started (struct svc *s, struct svc_container *c,
             const struct rt_container *ct)
{
  struct rt_record *rec = &c->rec;
  struct err *e = NULL;
  rec->state.status = RT_RUNNING;
  if (c->net && c->net->att.ip.s_addr)
    {
      char ip[INET_ADDRSTRLEN];
      const struct net_attachment *a = &c->net->att;
      rec->state.ip = xstrdup (inet_ntop (AF_INET, &a->ip, ip, sizeof ip));
      rec->state.ports = net_ports_text (a->ports, a->n_ports);
    }
  svc_slirp_started (c);
  rec->state.pid = ct->pid;
  rec->state.pid_start = rt_proc_start (ct->pid);
  rec->state.started = time (NULL);
  /* docker's SetRunning: the last run's outcome is gone */
  rec->state.exit_code = 0;
  rec->state.oom_killed = false;
  free (rec->state.error);
  rec->state.error = NULL;
  if (rt_record_save_state (&s->cs, rec, &e) < 0)
    {
      log_warn ("record the start of container %.12s: %s", rec->id, e->msg);
      err_clear (&e);
    }
}

/* The end of a run: exited, or restarting (as), recorded; its network
 * and cgroup given back. */
static void
record_end (struct svc *s, struct svc_container *c, enum rt_status as,
            int status, bool oom, const char *error)
{
  struct rt_record *rec = &c->rec;
  struct err *e = NULL;
  /* its address, rules and ports go back first: another container may be
   * waiting for them */
  svc_net_detach (s, c);
  free (rec->state.ip);
  free (rec->state.ports);
  rec->state.ip = rec->state.ports = NULL;
  rec->state.status = as;
  if (as == RT_RESTARTING)
    rec->state.restart_count++;
  rec->state.exit_code = status;
  rec->state.oom_killed = oom;
  rec->state.finished = time (NULL);
  free (rec->state.error);
  rec->state.error = error ? xstrdup (error) : NULL;
  /* written even when the record is removed next: `logs -f` wakes on
   * this replace (its open log keeps the directory's deletion silent) */
  if (rt_record_save_state (&s->cs, rec, &e) < 0)
    {
      log_warn ("record the exit of container %.12s: %s", rec->id, e->msg);
      err_clear (&e);
    }
  if (rt_cleanup (rec->id, rec->plan.cgroup_parent, &e) < 0)
    {
      log_warn ("clean up container %.12s: %s", rec->id, e->msg);
      err_clear (&e);
    }
}

void
svc_restarting (struct svc *s, struct svc_container *c, int status, bool oom)
{
  record_end (s, c, RT_RESTARTING, status, oom, NULL);
}

void
svc_finished (struct svc *s, struct svc_container *c, bool foreground,
              int status, bool oom, const char *error)
{
  struct rt_record *rec = &c->rec;
  struct err *e = NULL;
  record_end (s, c, RT_EXITED, status, oom, error);
  /* `restart` starts a --rm one again: docker keeps it */
  if (rec->auto_remove && svc_stop_request_get (s, rec->id) == SVC_STOP_RESTART)
    return;
  /* the foreground leaves the deletion of the files to a child of its
   * own, so that its exit status comes at once */
  if (rec->auto_remove && rt_record_remove (&s->cs, rec, foreground, &e) < 0)
    {
      log_warn ("%s", e->msg);
      err_clear (&e);
    }
  if (rec->auto_remove)
    svc_volumes_remove_anonymous (s, &rec->plan);
}

/* Kill what a pidfd names and wait until it is gone. */
static void
kill_and_wait (const struct rt_record *rec, int fd)
{
  struct pollfd p = { .fd = fd, .events = POLLIN };
  if (syscall (SYS_pidfd_send_signal, fd, SIGKILL, NULL, 0) < 0
      && errno == ESRCH)
    return;
  svc_thaw (rec); /* a frozen task dies only once thawed (v1) */
  while (poll (&p, 1, -1) < 0 && errno == EINTR)
    ;
}

/* The rule for a dead monitor (service.h): rec says running, and
 * nobody holds monitor.lock. */
static void
reconcile (struct svc *s, struct rt_record *rec)
{
  struct rt_record now;
  struct err *e = NULL;
  _cleanup_close_ int lock = rt_record_monitor_lock (&s->cs, rec->id, &e);
  int fd;
  err_clear (&e);
  if (lock < 0)
    return; /* watched: its monitor lives */
  /* under the lock, from the disk: its monitor may have just finished */
  if (rt_record_load (&s->cs, rec->id, &now, &e) < 0)
    {
      err_free (e);
      return;
    }
  /* the whole record from now on (rec may be a listing's summary) */
  rt_record_release (rec);
  *rec = now;
  if (rec->state.status != RT_RUNNING && rec->state.status != RT_RESTARTING)
    return;
  /* the container dies with its monitor, even one whose init escaped
   * the parent-death signal (a set-user-ID exec clears it) */
  fd = rt_record_pidfd (rec);
  if (fd >= 0)
    {
      kill_and_wait (rec, fd);
      close (fd);
    }
  /* its network, and what else died unwatched with it: a sweep, which
   * also finds a veth whose netns something else keeps alive (rare: only
   * here, never at a start) */
  if (rec->plan.network == RT_NET_BRIDGE)
    svc_net_gc (s);
  free (rec->state.ip);
  free (rec->state.ports);
  free (rec->state.error);
  rec->state.ip = rec->state.ports = NULL;
  /* one waiting to restart keeps the exit it had */
  if (rec->state.status == RT_RUNNING)
    {
      rec->state.exit_code = EXIT_KILLED;
      rec->state.finished = time (NULL);
    }
  rec->state.status = RT_EXITED;
  rec->state.error = xstrdup (SVC_MONITOR_KILLED);
  if (rt_record_save_state (&s->cs, rec, &e) < 0)
    err_clear (&e); /* a read-only view is still right */
  if (rt_cleanup (rec->id, rec->plan.cgroup_parent, &e) < 0)
    err_clear (&e);
  /* here a restart policy will be applied */
}

/* A record loaded by load, then the rule for a dead monitor. */
static int
load_with (struct svc *s,
           int (*load) (struct rt_containers *, const char *,
                        struct rt_record *, struct err **),
           const char *id, struct rt_record *rec, struct err **err)
{
  if (load (&s->cs, id, rec, err) < 0)
    return -1;
  if (rec->state.status == RT_RUNNING || rec->state.status == RT_RESTARTING)
    reconcile (s, rec);
  if (rec->state.status == RT_RUNNING)
    rec->state.paused = svc_frozen (rec) == 1;
  return 0;
}

int
svc_load_id (struct svc *s, const char *id, struct rt_record *rec,
             struct err **err)
{
  return load_with (s, rt_record_load, id, rec, err);
}

int
svc_load_summary (struct svc *s, const char *id, struct rt_record *rec,
                  struct err **err)
{
  return load_with (s, rt_record_load_summary, id, rec, err);
}

int
svc_load (struct svc *s, const char *key, struct svc_container *c,
          struct err **err)
{
  _cleanup_free_ char *id = NULL;
  memset (c, 0, sizeof *c);
  if (rt_record_lookup (&s->cs, key, &id, err) < 0)
    return -1;
  return svc_load_id (s, id, &c->rec, err);
}

void
svc_wait_monitor (struct svc *s, const char *id)
{
  _cleanup_free_ char *path = xasprintf ("%s/monitor.lock", id);
  struct err *e = NULL;
  _cleanup_close_ int fd
      = rundir_open (s->cs.fd, path, O_RDWR | O_CLOEXEC | O_NOFOLLOW, 0, &e);
  err_free (e);
  if (fd < 0)
    return;
  while (flock (fd, LOCK_EX) < 0 && errno == EINTR)
    ;
}

/* Reload c from the disk (after a stop request: the monitor may have
 * started it again meanwhile). */
static int
reload (struct svc *s, struct svc_container *c, struct err **err)
{
  struct rt_record now;
  if (svc_load_id (s, c->rec.id, &now, err) < 0)
    return -1;
  rt_record_release (&c->rec);
  c->rec = now;
  return 0;
}

/* After the container's process is gone: wait for its monitor to record
 * the exit, and apply the dead-monitor rule if it never will. */
static void
settle (struct svc *s, struct svc_container *c)
{
  struct err *e = NULL;
  svc_wait_monitor (s, c->rec.id);
  if (reload (s, c, &e) < 0)
    err_free (e); /* removed meanwhile (--rm) */
}

static bool
active (const struct rt_record *rec)
{
  return rec->state.status == RT_RUNNING || rec->state.status == RT_RESTARTING;
}

int
svc_kill (struct svc *s, struct svc_container *c, int sig, struct err **err)
{
  struct rt_record *rec = &c->rec;
  _cleanup_close_ int fd = -1;
  enum svc_stop_request req = SVC_STOP_CANCEL;
  struct err *e = NULL;
  int stop_sig;
  if (!active (rec))
    return err_set (err, 0, "container '%s' is not running", rec->name);
  /* docker: with a StopSignal of its own, another signal than it (or
   * SIGKILL) leaves the restart policy on */
  if (rec->plan.stop_signal && sig != SIGKILL
      && rt_signal_parse (rec->plan.stop_signal, &stop_sig, &e) == 0
      && stop_sig != sig)
    req = SVC_STOP_SIGNAL;
  err_free (e);
  svc_stop_request_set (s, rec->id, req);
  if (reload (s, c, err) < 0)
    return -1;
  if (rec->state.status == RT_RESTARTING)
    return 0; /* its monitor saw the request: no signal to send */
  fd = rt_record_pidfd (rec);
  if (fd < 0)
    return 0; /* it ended meanwhile */
  if (syscall (SYS_pidfd_send_signal, fd, sig, NULL, 0) < 0)
    return err_set (err, errno, "signal container '%s'", rec->name);
  if (rec->state.paused) /* docker: unpaused after the signal */
    svc_thaw (rec);
  return 0;
}

/* stop, with the request the monitor reads at the exit */
static int
stop_as (struct svc *s, struct svc_container *c, int timeout,
         enum svc_stop_request req, struct err **err)
{
  const struct rt_record *rec = &c->rec;
  _cleanup_close_ int fd = -1;
  struct pollfd p;
  struct err *e = NULL;
  int sig = SIGTERM, r;
  if (!active (rec))
    return 0;
  svc_stop_request_set (s, rec->id, req);
  if (reload (s, c, err) < 0)
    return -1;
  fd = rt_record_pidfd (rec);
  if (fd < 0)
    {
      settle (s, c); /* restarting: its monitor gives up now */
      return 0;
    }
  if (rec->plan.stop_signal
      && rt_signal_parse (rec->plan.stop_signal, &sig, &e) < 0)
    sig = SIGTERM, err_free (e);
  if (timeout < 0)
    timeout = rec->stop_timeout >= 0 ? rec->stop_timeout : 10;
  if (syscall (SYS_pidfd_send_signal, fd, sig, NULL, 0) < 0 && errno != ESRCH)
    return err_set (err, errno, "signal container '%s'", rec->name);
  if (rec->state.paused)
    svc_thaw (rec);
  p = (struct pollfd){ .fd = fd, .events = POLLIN };
  do
    r = poll (&p, 1, timeout * 1000);
  while (r < 0 && errno == EINTR);
  if (r == 0)
    kill_and_wait (rec, fd);
  settle (s, c);
  return 0;
}

int
svc_stop (struct svc *s, struct svc_container *c, int timeout, struct err **err)
{
  return stop_as (s, c, timeout, SVC_STOP_CANCEL, err);
}

int
svc_restart (struct svc *s, struct svc_container *c, int timeout,
             struct err **err)
{
  if (stop_as (s, c, timeout, SVC_STOP_RESTART, err) < 0)
    return -1;
  if (c->rec.state.status == RT_RUNNING)
    return 0; /* someone else started it meanwhile */
  return svc_start (s, c, false, false, err);
}

int
svc_remove (struct svc *s, struct svc_container *c, bool force,
            struct err **err)
{
  struct rt_record *rec = &c->rec;
  if (active (rec))
    {
      _cleanup_close_ int fd = -1;
      if (!force)
        return err_set (err, 0,
                        rec->state.status == RT_RUNNING
                            ? "container is running: stop the container "
                              "before removing or force remove"
                            : "container is restarting: stop the container "
                              "before removing or force remove");
      /* no policy starts it again under rm's feet */
      svc_stop_request_set (s, rec->id, SVC_STOP_CANCEL);
      if (reload (s, c, err) < 0)
        return -1;
      fd = rt_record_pidfd (rec);
      if (fd >= 0)
        kill_and_wait (rec, fd);
    }
  else if (rec->auto_remove)
    {
      /* a --rm one removes itself meanwhile (docker: no such one) */
      svc_wait_monitor (s, rec->id);
      if (faccessat (s->cs.fd, rec->id, F_OK, AT_SYMLINK_NOFOLLOW) < 0)
        return err_set (err, 0, "no such container");
    }
  /* a foreground run may still be writing the exit: wait for it */
  settle (s, c);
  if (rt_cleanup (rec->id, rec->plan.cgroup_parent, err) < 0
      || svc_remove_files (s, rec, err) < 0)
    return -1;
  return rt_record_remove (&s->cs, rec, false, err);
}

void
svc_net_gc (struct svc *s)
{
  struct err *e = NULL;
  if (net_gc (s->root, &e) < 0)
    log_debug ("%s", e->msg);
  err_free (e);
}
