/* containers-policy.json: see trust/policy.h. */
#include "trust/policy.h"
#include "lib/base64.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/xalloc.h"
#include "registry/ref.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define POLICY_MAX (4u << 20)

/* Every key of o is one of the NULL-terminated keys. */
static int
known_keys (json_t *o, const char *const *keys, const char *what,
            struct err **err)
{
  const char *k;
  json_t *v;
  json_object_foreach (o, k, v)
  {
    const char *const *p = keys;
    while (*p && strcmp (*p, k))
      p++;
    if (!*p)
      return err_set (err, 0, "%s: unknown field '%s'", what, k);
  }
  return 0;
}

static int
get_str (json_t *o, const char *key, bool required, char **out,
         const char *what, struct err **err)
{
  json_t *v = json_object_get (o, key);
  *out = NULL;
  if (!v)
    return required ? err_set (err, 0, "%s: '%s' is missing", what, key) : 0;
  if (!json_is_string (v) || !*json_string_value (v))
    return err_set (err, 0, "%s: '%s' must be a non-empty string", what, key);
  *out = xstrdup (json_string_value (v));
  return 0;
}

static int
parse_ident (json_t *o, struct trust_ident *id, struct err **err)
{
  static const struct
  {
    const char *name;
    enum trust_ident_type type;
  } types[] = {
    { "matchRepoDigestOrExact", TRUST_ID_REPO_DIGEST_OR_EXACT },
    { "matchRepository", TRUST_ID_REPOSITORY },
    { "matchExact", TRUST_ID_EXACT },
    { "exactReference", TRUST_ID_EXACT_REFERENCE },
    { "exactRepository", TRUST_ID_EXACT_REPOSITORY },
    { "remapIdentity", TRUST_ID_REMAP },
  };
  static const char *const plain[] = { "type", NULL };
  static const char *const ref_keys[] = { "type", "dockerReference", NULL };
  static const char *const repo_keys[] = { "type", "dockerRepository", NULL };
  static const char *const remap_keys[]
      = { "type", "prefix", "signedPrefix", NULL };
  const char *t = json_string_value (json_object_get (o, "type"));
  size_t i;
  if (!json_is_object (o) || !t)
    return err_set (err, 0, "signedIdentity: 'type' is missing");
  for (i = 0; i < ARRAY_SIZE (types) && strcmp (types[i].name, t); i++)
    ;
  if (i == ARRAY_SIZE (types))
    return err_set (err, 0, "signedIdentity: unknown type '%s'", t);
  id->type = types[i].type;
  switch (id->type)
    {
    case TRUST_ID_EXACT_REFERENCE:
      return known_keys (o, ref_keys, t, err) < 0
                     || get_str (o, "dockerReference", true, &id->ref, t, err)
                            < 0
                 ? -1
                 : 0;
    case TRUST_ID_EXACT_REPOSITORY:
      return known_keys (o, repo_keys, t, err) < 0
                     || get_str (o, "dockerRepository", true, &id->ref, t, err)
                            < 0
                 ? -1
                 : 0;
    case TRUST_ID_REMAP:
      return known_keys (o, remap_keys, t, err) < 0
                     || get_str (o, "prefix", true, &id->prefix, t, err) < 0
                     || get_str (o, "signedPrefix", true, &id->signed_prefix, t,
                                 err)
                            < 0
                 ? -1
                 : 0;
    default:
      return known_keys (o, plain, t, err);
    }
}

