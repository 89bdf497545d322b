/* A layer served before its blob is in the store (lazy start): the tree
 * and metadata come from the layer's table of contents at once, a file's
 * contents are fetched on its first read, decompressed, checked against
 * the TOC's content digest and only then cached and served.
 *
 * Independent of FUSE (service/lazyfs.c serves it) and of the transport:
 * compressed bytes come through a fetch callback ("bytes [off, off+len) of
 * the blob"), a Range request against a registry or a local file.
 *
 * Overlay's view: a TOC entry ".wh.NAME" is NAME as a whiteout (a char
 * device 0/0), ".wh..wh..opq" makes its directory opaque (the xattr
 * trusted.overlay.opaque "y"), as layers/apply.c writes a snapshot.
 *
 * Cached contents are O_TMPFILE files in the store's tmp/: nothing of them
 * outlives the process, so a kill leaves nothing half-written. */
#ifndef IMGTOOL_LAZY_H
#define IMGTOOL_LAZY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

struct err;

struct toc;

/* Fill buf with the blob's bytes [off, off+len). Returns 0, or -1 with
 * *err set. */
typedef int (*lazy_fetch_fn) (void *arg, uint64_t off, uint64_t len,
                              uint8_t *buf, struct err **err);

struct lazy_layer;

/* The layer of TOC t (the layer keeps t and frees it). tmp_fd: a
 * directory for the cache (O_TMPFILE files). A TOC the tree cannot be
 * made from (a file below a file, a hardlink to nothing) is an error. */
struct lazy_layer *lazy_layer_new (struct toc *t, int tmp_fd,
                                   lazy_fetch_fn fetch, void *fetch_arg,
                                   struct err **err);
void lazy_layer_free (struct lazy_layer *l);

/* Inodes: 1 is the root directory (FUSE's FUSE_ROOT_ID). */
#define LAZY_ROOT_INO 1
/* The child called name of directory ino: its inode, or 0. */
uint64_t lazy_lookup (const struct lazy_layer *l, uint64_t dir,
                      const char *name);
/* An inode's attributes; false when there is no such inode. */
bool lazy_stat (const struct lazy_layer *l, uint64_t ino, struct stat *st);
const char *lazy_readlink (const struct lazy_layer *l, uint64_t ino);
/* The opaque mark of a directory (overlay's trusted.overlay.opaque). */
bool lazy_opaque (const struct lazy_layer *l, uint64_t ino);
/* The i-th entry of directory ino (sorted by name): false past the end. */
bool lazy_dirent (const struct lazy_layer *l, uint64_t ino, size_t i,
                  const char **name, uint64_t *child);
/* A descriptor of the file's checked contents (fetched on the first
 * call; the layer keeps it: do not close). Thread-safe: one fetch per
 * file at a time. A fetch or digest failure is -1 with *err set, and the
 * next call tries again. */
int lazy_content_fd (struct lazy_layer *l, uint64_t ino, struct err **err);
/* Path of an inode in the layer ("etc/passwd"); caller frees. */
char *lazy_path (const struct lazy_layer *l, uint64_t ino);
/* How many files have had their contents fetched (tests, progress). */
size_t lazy_fetched_files (const struct lazy_layer *l);

#endif
