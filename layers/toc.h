/* The table of contents (TOC) of a seekable layer, whatever its format:
 *
 * - zstd:chunked (containers/storage): every file's content in zstd frames
 *   of its own; the TOC ("manifest") zstd-compressed in a skippable frame,
 *   then the tar-split in another, then a 64-byte footer frame. The layer
 *   descriptor's annotations say where the TOC and tar-split sit and the
 *   TOC's digest (of its compressed bytes).
 * - eStargz (stargz-snapshotter): gzip members per file (or chunk), the TOC
 *   as the tar entry "stargz.index.json" in the last member, then a 51-byte
 *   gzip footer holding the TOC's offset. The annotation
 *   containerd.io/snapshot/stargz/toc.digest is the digest of the TOC JSON.
 *
 * Both stay valid zstd / gzip streams of an ordinary tar. This module only
 * parses and checks: no I/O. Callers fetch the bytes (from a file, or with
 * Range requests) and pass them in. Every number a TOC gives is checked
 * against the blob before use, and every byte decompressed through it is
 * checked against the TOC's digests: a TOC that lies is refused. */
#ifndef IMGTOOL_TOC_H
#define IMGTOOL_TOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "layers/digest.h"

struct err;

enum toc_format
{
  TOC_NONE = 0, /* not a seekable layer (or not known to be one) */
  TOC_ZSTD_CHUNKED,
  TOC_ESTARGZ,
};

/* Annotation keys on the manifest's layer descriptor. */
#define TOC_ANN_ZSTD_CHECKSUM                                                  \
  "io.github.containers.zstd-chunked.manifest-checksum"
#define TOC_ANN_ZSTD_POSITION                                                  \
  "io.github.containers.zstd-chunked.manifest-position"
#define TOC_ANN_ZSTD_TARSPLIT                                                  \
  "io.github.containers.zstd-chunked.tarsplit-position"
#define TOC_ANN_ESTARGZ_DIGEST "containerd.io/snapshot/stargz/toc.digest"
#define TOC_ANN_ESTARGZ_USIZE "io.containers.estargz.uncompressed-size"

/* The name of the TOC's tar entry in an eStargz layer. */
#define TOC_ESTARGZ_NAME "stargz.index.json"

/* Footer sizes: zstd:chunked's skippable frame (8-byte frame header + 64
 * bytes), eStargz's gzip member (51; 47 for the legacy stargz one). Fetch
 * the last TOC_FOOTER_MAX bytes of a blob to give toc_locate_footer. */
#define TOC_ZSTD_FOOTER_SIZE 72
#define TOC_ESTARGZ_FOOTER_SIZE 51
#define TOC_FOOTER_MAX TOC_ZSTD_FOOTER_SIZE

/* Cap on a TOC's size, compressed or not (a lying footer must not make us
 * allocate gigabytes). */
#define TOC_MAX_SIZE (256u << 20)

enum toc_type
{
  TOC_REG,
  TOC_DIR,
  TOC_SYMLINK,
  TOC_HARDLINK,
  TOC_CHAR,
  TOC_BLOCK,
  TOC_FIFO,
  /* A further chunk of the preceding regular file. Only in the formats'
   * JSON: toc_parse folds chunk entries into their file's chunks[], so a
   * parsed struct toc never holds one. */
  TOC_CHUNK,
};

/* One piece of a regular file's content. */
struct toc_chunk
{
  uint64_t offset; /* compressed range in the blob: [offset, end) */
  uint64_t end;
  /* Uncompressed bytes to skip at the start of what [offset, end)
   * decompresses to (eStargz innerOffset: several small files in one gzip
   * member); 0 otherwise. */
  uint64_t inner_offset;
  uint64_t file_offset; /* uncompressed offset within the file */
  uint64_t size;        /* uncompressed size */
  /* "sha256:<hex>" of the chunk's uncompressed bytes; "" when the TOC
   * gives none (then only the file's digest checks it). */
  char digest[DIGEST_STR_LEN + 1];
  /* zstd:chunked chunkType "zeros": the content is all zero bytes (a
   * reader may make a hole instead of fetching the range). */
  bool zeros;
};

