/* Helpers shared by the commands that act on existing containers. */
#ifndef IMGTOOL_CONTAINERS_H
#define IMGTOOL_CONTAINERS_H

#include "layers/store.h"
#include "service/service.h"

#include <jansson.h>
#include <time.h>

struct err;

/* Open the container service (once: s->cs.path NULL before) and load
 * the container key names (id, name or unique prefix). */
int containers_load (struct svc *s, const char *root, const char *config_path,
                     const char *key, struct svc_container *c,
                     struct err **err);

/* docker's loop over CONTAINER... (kill, stop, rm): fn on every one at
 * once (svc_each); then, in the order given, each name on stdout when fn
 * succeeded, else one line "imgtool: VERB 'NAME': why" on stderr. Returns
 * 0, or 1 when any failed. */
struct global;
int containers_each (struct global *g, const char *verb, char **names,
                     svc_fn fn, void *data);
/* The same one container after the other, without the sweep (a start
 * costs the same beside 500 containers as beside none): for start and
 * restart, which fork a monitor, and a fork beside other threads would
 * hand it their pipes (the command then waits for an EOF that never
 * comes). */
int containers_each_serial (struct global *g, const char *verb, char **names,
                            svc_fn fn, void *data);

/* What a container holds of the store: the image it was made from (rmi's
 * conflicts) and the snapshots it runs on (prune's). */
struct container_use
{
  char *id;
  char *image_id; /* its image's config digest; NULL for --rootfs */
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

/* inspect after `network connect`: the networks a running container was
 * connected to beyond its first, added to docker's
 * NetworkSettings.Networks (network_connect.c). */
void containers_connected_json (const struct rt_record *rec, json_t *networks);
/* docker's JSON for `inspect` of a container (container_json.c). */
json_t *containers_inspect_json (const struct rt_record *rec);
/* The fields of one `ps --format` line, docker's (--format json prints
 * them all): command is the quoted, maybe truncated, COMMAND cell; ID and
 * Mounts are cut unless no_trunc. */
json_t *containers_ps_json (const struct rt_record *rec, const char *command,
                            bool no_trunc, time_t now);

#endif
