/* Finding images named on the command line (shared by the commands). */
#ifndef IMGTOOL_LOOKUP_H
#define IMGTOOL_LOOKUP_H

#include "layers/store.h"

struct err;

/* Resolve what a user typed to a store reference: a reference ("alpine",
 * "127.0.0.1:5000/a/b:1", "x@sha256:...") normalised as docker does, or an
 * image ID (config digest, "sha256:" optional, a unique prefix of at least
 * 4 hex digits). Returns 0, or -1 with "no such image: 'x'" when there is
 * none. */
int lookup_image (struct store *s, const char *user, struct store_ref *out,
                  struct err **err);

/* The familiar repository ("busybox", "127.0.0.1:5000/a/b") and the tag
 * (NULL when it has none) of a stored reference name, as docker shows
 * them; -1 when name does not parse. The caller frees both. */
int lookup_repo_tag (const char *name, char **repo, char **tag);

/* The image ID (config digest) of a reference, or NULL. Caller frees. */
char *lookup_image_id (struct store *s, const struct store_ref *ref);

#endif
