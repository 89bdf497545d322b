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

/* Point name at an image (a stored manifest whose config is image_id)
 * as docker's load and import do. A name on the same image stays as it
 * is (its manifest too). A name on another image moves; that image, left
 * without a name, stays in the store as BUILD_UNTAGGED_REPO:<ID prefix>
 * (docker's dangling "<none>" image), and *moved_from (if not NULL) gets
 * its ID (caller frees; NULL when nothing moved). */
int lookup_tag_set (struct store *s, const char *name, const char *media_type,
                    const char *digest, int64_t size, const char *image_id,
                    char **moved_from, struct err **err);
/* Give an image no name asked for one all the same, so the store keeps
 * it: BUILD_UNTAGGED_REPO:<ID prefix>, unless a name reaches it. */
int lookup_keep_untagged (struct store *s, const char *media_type,
                          const char *digest, int64_t size,
                          const char *image_id, struct err **err);

#endif
