/* A lazily pulled layer (layers/lazy.h) served through FUSE by the
 * monitor itself: the kernel's requests are answered on a thread of this
 * process, reads of contents not fetched yet on worker threads (a slow
 * fetch blocks only its reader). Mounted read-only with allow_other (the
 * container's users are not the monitor's), default_permissions (the
 * kernel checks the TOC's modes), nosuid and nodev; docs/security.md.
 *
 * A failed fetch is EIO for the reader and one message through on_error
 * (the monitor puts it where the container's user sees it). */
#ifndef IMGTOOL_LAZYFS_H
#define IMGTOOL_LAZYFS_H

struct err;
struct lazy_layer;
struct lazyfs;

typedef void (*lazyfs_error_fn) (void *arg, const char *msg);

/* Mount l at the directory mnt and serve it from threads of this process
 * until it ends (then the mount is dead until someone detaches it). */
int lazyfs_start (struct lazy_layer *l, const char *mnt,
                  lazyfs_error_fn on_error, void *arg, struct lazyfs **out,
                  struct err **err);

#endif
