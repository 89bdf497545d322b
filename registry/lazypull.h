/* The pull side of lazy start: `run` and `create` pull an image with
 * reg_pull_opts.defer = reg_lazy_defer, so that a layer with a TOC
 * (zstd:chunked, eStargz) is not downloaded: its TOC is fetched with a
 * Range request, checked, and kept in the store with where the blob comes
 * from (layers/lazystore.h); the container's monitor serves the layer
 * (service/lazy.c). A layer without a TOC, a TOC that does not check out
 * or a registry that ignores Range: the layer is pulled as always. */
#ifndef IMGTOOL_REG_LAZYPULL_H
#define IMGTOOL_REG_LAZYPULL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct err;
struct store;
struct reg_repo;
struct descriptor;
struct reg_pull_opts;

struct reg_lazy
{
  struct store *s;
  const struct reg_pull_opts *o;
  size_t deferred; /* out: layers left to the monitor */
};

/* Can this process serve layers through FUSE (root, /dev/fuse)? */
bool reg_lazy_possible (void);

/* reg_pull_opts.defer (ud: struct reg_lazy). */
int reg_lazy_defer (void *ud, struct reg_repo *repo, const char *endpoint,
                    const char *cred_domain, const struct descriptor *layer,
                    struct err **err);

/* Fill buf with the blob's bytes [off, off+len) by a Range request. */
int reg_lazy_fetch (struct reg_repo *repo, const char *digest, uint64_t off,
                    uint64_t len, uint8_t *buf, struct err **err);

#endif
