/* Safe file operations: fd-relative, O_CLOEXEC, atomic replace, locks.
 * Every function takes struct err ** last and returns 0/-1 (or an fd). */
#ifndef IMGTOOL_FS_H
#define IMGTOOL_FS_H

#include <stddef.h>
#include <sys/types.h>

struct err;

/* write(2)/read(2) loops that retry EINTR and short transfers.
 * fs_write_all returns 0 or -1 with errno set; fs_read_full returns the
 * number of bytes read (less than len only at EOF) or -1. */
int fs_write_all (int fd, const void *buf, size_t len);
ssize_t fs_read_full (int fd, void *buf, size_t len);

/* One message on a unix socket with an fd attached (SCM_RIGHTS; fd -1
 * sends none). fs_send_fd returns 0 or -1 with errno set (never SIGPIPE);
 * fs_recv_fd returns the message's length (0 at EOF) or -1 with errno,
 * and the fd that came with it in *fd (O_CLOEXEC), or -1. */
int fs_send_fd (int sock, const void *buf, size_t len, int fd);
ssize_t fs_recv_fd (int sock, void *buf, size_t len, int *fd);

/* Read a whole file (at most max bytes, else EFBIG) into a NUL-terminated
 * buffer. dirfd may be AT_FDCWD. */
int fs_read_file (int dirfd, const char *path, size_t max, char **out,
                  size_t *len, struct err **err);

/* Read everything left in fd (at most max bytes, else EFBIG) into a
 * NUL-terminated buffer. */
int fs_read_fd (int fd, size_t max, char **out, size_t *len, struct err **err);

/* Read fd to its end in 1 MiB pieces, handing each to sink (which
 * returns 0, or -1 with *err set to stop). *total (if not NULL) counts
 * the bytes read. A read error is "read: <errno text>". */
int fs_read_each (int fd,
                  int (*sink) (void *ctx, const void *buf, size_t len,
                               struct err **err),
                  void *ctx, size_t *total, struct err **err);

/* Replace path atomically: write a temp file beside it, fsync, rename over,
 * fsync the directory. Readers see the old or the new file, never a part. */
int fs_write_file_atomic (int dirfd, const char *path, const void *data,
                          size_t len, mode_t mode, struct err **err);

/* The same without the two fsyncs (each 0.2-15 ms on a busy disk): readers
 * still see the old or the new file, never a part, but after a crash path
 * may hold the old file, nothing, or a truncated one (a new file's data
 * may not have reached the disk).
 *
 * The rule: fsync (fs_write_file_atomic) what a crash must not lose or
 * corrupt: blobs and index.json, credentials, caches whose content is
 * trusted without a check (the seccomp BPF cache), records of containers
 * that outlive the command. Write without it (fs_write_file_replace) what
 * a reader can do without or rebuilds: a cache that takes a damaged entry
 * for a miss (the build cache), the record of a --rm container (removed
 * when the container ends, and after a crash its process is gone anyway;
 * readers skip a record they cannot parse). */
int fs_write_file_replace (int dirfd, const char *path, const void *data,
                           size_t len, mode_t mode, struct err **err);

/* mkdir -p; existing directories are fine. */
int fs_mkdir_p (int dirfd, const char *path, mode_t mode, struct err **err);

/* rm -rf of dirfd/path without following symlinks or crossing into other
 * mounts. A missing path is not an error. */
int fs_rm_rf (int dirfd, const char *path, struct err **err);

/* fsync the directory that holds an entry, so a rename is durable. */
int fs_fsync_dir (int dirfd, const char *path, struct err **err);

/* Take an flock on dirfd/path (created if missing, mode 0600) and return
 * its fd; closing the fd releases the lock. op is LOCK_EX or LOCK_SH. */
int fs_lock (int dirfd, const char *path, int op, struct err **err);

/* fs_lock for a file that others may unlink or rename away while we wait
 * for its lock (partial downloads, per-object lock files): after locking,
 * the name must still be the inode we locked, else the new file at that
 * name is locked instead. op may include LOCK_NB: -2 (err untouched) when
 * the lock is held by someone else. Opened O_RDWR. */
int fs_lock_stable (int dirfd, const char *path, int op, struct err **err);

/* Open a directory (O_DIRECTORY|O_CLOEXEC|O_PATH-less) relative to dirfd. */
int fs_open_dir (int dirfd, const char *path, struct err **err);

/* fn on each entry of dirfd/path but . and .. (dirfd is then that
 * directory's), in readdir order; the first that returns non-zero stops
 * the walk and is returned. -1 with *err when it cannot be read. */
int fs_dir_each (int dirfd, const char *path,
                 int (*fn) (void *ctx, int dirfd, const char *name,
                            struct err **err),
                 void *ctx, struct err **err);

/* Open path inside the directory root_fd as if root_fd were "/": `..`
 * and symlinks (absolute or relative) can never leave it (openat2 with
 * RESOLVE_IN_ROOT|RESOLVE_NO_MAGICLINKS, Linux >= 5.6). flags are open(2)
 * flags (O_CLOEXEC is added); O_NOFOLLOW applies to the last component.
 * Returns the fd, or -1 with errno set (no struct err: callers decide
 * whether ENOENT is an error). */
int fs_open_in_root (int root_fd, const char *path, int flags, mode_t mode);

/* An output file that appears only when complete (save -o, export -o):
 * written into a temp file beside path, renamed over path by
 * fs_output_commit, removed by fs_output_abort. A path that exists and
 * is not a regular file (a symlink such as /dev/stdout, a device, a fifo)
 * is written into as it is, never replaced. o->fd is where to write. */
struct fs_output
{
  const char *path;
  char *tmp; /* NULL when writing into path itself */
  int fd;
};
int fs_output_open (struct fs_output *o, const char *path, struct err **err);
int fs_output_commit (struct fs_output *o, struct err **err);
/* Close, and remove the temp file. Safe after commit and on a zeroed o
 * with fd -1. */
void fs_output_abort (struct fs_output *o);

#endif
