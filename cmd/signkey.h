/* The signing key options of sign and push: --key (cosign's) or
 * --sign-by-sigstore-private-key (podman's; push also --sign-with), and
 * --passphrase-file or --sign-passphrase-file; else COSIGN_PASSWORD, else
 * the empty passphrase (cosign's). The file's first line is the
 * passphrase, as skopeo reads it. */
#ifndef IMGTOOL_SIGNKEY_H
#define IMGTOOL_SIGNKEY_H

#include "cmd/opttable.h"

struct err;
struct trust_key;
struct reg_push_opts;
struct reg_push_result;

enum
{
  SIGNKEY_KEY = 0x1100,
  SIGNKEY_PASSPHRASE_FILE,
};

#define SIGNKEY_OPTS                                                           \
  CMD_OPT ("key", 0, "FILE", SIGNKEY_KEY, "The private key to sign with",      \
           NULL),                                                              \
      CMD_OPT ("sign-by-sigstore-private-key", 0, "FILE", SIGNKEY_KEY,         \
               "The same as --key (podman's)", NULL),                          \
      CMD_OPT ("passphrase-file", 0, "FILE", SIGNKEY_PASSPHRASE_FILE,          \
               "Read the key's passphrase from the file", NULL),               \
      CMD_OPT ("sign-passphrase-file", 0, "FILE", SIGNKEY_PASSPHRASE_FILE,     \
               "The same as --passphrase-file (podman's)", NULL)

struct signkey
{
  const char *key;
  const char *passphrase_file;
};

/* 1 when c was one of these options, else 0. */
int signkey_option (struct signkey *sk, int c, const char *arg);
/* Load the private key. */
int signkey_load (const struct signkey *sk, struct trust_key *k,
                  struct err **err);

/* push --sign-with: sign what was just pushed (res) in its repository
 * with k (loaded before the push, so a bad key pushes nothing),
 * for identity (NULL: the repository). */
int signkey_push (const struct trust_key *k, const struct reg_push_opts *o,
                  const struct reg_push_result *res, const char *identity,
                  struct err **err);

#endif
