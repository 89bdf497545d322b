/* overlayfs's on-disk form, as the differ (diff.c) and export (export.c)
 * read an upper dir and the snapshots below it: whiteouts are char
 * devices 0/0, and trusted.overlay.* or user.overlay.* xattrs mark opaque
 * directories, redirects and metadata-only copy-ups. Also a directory's
 * names in the byte order both write them. */
#ifndef IMGTOOL_OVL_H
#define IMGTOOL_OVL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

struct err;

static inline bool
ovl_is_whiteout (const struct stat *st)
{
  return S_ISCHR (st->st_mode) && st->st_rdev == 0;
}

enum
{
  OVL_OPAQUE = 1,
  OVL_REDIRECT = 2,
  OVL_METACOPY = 4,
};

/* Which overlay xattrs does dirfd/name carry (OVL_* bits)? what names it
 * in errors. A file system without xattrs has none. */
int ovl_xattrs (int dirfd, const char *name, const char *what, int *flags,
                struct err **err);

/* What the top-most of lowers (overlay lower dirs, top first; may be
 * NULL) that has name holds there: 'd' a directory, 'o' something else, 0
 * nothing (absent, or a whiteout). st gets its stat. */
char ovl_lower_kind (char *const *lowers, const char *name, struct stat *st);

/* "a" + "/" + "b", or "b" when dir is "". */
char *ovl_join (const char *dir, const char *name);

struct ovl_name
{
  char *name;
  char *key; /* the name the entry has in a layer tar: ".wh.NAME" for a
                whiteout, else name itself */
};

/* The names in directory fd (not "." or ".."), sorted by key in byte
 * order, so a tar is the same whatever order readdir gives and whiteouts
 * sort as the ".wh." files they become. */
int ovl_read_names (int fd, const char *what, struct ovl_name **out,
                    size_t *n_out, struct err **err);
void ovl_names_free (struct ovl_name *v, size_t n);

/* Open each of dirs (NULL-terminated, may be NULL) as a directory: the
 * fds in *fds (*n of them), or -1 with nothing left open. */
int ovl_open_dirs (char *const *dirs, int **fds, size_t *n, struct err **err);
void ovl_close_dirs (int *fds, size_t n);

#endif
