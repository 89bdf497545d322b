/* Unpack while pulling: each layer goes into its snapshot as it downloads
 * (network -> digest -> inflate -> diff_id -> files, one pass), so a
 * pulled image runs without unpacking. `imgtool pull` and `run --pull`
 * use it through reg_pull's hooks:
 *
 *   struct reg_unpack *u = reg_unpack_new (&store);
 *   reg_unpack_hooks (u, &pull_opts);
 *   reg_pull (&store, &pull_opts, ref, &res, &err);
 *   reg_unpack_free (u);
 *
 * Each layer that downloads from byte 0 gets a thread that feeds a
 * snapshot transaction (layers/snapshot.h) from a bounded ring the
 * download fills (the download waits when the ring is full, so memory
 * stays small); the snapshot is committed only when the blob verified and
 * its diff_id is the config's. A layer that cannot be watched whole (a
 * resumed partial file, a restart, a blob already stored, a snapshot
 * another process is making) is unpacked from the stored blob once every
 * blob is in: before the reference is set, every layer has its snapshot
 * or the pull fails. */
#ifndef IMGTOOL_REG_UNPACK_H
#define IMGTOOL_REG_UNPACK_H

struct store;
struct reg_pull_opts;
struct reg_unpack;

/* s must outlive u. */
struct reg_unpack *reg_unpack_new (struct store *s);
/* Set o's sink_open, layers_done and sink_ud to u. */
void reg_unpack_hooks (struct reg_unpack *u, struct reg_pull_opts *o);
/* Stops and joins what is still running (a failed pull), frees u. */
void reg_unpack_free (struct reg_unpack *u);

#endif
