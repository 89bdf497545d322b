/* The store: an OCI image layout plus imgtool's working directories.
 *
 *   <root>/oci/            OCI image layout (oci-layout, index.json,
 *                          blobs/sha256/<hex>); skopeo and umoci read it
 *   <root>/snapshots/      unpacked layers by chain ID (layers/snapshot.c)
 *   <root>/containers/     one directory per container (runtime/)
 *   <root>/tmp/            partial downloads and temp files (same fs, so
 *                          rename() into place is atomic)
 *   <root>/lock            flock for index.json changes
 *
 * Blobs are immutable, written temp -> fsync -> rename after their digest is
 * verified, so a crash at any point leaves a usable store. References are
 * index.json entries annotated org.opencontainers.image.ref.name with the
 * full normalised reference ("docker.io/library/alpine:latest"). */
#ifndef IMGTOOL_STORE_H
#define IMGTOOL_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "layers/digest.h"

struct err;

#define STORE_REF_ANNOTATION "org.opencontainers.image.ref.name"

struct store
{
  char *root;
  int root_fd;
  int blobs_fd; /* oci/blobs/sha256 */
  int tmp_fd;
};

/* Open (creating if needed) the store at root. */
int store_open (struct store *s, const char *root, struct err **err);
void store_release (struct store *s);

/* Absolute path of a blob (whether it exists or not). Caller frees. */
char *store_blob_path (struct store *s, const char *digest);
bool store_has_blob (struct store *s, const char *digest);
/* Size of a stored blob, or -1 if it is not there. */
int64_t store_blob_size (struct store *s, const char *digest);
/* Open a blob for reading (O_RDONLY|O_CLOEXEC). */
int store_blob_open (struct store *s, const char *digest, struct err **err);
/* Read a whole (small) blob, verifying its digest. */
int store_blob_read (struct store *s, const char *digest, size_t max,
                     char **out, size_t *len, struct err **err);
/* Store a buffer as a blob. With expect != NULL the content must hash to
 * it. *out_digest (if not NULL) receives the digest; caller frees. */
int store_blob_put (struct store *s, const void *data, size_t len,
                    const char *expect, char **out_digest, struct err **err);

/* A streaming blob writer. With an expected digest the temp file is
 * tmp/<hex>.partial and survives a kill: the next writer for the same
 * digest rehashes it and continues from its end (resumable downloads).
 * The writer holds an flock on the partial file, so two writers of one
 * digest never interleave: the second waits for the first.
 *
 * Returns 0 with *out set; 1 when the blob is already stored (*out NULL:
 * it was there, or the writer we waited for stored it); -1 on error. */
struct blob_writer;

int store_blob_begin (struct store *s, const char *expect,
                      struct blob_writer **out, struct err **err);
/* The same without waiting: 2 (*out NULL) when another writer holds the
 * digest's partial file right now. expect must not be NULL. */
int store_blob_try_begin (struct store *s, const char *expect,
                          struct blob_writer **out, struct err **err);
/* Bytes already in the temp file (a resume point), 0 for a new one. */
uint64_t blob_writer_offset (const struct blob_writer *w);
int blob_writer_write (struct blob_writer *w, const void *data, size_t len,
                       struct err **err);
/* Write what follows with O_DIRECT: for a large blob made locally (a
 * layer) that must reach the disk before the commit anyway. Past its
 * first MiB, an I/O thread writes it from a page-aligned ring to the disk
 * without a page cache copy, while the caller goes on (blob_writer_write
 * then only copies into the ring); a small blob is written buffered at
 * the commit. Only on a new, empty writer; where the file system refuses
 * O_DIRECT, writes stay buffered. */
void blob_writer_direct (struct blob_writer *w);
/* Out of order (parts of a blob fetched at once, registry/blobpar.c):
 * write bytes at off, past the writer's offset, unhashed; then
 * blob_writer_absorb takes the file's bytes from the offset up to end into
 * the digest (and hands them to fn, if set, in order), so the digest is
 * still the joined whole's. Not with blob_writer_direct. */
int blob_writer_pwrite (struct blob_writer *w, uint64_t off, const void *data,
                        size_t len, struct err **err);
int blob_writer_absorb (struct blob_writer *w, uint64_t end,
                        int (*fn) (void *ctx, const void *data, size_t len,
                                   struct err **err),
                        void *ctx, struct err **err);
/* Start over (the server ignored a Range request). */
int blob_writer_reset (struct blob_writer *w, struct err **err);
/* Verify against the expected digest (if any), fsync and rename into
 * blobs/. On a mismatch nothing is kept and an error names both digests.
 * Frees w in every case. */
int store_blob_commit (struct store *s, struct blob_writer *w,
                       char **out_digest, struct err **err);
/* Give up: the partial file is kept (for a resume) when keep is true and
 * a digest was expected, removed otherwise. Frees w. */
void store_blob_abort (struct blob_writer *w, bool keep);

/* A descriptor as stored in index.json or a manifest. */
struct store_ref
{
  char *name; /* full normalised reference */
  char *media_type;
  char *digest;
  int64_t size;
};
void store_ref_release (struct store_ref *r);
void store_refs_free (struct store_ref *refs, size_t n);

/* Point name at a manifest or index (replacing what it pointed to). */
int store_ref_set (struct store *s, const char *name, const char *media_type,
                   const char *digest, int64_t size, struct err **err);
/* Look a reference up. Returns 0 and fills *out, 1 if it is not there, -1
 * on error. */
int store_ref_get (struct store *s, const char *name, struct store_ref *out,
                   struct err **err);
/* Remove a reference. Returns 0, 1 if it was not there, -1 on error. */
int store_ref_remove (struct store *s, const char *name, struct err **err);
/* Every reference, in index.json order. */
int store_ref_list (struct store *s, struct store_ref **out, size_t *n,
                    struct err **err);

#endif
