/* A deterministic layer tar writer: pax/ustar headers, optional gzip (ISA-L
 * igzip) or zstd compression, and both digests (diff_id of the tar, digest
 * of the blob) computed in the same pass, streamed to a sink.
 *
 * The writer knows nothing about the filesystem: callers (layers/fsentry.c
 * for files on disk, layers/diff.c for an overlay upper dir, layers/copy.c
 * for COPY/ADD) fill struct tar_entry and feed the bytes. What makes the
 * output reproducible is fixed here: no uname/gname, whole-second mtimes,
 * no atime/ctime, xattrs as SCHILY.xattr records in the order given, fixed
 * pax header names, a 1024-byte end marker without record padding, and a
 * compressor with a fixed level and a gzip header with mtime 0 and no name. */
#ifndef IMGTOOL_TARWRITER_H
#define IMGTOOL_TARWRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "layers/digest.h"
#include "layers/image.h" /* enum layer_compression */
#include "layers/tar.h"   /* struct tar_entry, the reader's, shared */

struct err;

/* "gzip", "zstd" or "none" (also "uncompressed"): --compression. */
int layer_compression_parse (const char *s, enum layer_compression *out,
                             struct err **err);
/* The OCI media type of a layer blob with this compression. */
const char *layer_media_type (enum layer_compression c);

/* Where the compressed bytes go. write returns 0 or -1 with *err set. */
struct layer_sink
{
  int (*write) (void *ctx, const void *data, size_t len, struct err **err);
  void *ctx;
  bool hashes_itself; /* the sink digests what it gets (a store blob
                         writer): the tar writer leaves result.digest ""
                         for the caller to fill, saving a hash pass */
};

/* What a finished layer is. */
struct layer_result
{
  char digest[DIGEST_STR_LEN + 1];  /* of the blob as stored */
  char diff_id[DIGEST_STR_LEN + 1]; /* of the uncompressed tar */
  int64_t size;                     /* blob size in bytes */
  uint64_t tar_size;                /* uncompressed tar size */
  const char *media_type;           /* static string */
};

struct tar_writer;

/* level 0 picks the default (gzip: igzip level 1; zstd: 3).
 * LAYER_UNKNOWN is refused. */
struct tar_writer *tarw_new (enum layer_compression c, int level,
                             const struct layer_sink *sink, struct err **err);
/* Write an entry's header. e->path is relative, without a leading "/" or
 * "./" (a directory's trailing "/" is added here); e->mtime_nsec is
 * dropped; xattrs are written in the order given. A TAR_REG entry must be
 * followed by exactly e->size bytes through tarw_data or tarw_data_fd. */
int tarw_header (struct tar_writer *tw, const struct tar_entry *e,
                 struct err **err);
int tarw_data (struct tar_writer *tw, const void *data, size_t len,
               struct err **err);
/* Copy exactly size bytes from fd (a file that shrank is an error naming
 * path, one that grew is cut at size). */
int tarw_data_fd (struct tar_writer *tw, int fd, uint64_t size,
                  const char *path, struct err **err);
/* For a plain tar written to a file (an image archive, save): push every
 * byte written so far into the sink, so that the caller may write an
 * entry into the same file itself, before going on with the writer.
 * Between entries only; not for a compressed or hashed writer, whose
 * bytes may still be on their way in another thread. */
int tarw_flush (struct tar_writer *tw, struct err **err);
/* The one 512-byte header block tarw_header writes for e (not a
 * directory), when e needs no pax records: a path that fits ustar, a
 * short link, numbers that fit their fields, no xattrs. -1 otherwise. */
int tarw_header_block (const struct tar_entry *e, char h[512]);
/* Pass bytes that already are a tar (a layer read from an archive,
 * import's input) through the compressor and both digests, unchanged. A
 * writer fed this way writes no end marker: the bytes brought theirs. */
int tarw_raw (struct tar_writer *tw, const void *data, size_t len,
              struct err **err);
/* The tar is not a layer (an image archive, save): skip the diff_id's
 * hash pass; result.diff_id is then meaningless. */
void tarw_no_diff_id (struct tar_writer *tw);
/* Write the file type's bits (S_IFDIR, S_IFREG, ...) into every header's
 * mode as well, as Go's archive/tar does and so docker and podman export
 * (040755 for a directory); a layer's headers carry permission bits only. */
void tarw_mode_type_bits (struct tar_writer *tw);
/* Write the end marker, flush the compressor and fill *out. */
int tarw_finish (struct tar_writer *tw, struct layer_result *out,
                 struct err **err);
void tarw_free (struct tar_writer *tw);

/* A sink that writes to a file descriptor. ctx is a pointer to the fd. */
int layer_sink_fd_write (void *ctx, const void *data, size_t len,
                         struct err **err);

/* A sink into a new store blob (layers/store.h). begin, write through
 * out->sink, then commit (fills res->digest; the blob is in the store) or
 * abort (nothing is left behind). */
struct store;
struct blob_writer;
struct layer_store_out
{
  struct store *store;
  struct blob_writer *w;
  struct layer_sink sink;
};
int layer_store_begin (struct store *s, struct layer_store_out *out,
                       struct err **err);
int layer_store_commit (struct layer_store_out *out, struct layer_result *res,
                        struct err **err);
void layer_store_abort (struct layer_store_out *out);

#endif
