/* Registry authentication (auth.md): WWW-Authenticate challenges, the
 * Bearer token flow (anonymous or with credentials; GET with repeated
 * scope=, or the OAuth2 POST when holding an identity token, falling back
 * to GET on 404), Basic-auth registries, and a token cache per registry and
 * scope set that honours expires_in/issued_at.
 *
 * One struct reg_auth lives for a command and serves pull and push: push
 * asks for "repository:NAME:pull,push" and, to mount, a second scope. */
#ifndef IMGTOOL_REG_AUTH_H
#define IMGTOOL_REG_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

struct err;
struct reg_http;
struct reg_cred;

/* --- parsing (pure, unit-tested) --- */
struct auth_param
{
  char *key; /* lowercase */
  char *value;
};

struct auth_challenge
{
  char *scheme; /* lowercase: "bearer", "basic" */
  struct auth_param *params;
  size_t n_params;
};

/* Parse one WWW-Authenticate value (it may hold several challenges) and
 * append them to *out. */
int auth_challenges_parse (const char *header, struct auth_challenge **out,
                           size_t *n, struct err **err);
void auth_challenges_free (struct auth_challenge *c, size_t n);
const char *auth_challenge_param (const struct auth_challenge *c,
                                  const char *key);
/* The challenge to answer: Bearer if offered, else Basic, else NULL. */
const struct auth_challenge *
auth_challenge_pick (const struct auth_challenge *c, size_t n);

struct auth_token
{
  char *token;
  time_t expires; /* issued_at (or now) + max(expires_in, 60) */
};

/* A token server's JSON answer: "token" or "access_token". */
int auth_token_parse (const char *body, size_t len, time_t now,
                      struct auth_token *out, struct err **err);
void auth_token_release (struct auth_token *t);

/* "repository:NAME:ACTIONS" */
char *auth_scope (const char *repo, const char *actions);

/* --- the per-command state --- */
struct reg_auth;

struct reg_auth *auth_new (struct reg_http *http);
void auth_free (struct reg_auth *a);

/* Use these credentials for host instead of the files (login -u/-p). */
void auth_set_cred (struct reg_auth *a, const char *host,
                    const struct reg_cred *c);
/* Where credentials for host are looked up: its reference domain
 * ("docker.io" for registry-1.docker.io) and repository. */
void auth_set_cred_domain (struct reg_auth *a, const char *host,
                           const char *domain, const char *repo);

/* The Authorization value to send to host for these scopes, or NULL when
 * none is known yet (first request, or an anonymous registry). */
char *auth_header (struct reg_auth *a, const char *host, char *const *scopes);

/* Answer a 401's challenges for host: fetch a token covering scopes and
 * the challenge's own scope (insufficient_scope), or take up Basic. 0 means
 * "retry the request", -1 an error that says why (no credentials, the token
 * server refused them...). registry_https: the 401 came over https, so a
 * realm over plain http is refused unless host is insecure. */
int auth_challenge (struct reg_auth *a, const char *host, bool registry_https,
                    char *const *www_authenticate, char *const *scopes,
                    struct err **err);

/* Were credentials (not anonymous) used for host? */
bool auth_has_cred (struct reg_auth *a, const char *host);

#endif
