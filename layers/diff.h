/* Overlay upper dir -> OCI layer (what BuildKit's overlay differ does; see
 * reference/image.md section 7).
 *
 * The upper dir of a finished build step is walked depth first, the names
 * of each directory in byte order, and written as a deterministic tar:
 *   - a whiteout (char device 0/0) becomes parent/.wh.NAME, but only when
 *     NAME exists in the merged lower dirs; otherwise nothing is written;
 *   - an opaque directory (trusted.overlay.opaque or user.overlay.opaque =
 *     "y") that exists as a directory below is written followed by
 *     DIR/.wh..wh..opq (OCI's opaque whiteout), before its own children. We
 *     chose the opaque marker over one whiteout per lower child because a
 *     child directory recreated inside the opaque dir would otherwise keep
 *     the lower copy's contents when the layer is applied; the marker hides
 *     the whole lower subtree in one entry, and every consumer must accept
 *     it (image-spec layer.md);
 *   - a directory that overlay copied up only because something below it
 *     changed (same mode, uid and gid as below, not opaque) is written only
 *     when some entry below it is, as a parent before its children;
 *   - overlay's own xattrs are never written; a redirect or metacopy xattr
 *     (upper dir made with redirect_dir=on or metacopy=on) is an error,
 *     since the upper dir then does not hold the change by itself.
 * Lower dirs are in overlay lowerdir form (whiteouts as 0/0 char devices,
 * opaque xattrs), top-most first, as in the mount's lowerdir= option. The
 * overlay must not be mounted (or at least not written) during the diff. */
#ifndef IMGTOOL_DIFF_H
#define IMGTOOL_DIFF_H

#include "layers/tarfs.h"
#include "layers/tarwriter.h"

struct err;
struct store;

/* Entries of the upper dir that are not changes of their own, left out
 * with everything below them: the mount points a runtime made there
 * (commit: runtime/rootfs.h, rt_rootfs_made_by_runtime). fn gets the
 * entry as dirfd/name, its tar path ("etc/hosts") and its lstat. */
struct layer_diff_skip
{
  bool (*fn) (void *ctx, int dirfd, const char *name, const char *path,
              const struct stat *st);
  void *ctx;
};

/* Write the layer to sink. lower_dirs is NULL-terminated (may be NULL);
 * skip may be NULL. */
int layer_diff_to_sink (int upper_fd, char *const *lower_dirs,
                        const struct layer_opts *o,
                        const struct layer_diff_skip *skip,
                        const struct layer_sink *sink, struct layer_result *out,
                        struct err **err);

/* The same walk as a list of changes, as docker diff shows them (moby
 * pkg/archive/changes.go): fn gets 'A' (new), 'C' (changed: a file that
 * exists below, or a directory whose mode or owner changed or above a new
 * or deleted entry) or 'D' (a whiteout, an opaque directory) and the
 * absolute path, depth first with each directory's names in byte order
 * (whiteouts sorted as ".wh." names: callers sort). What skip (may be
 * NULL) says is not the container's is left out, and brings no parent
 * along. */
typedef void (*layer_change_fn) (void *data, char kind, const char *path);
int layer_changes (int upper_fd, char *const *lower_dirs,
                   const struct layer_diff_skip *skip, layer_change_fn fn,
                   void *data, struct err **err);

/* Write the layer into the store as a new blob; out->digest names it. */
int layer_diff (int upper_fd, char *const *lower_dirs,
                const struct layer_opts *o, const struct layer_diff_skip *skip,
                struct store *s, struct layer_result *out, struct err **err);

#endif
