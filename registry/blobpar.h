/* One large blob over several connections at once: the blob is split
 * into parts, each fetched with its own Range request (curl multi), and
 * written at its place in the store's partial file. The digest is still
 * the joined whole's: the file's bytes go into the digest (and to the
 * blob's sink, for unpacking while pulling) in order, as the prefix that
 * has arrived grows. blob.c uses it for blobs of PAR_MIN_SIZE and more
 * when --jobs allows more than one connection; a registry that ignores
 * Range makes it step aside before any byte reaches the sink. */
#ifndef IMGTOOL_REG_BLOBPAR_H
#define IMGTOOL_REG_BLOBPAR_H

#include <stdint.h>

struct err;
struct reg_repo;
struct blob_writer;
struct progress;
struct reg_blob_sink;

/* Blobs smaller than this go over one connection: below it the extra
 * requests cost more than the bandwidth of more connections brings. */
#define PAR_MIN_SIZE (32ll << 20)
/* Each connection fetches at least this much. */
#define PAR_MIN_PART (8ull << 20)

/* Fetch blob digest (size bytes) into w, which is empty, over up to conns
 * connections. sink (may be NULL) sees the bytes in order from 0.
 * Returns 0 when all of it is in w (not yet committed), 1 when the
 * registry ignores Range (w emptied, sink not called), -1 on error (w
 * emptied; the sink may have seen a prefix). */
int reg_blob_parallel (struct reg_repo *repo, const char *digest, int64_t size,
                       struct blob_writer *w, int conns,
                       const struct reg_blob_sink *sink, struct progress *p,
                       int pid, struct err **err);

#endif
