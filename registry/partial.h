/* Partial pull of a zstd:chunked layer: only the files the store lacks
 * come over the network.
 *
 *   the TOC and the tar-split, by one Range request (registry/ranges.h)
 *   each regular file the TOC lists: from the file cache
 *     (layers/filecache.h) when it holds the file's digest, else its
 *     compressed chunks are fetched (multi-range, near ranges coalesced)
 *   the layer's exact tar is rebuilt from the tar-split (headers, padding)
 *     and the files' contents, each file's digest checked (layers/toc.h),
 *     and unpacked by the same snapshot transaction as a full pull
 *     (layers/snapshot.h): the same tree, and its diff_id checked against
 *     the config's before the snapshot is committed
 *
 * The layer's compressed blob is then not in the store: the snapshot is.
 * A layer without a zstd:chunked TOC (or without a tar-split, so its
 * diff_id could not be checked: eStargz, as containers/storage does by
 * default), a registry that ignores Range, or a layer none of whose files
 * the store has, is left to the ordinary one-pass pull. A TOC that lies
 * (offsets, sizes, digests) is an error, and nothing is committed. */
#ifndef IMGTOOL_REG_PARTIAL_H
#define IMGTOOL_REG_PARTIAL_H

struct err;
struct store;
struct reg_repo;
struct descriptor;
struct progress;

/* 0 the snapshot of chain_id is there (made now, or before); 1 left to
 * the full pull; -1 error. */
int reg_partial_layer (struct reg_repo *repo, struct store *s,
                       const struct descriptor *d, const char *diff_id,
                       const char *chain_id, struct progress *p,
                       struct err **err);

/* After a full pull of a layer with a zstd:chunked TOC: put the files of
 * its snapshot into the file cache (the TOC read from the stored blob).
 * A failure only costs a later partial pull its savings: logged. */
void reg_partial_remember (struct store *s, const struct descriptor *d,
                           const char *chain_id);

#endif
