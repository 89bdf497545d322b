/* Push: an image (a manifest, or an index with its manifests) from local
 * files to a registry, as `imgtool push` and `imgtool copy` need it.
 *
 *   read the top document; from an index, every manifest (--all) or the
 *     one for the platform (default: the host's, as skopeo and podman do)
 *   upload configs and layers concurrently (registry/upload.c), mounting
 *     blobs known to be in another repository of the same registry
 *   PUT the manifests byte-for-byte as stored (by digest), then the top
 *     document by tag; the registry's Docker-Content-Digest must be ours
 *   record the repository as a source of every blob (registry/sources.h)
 *
 * Foreign (non-distributable) layers the source lacks are not pushed, as
 * docker does. */
#ifndef IMGTOOL_REG_PUSH_H
#define IMGTOOL_REG_PUSH_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct err;
struct store;

/* Where the image's documents and blobs are read from: the store, an OCI
 * layout directory, a scratch store. */
struct reg_push_source
{
  void *ctx;
  /* The file holding the blob, or NULL when the source lacks it. */
  char *(*blob_path) (void *ctx, const char *digest);
};

/* A source over a store. */
struct reg_push_source reg_push_source_store (struct store *s);

struct reg_push_opts
{
  const char *config_path; /* NULL: default config file */
  bool no_tls_verify;      /* --tls-verify=false */
  const char *cert_dir;    /* --cert-dir */
  int jobs;                /* concurrent uploads; 0: default (4) */
  int64_t chunk_size;      /* --chunk-size; 0: one PUT per blob */
  bool all;                /* an index and all its manifests */
  const char *platform;    /* from an index without all; NULL: the host */
  bool quiet;              /* no progress */
  FILE *out;               /* progress lines; NULL: stdout */
  struct store *hints;     /* blob sources to read and record, or NULL */
  const char *mount_from;  /* a repository of the destination's registry
                              that has every blob (copy), or NULL */
};

struct reg_push_result
{
  char *name;      /* the destination, normalised */
  char *reference; /* its tag, or the digest when pushed by digest */
  char *digest;    /* what the reference now points at */
  char *media_type;
  int64_t size;
  size_t pushed, mounted, existed; /* blobs */
};

int reg_push (const struct reg_push_source *src, const char *top_digest,
              const char *top_media_type, const char *dest,
              const struct reg_push_opts *o, struct reg_push_result *out,
              struct err **err);
void reg_push_result_release (struct reg_push_result *r);

#endif