static int
parse_sigstore (json_t *o, struct trust_req *r, struct err **err)
{
  static const char *const keys[]
      = { "type", "keyPath", "keyData", "signedIdentity", NULL };
  static const char *const keyless[]
      = { "fulcio", "rekorPublicKeyPath", "rekorPublicKeyData", NULL };
  _cleanup_free_ char *data = NULL;
  json_t *ident;
  for (const char *const *k = keyless; *k; k++)
    if (json_object_get (o, *k))
      return err_set (err, 0,
                      "sigstoreSigned: '%s' (keyless signing) is not "
                      "supported",
                      *k);
  if (known_keys (o, keys, "sigstoreSigned", err) < 0
      || get_str (o, "keyPath", false, &r->key_path, "sigstoreSigned", err) < 0
      || get_str (o, "keyData", false, &data, "sigstoreSigned", err) < 0)
    return -1;
  if (!r->key_path == !data)
    return err_set (err, 0,
                    "sigstoreSigned: exactly one of 'keyPath' and 'keyData' "
                    "is needed");
  if (data)
    {
      size_t n;
      r->key_pem = base64_decode (data, &n);
      if (!r->key_pem)
        return err_set (err, 0, "sigstoreSigned: 'keyData' is not base64");
    }
  ident = json_object_get (o, "signedIdentity");
  r->ident.type = TRUST_ID_REPO_DIGEST_OR_EXACT;
  if (ident && parse_ident (ident, &r->ident, err) < 0)
    return err_wrap (err, "sigstoreSigned");
  return 0;
}

static int
parse_req (json_t *o, struct trust_req *r, struct err **err)
{
  static const char *const plain[] = { "type", NULL };
  static const char *const signed_by[]
      = { "type",    "keyType",        "keyPath", "keyPaths",
          "keyData", "signedIdentity", NULL };
  const char *t = json_string_value (json_object_get (o, "type"));
  if (!json_is_object (o) || !t)
    return err_set (err, 0, "a requirement has no 'type'");
  if (!strcmp (t, "insecureAcceptAnything") || !strcmp (t, "reject"))
    {
      r->type = *t == 'r' ? TRUST_REJECT : TRUST_ACCEPT;
      return known_keys (o, plain, t, err);
    }
  if (!strcmp (t, "sigstoreSigned"))
    {
      r->type = TRUST_SIGSTORE;
      return parse_sigstore (o, r, err);
    }
  if (!strcmp (t, "signedBy"))
    {
      r->type = TRUST_SIGNEDBY;
      return known_keys (o, signed_by, t, err);
    }
  return err_set (err, 0, "unknown requirement type '%s'", t);
}

static int
add_scope (struct trust_policy *p, const char *transport, const char *scope,
           json_t *reqs, struct err **err)
{
  struct trust_scope *s;
  size_t i;
  json_t *v;
  if (!json_is_array (reqs) || json_array_size (reqs) == 0)
    return err_set (err, 0, "scope '%s%s%s': expected a non-empty array",
                    transport ? transport : "default", transport ? ":" : "",
                    transport ? scope : "");
  if (transport && !strcmp (transport, "docker") && strchr (scope, '*')
      && (strncmp (scope, "*.", 2) || strchr (scope + 1, '*')))
    return err_set (err, 0,
                    "scope 'docker:%s': a wildcard is only '*.' and a "
                    "domain",
                    scope);
  p->scopes = xrealloc (p->scopes, (p->n_scopes + 1) * sizeof *p->scopes);
  s = &p->scopes[p->n_scopes++];
  memset (s, 0, sizeof *s);
  s->transport = transport ? xstrdup (transport) : NULL;
  s->scope = xstrdup (scope);
  s->reqs = xcalloc (json_array_size (reqs), sizeof *s->reqs);
  json_array_foreach (reqs, i, v)
  {
    s->n_reqs++;
    if (parse_req (v, &s->reqs[i], err) < 0)
      return err_wrap (err, "scope '%s%s%s'", transport ? transport : "default",
                       transport ? ":" : "", transport ? scope : "");
  }
  return 0;
}

int
trust_policy_parse (const char *text, size_t len, const char *path,
                    struct trust_policy *out, struct err **err)
{
  static const char *const top[] = { "default", "transports", NULL };
  json_error_t je;
  json_t *j = json_loadb (text, len, JSON_REJECT_DUPLICATES, &je), *ts, *sc,
         *reqs;
  const char *tname, *sname;
  int ret = -1;
  memset (out, 0, sizeof *out);
  out->path = xstrdup (path);
  if (!json_is_object (j))
    {
      err_set (err, 0, "%s", j ? "not a JSON object" : je.text);
      goto out;
    }
  if (known_keys (j, top, "policy", err) < 0
      || add_scope (out, NULL, "", json_object_get (j, "default"), err) < 0)
    goto out;
  ts = json_object_get (j, "transports");
  if (ts && !json_is_object (ts))
    {
      err_set (err, 0, "'transports' must be an object");
      goto out;
    }
  json_object_foreach (ts, tname, sc)
  {
    if (!json_is_object (sc))
      {
        err_set (err, 0, "transport '%s': expected an object", tname);
        goto out;
      }
    json_object_foreach (sc, sname, reqs)
    {
      if (add_scope (out, tname, sname, reqs, err) < 0)
        goto out;
    }
  }
  ret = 0;
out:
  json_decref (j);
  if (ret < 0)
    {
      trust_policy_release (out);
      err_wrap (err, "signature policy '%s'", path);
    }
  return ret;
}

