/* Pull: a reference from a registry into the store, as `imgtool pull`,
 * `run --pull` and the builder's FROM need it.
 *
 *   resolve the reference (mirrors first, then the registry itself):
 *     HEAD for the digest when the store already has the reference,
 *     GET the manifest (Accept: all four types), verified by digest when
 *     pulling by digest; its identity is the sha256 of the raw bytes
 *   choose the platform from an index (--platform, default the host)
 *   download the configs, then the layers concurrently (registry/blob.c),
 *   each layer watched by its unpack sink if the caller gave hooks
 *   store index + manifest, then point the reference at the top document
 *
 * On any failure the reference is untouched and no unverified blob is in
 * the store (verified layers and resumable partial files may stay). */
#ifndef IMGTOOL_REG_CLIENT_H
#define IMGTOOL_REG_CLIENT_H

#include <stdbool.h>
#include <stdio.h>

#include "layers/store.h"
#include "registry/blob.h"

struct err;
struct descriptor;
struct image_manifest;
struct image_config;

/* A layer of the image being pulled, as the unpack hooks see it. */
struct reg_layer
{
  const struct descriptor *desc;
  size_t index;         /* 0: the bottom layer */
  const char *diff_id;  /* from the image config */
  const char *chain_id; /* the snapshot it becomes */
};

/* Unpack while downloading (registry/unpack.h sets these). When exactly
 * one platform is pulled, the config is fetched first (it is small) so
 * the layers' chain IDs are known before they start; then sink_open is
 * called for each layer to be fetched, to watch its bytes (fill *out or
 * leave it empty for none); then, once every blob is in the store and
 * before the reference is set, layers_done (a failure fails the pull). */
typedef int (*reg_sink_open_fn) (void *ud, const struct reg_layer *layer,
                                 struct reg_blob_sink *out, struct err **err);
typedef int (*reg_layers_done_fn) (void *ud, const struct image_manifest *m,
                                   const struct image_config *c,
                                   struct err **err);

/* The signature policy's check (trust/pull.h sets it), called once the
 * documents are known and before any blob is fetched or stored: name is
 * the canonical reference, top the top document's digest, platform the
 * chosen manifest's (NULL when top is that manifest, or with every
 * platform). -1 refuses the pull. */
struct reg_repo;
typedef int (*reg_verify_fn) (void *ud, struct reg_repo *repo, const char *name,
                              const char *top, const char *platform,
                              struct err **err);

struct reg_pull_opts
{
  const char *config_path;        /* NULL: default config file */
  const char *platform;           /* "os/arch[/variant]"; NULL: the host's */
  bool all_platforms;             /* every manifest of an index */
  bool no_tls_verify;             /* --tls-verify=false */
  const char *cert_dir;           /* --cert-dir */
  int jobs;                       /* concurrent downloads; 0: default (4) */
  bool quiet;                     /* no progress */
  FILE *out;                      /* progress and status lines; NULL: stdout */
  reg_sink_open_fn sink_open;     /* NULL: none */
  reg_layers_done_fn layers_done; /* NULL: none */
  void *sink_ud;
  reg_verify_fn verify; /* NULL: none */
  void *verify_ud;
  /* Lazy start (registry/lazypull.h): 1 leaves the layer's blob out of
   * the pull (a run serves it from its TOC); NULL: none */
  int (*defer) (void *ud, struct reg_repo *repo, const char *endpoint,
                const char *cred_domain, const struct descriptor *layer,
                struct err **err);
  void *defer_ud;
};

struct reg_pull_result
{
  char *name;                /* the store reference that was set */
  struct store_ref top;      /* what it points at (index or manifest) */
  struct store_ref manifest; /* the chosen platform's manifest */
  bool updated;              /* false: "Image is up to date" */
};

int reg_pull (struct store *s, const struct reg_pull_opts *o, const char *ref,
              struct reg_pull_result *out, struct err **err);
void reg_pull_result_release (struct reg_pull_result *r);

#endif
