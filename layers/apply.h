/* Layer apply: an OCI layer (tar, tar+gzip or tar+zstd, detected by its
 * magic bytes) extracted into a directory, in one pass that also computes
 * the diff_id (sha256 of the uncompressed tar) and, if asked, the digest of
 * the blob as given.
 *
 * Nothing is ever written outside the directory: names with `..` are
 * refused, absolute names are taken relative to it, and every path is
 * resolved inside it (symlinks made by the layer included) with openat2
 * RESOLVE_IN_ROOT. A failed apply leaves a partly written directory: the
 * caller (snapshot.c) extracts into a temp dir and throws it away.
 *
 * Two ways in: layer_apply_fd() pulls from a file descriptor; the
 * layer_unpacker_* calls take pushed buffers (pull feeds the bytes as they
 * arrive from the network: feed never blocks on anything but the
 * filesystem it writes to). */
#ifndef IMGTOOL_APPLY_H
#define IMGTOOL_APPLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "layers/digest.h"

struct err;

enum apply_whiteouts
{
  /* OCI whiteouts become overlayfs ones: `.wh.NAME` -> char device 0/0
   * NAME, `.wh..wh..opq` -> xattr overlay.opaque=y on the directory. For
   * snapshots: each layer in its own directory, stacked as lowerdirs. */
  APPLY_WHITEOUT_OVERLAY,
  /* Whiteouts delete what lower layers put in the directory: for applying
   * layers on top of each other in one directory (builder, flattening). */
  APPLY_WHITEOUT_DELETE,
};

struct apply_opts
{
  enum apply_whiteouts whiteouts;
  /* Keep the uids/gids of the tar (needs CAP_CHOWN); otherwise files
   * belong to the caller. */
  bool keep_owner;
  /* With keep_owner: every entry owned by uid:gid instead of the tar's
   * (cp -a: the container's user). */
  bool set_owner;
  uid_t uid;
  gid_t gid;
  /* Regular files are written under a temporary name beside their own
   * and renamed over it once whole (cp: a copy killed halfway leaves no
   * half-written file under a real name). Without writer threads. */
  bool atomic_files;
  /* Use user.overlay.* instead of trusted.overlay.* for opaque dirs (for
   * overlay mounts with the userxattr option, in a user namespace). */
  bool userxattr;
  /* Also compute the sha256 of the input as given (the blob digest). */
  bool blob_digest;
  /* Threads that write regular files (layers/applyq.h; overlay mode
   * only); 0: all in the calling thread. */
  unsigned writers;
};

/* The defaults for snapshots: overlay whiteouts, owners kept. */
#define APPLY_OPTS_SNAPSHOT                                                    \
  (struct apply_opts)                                                          \
  {                                                                            \
    .whiteouts = APPLY_WHITEOUT_OVERLAY, .keep_owner = true,                   \
    .writers = APPLY_WRITERS                                                   \
  }
/* Writer threads for snapshots: docs/performance.md has the measurements. */
#define APPLY_WRITERS 2

struct layer_unpacker;

/* Start unpacking into dir_fd (an open directory; it is dup'ed). */
struct layer_unpacker *
layer_unpacker_new (int dir_fd, const struct apply_opts *o, struct err **err);
/* Push the next len bytes of the blob. After an error every later call
 * fails with the same error. */
int layer_unpacker_feed (struct layer_unpacker *u, const void *buf, size_t len,
                         struct err **err);
/* End of input: checks the stream ended cleanly, sets the directories'
 * modes and mtimes, and writes the diff_id. */
int layer_unpacker_finish (struct layer_unpacker *u,
                           char diff_id[DIGEST_STR_LEN + 1], struct err **err);
/* After a successful finish with opts.blob_digest: the blob's digest. */
void layer_unpacker_blob_digest (const struct layer_unpacker *u,
                                 char out[DIGEST_STR_LEN + 1]);
void layer_unpacker_free (struct layer_unpacker *u);

/* Pull-style: read in_fd to its end and apply it to dir_fd. blob_digest
 * may be NULL; if not, it receives the digest of what was read. */
int layer_apply_fd (int dir_fd, int in_fd, const struct apply_opts *o,
                    char diff_id[DIGEST_STR_LEN + 1], char *blob_digest,
                    struct err **err);

#endif