int
trust_policy_load (const char *given, const char *configured,
                   struct trust_policy *out, struct err **err)
{
  _cleanup_free_ char *user = NULL, *text = NULL;
  const char *home = getenv ("HOME");
  const char *path = given && *given ? given : configured;
  size_t len;
  memset (out, 0, sizeof *out);
  if (!path || !*path)
    {
      if (home && *home)
        user = xasprintf ("%s/.config/containers/policy.json", home);
      if (user && access (user, F_OK) == 0)
        path = user;
      else if (access ("/etc/containers/policy.json", F_OK) == 0)
        path = "/etc/containers/policy.json";
      else
        return 1;
    }
  /* A file named explicitly must exist: a typo never means "accept". */
  if (fs_read_file (AT_FDCWD, path, POLICY_MAX, &text, &len, err) < 0)
    return err_wrap (err, "signature policy '%s'", path);
  return trust_policy_parse (text, len, path, out, err);
}

static void
ident_release (struct trust_ident *id)
{
  free (id->ref);
  free (id->prefix);
  free (id->signed_prefix);
}

void
trust_policy_release (struct trust_policy *p)
{
  for (size_t i = 0; i < p->n_scopes; i++)
    {
      struct trust_scope *s = &p->scopes[i];
      for (size_t k = 0; k < s->n_reqs; k++)
        {
          free (s->reqs[k].key_path);
          free (s->reqs[k].key_pem);
          ident_release (&s->reqs[k].ident);
        }
      free (s->reqs);
      free (s->transport);
      free (s->scope);
    }
  free (p->scopes);
  free (p->path);
  memset (p, 0, sizeof *p);
}

char **
trust_docker_scopes (const char *name, const char *tag, const char *digest)
{
  char **v = NULL;
  _cleanup_free_ char *cur = xstrdup (name), *host = NULL;
  char *slash, *colon, *dot;
  if (digest)
    strv_push (&v, xasprintf ("%s@%s", name, digest));
  else if (tag)
    strv_push (&v, xasprintf ("%s:%s", name, tag));
  /* the repository, then each namespace up to the host */
  for (;;)
    {
      strv_push (&v, xstrdup (cur));
      if (!(slash = strrchr (cur, '/')))
        break;
      *slash = 0;
    }
  /* wildcards from the host without its port: *.b.c, *.c */
  host = xstrdup (cur);
  if ((colon = strrchr (host, ':')) && !strchr (host, ']'))
    *colon = 0;
  else if (host[0] == '[' && (colon = strstr (host, "]:")))
    colon[1] = 0;
  for (dot = strchr (host, '.'); dot; dot = strchr (dot + 1, '.'))
    strv_push (&v, xasprintf ("*%s", dot));
  return v;
}

char **
trust_path_scopes (const char *path, const char *name)
{
  char **v = NULL;
  _cleanup_free_ char *cur = xstrdup (path);
  char *slash;
  if (name && *name)
    strv_push (&v, xasprintf ("%s:%s", path, name));
  while (*cur)
    {
      strv_push (&v, xstrdup (cur));
      if (!(slash = strrchr (cur, '/')) || slash == cur)
        break;
      *slash = 0;
    }
  return v;
}

