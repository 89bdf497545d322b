/* A push-style tar reader for layers: ustar, pax ('x' records: path,
 * linkpath, size, uid, gid, mtime, SCHILY.xattr.*) and GNU long names
 * ('L', 'K') and base-256 numbers. Bytes go in in any chunking; entries
 * and file data come out through callbacks. Sparse files, multi-volume
 * archives and unknown entry types are refused; global pax headers ('g')
 * are skipped (no layer writer uses them). Every size from a header is
 * checked before it is used. Names are passed on as written: cleaning
 * them is the caller's job (apply.c). */
#ifndef IMGTOOL_TAR_H
#define IMGTOOL_TAR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct err;

enum tar_type
{
  TAR_REG,
  TAR_HARDLINK,
  TAR_SYMLINK,
  TAR_CHR,
  TAR_BLK,
  TAR_DIR,
  TAR_FIFO,
};

struct tar_xattr
{
  char *name;
  char *value;
  size_t len;
};

struct tar_entry
{
  enum tar_type type;
  char *path;     /* as in the archive */
  char *linkpath; /* symlink target or hardlink target, else NULL */
  uint64_t size;  /* data bytes that follow (regular files only) */
  uint32_t mode;  /* permission bits, setuid/setgid/sticky included */
  uint32_t uid, gid;
  int64_t mtime;
  uint32_t mtime_nsec;
  uint32_t devmajor, devminor;
  struct tar_xattr *xattrs;
  size_t n_xattrs;
};

struct tar_callbacks
{
  /* A new entry; its data (if any) follows through data(). */
  int (*entry) (void *arg, const struct tar_entry *e, struct err **err);
  int (*data) (void *arg, const uint8_t *buf, size_t len, struct err **err);
  /* All of the entry's data was passed. */
  int (*entry_end) (void *arg, struct err **err);
};

struct tar_reader;

struct tar_reader *tar_reader_new (const struct tar_callbacks *cb, void *arg);
int tar_reader_feed (struct tar_reader *r, const uint8_t *buf, size_t len,
                     struct err **err);
/* End of input: an archive may end with its two zero blocks, or at an
 * entry boundary without them; anywhere else it was cut short. A pax or
 * GNU long-name header must have its entry after it (else an error, at
 * the zero blocks or here). */
int tar_reader_finish (struct tar_reader *r, struct err **err);
void tar_reader_free (struct tar_reader *r);

#endif
