/* Helpers shared by the commands that act on existing containers. */
#ifndef IMGTOOL_CONTAINERS_H
#define IMGTOOL_CONTAINERS_H

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

/* docker's JSON for `inspect` of a container (container_json.c). */
json_t *containers_inspect_json (const struct rt_record *rec);
/* The fields of one `ps --format` line (ID is the short id; command is
 * the quoted, maybe truncated, COMMAND cell). */
json_t *containers_ps_json (const struct rt_record *rec, const char *command,
                            time_t now);

#endif
