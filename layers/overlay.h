/* Mounting a stack of snapshots with overlayfs. */
#ifndef IMGTOOL_OVERLAY_H
#define IMGTOOL_OVERLAY_H

#include <stdbool.h>

struct err;

/* Mount overlayfs on target: lower_dirs (NULL-terminated, top layer
 * first), and upper/work (both NULL for a read-only stack of lowers).
 * Any number of layers up to the kernel's limit (500) mounts: the new
 * mount API's "lowerdir+" takes one layer per call (Linux >= 6.8); older
 * kernels get mount(2) with /proc/self/fd/N names, short enough for ~200
 * layers in the one-page option string. index, redirect_dir and metacopy
 * are off, so an upper dir is a plain diff of the lowers (builder). One
 * lower dir without an upper is a read-only bind mount. Called
 * by the runtime inside the container's mount namespace. */
int layer_overlay_mount (char *const *lower_dirs, const char *upper,
                         const char *work, const char *target, bool readonly,
                         struct err **err);

#endif
