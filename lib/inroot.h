/* A path resolved inside a root as openat2(RESOLVE_IN_ROOT) resolves it
 * (".." stops at the root, an absolute symlink starts again from it, at
 * most 40 links), over a view of that root given as two callbacks. For
 * roots the kernel cannot walk by itself (an image's layer stack, read
 * without mounting it) and for callers that want the resolved name (a
 * COPY destination that does not exist yet). */
#ifndef IMGTOOL_INROOT_H
#define IMGTOOL_INROOT_H

#include <stdbool.h>
#include <sys/stat.h>
#include <sys/types.h>

struct err;

/* rel is relative to the root ("usr/bin"), never empty, and no component
 * before its last is a symlink. Both return -1 with errno on failure. */
struct inroot_view
{
  int (*lstat) (void *data, const char *rel, struct stat *st);
  ssize_t (*readlink) (void *data, const char *rel, char *buf, size_t size);
  void *data;
};

/* The view of a directory open at *root_fd (fstatat/readlinkat). */
struct inroot_view inroot_fd_view (const int *root_fd);

/* Resolve path (absolute, in the root) following every symlink within the
 * root. *out is the resolved absolute path (lexically clean, "/" for the
 * root); *exists and *is_dir tell what is there. A missing component ends
 * the resolution (the rest is kept as written). Errors: a symlink loop
 * (ELOOP), a non-directory with components after it (ENOTDIR), a failed
 * lstat or readlink; messages say "resolve 'PATH' in the image". */
int inroot_resolve (const struct inroot_view *v, const char *path, char **out,
                    bool *exists, bool *is_dir, struct err **err);

#endif
