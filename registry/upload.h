/* Concurrent blob uploads to a registry (curl multi, --jobs N), as the
 * distribution spec's push flow says (reference/distribution.md §4):
 *
 *   HEAD /v2/NAME/blobs/D          200: the registry has it, nothing to do
 *                                  (a HEAD that fails for a network reason
 *                                  is retried, never taken for "missing")
 *   POST .../uploads/?mount=D&from=OTHER   when the blob is known to be in
 *                                  another repository of the same registry:
 *                                  201 mounted; 202 an ordinary upload
 *                                  session instead (continue with it); any
 *                                  refusal falls back to a plain POST
 *   POST .../uploads/              202 + Location (+ OCI-Chunk-Min-Length)
 *   PUT LOCATION?digest=D          the whole blob (default), or
 *   PATCH LOCATION + Content-Range  chunks (--chunk-size, a registry's
 *                                  minimum, or a 413 on the single PUT),
 *                                  closed by an empty PUT ?digest=D
 *
 * The Location is opaque: resolved against the URL that sent it, the
 * latest one always used, &digest= appended when it has a query. A body
 * request that breaks (connection, 5xx, 429, 416) is not resent blindly:
 * the upload's status (GET LOCATION -> 204 + Range) says how much the
 * registry holds and the upload continues from there; an upload the
 * registry forgot (404) starts again from the POST. A 401 gets a new token
 * and the request again. On failure every open upload is DELETEd. */
#ifndef IMGTOOL_REG_UPLOAD_H
#define IMGTOOL_REG_UPLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct err;
struct progress;
struct reg_repo;

enum reg_upload_result
{
  UPLOAD_PENDING,
  UPLOAD_EXISTS,  /* the registry had it */
  UPLOAD_MOUNTED, /* mounted from another repository */
  UPLOAD_PUSHED,  /* uploaded */
};

struct reg_upload_job
{
  const char *digest;
  int64_t size;
  const char *path;        /* the file holding the blob's bytes */
  char *const *mount_from; /* repositories of this registry known to have
                              it (NULL-terminated), or NULL */
  /* out: */
  enum reg_upload_result result;
  char *mounted_from; /* the repository it was mounted from */
};

struct reg_upload_opts
{
  int jobs;           /* uploads at once; <1: 1 */
  int64_t chunk_size; /* > 0: chunked PATCH uploads of this size */
  int retries;        /* broken requests retried per blob; <0: 3 */
};

/* Upload the jobs' blobs to repo, at most o->jobs at once. The repository
 * must have been asked for "pull,push" (and the mount sources' "pull"). */
int reg_blobs_upload (struct reg_repo *repo, struct reg_upload_job *jobs,
                      size_t n, const struct reg_upload_opts *o,
                      struct progress *p, struct err **err);
void reg_upload_job_release (struct reg_upload_job *j);

struct http_response;
/* What a refused request means for a push: "denied: requested access to
 * the resource is denied" (credentials were used, the account lacks the
 * right), "unauthorized: authentication required (...)" (none were), else
 * the registry's own error ("400 bad request: manifest invalid"). */
char *upload_error_text (struct reg_repo *repo,
                         const struct http_response *resp);

/* --- pure pieces (unit-tested) --- */

/* The next upload URL: a Location (absolute or relative) resolved against
 * the URL of the request that answered it. NULL when it cannot be. */
char *upload_location (const char *request_url, const char *location);
/* url with "digest=D" added to its query ("?" or "&"). */
char *upload_url_with_digest (const char *url, const char *digest);
/* A Range header of an upload ("0-N", "bytes=0-N"): the number of bytes
 * the registry holds (N + 1), 0 for none or "0-0"... see the .c; -1 when
 * malformed. */
int64_t upload_range_parse (const char *range);
/* The next chunk from offset of a size-byte blob: its length, the chunk
 * size raised to the registry's minimum (except for the last chunk). */
int64_t upload_chunk_len (int64_t size, int64_t offset, int64_t chunk_size,
                          int64_t min_len);

#endif
