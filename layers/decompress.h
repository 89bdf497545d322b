/* Push-style decompression of layer blobs: gzip (ISA-L igzip, ~3x zlib's
 * inflate speed), zstd (libzstd) or none, chosen by the magic bytes of the
 * stream. Compressed bytes go in with layer_decomp_feed(); the
 * uncompressed bytes come out through a callback, in chunks of at most
 * LAYER_DECOMP_CHUNK bytes. */
#ifndef IMGTOOL_DECOMPRESS_H
#define IMGTOOL_DECOMPRESS_H

#include <stddef.h>
#include <stdint.h>

#include "layers/image.h"

struct err;

#define LAYER_DECOMP_CHUNK (256u << 10)

/* Receives uncompressed bytes; returns 0, or -1 with *err set to stop. */
typedef int (*layer_decomp_sink) (void *arg, const uint8_t *buf, size_t len,
                                  struct err **err);

struct layer_decomp;

struct layer_decomp *layer_decomp_new (layer_decomp_sink sink, void *arg);
int layer_decomp_feed (struct layer_decomp *d, const void *buf, size_t len,
                       struct err **err);
/* End of input: fails if the compressed stream was cut short. */
int layer_decomp_finish (struct layer_decomp *d, struct err **err);
void layer_decomp_free (struct layer_decomp *d);

/* Detect from the first bytes (at least 4 for a sure answer). */
enum layer_compression layer_compression_sniff (const uint8_t *p, size_t n);

#endif
