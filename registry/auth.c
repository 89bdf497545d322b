/* Challenges, tokens and the token cache: see registry/auth.h. */
#include "registry/auth.h"
#include "lib/base64.h"
#include "lib/err.h"
#include "lib/human.h"
#include "lib/log.h"
#include "lib/strbuf.h"
#include "lib/xalloc.h"
#include "registry/credentials.h"
#include "registry/http.h"

#include <ctype.h>
#include <jansson.h>
#include <string.h>
#include <strings.h>

#define CLIENT_ID "imgtool"
#define MIN_TOKEN_LIFETIME 60
#define EXPIRY_MARGIN 10

/* --- challenge parser --- */

static const char *
skip_ws (const char *p)
{
  while (*p == ' ' || *p == '\t')
    p++;
  return p;
}

static char *
lower_dup (const char *s, size_t n)
{
  char *r = xstrndup (s, n);
  for (char *p = r; *p; p++)
    *p = (char)tolower ((unsigned char)*p);
  return r;
}

/* A quoted-string (RFC 9110 §5.6.4) at p (on the opening quote). */
static char *
parse_quoted (const char **pp, struct err **err)
{
  _cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;
  const char *p = *pp + 1;
  for (;; p++)
    {
      if (!*p)
        {
          err_set (err, 0, "bad WWW-Authenticate: unterminated quoted string");
          return NULL;
        }
      if (*p == '"')
        break;
      if (*p == '\\' && p[1])
        p++;
      strbuf_addch (&sb, *p);
    }
  *pp = p + 1;
  return strbuf_detach (&sb, NULL);
}

int
auth_challenges_parse (const char *header, struct auth_challenge **out,
                       size_t *n, struct err **err)
{
  const char *p = header;
  struct auth_challenge *cur = NULL;
  for (;;)
    {
      const char *tok, *q;
      size_t tl;
      while (*p == ' ' || *p == '\t' || *p == ',')
        p++;
      if (!*p)
        return 0;
      tok = p;
      while (*p && *p != ' ' && *p != '\t' && *p != ',' && *p != '=')
        p++;
      tl = (size_t)(p - tok);
      if (!tl)
        return err_set (err, 0, "bad WWW-Authenticate: '%s'", header);
      q = skip_ws (p);
      if (*q == '=' && cur)
        {
          struct auth_param *prm;
          char *value;
          p = skip_ws (q + 1);
          if (*p == '"')
            {
              if (!(value = parse_quoted (&p, err)))
                return -1;
            }
          else
            {
              const char *v = p;
              while (*p && *p != ',' && *p != ' ' && *p != '\t')
                p++;
              value = xstrndup (v, (size_t)(p - v));
            }
          cur->params = xrealloc (cur->params,
                                  (cur->n_params + 1) * sizeof *cur->params);
          prm = &cur->params[cur->n_params++];
          prm->key = lower_dup (tok, tl);
          prm->value = value;
          continue;
        }
      if (*q == '=')
        return err_set (err, 0, "bad WWW-Authenticate: '%s'", header);
      *out = xrealloc (*out, (*n + 1) * sizeof **out);
      cur = &(*out)[(*n)++];
      memset (cur, 0, sizeof *cur);
      cur->scheme = lower_dup (tok, tl);
    }
}

void
auth_challenges_free (struct auth_challenge *c, size_t n)
{
  for (size_t i = 0; i < n; i++)
    {
      for (size_t j = 0; j < c[i].n_params; j++)
        {
          free (c[i].params[j].key);
          free (c[i].params[j].value);
        }
      free (c[i].params);
      free (c[i].scheme);
    }
  free (c);
}

const char *
auth_challenge_param (const struct auth_challenge *c, const char *key)
{
  for (size_t i = 0; i < c->n_params; i++)
    if (!strcasecmp (c->params[i].key, key))
      return c->params[i].value;
  return NULL;
}

const struct auth_challenge *
auth_challenge_pick (const struct auth_challenge *c, size_t n)
{
  for (size_t i = 0; i < n; i++)
    if (!strcmp (c[i].scheme, "bearer"))
      return &c[i];
  for (size_t i = 0; i < n; i++)
    if (!strcmp (c[i].scheme, "basic"))
      return &c[i];
  return NULL;
}

