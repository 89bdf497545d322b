/* Concurrent blob downloads into the store (curl multi, --jobs N).
 *
 * Each blob streams into a store blob_writer, hashed as it arrives, and is
 * committed only when its size and digest match the descriptor: a mismatch
 * keeps nothing. A broken connection resumes with Range from the bytes
 * already in the partial file (which also survives a kill); a 200 to a
 * Range request starts over. Blobs already in the store are skipped.
 *
 * A sink may watch a blob's bytes while it downloads (pull feeds each layer
 * to the unpacker this way): it sees the blob from byte 0, in order, once.
 * When that cannot hold (a resumed partial file, a restart from zero) the
 * sink is finished with ok=false and the caller works from the stored blob
 * instead. */
#ifndef IMGTOOL_REG_BLOB_H
#define IMGTOOL_REG_BLOB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct err;
struct store;
struct reg_repo;
struct progress;

struct reg_blob_sink
{
  void *ctx;
  int (*write) (void *ctx, const void *data, size_t len, struct err **err);
  /* ok: the whole blob went through write() and was verified. */
  int (*finish) (void *ctx, bool ok, struct err **err);
};

struct reg_blob_job
{
  const char *digest;
  int64_t size;
  const char *media_type;
  struct reg_blob_sink sink; /* optional: write == NULL for none */
  /* out: */
  bool fetched; /* false: it was in the store already */
  bool sink_ok;
};

/* Download the jobs' blobs from repo into s, at most jobs at once. */
int reg_blobs_fetch (struct reg_repo *repo, struct store *s,
                     struct reg_blob_job *jobs, size_t n, int max_parallel,
                     struct progress *p, struct err **err);

#endif