struct toc_xattr
{
  char *name;
  uint8_t *value; /* decoded (the formats store base64) */
  size_t len;
};

struct toc_entry
{
  enum toc_type type;
  /* Path in the layer, normalised: no leading "./" or "/", no trailing "/",
   * "." for the root. Never "..": toc_parse refuses such names. */
  char *name;
  char *link_name; /* symlink target, or hardlink's target path; or NULL */
  uint32_t mode;   /* permission bits with setuid/setgid/sticky (07777) */
  uint32_t uid, gid;
  uint64_t size; /* regular files: content size; else 0 */
  int64_t mtime_sec;
  uint32_t mtime_nsec;
  struct toc_xattr *xattrs;
  size_t n_xattrs;
  uint32_t dev_major, dev_minor;
  /* sha256 of the whole content ("sha256:<hex>"); "" when the TOC gives
   * none (zstd:chunked: empty files; not a regular file). */
  char digest[DIGEST_STR_LEN + 1];
  /* Regular files with content: at least one chunk, in file order, that
   * cover [0, size) exactly. */
  struct toc_chunk *chunks;
  size_t n_chunks;
};

/* Where the TOC (and the tar-split) sit in the blob. */
struct toc_location
{
  enum toc_format format;
  /* The TOC's bytes in the blob: [offset, offset + length).
   * zstd:chunked: the skippable frame's payload (the zstd-compressed JSON).
   * eStargz: the gzip member holding the stargz.index.json tar entry, up to
   * the footer. 0/0 when still unknown (eStargz from annotations only). */
  uint64_t offset;
  uint64_t length;
  uint64_t uncompressed_length; /* of the JSON; 0 when unknown */
  /* Digest that the TOC must have ("" = unknown, nothing to check):
   * zstd:chunked: of the compressed bytes; eStargz: of the JSON. */
  char digest[DIGEST_STR_LEN + 1];
  /* zstd:chunked: the tar-split's skippable frame payload (zstd-compressed
   * JSON lines); 0/0 when absent. */
  uint64_t tarsplit_offset;
  uint64_t tarsplit_length;
  uint64_t tarsplit_uncompressed_length;
  /* eStargz: uncompressed size of the layer, from the annotation; 0 when
   * not given. */
  uint64_t uncompressed_size;
};

struct toc
{
  enum toc_format format;
  struct toc_location loc;
  uint64_t blob_size; /* as given to toc_parse */
  /* zstd:chunked: the TOC's tarSplitDigest (of the compressed tar-split);
   * "" when none. */
  char tarsplit_digest[DIGEST_STR_LEN + 1];
  /* In the order of the layer's tar stream. */
  struct toc_entry *entries;
  size_t n_entries;
  size_t *by_name; /* indexes into entries, sorted by name (toc_lookup) */
};

/* "zstd:chunked", "estargz", "none". */
const char *toc_format_name (enum toc_format f);

/* From the layer descriptor's annotations (the raw JSON object, or NULL).
 * Returns 1 with *loc filled when they mark a seekable layer, 0 when they do
 * not (loc->format TOC_NONE), -1 with *err when they are malformed.
 * zstd:chunked annotations give everything; eStargz ones give only the
 * digest (loc->length 0): the footer gives the offset (toc_locate_footer). */
int toc_locate_annotations (const char *annotations_json,
                            struct toc_location *loc, struct err **err);

/* From the blob's last bytes: tail holds its last n bytes (n <= blob_size;
 * fetch TOC_FOOTER_MAX of them). Returns 1 when a footer of either format
 * is found, 0 when none, -1 with *err when a footer is inconsistent (an
 * offset outside the blob, or a format or position that contradicts what
 * *loc already holds from the annotations). On entry, *loc is what the
 * annotations gave (zeroed when none); the footer fills in the rest
 * (offsets), and never replaces a digest the annotations gave. */
