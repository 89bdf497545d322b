/* Signing keys as cosign and containers-policy.json(5) name them: a PEM
 * private key (ECDSA, RSA or Ed25519, PKCS#8 or traditional), cosign's
 * encrypted key (PEM "ENCRYPTED SIGSTORE PRIVATE KEY" or the older
 * "ENCRYPTED COSIGN PRIVATE KEY": scrypt + NaCl secretbox over PKCS#8),
 * and a PEM public key (SubjectPublicKeyInfo).
 *
 * What is signed is the payload's exact bytes: ECDSA (DER) and RSA
 * (PKCS#1 v1.5) over SHA-256, Ed25519 over the bytes themselves, as
 * cosign does (../shared/reference/signing.md, section 2). */
#ifndef IMGTOOL_TRUST_KEY_H
#define IMGTOOL_TRUST_KEY_H

#include <stdbool.h>
#include <stddef.h>

struct err;

struct trust_key
{
  void *pkey;        /* EVP_PKEY * */
  char *fingerprint; /* "sha256:<hex>" of the public key's DER */
  const char *kind;  /* "ecdsa", "rsa", "ed25519" */
};

/* A private key from PEM text. pass is the passphrase of an encrypted
 * key (NULL: the empty one, as cosign's COSIGN_PASSWORD="" is). */
int trust_key_private (const char *pem, size_t len, const char *pass,
                       struct trust_key *out, struct err **err);
/* A public key from PEM text (a private key's public half is accepted
 * too). */
int trust_key_public (const char *pem, size_t len, struct trust_key *out,
                      struct err **err);
/* Read a key file: a private key when private, else a public one. The
 * error names the file. */
int trust_key_load (const char *path, bool private, const char *pass,
                    struct trust_key *out, struct err **err);
void trust_key_release (struct trust_key *k);

/* Sign data; *sig is malloc'd. */
int trust_key_sign (const struct trust_key *k, const void *data, size_t len,
                    unsigned char **sig, size_t *sig_len, struct err **err);
/* Is sig shaped like a signature (a DER ECDSA value, an RSA modulus of
 * k's or a common size, Ed25519's 64 bytes)? Tells a truncated or
 * garbage signature from one by another key. */
bool trust_key_sig_wellformed (const struct trust_key *k, const void *sig,
                               size_t sig_len);
/* Does sig verify over data with k? */
bool trust_key_verify (const struct trust_key *k, const void *data, size_t len,
                       const void *sig, size_t sig_len);

#endif