/* --- token answers --- */

int
auth_token_parse (const char *body, size_t len, time_t now,
                  struct auth_token *out, struct err **err)
{
  json_t *j = json_loadb (body, len, 0, NULL), *v;
  const char *tok, *s;
  json_int_t life = MIN_TOKEN_LIFETIME;
  time_t issued = now;
  memset (out, 0, sizeof *out);
  if (!json_is_object (j))
    {
      json_decref (j);
      return err_set (err, 0, "token server answered something not JSON");
    }
  /* Some servers send access_token only (ggcr#54). */
  tok = json_string_value (json_object_get (j, "token"));
  if (!tok || !*tok)
    tok = json_string_value (json_object_get (j, "access_token"));
  if (!tok || !*tok)
    {
      json_decref (j);
      return err_set (err, 0, "token server answered without a token");
    }
  if ((v = json_object_get (j, "expires_in")) && json_is_integer (v)
      && json_integer_value (v) > life)
    life = json_integer_value (v);
  if (life > 366 * 86400)
    life = 366 * 86400;
  if ((s = json_string_value (json_object_get (j, "issued_at"))))
    {
      time_t t = -1;
      if (rfc3339_parse (s, &t) < 0)
        t = -1;
      /* A skewed clock must not make every token look expired. */
      if (t > 0 && t <= now + life && t + life > now)
        issued = t;
    }
  out->token = xstrdup (tok);
  out->expires = issued + (time_t)life;
  json_decref (j);
  return 0;
}

void
auth_token_release (struct auth_token *t)
{
  free (t->token);
  memset (t, 0, sizeof *t);
}

char *
auth_scope (const char *repo, const char *actions)
{
  return xasprintf ("repository:%s:%s", repo, actions);
}

/* --- state --- */

enum auth_scheme
{
  SCHEME_UNKNOWN,
  SCHEME_BASIC,
  SCHEME_BEARER,
};

struct cached_token
{
  char *key; /* sorted scopes joined by spaces */
  char *token;
  time_t expires;
};

struct auth_host
{
  char *host;
  enum auth_scheme scheme;
  char *realm, *service;
  char *cred_domain, *cred_repo;
  struct reg_cred cred;
  int cred_state; /* 0 not looked up, 1 none, 2 have */
  char **extra_scopes;
  struct cached_token *toks;
  size_t n_toks;
};

struct reg_auth
{
  struct reg_http *http;
  struct auth_host *hosts;
  size_t n_hosts;
};

struct reg_auth *
auth_new (struct reg_http *http)
{
  struct reg_auth *a = xcalloc (1, sizeof *a);
  a->http = http;
  return a;
}

void
auth_free (struct reg_auth *a)
{
  if (!a)
    return;
  for (size_t i = 0; i < a->n_hosts; i++)
    {
      struct auth_host *h = &a->hosts[i];
      free (h->host);
      free (h->realm);
      free (h->service);
      free (h->cred_domain);
      free (h->cred_repo);
      reg_cred_release (&h->cred);
      strv_free (h->extra_scopes);
      for (size_t j = 0; j < h->n_toks; j++)
        {
          free (h->toks[j].key);
          free (h->toks[j].token);
        }
      free (h->toks);
    }
  free (a->hosts);
  free (a);
}

static struct auth_host *
host_get (struct reg_auth *a, const char *host)
{
  for (size_t i = 0; i < a->n_hosts; i++)
    if (!strcmp (a->hosts[i].host, host))
      return &a->hosts[i];
  a->hosts = xrealloc (a->hosts, (a->n_hosts + 1) * sizeof *a->hosts);
  struct auth_host *h = &a->hosts[a->n_hosts++];
  memset (h, 0, sizeof *h);
  h->host = xstrdup (host);
  return h;
}

static char *
dup_or_null (const char *s)
{
  return s ? xstrdup (s) : NULL;
}

