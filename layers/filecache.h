/* The store's content-addressed file cache, for partial pulls:
 *
 *   <root>/files/sha256/<hex>   a hard link to a regular file of a
 *                               snapshot whose content has that digest
 *
 * Filled from the snapshots of layers with a TOC (zstd:chunked), whose TOC
 * names each file's digest, whether the layer was pulled in part or whole.
 * A partial pull of another layer takes the files it lists from here
 * instead of the network. An entry shares its snapshot file's inode (no
 * extra space while that snapshot lives); it is only ever read, and its
 * digest is checked again as it is read, so a wrong entry is found and
 * dropped, never passed on. `prune` removes the entries whose snapshot is
 * gone (link count 1): the cache never holds more than the files of the
 * snapshots removed since the last prune. docs/architecture.md. */
#ifndef IMGTOOL_FILECACHE_H
#define IMGTOOL_FILECACHE_H

#include <stdbool.h>
#include <stddef.h>

struct err;
struct store;
struct toc;

/* Is there an entry for digest? */
bool filecache_has (struct store *s, const char *digest);
/* Open the entry for digest (O_RDONLY): the fd, or -1 with errno. */
int filecache_open (struct store *s, const char *digest);
/* Remove the entry for digest (it did not hash to its name). */
void filecache_drop (struct store *s, const char *digest);

/* Link the regular files t lists from the snapshot of chain_id, those
 * whose digest has no entry yet. A file that is not there as t says (not
 * a regular file, another size) is left out. Returns how many were
 * added, or -1. */
int filecache_add (struct store *s, const char *chain_id, const struct toc *t,
                   struct err **err);

/* Remove the entries no snapshot shares any more. */
int filecache_prune (struct store *s, size_t *removed, struct err **err);

#endif
