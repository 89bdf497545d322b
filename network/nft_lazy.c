/* libnftables, loaded on the first call of one of its functions (see
 * lib/dynlib.h): it and its dependencies (libnftnl, libxtables, libgmp)
 * cost ~0.3 ms at every exec, for the bridge network only. One stub per
 * function network/nft.c calls; the link fails on a new one until it is
 * added here. */
#include "lib/dynlib.h"

#include <nftables/libnftables.h>

static struct dynlib nft_lib = DYNLIB_INIT ("libnftables.so.1");

DYNLIB_STUB (nft_lib, struct nft_ctx *, nft_ctx_new, (uint32_t flags), (flags))
DYNLIB_STUB_VOID (nft_lib, nft_ctx_free, (struct nft_ctx * ctx), (ctx))
DYNLIB_STUB (nft_lib, unsigned int, nft_ctx_output_get_flags,
             (struct nft_ctx * ctx), (ctx))
DYNLIB_STUB_VOID (nft_lib, nft_ctx_output_set_flags,
                  (struct nft_ctx * ctx, unsigned int flags), (ctx, flags))
DYNLIB_STUB (nft_lib, int, nft_ctx_buffer_output, (struct nft_ctx * ctx), (ctx))
DYNLIB_STUB (nft_lib, const char *, nft_ctx_get_output_buffer,
             (struct nft_ctx * ctx), (ctx))
DYNLIB_STUB (nft_lib, int, nft_ctx_buffer_error, (struct nft_ctx * ctx), (ctx))
DYNLIB_STUB (nft_lib, const char *, nft_ctx_get_error_buffer,
             (struct nft_ctx * ctx), (ctx))
DYNLIB_STUB (nft_lib, int, nft_run_cmd_from_buffer,
             (struct nft_ctx * nft, const char *buf), (nft, buf))
