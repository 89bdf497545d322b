/* The decision: a scope's requirements against an image's signatures.
 *
 * A sigstoreSigned requirement accepts when one signature verifies with
 * its key over the payload's exact bytes, names one of the image's
 * digests (the index's or the chosen platform's) and carries an identity
 * the requirement's signedIdentity accepts (containers/image's order).
 * A refusal says which scope refused and why, one reason per signature:
 * no signature, not base64, malformed (truncated or garbage), another
 * key, another digest, another identity. */
#ifndef IMGTOOL_TRUST_CHECK_H
#define IMGTOOL_TRUST_CHECK_H

#include <stdbool.h>

struct err;
struct trust_scope;
struct trust_sigs;
struct trust_policy;
struct trust_key;
struct trust_sig;
struct trust_payload;

struct trust_verdict
{
  bool signed_by_key; /* false: accepted without a signature */
  char *scope;        /* the scope that decided */
  char *key;          /* keyPath or "keyData", when signed */
  char *fingerprint;  /* "sha256:..." of the public key */
  char *identity;     /* the signed docker-reference */
  char *digest;       /* the digest the signature names */
};

/* One signature with k: its bytes, its shape, the key, the payload's
 * fields, and a digest among digests (NULL-terminated). 0 with *pl
 * filled, else -1 and the reason. The identity is the caller's. */
int trust_sig_verify (const struct trust_key *k, const struct trust_sig *s,
                      char *const *digests, struct trust_payload *pl,
                      struct err **err);

/* Does the scope need signatures at all (any sigstoreSigned)? */
bool trust_scope_needs_sigs (const struct trust_scope *sc);

/* 0: accepted, *v filled; -1: refused (or a key that cannot be read),
 * *err says why. image is the canonical reference asked for; digests
 * the acceptable manifest digests (NULL-terminated). */
int trust_evaluate (const struct trust_policy *p, const struct trust_scope *sc,
                    const char *image, char *const *digests,
                    const struct trust_sigs *sigs, struct trust_verdict *v,
                    struct err **err);
void trust_verdict_release (struct trust_verdict *v);

#endif
