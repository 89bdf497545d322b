/* Regular files of a layer written by worker threads (layers/apply.c):
 * the tar stream is read, inflated and hashed by one thread, and small
 * files are created, filled and given their metadata by others, so the
 * file system's per-file work (on ext4, mostly inode allocation) overlaps
 * the reading and runs for several directories at once. All the files of
 * one directory go to one worker, in the layer's order (a directory's
 * creations are serialized by the kernel anyway). The caller decides what
 * may be queued and drains the queue where the order matters (hard links,
 * names made twice, whiteouts of the layer's own names, the end). */
#ifndef IMGTOOL_APPLYQ_H
#define IMGTOOL_APPLYQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct err;
struct applyq;
struct applyq_job;

/* A directory fd shared by the reader and the queued files: closed when
 * the last holder lets go. */
struct applyq_dir;
struct applyq_dir *applyq_dir_new (int fd);
int applyq_dir_fd (const struct applyq_dir *d);
void applyq_dir_put (struct applyq_dir *d);

/* nthreads workers; at most max_bytes of file data queued at once. NULL
 * if no thread could be started (the caller then writes files itself). */
struct applyq *applyq_new (unsigned nthreads, size_t max_bytes);
/* Waits for every worker and frees q. */
void applyq_free (struct applyq *q);

/* A file to create as dir/base (path is for messages): mode, owner (when
 * chown), times; size bytes of data follow through applyq_job_data. */
struct applyq_job *applyq_job_new (struct applyq_dir *dir, const char *base,
                                   const char *path, uint32_t mode, bool chown,
                                   uint32_t uid, uint32_t gid,
                                   struct timespec mtime, uint64_t size);
void applyq_job_xattr (struct applyq_job *j, const char *name,
                       const void *value, size_t len);
void applyq_job_data (struct applyq_job *j, const void *buf, size_t len);
/* Queue j (taken over). Fails with a worker's error, once one failed. */
int applyq_submit (struct applyq *q, struct applyq_job *j, struct err **err);
void applyq_job_free (struct applyq_job *j);

/* Wait until every queued file is written: 0, or -1 with the first
 * worker's error. */
int applyq_drain (struct applyq *q, struct err **err);

#endif
