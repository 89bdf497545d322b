/* Client and repository sessions: see registry/session.h. */
#include "registry/session.h"
#include "lib/err.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "registry/auth.h"

#include <string.h>
#include <strings.h>

#define MAX_AUTH_ROUNDS 2

int
reg_client_init (struct reg_client *c, const struct reg_client_opts *o,
                 struct err **err)
{
  memset (c, 0, sizeof *c);
  if (reg_config_load (o ? o->config_path : NULL, &c->cfg, err) < 0)
    return -1;
  c->http
      = http_new (&c->cfg, !(o && o->no_tls_verify), o ? o->cert_dir : NULL);
  c->auth = auth_new (c->http);
  return 0;
}

void
reg_client_release (struct reg_client *c)
{
  auth_free (c->auth);
  http_free (c->http);
  reg_config_release (&c->cfg);
  memset (c, 0, sizeof *c);
}

int
reg_repo_init (struct reg_repo *r, struct reg_client *c, const char *endpoint,
               const char *cred_domain, const char *path, const char *actions,
               struct err **err)
{
  memset (r, 0, sizeof *r);
  r->c = c;
  r->path = xstrdup (path ? path : "");
  if (strstr (endpoint, "://"))
    {
      size_t n = strlen (endpoint);
      if (strncasecmp (endpoint, "https://", 8)
          && strncasecmp (endpoint, "http://", 7))
        return err_set (err, 0, "registry URL '%s' is not http(s)", endpoint);
      r->host = http_url_host (endpoint);
      if (!r->host)
        return err_set (err, 0, "bad registry URL '%s'", endpoint);
      while (n && endpoint[n - 1] == '/')
        n--;
      r->base = xstrndup (endpoint, n);
      r->scheme_known = true; /* the user wrote the scheme */
    }
  else
    {
      r->host = xstrdup (endpoint);
      r->base = xasprintf ("https://%s", endpoint);
    }
  auth_set_cred_domain (c->auth, r->host, cred_domain ? cred_domain : r->host,
                        path);
  if (path && *path)
    strv_push (&r->scopes, auth_scope (path, actions));
  return 0;
}

void
reg_repo_release (struct reg_repo *r)
{
  free (r->host);
  free (r->base);
  free (r->path);
  strv_free (r->scopes);
  memset (r, 0, sizeof *r);
}

void
reg_repo_add_scope (struct reg_repo *r, const char *repo, const char *actions)
{
  strv_push (&r->scopes, auth_scope (repo, actions));
}

char *
reg_repo_url (struct reg_repo *r, const char *path)
{
  if (!strncasecmp (path, "https://", 8) || !strncasecmp (path, "http://", 7))
    return xstrdup (path);
  return xasprintf ("%s%s", r->base, path);
}

char *
reg_repo_auth (struct reg_repo *r)
{
  return auth_header (r->c->auth, r->host, r->scopes);
}

int
reg_repo_reauth (struct reg_repo *r, const struct http_response *resp,
                 struct err **err)
{
  return auth_challenge (
      r->c->auth, r->host,
      !strncasecmp (resp->url ? resp->url : r->base, "https://", 8),
      resp->www_authenticate, r->scopes, err);
}

char *
reg_repo_denied_text (struct reg_repo *r, const struct http_response *resp)
{
  _cleanup_free_ char *t = http_error_text (resp);
  if ((resp->status == 401 || resp->status == 403)
      && !auth_has_cred (r->c->auth, r->host))
    return xasprintf ("%s (no credentials for %s: imgtool login %s)", t,
                      r->host, r->host);
  return steal_pointer (&t);
}

int
reg_repo_do (struct reg_repo *r, struct http_request *req,
             struct http_response *resp, struct err **err)
{
  const char *path = req->url;
  int ret = -1;
  for (int round = 0;; round++)
    {
      _cleanup_free_ char *url = reg_repo_url (r, path);
      _cleanup_free_ char *auth = reg_repo_auth (r);
      struct err *e = NULL;
      req->url = url;
      req->auth = auth;
      if (http_do (r->c->http, req, resp, &e) < 0)
        {
          /* An insecure registry may speak plain HTTP only. */
          if (!r->scheme_known && http_host_insecure (r->c->http, r->host)
              && !strncmp (r->base, "https://", 8))
            {
              log_debug ("%s; trying http://%s", e->msg, r->host);
              err_free (e);
              http_response_release (resp);
              free (r->base);
              r->base = xasprintf ("http://%s", r->host);
              r->scheme_known = true;
              continue;
            }
          *err = e;
          break;
        }
      r->scheme_known = true;
      if (resp->status == 401 && round < MAX_AUTH_ROUNDS
          && resp->www_authenticate)
        {
          if (reg_repo_reauth (r, resp, err) < 0)
            break;
          http_response_release (resp);
          continue;
        }
      ret = 0;
      break;
    }
  req->url = path;
  req->auth = NULL;
  return ret;
}
