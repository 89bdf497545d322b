/* A container's file system as one plain tar, as docker export writes it:
 * the merged view of its upper dir over its image's snapshots, read from
 * those directories themselves (never from the container's mount, so
 * nothing mounted into the container, a volume, bind or tmpfs, is in it;
 * a mount point is, as the directory or file the layers hold there).
 * Whiteouts and opaque directories hide what is below them, as overlayfs
 * does; nothing of overlay's own (whiteouts, its xattrs) is written.
 * Entries are written depth first, names in byte order, with their owners,
 * modes, mtimes (whole seconds) and xattrs as on disk; hardlinks within
 * the tree as links. The directories in empty_dirs ("proc", "sys") are
 * written without anything below them, and made (root's, 0755) when the
 * tree lacks them. The upper dir is opened step by step without
 * following symlinks: a running container may change it meanwhile. */
#ifndef IMGTOOL_EXPORT_H
#define IMGTOOL_EXPORT_H

struct err;
struct layer_sink;

/* upper_fd may be -1 (no writable layer); lower_dirs top first,
 * NULL-terminated, in overlay lowerdir form (snapshots). */
int layer_export (int upper_fd, char *const *lower_dirs,
                  char *const *empty_dirs, const struct layer_sink *sink,
                  struct err **err);

#endif