void
auth_set_cred (struct reg_auth *a, const char *host, const struct reg_cred *c)
{
  struct auth_host *h = host_get (a, host);
  reg_cred_release (&h->cred);
  h->cred.username = dup_or_null (c->username);
  h->cred.password = dup_or_null (c->password);
  h->cred.identity_token = dup_or_null (c->identity_token);
  h->cred.registry_token = dup_or_null (c->registry_token);
  h->cred_state = 2;
}

void
auth_set_cred_domain (struct reg_auth *a, const char *host, const char *domain,
                      const char *repo)
{
  struct auth_host *h = host_get (a, host);
  free (h->cred_domain);
  free (h->cred_repo);
  h->cred_domain = xstrdup (domain);
  h->cred_repo = dup_or_null (repo);
}

static int
load_cred (struct auth_host *h, struct err **err)
{
  int r;
  if (h->cred_state)
    return 0;
  r = reg_cred_lookup (h->cred_domain ? h->cred_domain : h->host, h->cred_repo,
                       &h->cred, err);
  if (r < 0)
    return -1;
  h->cred_state = r == 0 ? 2 : 1;
  return 0;
}

bool
auth_has_cred (struct reg_auth *a, const char *host)
{
  struct auth_host *h = host_get (a, host);
  return h->cred_state == 2;
}

static int
cmp_str (const void *x, const void *y)
{
  return strcmp (*(char *const *)x, *(char *const *)y);
}

/* The full scope list for a request: the challenge's extra scopes first
 * (some servers only read the first), then the requested ones. */
static char **
all_scopes (struct auth_host *h, char *const *scopes)
{
  char **v = NULL;
  for (char **p = h->extra_scopes; p && *p; p++)
    strv_push (&v, xstrdup (*p));
  for (char *const *p = scopes; p && *p; p++)
    {
      bool dup = false;
      for (char **q = v; q && *q; q++)
        dup |= !strcmp (*q, *p);
      if (!dup)
        strv_push (&v, xstrdup (*p));
    }
  return v;
}

static char *
scopes_key (char *const *scopes)
{
  _cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;
  size_t n = strv_len (scopes);
  _cleanup_strv_ char **v = strv_dup (scopes);
  if (n)
    qsort (v, n, sizeof *v, cmp_str);
  for (size_t i = 0; i < n; i++)
    {
      if (i)
        strbuf_addch (&sb, ' ');
      strbuf_addstr (&sb, v[i]);
    }
  return strbuf_detach (&sb, NULL);
}

static void
url_escape (struct strbuf *sb, const char *s)
{
  static const char hex[] = "0123456789ABCDEF";
  for (; *s; s++)
    {
      unsigned char c = (unsigned char)*s;
      if (isalnum (c) || c == '-' || c == '.' || c == '_' || c == '~')
        strbuf_addch (sb, (char)c);
      else
        {
          strbuf_addch (sb, '%');
          strbuf_addch (sb, hex[c >> 4]);
          strbuf_addch (sb, hex[c & 15]);
        }
    }
}

static void
add_param (struct strbuf *sb, const char *k, const char *v)
{
  if (sb->len)
    strbuf_addch (sb, '&');
  strbuf_addstr (sb, k);
  strbuf_addch (sb, '=');
  url_escape (sb, v);
}

static char *
basic_value (const struct reg_cred *c)
{
  _cleanup_free_ char *up = xasprintf ("%s:%s", c->username, c->password);
  _cleanup_free_ char *b = base64_encode (up, strlen (up));
  explicit_bzero (up, strlen (up));
  return xasprintf ("Basic %s", b);
}

static bool
has_password (const struct auth_host *h)
{
  return h->cred_state == 2 && h->cred.username && h->cred.password
         && strcmp (h->cred.username, "<token>");
}

static int
token_error (struct auth_host *h, struct http_response *resp, struct err **err)
{
  _cleanup_free_ char *why = http_error_text (resp);
  if (resp->status == 401 && has_password (h))
    return err_set (err, 0, "token server %s rejected the credentials: %s",
                    h->realm, why);
  return err_set (err, 0, "token server %s: %s", h->realm, why);
}

