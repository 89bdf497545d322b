/* containers-policy.json(5): which images are accepted, per transport and
 * scope, as containers/image (podman, skopeo) reads it.
 *
 *   {"default":[{"type":"reject"}],
 *    "transports":{"docker":{"reg.example/team":[{"type":"sigstoreSigned",
 *        "keyPath":"/etc/keys/team.pub",
 *        "signedIdentity":{"type":"matchRepository"}}]}}}
 *
 * Parsing is strict: an unknown or missing field makes the whole file
 * invalid. Only the most specific scope that matches applies, and every
 * requirement of it must accept. signedBy (GPG) is parsed but refused
 * when it is the requirement that applies: never accepted silently.
 *
 * The file: --signature-policy, else the configuration's
 * "signature-policy", else ~/.config/containers/policy.json, else
 * /etc/containers/policy.json; with none of them, everything is accepted
 * (podman errors instead; docs/security.md). */
#ifndef IMGTOOL_TRUST_POLICY_H
#define IMGTOOL_TRUST_POLICY_H

#include <stdbool.h>
#include <stddef.h>

struct err;
struct ref;

enum trust_req_type
{
  TRUST_ACCEPT,   /* insecureAcceptAnything */
  TRUST_REJECT,   /* reject */
  TRUST_SIGSTORE, /* sigstoreSigned */
  TRUST_SIGNEDBY, /* signedBy: GPG, not supported */
};

enum trust_ident_type
{
  TRUST_ID_REPO_DIGEST_OR_EXACT, /* the default */
  TRUST_ID_REPOSITORY,
  TRUST_ID_EXACT,
  TRUST_ID_EXACT_REFERENCE,
  TRUST_ID_EXACT_REPOSITORY,
  TRUST_ID_REMAP,
};

struct trust_ident
{
  enum trust_ident_type type;
  char *ref;           /* dockerReference / dockerRepository */
  char *prefix;        /* remapIdentity */
  char *signed_prefix; /* remapIdentity */
};

struct trust_req
{
  enum trust_req_type type;
  char *key_path; /* sigstoreSigned: keyPath, or NULL */
  char *key_pem;  /* sigstoreSigned: keyData decoded, or NULL */
  struct trust_ident ident;
};

struct trust_scope
{
  char *transport; /* NULL: "default" */
  char *scope;     /* "" for a transport's default */
  struct trust_req *reqs;
  size_t n_reqs;
};

struct trust_policy
{
  char *path;
  struct trust_scope *scopes;
  size_t n_scopes;
};

/* Parse a policy document (path is for messages). */
int trust_policy_parse (const char *text, size_t len, const char *path,
                        struct trust_policy *out, struct err **err);
/* Find and read the policy file (see above). 1: there is none (accept
 * everything), 0: *out filled, -1: *err. */
int trust_policy_load (const char *given, const char *configured,
                       struct trust_policy *out, struct err **err);
void trust_policy_release (struct trust_policy *p);

/* The scopes of an image, most specific first. docker: "host/repo:tag"
 * (or "@digest"), "host/repo", its namespaces, "host", then wildcards
 * "*.domain" of the host without its port. A path transport (oci,
 * oci-archive, docker-archive): "path:name" when a name is given, the
 * path, then its parent directories. */
char **trust_docker_scopes (const char *name, const char *tag,
                            const char *digest);
char **trust_path_scopes (const char *path, const char *name);

/* The scope that applies to an image of this transport with these
 * candidate scopes: the first candidate the transport lists, else the
 * transport's "", else the default. Never NULL. */
const struct trust_scope *trust_policy_scope (const struct trust_policy *p,
                                              const char *transport,
                                              char *const *candidates);
/* "docker:host/repo", "docker (transport default)", "default" (for
 * messages). Caller frees. */
char *trust_scope_name (const struct trust_scope *s);

/* Does a signature's identity (a docker reference as signed) satisfy id
 * for the image as it was asked for (a canonical "host/repo:tag" or
 * "host/repo@digest")? */
bool trust_ident_match (const struct trust_ident *id, const char *image,
                        const char *signed_ref);

#endif
