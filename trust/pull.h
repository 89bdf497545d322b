/* The signature policy on the way in: the check reg_pull calls before
 * any blob is fetched (registry/client.h reg_verify_fn), and the record
 * of what was verified, which inspect shows.
 *
 *   struct trust_pull t;
 *   trust_pull_init (&t, &opts, store, policy_path);   sets opts.verify
 *   reg_pull (...);
 *   trust_pull_release (&t);
 *
 * The policy file is found at the first pull (trust/policy.h); with none
 * nothing is checked. The record: <root>/trust/<hex>.json per manifest
 * digest that a signature verified. */
#ifndef IMGTOOL_TRUST_PULL_H
#define IMGTOOL_TRUST_PULL_H

#include <jansson.h>

#include "trust/policy.h"

struct err;
struct reg_pull_opts;
struct store;
struct trust_verdict;

struct trust_pull
{
  struct store *s;
  const char *policy_path; /* --signature-policy, or NULL */
  struct trust_policy policy;
  int state; /* 0: not read yet, 1: no policy, 2: read */
  /* copy: note which of the pulled digests have a .sig (looked up with
   * the pull's own session, so no other token is asked for) */
  bool probe_sigs;
  char **have_sigs;
};

void trust_pull_init (struct trust_pull *t, struct reg_pull_opts *o,
                      struct store *s, const char *policy_path);
void trust_pull_release (struct trust_pull *t);

/* Read the policy now (1: there is none; 0; -1 with *err). configured is
 * the configuration's "signature-policy". */
int trust_pull_policy (struct trust_pull *t, const char *configured,
                       struct err **err);

/* Decide on an image of a transport from its candidate scopes, when the
 * scope needs no signature (load and copy from archives and layouts,
 * which carry none): 0 accepted, -1 refused. */
int trust_check_unsigned (struct trust_pull *t, const char *config_path,
                          const char *transport, char *const *scopes,
                          const char *what, struct err **err);

/* The same for a file or directory of a transport (oci, oci-archive,
 * docker-archive): its scopes are its absolute path, "path:name" when a
 * name is given, and the parent directories. path NULL (stdin): only the
 * transport's default and the default apply. */
int trust_check_path (struct trust_pull *t, const char *config_path,
                      const char *transport, const char *path, const char *name,
                      struct err **err);

/* Remember that digest was verified (v), and read it back: a JSON object
 * {"Verified":true,"Key":...,"Fingerprint":...,"Identity":...,"Scope":...}
 * or NULL. */
void trust_record (struct store *s, const char *digest,
                   const struct trust_verdict *v);
json_t *trust_record_get (struct store *s, const char *digest);

/* inspect's "Signature": the record of top or manifest, when either was
 * verified; nothing is added otherwise. */
void trust_inspect (struct store *s, json_t *o, const char *top,
                    const char *manifest);

#endif
