/* The policy on pull: see trust/pull.h. */
#include "trust/pull.h"
#include "layers/store.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "registry/client.h"
#include "registry/ref.h"
#include "registry/session.h"
#include "trust/check.h"
#include "trust/regd.h"
#include "trust/sigstore.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define RECORD_DIR "trust"

int
trust_pull_policy (struct trust_pull *t, const char *configured,
                   struct err **err)
{
  int r;
  if (t->state)
    return t->state == 1 ? 1 : 0;
  r = trust_policy_load (t->policy_path, configured, &t->policy, err);
  if (r < 0)
    return -1;
  t->state = r == 1 ? 1 : 2;
  return r;
}

void
trust_record (struct store *s, const char *digest,
              const struct trust_verdict *v)
{
  const char *hex = strchr (digest, ':');
  json_t *j
      = json_pack ("{s:b,s:s,s:s,s:s,s:s,s:s}", "Verified", 1, "Key", v->key,
                   "Fingerprint", v->fingerprint, "Identity", v->identity,
                   "SignedDigest", v->digest, "Scope", v->scope);
  _cleanup_free_ char *text = json_dumps (j, JSON_COMPACT);
  _cleanup_free_ char *path = xasprintf (RECORD_DIR "/%s.json", hex + 1);
  struct err *e = NULL;
  json_decref (j);
  /* Only what inspect shows: a failure to write it is no reason to fail
   * the pull. */
  if (fs_mkdir_p (s->root_fd, RECORD_DIR, 0755, &e) < 0
      || fs_write_file_replace (s->root_fd, path, text, strlen (text), 0644, &e)
             < 0)
    {
      log_info ("record verification of %s: %s", digest, e->msg);
      err_free (e);
    }
}

json_t *
trust_record_get (struct store *s, const char *digest)
{
  const char *hex = strchr (digest, ':');
  _cleanup_free_ char *path = NULL, *text = NULL;
  struct err *e = NULL;
  size_t len;
  if (!hex)
    return NULL;
  path = xasprintf (RECORD_DIR "/%s.json", hex + 1);
  if (fs_read_file (s->root_fd, path, 1 << 16, &text, &len, &e) < 0)
    {
      err_free (e);
      return NULL;
    }
  return json_loadb (text, len, 0, NULL);
}

void
trust_inspect (struct store *s, json_t *o, const char *top,
               const char *manifest)
{
  json_t *r = manifest ? trust_record_get (s, manifest) : NULL;
  if (!r && top)
    r = trust_record_get (s, top);
  if (r)
    json_object_set_new (o, "Signature", r);
}

/* reg_verify_fn */
static int
verify_pull (void *ud, struct reg_repo *repo, const char *name, const char *top,
             const char *platform, struct err **err)
{
  struct trust_pull *t = ud;
  struct ref r = { 0 };
  _cleanup_strv_ char **scopes = NULL, **digests = NULL;
  _cleanup_free_ char *repo_name = NULL;
  const struct trust_scope *sc;
  struct trust_sigs sigs = { 0 };
  struct trust_verdict v = { 0 };
  int ret = -1;

  if (t->probe_sigs)
    for (const char *const *d = (const char *const[]){ top, platform, NULL };
         *d; d++)
      {
        int has = trust_sigs_exist (repo, *d, err);
        if (has < 0)
          return err_wrap (err, "image '%s'", name);
        if (has)
          strv_push (&t->have_sigs, xstrdup (*d));
      }
  if (trust_pull_policy (t, repo->c->cfg.signature_policy, err) != 0)
    return *err ? -1 : 0;
  if (ref_parse (name, &r, err) < 0)
    return -1;
  repo_name = ref_name (&r);
  scopes = trust_docker_scopes (repo_name, r.tag, r.digest);
  sc = trust_policy_scope (&t->policy, "docker", scopes);
  strv_push (&digests, xstrdup (top));
  if (platform)
    strv_push (&digests, xstrdup (platform));
  /* Signatures are looked up only when the scope asks for them, and
   * where registries.d allows (use-sigstore-attachments: false). */
  if (trust_scope_needs_sigs (sc) && trust_regd_use_attachments (repo_name))
    for (char **d = digests; *d; d++)
      if (trust_sigs_fetch (repo, *d, &sigs, err) < 0)
        {
          err_wrap (err, "image '%s'", name);
          goto out;
        }
  if (trust_evaluate (&t->policy, sc, name, digests, &sigs, &v, err) < 0)
    goto out;
  if (v.signed_by_key)
    {
      log_info ("%s: verified by %s (%s)", name, v.key, v.fingerprint);
      for (char **d = digests; *d; d++)
        trust_record (t->s, *d, &v);
    }
  ret = 0;
out:
  trust_verdict_release (&v);
  trust_sigs_release (&sigs);
  ref_release (&r);
  return ret;
}

void
trust_pull_init (struct trust_pull *t, struct reg_pull_opts *o, struct store *s,
                 const char *policy_path)
{
  memset (t, 0, sizeof *t);
  t->s = s;
  t->policy_path = policy_path;
  if (o) /* NULL: only for trust_check_path */
    {
      o->verify = verify_pull;
      o->verify_ud = t;
    }
}

void
trust_pull_release (struct trust_pull *t)
{
  if (t->state == 2)
    trust_policy_release (&t->policy);
  t->state = 0;
  strv_free (t->have_sigs);
  t->have_sigs = NULL;
}

int
trust_check_unsigned (struct trust_pull *t, const char *config_path,
                      const char *transport, char *const *scopes,
                      const char *what, struct err **err)
{
  struct reg_config cfg;
  const struct trust_scope *sc;
  struct trust_sigs none = { 0 };
  struct trust_verdict v = { 0 };
  char *digests[] = { NULL };
  int r;
  if (reg_config_load (config_path, &cfg, err) < 0)
    return -1;
  r = trust_pull_policy (t, cfg.signature_policy, err);
  reg_config_release (&cfg);
  if (r != 0)
    return r < 0 ? -1 : 0;
  sc = trust_policy_scope (&t->policy, transport, scopes);
  /* an archive or layout carries no cosign signature: a scope that asks
   * for one refuses */
  r = trust_evaluate (&t->policy, sc, what, digests, &none, &v, err);
  trust_verdict_release (&v);
  return r;
}

int
trust_check_path (struct trust_pull *t, const char *config_path,
                  const char *transport, const char *path, const char *name,
                  struct err **err)
{
  _cleanup_free_ char *abs = path ? realpath (path, NULL) : NULL;
  _cleanup_strv_ char **scopes = NULL;
  _cleanup_free_ char *what = NULL;
  if (path && !abs)
    return err_set (err, errno, "resolve '%s'", path);
  if (abs)
    scopes = trust_path_scopes (abs, name);
  what = xasprintf ("%s:%s%s%s", transport, abs ? abs : "-", name ? ":" : "",
                    name ? name : "");
  return trust_check_unsigned (t, config_path, transport, scopes, what, err);
}
