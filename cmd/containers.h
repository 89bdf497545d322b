/* Helpers shared by the commands that act on existing containers. */
#ifndef IMGTOOL_CONTAINERS_H
#define IMGTOOL_CONTAINERS_H

#include "layers/store.h"
#include "runtime/state.h"

#include <jansson.h>
#include <time.h>

struct err;

/* Open the containers of the store at root and load the one key names
 * (id, name or unique prefix). */
int containers_load (struct rt_containers *cs, const char *root,
                     const char *key, struct rt_record *rec,
                     struct err **err);

/* docker's loop over CONTAINER... (kill, stop, rm): load each one and
 * call fn on it; print its name when fn succeeds, else one line
 * "imgtool: VERB 'NAME': why" on stderr, and go on with the next.
 * Returns 0, or 1 when any failed. */
typedef int (*containers_fn) (struct rt_containers *cs, struct rt_record *rec,
                              void *data, struct err **err);
int containers_each (const char *root, const char *verb, char **names,
                     containers_fn fn, void *data);

/* Reclaim the network leftovers (address, host ports, rules, veth) of
 * containers that died unwatched (their imgtool was killed): net_gc,
 * quietly, since a failure only leaves them for the next command. Costs a
 * readdir when no container is on the bridge. Called at the start of the
 * commands that start or act on containers. */
void containers_net_gc (const char *root);

/* After a container has ended (stop, rm): its network goes, whoever was
 * meant to remove it (its monitor may have been killed). Idempotent. */
void containers_net_release (const char *root, const struct rt_record *rec);

/* What a container holds of the store: the image it was made from (rmi's
 * conflicts) and the snapshots it runs on (prune's). */
struct container_use
{
  char *id;
  char *image_id;   /* its image's config digest; NULL for --rootfs */
  bool running;
  char **snapshots; /* chain IDs of its lower dirs, "sha256:<hex>" */
};

/* Every container of the store at root (those removed meanwhile are
 * skipped). */
int containers_uses (const char *root, struct container_use **out, size_t *n,
                     struct err **err);
void containers_uses_free (struct container_use *u, size_t n);

/* store_gc (rmi, prune), keeping the blobs of every image a container
 * uses, named or not: they go only once no container uses them. */
int containers_store_gc (struct store *s, const struct container_use *u,
                         size_t n, uint64_t *freed_bytes, size_t *freed_blobs,
                         struct err **err);

/* docker's JSON for `inspect` of a container (container_json.c). */
json_t *containers_inspect_json (const struct rt_record *rec);
/* The fields of one `ps --format` line, docker's (--format json prints
 * them all): command is the quoted, maybe truncated, COMMAND cell; ID and
 * Mounts are cut unless no_trunc. */
json_t *containers_ps_json (const struct rt_record *rec, const char *command,
                            bool no_trunc, time_t now);

#endif
