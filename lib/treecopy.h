/* Copy a file or a directory tree from one directory fd to another, fd by
 * fd: every name below the top is opened with O_NOFOLLOW relative to its
 * parent, so a symlink in either tree is never followed (links are copied
 * as links), whatever the trees' roots are (a container's root, the
 * host's). Regular files go through copy_file_range; modes and mtimes are
 * kept; owners as asked (cp's rules). Sockets are skipped. */
#ifndef IMGTOOL_TREECOPY_H
#define IMGTOOL_TREECOPY_H

#include <stdbool.h>
#include <sys/types.h>

struct err;

enum treecopy_owner
{
  TREECOPY_OWNER_CALLER, /* what the caller creates is its own */
  TREECOPY_OWNER_KEEP,   /* the source's numeric uid/gid */
  TREECOPY_OWNER_SET,    /* uid/gid below */
};

struct treecopy_opts
{
  enum treecopy_owner owner;
  uid_t uid;
  gid_t gid;
};

/* Copy src_dir/src_name (not followed if a symlink: the caller resolves
 * the top, inside whatever root it is in) to dst_dir/dst_name. A
 * directory is merged into an existing one (a non-directory there is an
 * error); a non-directory replaces what is there unless that is a
 * directory. */
int treecopy (int src_dir, const char *src_name, int dst_dir,
              const char *dst_name, const struct treecopy_opts *o,
              struct err **err);

/* Copy the entries of the directory src_fd into dst_fd. */
int treecopy_contents (int src_fd, int dst_fd, const struct treecopy_opts *o,
                       struct err **err);

#endif