/* The OAuth2 POST with a refresh token. 1 when the server has no OAuth2
 * endpoint (404: use GET), 0 done, -1 error. */
static int
token_post (struct reg_auth *a, struct auth_host *h, char *const *scopes,
            struct auth_token *tok, struct err **err)
{
  _cleanup_strbuf_ struct strbuf form = STRBUF_INIT;
  _cleanup_free_ char *joined = NULL;
  struct http_response resp = { 0 };
  char *hdrs[]
      = { (char *)"Content-Type: application/x-www-form-urlencoded", NULL };
  struct http_request req
      = { .method = "POST", .url = h->realm, .headers = hdrs };
  int r;
  add_param (&form, "grant_type", "refresh_token");
  add_param (&form, "refresh_token", h->cred.identity_token);
  add_param (&form, "client_id", CLIENT_ID);
  if (h->service)
    add_param (&form, "service", h->service);
  if (scopes && *scopes)
    {
      /* POST takes one scope field, space-separated (auth.md §3). */
      joined = scopes_key (scopes);
      add_param (&form, "scope", joined);
    }
  req.body = form.buf;
  req.body_len = form.len;
  if (http_do (a->http, &req, &resp, err) < 0)
    r = -1;
  else if (resp.status == 404 || resp.status == 405)
    r = 1;
  else if (resp.status != 200)
    r = token_error (h, &resp, err);
  else
    r = auth_token_parse (resp.body.buf, resp.body.len, time (NULL), tok, err);
  explicit_bzero (form.buf, form.len);
  http_response_release (&resp);
  return r;
}

static int
token_get (struct reg_auth *a, struct auth_host *h, char *const *scopes,
           struct auth_token *tok, struct err **err)
{
  _cleanup_strbuf_ struct strbuf q = STRBUF_INIT;
  _cleanup_free_ char *url = NULL, *basic = NULL;
  struct http_response resp = { 0 };
  struct http_request req = { 0 };
  int r;
  if (h->service)
    add_param (&q, "service", h->service);
  for (char *const *p = scopes; p && *p; p++)
    add_param (&q, "scope", *p);
  if (has_password (h))
    {
      add_param (&q, "account", h->cred.username);
      basic = basic_value (&h->cred);
    }
  /* Keep a query the realm already has. */
  url = q.len ? xasprintf ("%s%c%s", h->realm,
                           strchr (h->realm, '?') ? '&' : '?', q.buf)
              : xstrdup (h->realm);
  req.url = url;
  req.auth = basic;
  if (http_do (a->http, &req, &resp, err) < 0)
    r = -1;
  else if (resp.status != 200)
    r = token_error (h, &resp, err);
  else
    r = auth_token_parse (resp.body.buf, resp.body.len, time (NULL), tok, err);
  if (basic)
    explicit_bzero (basic, strlen (basic));
  http_response_release (&resp);
  return r;
}

static struct cached_token *
token_find (struct auth_host *h, const char *key)
{
  for (size_t i = 0; i < h->n_toks; i++)
    if (!strcmp (h->toks[i].key, key))
      return &h->toks[i];
  return NULL;
}

static int
token_fetch (struct reg_auth *a, struct auth_host *h, char *const *scopes,
             struct err **err)
{
  _cleanup_strv_ char **all = all_scopes (h, scopes);
  _cleanup_free_ char *key = scopes_key (scopes);
  struct auth_token tok = { 0 };
  struct cached_token *c;
  int r = 1;
  if (!h->realm)
    return err_set (err, 0, "%s asked for a token without a realm", h->host);
  if (load_cred (h, err) < 0)
    return -1;
  if (h->cred.registry_token)
    {
      tok.token = xstrdup (h->cred.registry_token);
      tok.expires = time (NULL) + 366 * 86400;
      r = 0;
    }
  else if (h->cred.identity_token)
    r = token_post (a, h, all, &tok, err);
  if (r == 1)
    r = token_get (a, h, all, &tok, err);
  if (r < 0)
    return -1;
  log_debug ("token for %s (%s) until %ld", h->host, key, (long)tok.expires);
  if (!(c = token_find (h, key)))
    {
      h->toks = xrealloc (h->toks, (h->n_toks + 1) * sizeof *h->toks);
      c = &h->toks[h->n_toks++];
      c->key = xstrdup (key);
      c->token = NULL;
    }
  free (c->token);
  c->token = steal_pointer (&tok.token);
  c->expires = tok.expires;
  auth_token_release (&tok);
  return 0;
}

