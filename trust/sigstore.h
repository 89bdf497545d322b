/* cosign's signature storage in a registry: beside the image, in the
 * same repository, an OCI image manifest tagged sha256-<hex>.sig whose
 * layers are simple-signing payloads (trust/payload.h), each with its
 * base64 signature in the dev.cosignproject.cosign/signature annotation
 * (../shared/reference/signing.md, section 1). */
#ifndef IMGTOOL_TRUST_SIGSTORE_H
#define IMGTOOL_TRUST_SIGSTORE_H

#include <stddef.h>

struct err;
struct reg_repo;

struct trust_sig
{
  char *payload; /* the layer's bytes, checked against its digest */
  size_t len;
  char *sig_b64;      /* the annotation; NULL when missing */
  char *under_digest; /* the image digest whose .sig tag held it */
};

struct trust_sigs
{
  struct trust_sig *v;
  size_t n;
  size_t others; /* layers of other media types */
};

/* "sha256-<hex>.sig" for digest; caller frees. */
char *trust_sig_tag (const char *digest);

/* Append the signatures stored for digest to *out (none: nothing added;
 * a .sig that is not an OCI manifest is an error). */
int trust_sigs_fetch (struct reg_repo *repo, const char *digest,
                      struct trust_sigs *out, struct err **err);
void trust_sigs_release (struct trust_sigs *s);
/* Is there a .sig for digest? 1 yes, 0 no, -1 *err. */
int trust_sigs_exist (struct reg_repo *repo, const char *digest,
                      struct err **err);

/* Add one signature of digest to its .sig manifest (made if missing; a
 * signature already there is not added twice). repo needs push access. */
int trust_sig_attach (struct reg_repo *repo, const char *digest,
                      const char *payload, size_t len, const char *sig_b64,
                      struct err **err);

/* Copy the .sig manifest of digest, byte for byte with its blobs, from
 * one repository to another (copy). 1 copied, 0 there was none. */
int trust_sigs_copy (struct reg_repo *from, struct reg_repo *to,
                     const char *digest, struct err **err);

#endif
