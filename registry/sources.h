/* Where blobs came from: for each blob the store holds, the registry
 * repositories ("host/path") known to have it, so that a push to another
 * repository of the same registry can mount it (POST ?mount=&from=)
 * instead of uploading it again.
 *
 *   <root>/sources/<hex>   one "domain/path" per line, newest first, at
 *                          most REG_SOURCES_MAX lines
 *
 * Pull records the repository it fetched from, push the one it pushed to.
 * It is a hint: a lost line costs an upload, a stale one a refused mount
 * (which falls back to an upload). */
#ifndef IMGTOOL_REG_SOURCES_H
#define IMGTOOL_REG_SOURCES_H

#include <stddef.h>

struct err;
struct store;

#define REG_SOURCES_MAX 8

/* Note that domain/repo has the blob digest. */
int reg_source_record (struct store *s, const char *digest, const char *domain,
                       const char *repo, struct err **err);
struct reg_blob_job;
/* After a pull from domain/repo: record it for each job's blob (errors
 * are only logged: the pull itself succeeded). */
void reg_sources_record_pull (struct store *s, const char *domain,
                              const char *repo, const struct reg_blob_job *jobs,
                              size_t n);

/* The repositories of domain known to have digest (NULL-terminated, maybe
 * empty); caller frees with strv_free. */
char **reg_source_lookup (struct store *s, const char *digest,
                          const char *domain);

#endif
