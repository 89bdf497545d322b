/* The size of a tree, as docker counts a container's writable layer
 * (SizeRw): the bytes of every file that is not a directory, a file with
 * several links counted once. */
#ifndef IMGTOOL_DU_H
#define IMGTOOL_DU_H

#include <stdint.h>

/* dirfd/path, not following symlinks; what cannot be read counts 0. */
int64_t fs_tree_size (int dirfd, const char *path);

#endif
