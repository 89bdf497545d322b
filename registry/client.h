/* Pull: a reference from a registry into the store, as `imgtool pull`,
 * `run --pull` and the builder's FROM need it.
 *
 *   resolve the reference (mirrors first, then the registry itself):
 *     HEAD for the digest when the store already has the reference,
 *     GET the manifest (Accept: all four types), verified by digest when
 *     pulling by digest; its identity is the sha256 of the raw bytes
 *   choose the platform from an index (--platform, default the host)
 *   download config and layers concurrently (registry/blob.c)
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

/* Called when a layer's download starts, to watch its bytes (unpack while
 * downloading); fill *out or leave it empty for none. */
typedef int (*reg_sink_open_fn) (void *ud, const struct descriptor *layer,
                                 struct reg_blob_sink *out, struct err **err);

struct reg_pull_opts
{
  const char *config_path; /* NULL: default config file */
  const char *platform;    /* "os/arch[/variant]"; NULL: the host's */
  bool all_platforms;      /* every manifest of an index */
  bool no_tls_verify;      /* --tls-verify=false */
  const char *cert_dir;    /* --cert-dir */
  int jobs;                /* concurrent downloads; 0: default (4) */
  bool quiet;              /* no progress */
  FILE *out;               /* progress and status lines; NULL: stdout */
  reg_sink_open_fn sink_open;
  void *sink_ud;
};

struct reg_pull_result
{
  char *name;               /* the store reference that was set */
  struct store_ref top;     /* what it points at (index or manifest) */
  struct store_ref manifest; /* the chosen platform's manifest */
  bool updated;             /* false: "Image is up to date" */
};

int reg_pull (struct store *s, const struct reg_pull_opts *o,
              const char *ref, struct reg_pull_result *out,
              struct err **err);
void reg_pull_result_release (struct reg_pull_result *r);

#endif
