/* Writing seekable layers (layers/toc.h has the formats): a push-style
 * converter from an uncompressed tar stream to a zstd:chunked or eStargz
 * blob. Every regular file's content gets compressed frames (zstd) or
 * members (gzip) of its own, so a reader can fetch and decompress one file
 * alone; the TOC that says where each one sits is written at the end.
 * tarwriter.c puts it behind its --compression zstd:chunked and estargz,
 * so every writer of layers (build, commit, import, push's recompression)
 * can make them. */
#ifndef IMGTOOL_SEEKABLE_H
#define IMGTOOL_SEEKABLE_H

#include "layers/tarwriter.h"
#include "layers/toc.h"

struct seekw;

/* level 0: the default (zstd 3, igzip 1). */
struct seekw *seekw_new (enum toc_format f, int level,
                         const struct layer_sink *sink, struct err **err);
/* The uncompressed tar, in any pieces (a layer_sink's write). */
int seekw_feed (void *w, const void *tar, size_t len, struct err **err);
/* The end of the tar: writes the TOC (and tar-split) and footer. Fills
 * out->digest (unless the sink hashes itself), diff_id (of the
 * uncompressed stream as written: eStargz adds its TOC entry to the tar),
 * size, tar_size, media_type. */
int seekw_finish (struct seekw *w, struct layer_result *out, struct err **err);
void seekw_free (struct seekw *w);

/* The layer descriptor's annotations for a blob (fd, size bytes) that is a
 * seekable layer written by any writer: a JSON object as text, NULL when
 * the blob is not one (plain gzip or zstd). Located from the footer, and
 * checked (the TOC must parse) before it is announced. */
char *seekable_annotations (int fd, uint64_t size, struct err **err);

#endif
