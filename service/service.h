/* The container service: the one home of a container's life (DESIGN.md).
 * Commands and the builder call it; nothing else changes a container's
 * state.
 *
 *   svc_create      ─► created   record on disk (runtime/state.h), name
 *                                reserved, network object made
 *   svc_start       ─► running   in the foreground (the caller is the
 *                                monitor) or detached (a monitor process
 *                                stays beside it: monitor.c)
 *   svc_start       ─► running   a created or exited one again, its own
 *                                writable layer kept (start.c)
 *   svc_pause       ─► paused    its cgroup frozen (freeze.c); the freezer
 *                                is the truth, read when the record loads
 *   (its exit)      ─► restarting when its restart policy says so: the
 *                                monitor waits docker's backoff and starts
 *                                it again (restart.c)
 *   (its exit)      ─► exited    recorded by its monitor, network detached,
 *                                cgroup removed; --rm goes on to removed
 *   svc_stop/svc_kill            signals, each container its own grace
 *   svc_remove      ─► removed   the record and its files gone
 *
 * The monitor holds <id>/monitor.lock for the container's whole life. The
 * container's init dies with its monitor (PR_SET_PDEATHSIG, set by the
 * runtime core before the init can run anything), so one rule covers a
 * monitor killed at any point: the next command that loads the record
 * (svc_load) finds "running" with nobody holding the lock, kills what may
 * be left, and records Exited (137) with an Error saying the monitor was
 * killed; its network and cgroup go back then. No restart policy is
 * applied then (as none is when docker's daemon dies): `start --all
 * --filter restart-policy=always`, the boot hook, brings such containers
 * back. Everything here is safe to run from several
 * processes at once: the lock and the record store's atomic writes
 * decide. */
#ifndef IMGTOOL_SERVICE_H
#define IMGTOOL_SERVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "network/net.h"
#include "runtime/state.h"

struct err;
struct net_slirp;
struct rt_stdio;

/* What the service needs of the store. */
struct svc
{
  const char *root;        /* the store root */
  const char *config_path; /* imgtool's config file (networks), or NULL */
  struct rt_containers cs;
};

int svc_open (struct svc *s, const char *root, const char *config_path,
              struct err **err);
void svc_close (struct svc *s);

/* One container: its record and, on a bridge network, its network
 * object (which the plan points to while it runs). */
struct svc_container
{
  struct rt_record rec;
  struct net_bridge *net;  /* NULL without --network bridge */
  struct net_slirp *slirp; /* rootless: NULL without slirp4netns */
  struct port_map *ports;  /* the record's -p, for a start (owned) */
};
void svc_container_release (struct svc_container *c);

/* created: c->rec is filled by the caller (plan, image, command, flags);
 * with --network bridge, ports are published (borrowed until the
 * container is released) and kept in the record for its next starts.
 * Reserves the name and writes the record. */
int svc_create (struct svc *s, struct svc_container *c,
                const struct port_map *ports, size_t n_ports, struct err **err);

/* running, in the foreground: the caller's process is the monitor. The
 * stdio is passed through (or a pty pumped with -t); returns the
 * container's status (docker's), or -1 with *err when it could not
 * start. The exit is recorded before this returns. */
int svc_run_foreground (struct svc *s, struct svc_container *c,
                        bool interactive, struct err **err);

/* running, detached: a monitor process (its own session) starts the
 * container, logs its output to <id>/container.log, records its exit.
 * Returns once the container runs (0) or failed to start (-1, *err has
 * the monitor's reason and exit status). */
int svc_run_detached (struct svc *s, struct svc_container *c, struct err **err);

/* Load the container named by key (id, name, unique prefix), applying
 * the rule for a dead monitor (above). */
int svc_load (struct svc *s, const char *key, struct svc_container *c,
              struct err **err);
/* The same by id, for lists (ps). */
int svc_load_id (struct svc *s, const char *id, struct rt_record *rec,
                 struct err **err);
/* The same from the record's summary (rt_record_load_summary), for ps;
 * a record the rule applies to is then loaded in full. */
int svc_load_summary (struct svc *s, const char *id, struct rt_record *rec,
                      struct err **err);

/* docker stop: the stop signal (the image's StopSignal, else SIGTERM),
 * SIGKILL after timeout seconds (-1: the container's own, else 10), then
 * wait until its exit is recorded. Not running is fine. */
int svc_stop (struct svc *s, struct svc_container *c, int timeout,
              struct err **err);
/* docker kill: sig to the container's init ("container 'x' is not
 * running" when it does not run). */
int svc_kill (struct svc *s, struct svc_container *c, int sig,
              struct err **err);
/* docker rm [-f]: removed (-f kills a running one first). */
int svc_remove (struct svc *s, struct svc_container *c, bool force,
                struct err **err);

