/* An OCI image layout directory other than the store (`copy oci:DIR:TAG`):
 * oci-layout, index.json, blobs/sha256/<hex>. References are index.json
 * entries whose org.opencontainers.image.ref.name is the tag, as skopeo
 * and umoci write them. Blobs are written temp -> fsync -> rename. */
#ifndef IMGTOOL_OCIDIR_H
#define IMGTOOL_OCIDIR_H

#include <stdbool.h>
#include <stdint.h>

#include "layers/store.h"

struct err;

struct ocidir
{
  char *path;
  int fd;
  int blobs_fd; /* blobs/sha256 */
};

/* Open a layout; with create, make it (and its oci-layout and an empty
 * index.json) if missing. */
int ocidir_open (struct ocidir *d, const char *path, bool create,
                 struct err **err);
void ocidir_release (struct ocidir *d);

/* Absolute path of a blob the layout has, or NULL. Caller frees. */
char *ocidir_blob_path (struct ocidir *d, const char *digest);
/* The entry named tag; tag NULL: the only entry there is. */
int ocidir_find (struct ocidir *d, const char *tag, struct store_ref *out,
                 struct err **err);
/* Put the file at src (already verified as digest) in the layout, by a
 * hard link when it can, else by a copy. */
int ocidir_put_file (struct ocidir *d, const char *digest, const char *src,
                     struct err **err);
/* Point tag at a document (replacing an entry of the same tag). */
int ocidir_set_ref (struct ocidir *d, const char *tag, const char *media_type,
                    const char *digest, int64_t size, struct err **err);

#endif
