/* Helpers shared by the commands that act on existing containers. */
#ifndef IMGTOOL_CONTAINERS_H
#define IMGTOOL_CONTAINERS_H

#include "runtime/state.h"

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

#endif