/* rm -v, run --rm: remove the anonymous volumes of p (a removed
 * container's plan) that no other container uses; named ones stay
 * (service/volumes.c). Failures are warnings. */
void svc_volumes_remove_anonymous (struct svc *s, const struct rt_plan *p);

/* Block until nobody holds the container's monitor.lock (its exit has
 * been recorded, and with --rm the container removed). */
void svc_wait_monitor (struct svc *s, const char *id);

/* Run fn on each named container at once (stop, kill, rm of many: each
 * its own grace period, all in parallel), each with its own svc and
 * loaded container. errs[i] is set for each name that failed (NULL
 * otherwise); returns how many failed. */
typedef int (*svc_fn) (struct svc *s, struct svc_container *c, void *data,
                       struct err **err);
size_t svc_each (const char *root, const char *config_path, char **names,
                 svc_fn fn, void *data, struct err **errs);
/* Run fn on every container's record in turn (counts, lists: info,
 * system df, prune's choice), each loaded as ps loads it (a dead
 * monitor applied); one that cannot be loaded is skipped. -1 with *err
 * when the store cannot be opened or listed. */
typedef void (*svc_record_fn) (struct svc *s, const struct rt_record *rec,
                               void *data);
int svc_each_record (const char *root, const char *config_path,
                     svc_record_fn fn, void *data, struct err **err);

/* A container without a record: a build's RUN step. Starts p (its
 * network, when p->network is RT_NET_BRIDGE, attached through the same
 * network object as a container's, its state dir standing for the
 * record in network/'s test of life), waits, and gives the network back.
 * A byte on cancel_fd (>= 0) kills it (build interrupted). */
int svc_run_step (struct svc *s, struct rt_plan *p, const struct rt_stdio *io,
                  int cancel_fd, int *status, struct err **err);

/* Reclaim the network leftovers (address, host ports, rules, veth) of
 * containers that died unwatched, quietly (a failure only leaves them
 * for the next command). */
void svc_net_gc (struct svc *s);

/* Freeze a running container's processes (the cgroup freezer, freeze.c)
 * until svc_unfreeze: commit's --pause. Returns 1 when it froze them, 0 when
 * there was nothing to do (not running, or frozen already: a paused
 * container stays paused and must not be thawed after), -1 with *err.
 * The record is not changed. */
int svc_freeze (struct svc *s, struct svc_container *c, struct err **err);
int svc_unfreeze (struct svc *s, struct svc_container *c, struct err **err);
/* A container's root file system for cp (files.c): a running one's own
 * (/proc/<pid>/root: its overlay and volumes as its processes see them);
 * for one that does not run, its overlay and bind mounts mounted in a
 * private mount namespace this process enters for good, its monitor.lock
 * held meanwhile so that it does not start. */
struct svc_files
{
  int root;      /* the root directory */
  int lock;      /* monitor.lock, or -1 */
  char *mounted; /* where a stopped one's overlay is, or NULL */
  bool running;
};
int svc_files_open (struct svc *s, struct svc_container *c, struct svc_files *f,
                    struct err **err);
void svc_files_close (struct svc_files *f);

/* "Up 3 minutes", "Exited (0) 2 seconds ago", "Created" (docker ps). */
void svc_status_text (const struct rt_record *rec, time_t now, char *buf,
                      size_t len);

/* ------------------------------------------------ restart policies */

enum svc_restart_kind
{
  SVC_RESTART_NO,
  SVC_RESTART_ALWAYS,
  SVC_RESTART_UNLESS_STOPPED,
  SVC_RESTART_ON_FAILURE,
};
struct svc_restart_policy
{
  enum svc_restart_kind kind;
  int max; /* on-failure:N; 0 = no maximum */
};
/* "no", "always", "unless-stopped", "on-failure[:N]", with docker's
 * errors ("invalid restart policy: ..."). */
int svc_restart_parse (const char *spec, struct svc_restart_policy *out,
                       struct err **err);
/* A record's policy (no when it has none). */
void svc_restart_of (const struct rt_record *rec,
                     struct svc_restart_policy *out);
const char *svc_restart_name (enum svc_restart_kind k);
/* docker's ShouldRestart: on an exit with exit_code, after restart_count
 * restarts; manually_stopped: a stop or kill the user asked for. */
bool svc_restart_should (const struct svc_restart_policy *p, int exit_code,
                         int restart_count, bool manually_stopped);
/* docker's backoff: the delay (ms) before the next restart, from the
 * last delay (0 before the first) and how long the run lasted. */
int64_t svc_restart_delay (int64_t last_ms, int64_t ran_ms);