const struct trust_scope *
trust_policy_scope (const struct trust_policy *p, const char *transport,
                    char *const *candidates)
{
  for (char *const *c = candidates; c && *c; c++)
    for (size_t i = 0; i < p->n_scopes; i++)
      if (p->scopes[i].transport && !strcmp (p->scopes[i].transport, transport)
          && !strcmp (p->scopes[i].scope, *c))
        return &p->scopes[i];
  for (size_t i = 0; i < p->n_scopes; i++)
    if (p->scopes[i].transport && !strcmp (p->scopes[i].transport, transport)
        && !*p->scopes[i].scope)
      return &p->scopes[i];
  return &p->scopes[0]; /* "default", always first */
}

char *
trust_scope_name (const struct trust_scope *s)
{
  if (!s->transport)
    return xstrdup ("default");
  if (!*s->scope)
    return xasprintf ("%s (transport default)", s->transport);
  return xasprintf ("%s:%s", s->transport, s->scope);
}

/* A reference without tag or digest ("host/repo")? Checked before
 * parsing, which adds ":latest". */
static bool
name_only (const char *s)
{
  const char *last = strrchr (s, '/');
  return !strchr (s, '@') && !strchr (last ? last : s, ':');
}

/* Parse s; with name_ok false a bare name is refused. */
static bool
parse_ref (const char *s, bool name_ok, struct ref *r)
{
  struct err *e = NULL;
  if (!name_ok && name_only (s))
    return false;
  if (ref_parse (s, r, &e) < 0)
    {
      err_free (e);
      return false;
    }
  if (name_only (s))
    {
      free (r->tag);
      r->tag = NULL;
    }
  return true;
}

static bool
same_name (const struct ref *a, const struct ref *b)
{
  return !strcmp (a->domain, b->domain) && !strcmp (a->path, b->path);
}

static bool
same_ref (const struct ref *a, const struct ref *b)
{
  return same_name (a, b) && !a->tag == !b->tag && !a->digest == !b->digest
         && (!a->tag || !strcmp (a->tag, b->tag))
         && (!a->digest || !strcmp (a->digest, b->digest));
}

static bool
match_repo_digest_or_exact (const struct ref *img, const struct ref *sig,
                            bool sig_name_only)
{
  if (sig_name_only)
    return false;
  if (img->digest)
    return same_name (img, sig);
  return same_ref (img, sig);
}

/* "host/ns/repo" starts with prefix at a component boundary. */
static bool
prefix_matches (const char *name, const char *prefix)
{
  size_t n = strlen (prefix);
  return !strncmp (name, prefix, n) && (name[n] == 0 || name[n] == '/');
}

bool
trust_ident_match (const struct trust_ident *id, const char *image,
                   const char *signed_ref)
{
  struct ref img = { 0 }, sig = { 0 }, want = { 0 };
  bool ok = false, sig_bare = name_only (signed_ref);
  if (!parse_ref (image, false, &img))
    return false;
  if (!parse_ref (signed_ref, true, &sig))
    {
      ref_release (&img);
      return false;
    }
  switch (id->type)
    {
    case TRUST_ID_REPO_DIGEST_OR_EXACT:
      ok = match_repo_digest_or_exact (&img, &sig, sig_bare);
      break;
    case TRUST_ID_REPOSITORY:
      ok = same_name (&img, &sig);
      break;
    case TRUST_ID_EXACT:
      ok = !sig_bare && same_ref (&img, &sig);
      break;
    case TRUST_ID_EXACT_REFERENCE:
      ok = !sig_bare && parse_ref (id->ref, false, &want)
           && same_ref (&want, &sig);
      break;
    case TRUST_ID_EXACT_REPOSITORY:
      ok = parse_ref (id->ref, true, &want) && same_name (&want, &sig);
      break;
    case TRUST_ID_REMAP:
      {
        _cleanup_free_ char *name = ref_name (&img), *full = NULL;
        _cleanup_free_ char *canon = ref_string (&img);
        if (!prefix_matches (name, id->prefix))
          {
            ok = match_repo_digest_or_exact (&img, &sig, sig_bare);
            break;
          }
        full = xasprintf ("%s%s", id->signed_prefix,
                          canon + strlen (id->prefix));
        ok = parse_ref (full, false, &want)
             && match_repo_digest_or_exact (&want, &sig, sig_bare);
        break;
      }
    }
  ref_release (&img);
  ref_release (&sig);
  ref_release (&want);
  return ok;
}
