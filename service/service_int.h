/* Private to service/: the transitions the monitors (monitor.c) and the
 * build steps (step.c) share with service.c. */
#ifndef IMGTOOL_SERVICE_INT_H
#define IMGTOOL_SERVICE_INT_H

#include "service/service.h"

#include <stdint.h>

struct rt_container;

/* running: pid, start time, address and ports saved. */
void svc_started (struct svc *s, struct svc_container *c,
                  const struct rt_container *ct);

/* exited (and removed with --rm): network detached, state saved, cgroup
 * removed. foreground: a --rm record's files are deleted by a child of
 * their own, so that the caller's exit status comes at once. */
void svc_finished (struct svc *s, struct svc_container *c, bool foreground,
                   int status, bool oom, const char *error);

/* --pid, --ipc, --network container:ID: open what p joins for one start
 * (join.c); the named containers must run. svc_join_close after the
 * start, whatever happened. */
int svc_join_open (struct svc *s, struct rt_plan *p, struct err **err);
void svc_join_close (struct rt_plan *p);
/* The network object of a container on the bridge (c->net); ports
 * borrowed. */
int svc_make_net (struct svc *s, struct svc_container *c,
                  const struct port_map *ports, size_t n_ports,
                  struct err **err);

/* The record's -p (rt_record.publish) from ports, and back (start.c). */
char **svc_publish_specs (const struct port_map *ports, size_t n);
int svc_publish_parse (char **specs, struct port_map **ports, size_t *n,
                       struct err **err);

/* Give the container's network back (bridge only; idempotent). */
void svc_net_detach (struct svc *s, struct svc_container *c);

/* Rootless networking (slirp.c): the network object of a container on
 * slirp4netns (nothing for other networks), the address and ports for
 * its record once started, and its end (idempotent). */
int svc_slirp_make (struct svc_container *c, const struct port_map *ports,
                    size_t n_ports, struct err **err);
void svc_slirp_started (struct svc_container *c);
void svc_slirp_release (struct svc_container *c);

/* The container's volumes made (named ones when missing, anonymous ones
 * new) and their sources filled in p. Returns the volumes lock, held
 * shared until the record is written (so rm and prune see the new user),
 * -2 when p has no volumes, or -1 with *err set (service/volumes.c). */
int svc_volumes_prepare (struct svc *s, struct rt_plan *p, struct err **err);
/* After an exit with status that ran ran_ms: the delay before the
 * policy's restart (ms), or -1 for none; *backoff_ms is the last delay,
 * updated (restart.c). */
int64_t svc_restart_next (struct svc *s, struct svc_container *c, int status,
                          int64_t ran_ms, int64_t *backoff_ms);
/* Wait delay_ms for the restart; false when a stop came meanwhile. */
bool svc_restart_wait (struct svc *s, const char *id, int64_t delay_ms);
/* restarting: the exit recorded, the network and cgroup given back, the
 * restart counted (monitor.c waits, then starts it again). */
void svc_restarting (struct svc *s, struct svc_container *c, int status,
                     bool oom);
/* CLOCK_MONOTONIC in ms. */
int64_t svc_clock_ms (void);
/* Thaw a paused container's cgroup before killing it (a frozen task
 * never dies on cgroup v1). */
void svc_thaw (const struct rt_record *rec);

/* The monitor's side of attach (attach.c): <id>/attach.sock, its
 * clients, where their input goes (in_to: the pty master or the stdin
 * pipe, -1 none) and the pty to resize (winch_to). */
struct svc_attach_server
{
  int listen, epoll;
  int clients[16];
  size_t n;
  int in_to, winch_to;
  int status; /* what svc_attach_close tells the clients (-1: unknown) */
};
int svc_attach_listen (struct svc *s, const char *id,
                       struct svc_attach_server *a, struct err **err);
/* The pump's on_extra: new clients, their input. */
void svc_attach_ready (void *a);
void svc_attach_output (struct svc_attach_server *a, int stream,
                        const char *buf, size_t len);
/* The container ended with status: each client told, and let go. */
void svc_attach_exit (struct svc_attach_server *a, int status);
void svc_attach_close (struct svc_attach_server *a);

/* rm's removal of the container's files (dead.c): on failure the
 * container is marked dead and *err says why. */
int svc_remove_files (struct svc *s, struct rt_record *rec, struct err **err);

#endif
