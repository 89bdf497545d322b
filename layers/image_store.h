/* Images as the store holds them: a reference resolved through an index
 * (if any) to one manifest and its config, all read from verified blobs. */
#ifndef IMGTOOL_IMAGE_STORE_H
#define IMGTOOL_IMAGE_STORE_H

#include "layers/image.h"
#include "layers/store.h"

struct image
{
  char *name;       /* the store reference, NULL if loaded by digest */
  char *top_digest; /* what the reference points at */
  char *top_media_type;
  char *manifest_digest; /* the chosen platform's manifest */
  char *manifest_raw;
  size_t manifest_len;
  struct image_manifest manifest;
  char *config_raw;
  size_t config_len;
  struct image_config config;
};

/* Load the image a reference (or a manifest/index digest) points at.
 * From an index, the manifest for want (NULL: the host platform) is
 * chosen; it must be in the store. */
int image_load (struct store *s, const char *top_digest,
                const char *top_media_type, const struct platform *want,
                struct image *out, struct err **err);
int image_load_ref (struct store *s, const struct store_ref *ref,
                    const struct platform *want, struct image *out,
                    struct err **err);
void image_release (struct image *img);

/* Store an OCI image manifest for a stored config and layers (the images
 * build, load, import and commit make; a Docker gzip layer gets the OCI
 * media type). *digest (caller frees) and *size describe it. */
int image_store_manifest (struct store *s, const char *config_digest,
                          int64_t config_size, const struct descriptor *layers,
                          size_t n, char **digest, int64_t *size,
                          struct err **err);

/* Sum of the config and layer sizes (compressed, as docker shows). */
int64_t image_size (const struct image *img);

/* Every blob digest a document reaches (itself, manifests of an index that
 * are in the store, configs, layers), appended to *v. Missing children of
 * an index are skipped: a layout may hold only some platforms. */
int image_reachable_blobs (struct store *s, const char *digest, char ***v,
                           struct err **err);

/* The image manifests in the store whose config is one of configs,
 * whether a reference reaches them or not (an image untagged while a
 * container uses it), appended to *out: roots that keep an image's
 * blobs through store_gc. */
int image_manifests_of_configs (struct store *s, char *const *configs,
                                char ***out, struct err **err);

/* A shared lock held by every command that writes blobs before it sets a
 * ref (pull, build, copy), so that prune (which takes it exclusively)
 * never removes a blob that is about to be referenced. Returns the fd. */
int store_writer_guard (struct store *s, struct err **err);

/* Remove blobs that no reference reaches (through indexes, manifests,
 * configs and layers) and temp files older than a day. Extra roots (for
 * example the build cache) are passed by the caller. Reports what it
 * freed. */
int store_gc (struct store *s, char *const *extra_roots, uint64_t *freed_bytes,
              size_t *freed_blobs, struct err **err);

#endif
