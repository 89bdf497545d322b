/* A registry client for one command (transport, config, tokens) and a
 * repository on one registry endpoint: authenticated requests with the
 * challenge dance, shared by pull (registry/client.c, blob.c) and push.
 *
 * Push asks reg_repo_init for "pull,push", and adds the source repository's
 * pull scope with reg_repo_add_scope before a cross-repository mount. */
#ifndef IMGTOOL_REG_SESSION_H
#define IMGTOOL_REG_SESSION_H

#include <stdbool.h>

#include "registry/config.h"
#include "registry/http.h"

struct err;
struct reg_auth;
struct reg_cred;

struct reg_client_opts
{
  const char *config_path; /* NULL: the default (config.h) */
  bool no_tls_verify;      /* --tls-verify=false: every host insecure */
  const char *cert_dir;    /* --cert-dir: CA/client certs for every host */
};

struct reg_client
{
  struct reg_config cfg;
  struct reg_http *http;
  struct reg_auth *auth;
};

int reg_client_init (struct reg_client *c, const struct reg_client_opts *o,
                     struct err **err);
void reg_client_release (struct reg_client *c);

struct reg_repo
{
  struct reg_client *c;
  char *host; /* host[:port] the requests go to */
  char *base; /* "https://host[:port]" (or http:// when insecure) */
  char *path; /* repository path, "library/busybox" */
  char **scopes;
  bool scheme_known;
};

/* endpoint: "host[:port]" (HTTPS, or plain HTTP when the host is
 * insecure) or a URL with a scheme (a mirror from the config).
 * cred_domain names the credentials ("docker.io" for Docker Hub). With
 * path NULL no repository scope is asked (login's GET /v2/). */
int reg_repo_init (struct reg_repo *r, struct reg_client *c,
                   const char *endpoint, const char *cred_domain,
                   const char *path, const char *actions, struct err **err);
void reg_repo_release (struct reg_repo *r);
/* Ask for one more scope ("repository:OTHER:pull" before a mount). */
void reg_repo_add_scope (struct reg_repo *r, const char *repo,
                         const char *actions);

/* Run a request; req->url is a path ("/v2/...") or an absolute URL (an
 * upload Location). A 401 is answered (token or Basic) and the request
 * sent again; insecure hosts fall back from HTTPS to HTTP once. */
int reg_repo_do (struct reg_repo *r, struct http_request *req,
                 struct http_response *resp, struct err **err);
/* Pieces for callers that drive transfers themselves (blob.c): */
char *reg_repo_url (struct reg_repo *r, const char *path);
char *reg_repo_auth (struct reg_repo *r);
int reg_repo_reauth (struct reg_repo *r, const struct http_response *resp,
                     struct err **err);
/* A line for a 401/403 that says whether credentials were used. */
char *reg_repo_denied_text (struct reg_repo *r,
                            const struct http_response *resp);

#endif
