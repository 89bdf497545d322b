/* The container service: the one home of a container's life (DESIGN.md).
 * Commands and the builder call it; nothing else changes a container's
 * state.
 *
 *   svc_create      ─► created   record on disk (runtime/state.h), name
 *                                reserved, network object made
 *   svc_start       ─► running   in the foreground (the caller is the
 *                                monitor) or detached (a monitor process
 *                                stays beside it: monitor.c)
 *                      paused, restarting: reserved in the record's states
 *                                for pause and restart policies
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
 * killed; its network and cgroup go back then. That is where a restart
 * policy will be applied. Everything here is safe to run from several
 * processes at once: the lock and the record store's atomic writes
 * decide. */
#ifndef IMGTOOL_SERVICE_H
#define IMGTOOL_SERVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "network/net.h"
#include "runtime/state.h"

struct err;
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
  struct net_bridge *net; /* NULL without --network bridge */
};
void svc_container_release (struct svc_container *c);

/* created: c->rec is filled by the caller (plan, image, command, flags);
 * with --network bridge, ports are published (borrowed until the
 * container is released). Reserves the name and writes the record. */
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

/* The Error a container gets when its monitor was killed. */
#define SVC_MONITOR_KILLED "its monitor was killed"

#endif
