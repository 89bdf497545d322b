/* Image archives: what `docker save` writes and `docker load` reads
 * (reference/archives.md), and OCI layouts in a tar.
 *
 * docker-archive, as docker 25 writes it: an OCI layout (oci-layout,
 * index.json, blobs/sha256/<hex>) plus manifest.json (Config, RepoTags,
 * Layers per image) and repositories. Layers are plain tars named by
 * their diff_id, so docker <= 24, docker 25+, podman and skopeo all read
 * it. oci-archive: an OCI layout in a tar, the images' blobs as stored.
 *
 * Both are read and written as streams (stdin, stdout, pipes): the reader
 * takes members in any order, unpacks each layer as it passes
 * (layers/ingest.h) and matches them to their images at the end; the
 * writer is layers/tarwriter.c. */
#ifndef IMGTOOL_ARCHIVE_H
#define IMGTOOL_ARCHIVE_H

#include <stddef.h>
#include <stdint.h>

struct err;
struct store;

enum archive_format
{
  ARCHIVE_DOCKER, /* docker-archive */
  ARCHIVE_OCI,    /* oci-archive */
};

/* "docker-archive" or "oci-archive" (podman's --format names). */
int archive_format_parse (const char *s, enum archive_format *out,
                          struct err **err);

/* One image to save: a stored manifest (or an index: the host's
 * platform) and the full references to record, none for an image asked
 * for by ID. */
struct archive_item
{
  char *digest;
  char *media_type;
  int64_t size;
  char **names; /* NULL-terminated; "docker.io/library/busybox:latest" */
};

/* Write the items to fd as one archive. Layers shared by several images
 * are written once. */
int archive_save (struct store *s, const struct archive_item *items, size_t n,
                  enum archive_format f, int fd, struct err **err);

/* One image an archive brought, in the store (blobs, snapshots and
 * manifest) but not yet named. */
struct archive_loaded
{
  char *image_id; /* config digest */
  char *manifest_digest;
  char *manifest_type;
  int64_t manifest_size;
  char **names; /* full references to point at it, NULL-terminated */
};

/* Read a docker-archive or oci-archive (plain, gzip or zstd) from fd to
 * its end. Every layer is checked against its config's diff_ids before
 * anything is named; on any error no image is left (blobs already
 * written stay unreferenced, as after a failed pull). */
int archive_load (struct store *s, int fd, struct archive_loaded **out,
                  size_t *n, struct err **err);
void archive_loaded_free (struct archive_loaded *v, size_t n);

#endif
