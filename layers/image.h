/* OCI and Docker image documents: index/manifest list, manifest, config,
 * and platform choice. Pure parsing, no I/O: the bytes come from the
 * registry or the store, and their digest is checked by the caller.
 * The raw bytes are the identity of a document: never re-serialise one
 * that came from elsewhere. */
#ifndef IMGTOOL_IMAGE_H
#define IMGTOOL_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct err;

#define MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MT_OCI_CONFIG "application/vnd.oci.image.config.v1+json"
#define MT_OCI_LAYER "application/vnd.oci.image.layer.v1.tar"
#define MT_OCI_LAYER_GZIP "application/vnd.oci.image.layer.v1.tar+gzip"
#define MT_OCI_LAYER_ZSTD "application/vnd.oci.image.layer.v1.tar+zstd"
#define MT_DOCKER_LIST                                                         \
  "application/vnd.docker.distribution.manifest.list.v2+json"
#define MT_DOCKER_MANIFEST                                                     \
  "application/vnd.docker.distribution.manifest.v2+json"
#define MT_DOCKER_CONFIG "application/vnd.docker.container.image.v1+json"
#define MT_DOCKER_LAYER_GZIP "application/vnd.docker.image.rootfs.diff.tar.gzip"
#define MT_DOCKER_LAYER_FOREIGN                                                \
  "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"
#define MT_DOCKER_SCHEMA1 "application/vnd.docker.distribution.manifest.v1+json"
#define MT_DOCKER_SCHEMA1_SIGNED                                               \
  "application/vnd.docker.distribution.manifest.v1+prettyjws"

/* The Accept header for manifest requests: all four types we read. */
#define MANIFEST_ACCEPT                                                        \
  MT_OCI_INDEX ", " MT_OCI_MANIFEST ", " MT_DOCKER_LIST ","                    \
               " " MT_DOCKER_MANIFEST

/* Hard cap on a manifest's size (registries must serve >= 4 MiB). */
#define MANIFEST_MAX_SIZE (8u << 20)
/* Hard cap on a config's size. */
#define CONFIG_MAX_SIZE (32u << 20)

struct platform
{
  char *os;
  char *arch;
  char *variant; /* NULL when none */
  char *os_version;
};

struct descriptor
{
  char *media_type;
  char *digest;
  int64_t size;
  bool has_platform;
  struct platform platform;
  char *annotations_json; /* raw JSON object or NULL */
};

enum layer_compression
{
  LAYER_UNCOMPRESSED,
  LAYER_GZIP,
  LAYER_ZSTD,
  LAYER_UNKNOWN,
  /* Written only (--compression): seekable zstd and gzip (layers/toc.h). */
  LAYER_ZSTD_CHUNKED,
  LAYER_ESTARGZ,
};

enum doc_kind
{
  DOC_INDEX,    /* OCI index or Docker manifest list */
  DOC_MANIFEST, /* OCI or Docker schema2 manifest */
};

struct image_index
{
  char *media_type;
  struct descriptor *manifests;
  size_t n_manifests;
};

struct image_manifest
{
  char *media_type;
  struct descriptor config;
  struct descriptor *layers;
  size_t n_layers;
};

/* What a document is, from its Content-Type (may be NULL) and its body.
 * Schema1 and unknown types are errors that say so. */
int image_doc_kind (const char *content_type, const char *body, size_t len,
                    enum doc_kind *kind, char **media_type, struct err **err);

int image_index_parse (const char *body, size_t len, struct image_index *out,
                       struct err **err);
void image_index_release (struct image_index *ix);

int image_manifest_parse (const char *body, size_t len,
                          struct image_manifest *out, struct err **err);
void image_manifest_release (struct image_manifest *m);

void descriptor_release (struct descriptor *d);
void platform_release (struct platform *p);

enum layer_compression layer_compression_of (const char *media_type);

/* "linux/arm64/v8" -> platform, normalised (aarch64 -> arm64, x86_64 ->
 * amd64, arm64/v8 -> arm64, arm -> arm/v7 ...). */
int platform_parse (const char *s, struct platform *out, struct err **err);
/* The host's platform (uname), normalised. */
void platform_host (struct platform *out);
/* "linux/arm64/v8" */
char *platform_string (const struct platform *p);
void platform_normalize (struct platform *p);

/* Choose the manifest for want from an index (first match wins, as the
 * spec says; attestation entries never match; arm64 matches an entry with
 * variant v8 or none). On no match the error lists the platforms there. */
int image_index_choose (const struct image_index *ix,
                        const struct platform *want, size_t *chosen,
                        struct err **err);

/* The image config, as far as running and building need it. The raw JSON
 * stays in `json` for inspect and for the builder to extend. */
struct image_config
{
  void *json; /* json_t *: the whole document */
  char *os, *arch, *variant;
  char *user;
  char *working_dir;
  char **env;        /* NULL-terminated "K=V" */
  char **entrypoint; /* NULL when unset */
  char **cmd;        /* NULL when unset */
  char **diff_ids;   /* NULL-terminated */
  char *stop_signal;
  char **exposed_ports; /* "80/tcp" */
  char **volumes;
  char *created;
};

int image_config_parse (const char *body, size_t len, struct image_config *out,
                        struct err **err);
void image_config_release (struct image_config *c);

/* The chain ID of each layer (image.md §3), from the diff IDs:
 * chain[0] = diff[0]; chain[i] = sha256(chain[i-1] + " " + diff[i]).
 * Returns a NULL-terminated vector. */
char **image_chain_ids (char *const *diff_ids);

#endif
