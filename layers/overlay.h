/* Mounting a stack of snapshots with overlayfs. */
#ifndef IMGTOOL_OVERLAY_H
#define IMGTOOL_OVERLAY_H

#include <stdbool.h>

struct err;

/* Flags of layer_overlay_mount (true, for callers that pass a bool, is
 * LAYER_OVERLAY_RDONLY). */
enum
{
  LAYER_OVERLAY_RDONLY = 1,
  /* The upper dir is thrown away when the mount goes (run --rm): overlay's
   * "volatile" skips every sync of the upper filesystem, among them the
   * journal commit each unmount waits for (~2 ms at a container's exit)
   * and fsync() inside the container. After a crash such an upper cannot
   * be mounted again, which nobody will. Ignored by kernels without it
   * (< 5.10). */
  LAYER_OVERLAY_VOLATILE = 2,
};

/* Mount overlayfs on target: lower_dirs (NULL-terminated, top layer
 * first), and upper/work (both NULL for a read-only stack of lowers).
 * Any number of layers up to the kernel's limit (500) mounts: the new
 * mount API's "lowerdir+" takes one layer per call (Linux >= 6.8); older
 * kernels get mount(2) with /proc/self/fd/N names, short enough for ~200
 * layers in the one-page option string. index, redirect_dir and metacopy
 * are off, so an upper dir is a plain diff of the lowers (builder). One
 * lower dir without an upper is a read-only bind mount. flags: the
 * LAYER_OVERLAY_* above. Called by the runtime inside the container's
 * mount namespace. */
int layer_overlay_mount (char *const *lower_dirs, const char *upper,
                         const char *work, const char *target, unsigned flags,
                         struct err **err);

#endif
