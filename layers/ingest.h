/* A layer given as a byte stream (a tar, tar+gzip or tar+zstd: load's
 * archive members, import's input) taken into the store in one pass, as
 * pull does: the diff_id is computed, the layer is unpacked into a
 * snapshot, and the blob is written. A compressed layer is stored as
 * given; a plain tar is gzip'd (ISA-L, layers/tarwriter.h), the store's
 * convention for the layers it makes, so push sends what build sends.
 *
 * The blob is stored when the stream ends (unreferenced, as a failed
 * pull's: prune removes it); the snapshot only at layer_ingest_commit,
 * once the caller checked the diff_id against the config (which an
 * archive may bring after its layers) and knows the chain ID. */
#ifndef IMGTOOL_INGEST_H
#define IMGTOOL_INGEST_H

#include <stddef.h>

#include "layers/tarwriter.h" /* struct layer_result */

struct err;
struct store;
struct layer_ingest;

struct layer_ingest *layer_ingest_new (struct store *s);
int layer_ingest_feed (struct layer_ingest *li, const void *buf, size_t len,
                       struct err **err);
/* End of the stream: checks the stream ended cleanly, stores the blob
 * and fills res (the blob's digest, size and media type, the diff_id
 * and the tar's size). */
int layer_ingest_finish (struct layer_ingest *li, struct layer_result *res,
                         struct err **err);
/* Store the snapshot as chain_id (after finish; there already: fine).
 * Frees li in every case. */
int layer_ingest_commit (struct layer_ingest *li, const char *chain_id,
                         struct err **err);
/* Throw everything away. li may be NULL. */
void layer_ingest_abort (struct layer_ingest *li);

#endif