/* What the user asked of a container's monitor, kept in <id>/stopped
 * until the next manual start (docker's HasBeenManuallyStopped and
 * ExitOnNext): SIGNAL a kill that keeps the policy (a custom StopSignal,
 * and another signal than it or SIGKILL), CANCEL stop or kill (no
 * restart), RESTART `restart` (no restart by the policy, no --rm
 * removal: the command starts it again). */
enum svc_stop_request
{
  SVC_STOP_NONE,
  SVC_STOP_SIGNAL,
  SVC_STOP_CANCEL,
  SVC_STOP_RESTART,
};
void svc_stop_request_set (struct svc *s, const char *id,
                           enum svc_stop_request r);
enum svc_stop_request svc_stop_request_get (struct svc *s, const char *id);
void svc_stop_request_clear (struct svc *s, const char *id);

/* ------------------------------------------------ the rest of a life */

/* docker start: a created or exited container again, with its own
 * writable layer (start.c). The restart count and the stop request are
 * reset (a manual start, as docker). attach: in the foreground (start -a,
 * interactive with -i), returning the container's status; else detached
 * beside a monitor, returning 0. A running one is left alone (0). */
int svc_start (struct svc *s, struct svc_container *c, bool attach,
               bool interactive, struct err **err);
/* docker restart: stop (timeout as svc_stop), then start detached. */
int svc_restart (struct svc *s, struct svc_container *c, int timeout,
                 struct err **err);
/* docker wait: block until the container no longer runs (its monitor is
 * gone, restarts included); its exit code. */
int svc_wait (struct svc *s, struct svc_container *c, struct err **err);
/* docker rename. */
int svc_rename (struct svc *s, struct svc_container *c, const char *name,
                struct err **err);
/* rename of a running one: its names on its networks (netconn.c). */
int svc_rename_network (struct svc *s, const struct rt_record *rec,
                        struct err **err);
/* docker network connect [--alias A] [--ip IP] / disconnect [-f] of a
 * running container on a bridge network (netconn.c): ip 0 = from the
 * network's IPAM; aliases NULL or NULL-terminated. */
int svc_network_connect (struct svc *s, struct svc_container *c,
                         const char *network, char **aliases, struct in_addr ip,
                         struct err **err);
int svc_network_disconnect (struct svc *s, struct svc_container *c,
                            const char *network, bool force, struct err **err);
/* docker pause / unpause through the cgroup freezer (freeze.c): v1
 * freezer.state FROZEN/THAWED, v2 cgroup.freeze 1/0, each waited for. */
int svc_pause (struct svc *s, struct svc_container *c, struct err **err);
int svc_unpause (struct svc *s, struct svc_container *c, struct err **err);
/* 1 when the container's cgroup is frozen, 0 when not (or none). */
int svc_frozen (const struct rt_record *rec);
/* The freezer of a cgroup directory (v2: cgroup.freeze, else v1's
 * freezer.state): freeze or thaw it and wait until it is so. */
int svc_freezer_set (const char *dir, bool frozen, struct err **err);
int svc_freezer_get (const char *dir);

/* ------------------------------------------------ attach (attach.c) */

/* docker's default detach sequence: ctrl-p, ctrl-q */
#define SVC_DETACH_KEYS_DEFAULT "ctrl-p,ctrl-q"
#define SVC_DETACH_KEYS_MAX 16
struct svc_attach_opts
{
  bool no_stdin;           /* --no-stdin */
  bool sig_proxy;          /* --sig-proxy (docker: on; without a pty) */
  const char *detach_keys; /* NULL: the default; "": none */
};
/* docker attach: the user's stdio to a detached container's (its pty
 * when it has one) until it exits (its status) or the detach keys come
 * (0). */
int svc_attach (struct svc *s, struct svc_container *c,
                const struct svc_attach_opts *o, struct err **err);

/* "ctrl-p,ctrl-q" -> the bytes (moby/term's ToBytes: one character,
 * ctrl-@ ctrl-a..ctrl-z ctrl-[ ctrl-\ ctrl-] ctrl-^ ctrl-_, or DEL). */
int svc_detach_keys_parse (const char *spec, char *out, size_t *n,
                           struct err **err);
/* The escape matcher: bytes of a partial match are held back and passed
 * on when the match breaks; on a whole match *detach is set. Copies what
 * goes on from in to out (as large as in plus the keys); returns its
 * length. */
struct svc_detach
{
  char keys[SVC_DETACH_KEYS_MAX];
  size_t n, pos;
};
size_t svc_detach_match (struct svc_detach *d, const char *in, size_t len,
                         char *out, bool *detach);

/* The Error a container gets when its monitor was killed. */
#define SVC_MONITOR_KILLED "its monitor was killed"

#endif
