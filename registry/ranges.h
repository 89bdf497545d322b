/* Pieces of a blob by Range requests (a partial pull's TOC and missing
 * files): many ranges per request as multipart/byteranges (Debian's
 * docker-registry serves them through Go's http.ServeContent), a single
 * range answered as such, and a registry that ignores Range (a 200 with
 * the whole blob) told apart so the caller can fall back to a full pull.
 * The bytes are not verified here: the caller checks each piece's digest. */
#ifndef IMGTOOL_REG_RANGES_H
#define IMGTOOL_REG_RANGES_H

#include <stddef.h>
#include <stdint.h>

#include "registry/byteranges.h"

struct err;
struct reg_repo;

/* The bytes of rs[i], in order and once: off is the blob offset. */
typedef int (*reg_range_fn) (void *ctx, size_t i, uint64_t off,
                             const void *data, size_t len, struct err **err);

/* Fetch ranges rs[0..n) (sorted, not overlapping) of blob digest in repo.
 * Returns 0 when every byte went to fn; 1 when the registry ignores Range
 * (nothing was handed to fn); -1 on error. */
int reg_blob_ranges (struct reg_repo *repo, const char *digest,
                     const struct byterange *rs, size_t n, reg_range_fn fn,
                     void *ctx, struct err **err);

#endif
