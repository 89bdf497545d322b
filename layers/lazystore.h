/* What lazy start keeps in the store (layers/lazy.h, service/lazy.c):
 *
 *   <root>/lazy/<blob-hex>.json   a layer whose blob is not here yet: its
 *                                 descriptor, where it comes from, where
 *                                 its TOC lies in the blob
 *   <root>/lazy/<blob-hex>.toc    the TOC's bytes as they sit in the blob
 *                                 (checked against its digest on each use)
 *   <root>/lazy/chain/<chain-hex> "<blob digest> <diff_id>": the snapshot
 *                                 the layer becomes
 *   <root>/lazy/mnt/<chain-hex>.<pid>  a monitor's FUSE mount of it
 *
 * Each file is written whole (temp + rename). The blob itself downloads as
 * every blob does (a resumable tmp/<hex>.partial that survives kill -9),
 * and becomes an ordinary snapshot (layers/snapshot.h): a layer is lazy
 * only while its snapshot and its blob are both missing. */
#ifndef IMGTOOL_LAZYSTORE_H
#define IMGTOOL_LAZYSTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct err;
struct store;
struct toc;
struct toc_location;
struct image_manifest;
struct image_config;

struct lazy_record
{
  char *digest, *media_type;
  int64_t size;
  /* where from: reg_repo_init's endpoint, cred_domain and path, and the
   * client options of the pull */
  char *endpoint, *cred_domain, *path, *config_path, *cert_dir;
  bool no_tls_verify;
  /* the TOC (toc_location's members) */
  int format;
  uint64_t toc_offset, toc_length, toc_ulength, usize;
  char *toc_digest;
};

void lazy_record_release (struct lazy_record *r);
/* Store r and the TOC's bytes (already checked by the caller). */
int lazy_record_put (struct store *s, const struct lazy_record *r,
                     const uint8_t *toc, size_t toc_len, struct err **err);
/* 0 with *r filled, 1 when the blob has no record, -1 on error. */
int lazy_record_get (struct store *s, const char *digest, struct lazy_record *r,
                     struct err **err);
/* The record's TOC, parsed (its digest checked again). */
struct toc *lazy_record_toc (struct store *s, const struct lazy_record *r,
                             struct err **err);

/* Is the layer lazy: no snapshot, no blob, a record? */
bool lazy_layer_pending (struct store *s, const char *chain_id,
                         const char *blob_digest);
/* The chain record: 0, 1 when none, -1 on error. */
int lazy_chain_get (struct store *s, const char *chain_hex, char **blob,
                    char **diff_id, struct err **err);

/* snapshot_prepare_image for an image some of whose layers are lazy:
 * those get their chain record, and their (missing) snapshot's path as
 * the lower dir, for the monitor to serve (service/lazy.c). *lazy: how
 * many are. */
int lazy_prepare_image (struct store *s, const struct image_manifest *m,
                        const struct image_config *c, char ***lower_dirs,
                        size_t *lazy, struct err **err);

/* The directory of the records (made if needed): an fd, or -1. */
int lazy_dir_open (struct store *s, const char *sub, struct err **err);

#endif
