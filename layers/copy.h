/* COPY/ADD straight into a layer, without a container: files and trees
 * from the host (the build context, or another stage's snapshot), data
 * (COPY <<EOF) and directories are collected, then written as one
 * deterministic layer with the same tar writer as the overlay differ
 * (layers/tarfs.c): entries in the differ's order (depth first, names in
 * byte order), a later add of the same path replacing an earlier one.
 *
 * Destination paths are the final ones in the image, with every symlink
 * already resolved by the caller (COPY a /bin/ on an image where /bin is
 * a symlink must be given /usr/bin/a). Parent directories the image
 * lacks are added by the caller with layer_copy_add_dir (mkdir -p of a
 * missing dest); those it has are written as the image has them, from
 * the base given to layer_copy_set_base, as BuildKit's layers carry
 * them (without them overlay would show a 0755 root /tmp over the
 * image's 1777 one). */
#ifndef IMGTOOL_COPY_H
#define IMGTOOL_COPY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "layers/tarfs.h"
#include "layers/tarwriter.h"

struct err;
struct store;
struct layer_copy;

/* What a filter says about a source path (relative to the source dir
 * given to layer_copy_add_path, e.g. the context). */
enum layer_copy_filter
{
  LAYER_COPY_INCLUDE = 0,
  LAYER_COPY_EXCLUDE = 1,         /* not this one; a directory is still
                                     searched and written if anything
                                     below it is */
  LAYER_COPY_EXCLUDE_SUBTREE = 2, /* nothing at or below it */
};
typedef enum layer_copy_filter (*layer_copy_filter_fn) (void *ctx,
                                                        const char *path,
                                                        bool is_dir);

struct layer_copy *layer_copy_new (const struct layer_opts *o);
void layer_copy_free (struct layer_copy *c);

/* Add src_dirfd/src_path as dest. The source is resolved inside
 * src_dirfd as if it were the root (a symlink named as the source is
 * followed, but never out of src_dirfd). A file becomes dest; a directory
 * gives dest its mode and its contents go below dest (COPY's rule:
 * "the directory itself is not copied, only its contents"). Symlinks
 * inside the tree are copied as symlinks; hardlinks within one add stay
 * hardlinks. ov (may be NULL) changes owner and mode (--chown,
 * --chmod). */
int layer_copy_add_path (struct layer_copy *c, int src_dirfd,
                         const char *src_path, const char *dest,
                         const struct tarfs_override *ov,
                         layer_copy_filter_fn filter, void *filter_ctx,
                         struct err **err);
/* A file with this content (COPY <<EOF /dest). */
void layer_copy_add_data (struct layer_copy *c, const char *dest,
                          const void *data, size_t len, uint32_t mode,
                          uint64_t uid, uint64_t gid, int64_t mtime);
/* A directory (a parent to create, or WORKDIR). */
void layer_copy_add_dir (struct layer_copy *c, const char *dest, uint32_t mode,
                         uint64_t uid, uint64_t gid, int64_t mtime);

/* The stage's file system (a directory fd, dup'ed): each parent of an
 * added path that is not added itself is written with its owner, mode,
 * xattrs and mtime there; mtime is the step's time for a directory that
 * gets an entry right inside it (the step changed it). Without a base,
 * no parent is written. */
void layer_copy_set_base (struct layer_copy *c, int base_fd, int64_t mtime);

/* Write what was added. The collected sources are read now, so they must
 * still be there. */
int layer_copy_write (struct layer_copy *c, const struct layer_sink *sink,
                      struct layer_result *out, struct err **err);
int layer_copy_commit (struct layer_copy *c, struct store *s,
                       struct layer_result *out, struct err **err);

#endif
