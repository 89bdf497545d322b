/* Filesystem objects into a layer tar: the part shared by the overlay
 * differ (layers/diff.c) and COPY/ADD (layers/copy.c). Turns a stat + path
 * into a struct tar_entry (numeric ids, whole-second mtime clamped to
 * SOURCE_DATE_EPOCH, xattrs sorted and filtered, hardlinks by dev+inode
 * with the first path carrying the data) and streams a file's bytes. */
#ifndef IMGTOOL_TARFS_H
#define IMGTOOL_TARFS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

#include "layers/tarwriter.h"

struct err;

/* Options shared by every way of making a layer. */
struct layer_opts
{
  enum layer_compression compression; /* builds use LAYER_GZIP unless
                                         told --compression */
  int level;                          /* 0 = the default level */
  bool clamp_mtime;                   /* clamp mtimes to source_date_epoch */
  int64_t source_date_epoch;
};

/* Ownership and mode changes applied to what is added (COPY --chown,
 * --chmod). */
struct tarfs_override
{
  bool chown;
  uint64_t uid, gid;
  bool chmod;
  uint32_t mode; /* 07777 bits */
};

struct tarfs_link;

struct tarfs
{
  struct tar_writer *tw;
  const struct layer_opts *opts;
  struct tarfs_link *links; /* open-addressing table dev+ino -> path */
  bool plain_names;         /* a file system's tar, not a layer (export):
                               a ".wh." name is a file like any other */
  size_t n_links, cap_links;
};

void tarfs_init (struct tarfs *t, struct tar_writer *tw,
                 const struct layer_opts *o);
void tarfs_release (struct tarfs *t);

/* The mtime to record for a file modified at sec. */
int64_t tarfs_mtime (const struct tarfs *t, int64_t sec);

/* Add dirfd/name (not followed if a symlink) as tar_path. st is its lstat.
 * Sockets are skipped (containerd does too). ov may be NULL. */
int tarfs_add (struct tarfs *t, int dirfd, const char *name,
               const struct stat *st, const char *tar_path,
               const struct tarfs_override *ov, struct err **err);

/* An OCI whiteout: an empty regular file, mode 0, owner 0:0, mtime 0 (as
 * containerd >= 2.0 writes it, independent of SOURCE_DATE_EPOCH). */
int tarfs_add_whiteout (struct tarfs *t, const char *tar_path,
                        struct err **err);

/* Is this xattr one that never goes into a layer (overlay's own, and
 * security.selinux, which is a property of the host)? */
bool tarfs_xattr_skipped (const char *name);

#endif
