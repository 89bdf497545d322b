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

#endif
