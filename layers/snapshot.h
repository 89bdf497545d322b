/* Snapshots: each layer unpacked once into <root>/snapshots/<chain-hex>/,
 * an overlay lower dir with overlay whiteouts (layers/apply.h).
 *
 * A snapshot is extracted into snapshots/tmp-<chain-hex>-<nonce>/ and
 * renamed into place only when complete, so a snapshot directory that
 * exists is always whole. An flock per chain ID (snapshots/.locks/<hex>)
 * makes concurrent runs and pulls of one new image unpack each layer once:
 * the second waits, then finds the snapshot there. A tmp- dir left by a
 * killed process is removed by the next one that takes the lock.
 *
 * Durability costs the command nothing: no sync on its path. A marker per
 * snapshot (snapshots/.state/<hex>) holds the boot ID it was made in until
 * a flush, started in the background by snapshot_flush_later once the
 * command's work is done, marks it synced. An unsynced snapshot of an
 * earlier boot (the power went) counts as absent and is unpacked again
 * from its blob; docs/architecture.md says why. */
#ifndef IMGTOOL_SNAPSHOT_H
#define IMGTOOL_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>

#include "layers/digest.h"

struct err;
struct store;
struct image_manifest;
struct image_config;

/* Absolute path of the snapshot of chain_id (whether it exists or not).
 * Caller frees. */
char *snapshot_path (struct store *s, const char *chain_id);
bool snapshot_exists (struct store *s, const char *chain_id);

/* Unpack a stored blob as the snapshot of chain_id, checking that its
 * uncompressed digest is diff_id. Already there: nothing to do. */
int snapshot_create_from_blob (struct store *s, const char *chain_id,
                               const char *blob_digest, const char *diff_id,
                               struct err **err);

/* For pull's one-pass path: begin a snapshot, feed it the blob's bytes as
 * they arrive, commit. Returns 0 with *tx set; 1 when the snapshot already
 * exists (*tx NULL: nothing to feed); 2 when wait is false and another
 * process is making it right now (*tx NULL: store the blob and call
 * snapshot_create_from_blob later, which waits); -1 on error. diff_id
 * (may be NULL) is checked at commit. */
struct snapshot_tx;
int snapshot_begin (struct store *s, const char *chain_id, const char *diff_id,
                    bool wait, struct snapshot_tx **tx, struct err **err);
int snapshot_tx_feed (struct snapshot_tx *tx, const void *buf, size_t len,
                      struct err **err);
/* Finish, verify, rename into place. Frees tx in every case; on failure
 * nothing is left behind. */
int snapshot_commit (struct snapshot_tx *tx, struct err **err);
/* Give up: the temp dir is removed. Frees tx. */
void snapshot_abort (struct snapshot_tx *tx);

/* For a layer whose chain ID is known only once it was read (load reads
 * an archive's layers before the config that orders them; import's
 * chain ID is its diff_id): begin under a random name, feed, then commit
 * as chain_id, checking diff_id. commit_as returns 0, 1 when the snapshot
 * was there already (the new one is thrown away), -1 on error; it frees
 * tx in every case. */
int snapshot_begin_unnamed (struct store *s, struct snapshot_tx **tx,
                            struct err **err);
int snapshot_commit_as (struct snapshot_tx *tx, const char *chain_id,
                        const char *diff_id, struct err **err);

/* Make sure every layer of the image has its snapshot (unpacking from the
 * stored blobs what is missing) and return the overlay lower dirs, top
 * layer first, as a NULL-terminated vector of absolute paths. */
int snapshot_prepare_image (struct store *s, const struct image_manifest *m,
                            const struct image_config *c,
                            char ***lower_dirs_top_first, struct err **err);

/* If this process committed snapshots: flush them in a detached process
 * (its own session, stdio on /dev/null) and return at once. Called by the
 * commands that make snapshots (pull, run, build) when their work is done. */
void snapshot_flush_later (struct store *s);
/* The flush itself: syncfs of the store's file system, then every
 * snapshot of this boot that was complete before it is marked synced. One
 * flusher at a time; returns 0 at once when another one runs. */
int snapshot_flush_pending (struct store *s, struct err **err);

/* Tests only: take id for the boot ID (NULL: the kernel's again). */
void snapshot_test_set_boot_id (const char *id);

/* Remove every snapshot whose chain ID is not in keep (NULL-terminated;
 * the caller collects them from the images and containers it keeps), and
 * leftover temp dirs. Snapshots being made (locked) are left alone. */
int snapshot_remove_unused (struct store *s, char *const *keep, size_t *removed,
                            struct err **err);

#endif
