/* Signing and verifying images in a registry, as cosign does: the
 * payload names the repository (cosign's identity: no tag) and the
 * manifest digest; it goes beside the image under sha256-<hex>.sig
 * (trust/sigstore.h). A tag is resolved to its digest first. */
#ifndef IMGTOOL_TRUST_SIGN_H
#define IMGTOOL_TRUST_SIGN_H

#include <jansson.h>
#include <stdbool.h>

struct err;
struct reg_client;
struct reg_repo;
struct trust_key;

/* Sign digest in repo (which has push access) for identity. */
int trust_sign_digest (struct reg_repo *repo, const struct trust_key *k,
                       const char *identity, const char *digest,
                       struct err **err);

/* Sign what ref names in its registry, and with recursive each manifest
 * of an index too. identity NULL: the repository. *signed_digests lists
 * what was signed. */
int trust_sign_ref (struct reg_client *c, const char *ref,
                    const struct trust_key *k, const char *identity,
                    bool recursive, char ***signed_digests, struct err **err);

/* Verify the signatures beside what ref names with k: each one that
 * verifies and names the digest is appended to *payloads (the payload as
 * JSON). 0 when at least one did; else -1 with every reason. */
int trust_verify_ref (struct reg_client *c, const char *ref,
                      const struct trust_key *k, char **digest,
                      json_t *payloads, struct err **err);

/* copy: the signatures of digest (its .sig tag) from src_ref's
 * repository to dst_ref's; each client reaches its side. 1 copied, 0
 * there were none. */
int trust_copy_ref_sigs (struct reg_client *src, const char *src_ref,
                         struct reg_client *dst, const char *dst_ref,
                         const char *digest, struct err **err);

#endif
