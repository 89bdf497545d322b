/* IPAM and the on-disk records of attachments (CNI host-local's design):
 *
 *   <root>/networks/lock                 flock held around every change
 *   <root>/networks/<net>/leases/<ip>    one JSON file per address in use
 *   <root>/networks/<net>/ids/<id>       symlink -> "<ip>": the container's
 * lease <root>/networks/<net>/hosts          the shared hosts file (net_etc.c)
 *   <root>/networks/<net>/last           the last address given (round robin)
 *   <root>/networks/ports/<proto>-<port> the container id holding a host port
 *
 * Every reader and writer holds the lock, so files are written in place
 * without fsync: they describe running processes, which do not outlive a
 * crash; an unreadable lease counts as dead and is reclaimed. */
#ifndef IMGTOOL_IPAM_H
#define IMGTOOL_IPAM_H

#include "network/net.h"

struct net_lease
{
  char *container_id;
  char *name;
  char *hostname;
  char *host_veth;
  char *state_dir; /* must exist while the container lives; NULL =
                      <root>/containers/<id> */
  char *boot_id;
  struct in_addr ip;
  pid_t pid;
  unsigned long long start_time; /* /proc/<pid>/stat field 22 */
  struct port_map *ports;
  size_t n_ports;
  char **aliases; /* network connect --alias; NULL or NULL-terminated */
};

void net_lease_release (struct net_lease *l);
void net_leases_free (struct net_lease *l, size_t n);

/* Create <root>/networks and take its lock; returns the lock fd. */
int net_ipam_lock (const char *root, struct err **err);

/* A network's directory: <root>/networks/bridge for the default one,
 * <root>/networks/user/<net> for the user-defined ones (apart, so that no
 * name clashes with lock or ports). Allocated. */
char *net_dir_path (const char *root, const char *net);

/* Open (creating) net_dir_path, returns a dir fd. */
int net_ipam_open_net (const char *root, const char *net, struct err **err);

/* Pick a free address in cfg's subnet (gateway and broadcast excluded),
 * write lease l with it (l->ip set on return; when set before, that
 * address is tried first). Lock held. */
int net_ipam_allocate (int netfd, const struct net_config *cfg,
                       struct net_lease *l, struct err **err);

/* Rewrite lease l (its address names it): a rename. Lock held. */
int net_ipam_update (int netfd, const struct net_lease *l, struct err **err);

/* Remove the lease of ip (and its ids/ entry); a missing one is fine. */
int net_ipam_release (int netfd, struct in_addr ip, struct err **err);

/* The lease of a container, through ids/<id>: 1 and *out filled, or 0
 * when it has none. Lock held. */
int net_ipam_find (int netfd, const char *container_id, struct net_lease *out);

/* Every lease of the network, sorted by address. Unreadable ones come back
 * with container_id NULL (dead). */
int net_ipam_load_all (int netfd, struct net_lease **out, size_t *n,
                       struct err **err);

/* Whether the lease's process still runs (same pid, start time, boot) and
 * its state dir (<root>/containers/<id> by default) exists. */
bool net_lease_alive (const char *root, const struct net_lease *l);

/* Whether only the lease's process still runs (same pid, start time, boot). */
bool net_lease_process_alive (const struct net_lease *l);

/* Fill pid, start_time and boot_id for pid. */
int net_lease_set_process (struct net_lease *l, pid_t pid, struct err **err);

/* Host ports: record/forget <proto>-<port> for container_id. reserve fails
 * with "port N is already allocated" when another live owner holds it. */
int net_ports_reserve (const char *root, const struct port_map *p,
                       const char *container_id, struct err **err);
void net_ports_release (const char *root, const struct port_map *p,
                        const char *container_id);
/* The container id holding a host port, or NULL; allocated. */
char *net_ports_owner (const char *root, const struct port_map *p);
/* Container ids named by port records (for gc); NULL-terminated. */
char **net_ports_owners (const char *root);
void net_ports_release_owner (const char *root, const char *container_id);

/* "a.b.c.d" of ip in a static-free caller buffer. */
const char *net_ip_str (struct in_addr ip, char buf[INET_ADDRSTRLEN]);

#endif