char *
auth_header (struct reg_auth *a, const char *host, char *const *scopes)
{
  struct auth_host *h = host_get (a, host);
  if (h->scheme == SCHEME_BASIC)
    return has_password (h) ? basic_value (&h->cred) : NULL;
  if (h->scheme == SCHEME_BEARER)
    {
      _cleanup_free_ char *key = scopes_key (scopes);
      struct cached_token *c = token_find (h, key);
      if (!c || time (NULL) + EXPIRY_MARGIN >= c->expires)
        {
          /* Expired or never fetched for these scopes: fetch now rather
           * than pay for a 401 round trip. */
          struct err *e = NULL;
          if (token_fetch (a, h, scopes, &e) < 0)
            {
              log_debug ("%s", e->msg);
              err_free (e);
              return NULL;
            }
          c = token_find (h, key);
        }
      return c ? xasprintf ("Bearer %s", c->token) : NULL;
    }
  return NULL;
}

int
auth_challenge (struct reg_auth *a, const char *host, bool registry_https,
                char *const *www_authenticate, char *const *scopes,
                struct err **err)
{
  struct auth_host *h = host_get (a, host);
  struct auth_challenge *cs = NULL;
  size_t n = 0;
  const struct auth_challenge *c;
  int r = -1;
  for (char *const *p = www_authenticate; p && *p; p++)
    if (auth_challenges_parse (*p, &cs, &n, err) < 0)
      goto out;
  if (!(c = auth_challenge_pick (cs, n)))
    {
      err_set (err, 0, "%s wants an authentication scheme imgtool lacks", host);
      goto out;
    }
  if (!strcmp (c->scheme, "basic"))
    {
      bool had = h->scheme == SCHEME_BASIC && has_password (h);
      h->scheme = SCHEME_BASIC;
      if (load_cred (h, err) < 0)
        goto out;
      if (had)
        err_set (err, 0, "%s rejected the credentials: 401 unauthorized", host);
      else if (!has_password (h))
        err_set (err, 0, "%s requires a login (no credentials for it)", host);
      else
        r = 0;
      goto out;
    }
  {
    const char *realm = auth_challenge_param (c, "realm");
    const char *service = auth_challenge_param (c, "service");
    const char *scope = auth_challenge_param (c, "scope");
    if (!realm || !*realm)
      {
        err_set (err, 0, "%s sent a Bearer challenge without a realm", host);
        goto out;
      }
    /* why: the token request carries the password; an https registry
     * must not send it (or take a token) over plain http, unless the
     * user marked the registry insecure */
    if (registry_https && !strncasecmp (realm, "http://", 7)
        && !http_host_insecure (a->http, host))
      {
        err_set (err, 0,
                 "token realm '%s' is plain http: refusing to send "
                 "credentials (the registry is https)",
                 realm);
        goto out;
      }
    h->scheme = SCHEME_BEARER;
    free (h->realm);
    free (h->service);
    h->realm = xstrdup (realm);
    h->service = dup_or_null (service);
    /* insufficient_scope names what it wants, space-separated. */
    for (const char *p = scope; p && *p;)
      {
        size_t l;
        bool have = false;
        p = skip_ws (p);
        l = strcspn (p, " ");
        if (!l)
          break;
        _cleanup_free_ char *s1 = xstrndup (p, l);
        for (char *const *q = scopes; q && *q; q++)
          have |= !strcmp (*q, s1);
        for (char **q = h->extra_scopes; q && *q; q++)
          have |= !strcmp (*q, s1);
        if (!have)
          strv_push (&h->extra_scopes, steal_pointer (&s1));
        p += l;
      }
    r = token_fetch (a, h, scopes, err);
  }
out:
  auth_challenges_free (cs, n);
  return r;
}
