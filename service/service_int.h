/* Private to service/: the transitions the monitors (monitor.c) and the
 * build steps (step.c) share with service.c. */
#ifndef IMGTOOL_SERVICE_INT_H
#define IMGTOOL_SERVICE_INT_H

#include "service/service.h"

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

#endif