int toc_locate_footer (const uint8_t *tail, size_t n, uint64_t blob_size,
                       struct toc_location *loc, struct err **err);

/* Parse a TOC from its bytes as they sit in the blob: buf holds [loc->offset,
 * loc->offset + loc->length). Checks the digest when loc->digest is set,
 * decompresses, parses the JSON of loc->format, and checks every entry:
 * safe names, known types, chunk ranges inside the blob and before the TOC,
 * chunks covering each file exactly, sizes within reason. A clear error
 * ("toc: ...") on the first lie. */
struct toc *toc_parse (const struct toc_location *loc, const uint8_t *buf,
                       size_t len, uint64_t blob_size, struct err **err);

/* The same from the TOC's uncompressed JSON (tests, and callers that have
 * it already); loc gives the format and offsets, its digest is not checked
 * here. */
struct toc *toc_parse_json (const struct toc_location *loc, const char *json,
                            size_t len, uint64_t blob_size, struct err **err);

/* The entry for path (normalised as entry names are: "./a/b/", "/a/b" and
 * "a/b" are the same), or NULL. When a layer names a path twice, the last
 * entry (the one a tar extraction keeps). */
const struct toc_entry *toc_lookup (const struct toc *t, const char *path);

/* Iterate: for (i = 0; i < t->n_entries; i++) t->entries[i] ... */

void toc_free (struct toc *t);
static inline void
toc_freep (struct toc **t)
{
  toc_free (*t);
}
#define _cleanup_toc_ __attribute__ ((cleanup (toc_freep)))

/* Decompress one chunk: comp holds the blob's bytes [c->offset, c->end).
 * Writes c->size bytes to out, and checks the chunk's digest (when the TOC
 * gives one) before returning 0. -1 with *err when the bytes do not
 * decompress to what the TOC says (a lying offset or digest). */
int toc_chunk_decompress (const struct toc *t, const struct toc_chunk *c,
                          const uint8_t *comp, size_t comp_len, uint8_t *out,
                          struct err **err);

/* Receives a file's uncompressed content, in order. Returns 0, or -1 with
 * *err set to stop. */
typedef int (*toc_sink) (void *arg, const uint8_t *buf, size_t len,
                         struct err **err);

/* Decompress all of a regular file's content: comp holds the blob's bytes
 * [comp_offset, comp_offset + comp_len), which must cover every chunk's
 * range. Each chunk is checked before it goes to sink, and the whole file's
 * digest at the end: on -1 the caller discards what sink received (write to
 * a temporary file and publish it only on 0). */
int toc_entry_decompress (const struct toc *t, const struct toc_entry *e,
                          const uint8_t *comp, size_t comp_len,
                          uint64_t comp_offset, toc_sink sink, void *arg,
                          struct err **err);

/* zstd:chunked tar-split (the tar stream's headers and padding, so the
 * exact uncompressed tar, hence the diff_id, can be rebuilt from the TOC's
 * files). Receives, in tar order, either raw bytes to copy to the tar
 * (name NULL) or a file whose size bytes of content go next (name set,
 * raw NULL). */
typedef int (*toc_tarsplit_cb) (void *arg, const uint8_t *raw, size_t raw_len,
                                const char *name, uint64_t size,
                                struct err **err);

/* buf holds the blob's [loc.tarsplit_offset, + loc.tarsplit_length).
 * Checks its digest against the TOC's tarSplitDigest (refused when the TOC
 * has none), decompresses and calls cb for each record. */
int toc_tarsplit_walk (const struct toc *t, const uint8_t *buf, size_t len,
                       toc_tarsplit_cb cb, void *arg, struct err **err);

#endif
