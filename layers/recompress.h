/* A stored image with its layers in another compression, as `push
 * --compression` sends it (podman's --compression-format): each layer not
 * already in the wanted format is decompressed and written again through
 * layers/tarwriter.c, into new store blobs. A format that changes the
 * uncompressed tar (eStargz adds its TOC entry) changes the config's
 * diff_ids, hence the config. The result is a new OCI manifest in the
 * store (no reference is changed). */
#ifndef IMGTOOL_RECOMPRESS_H
#define IMGTOOL_RECOMPRESS_H

#include "layers/image_store.h"

/* img: the image as loaded (one platform's manifest). Sets *digest (caller
 * frees) to the new manifest's digest, or to a copy of
 * img->manifest_digest when no layer needed a change. */
int image_recompress (struct store *s, const struct image *img,
                      enum layer_compression c, char **digest,
                      struct err **err);

#endif
