/* Signing and verifying in a registry: see trust/sign.h. */
#include "trust/sign.h"
#include "layers/digest.h"
#include "layers/image.h"
#include "lib/base64.h"
#include "lib/err.h"
#include "lib/strbuf.h"
#include "lib/xalloc.h"
#include "registry/ref.h"
#include "registry/session.h"
#include "trust/check.h"
#include "trust/key.h"
#include "trust/payload.h"
#include "trust/sigstore.h"

#include <string.h>

int
trust_sign_digest (struct reg_repo *repo, const struct trust_key *k,
                   const char *identity, const char *digest, struct err **err)
{
  size_t len, sig_len;
  _cleanup_free_ char *payload = trust_payload_make (identity, digest, &len);
  _cleanup_free_ unsigned char *sig = NULL;
  _cleanup_free_ char *b64 = NULL;
  if (trust_key_sign (k, payload, len, &sig, &sig_len, err) < 0)
    return -1;
  b64 = base64_encode (sig, sig_len);
  if (trust_sig_attach (repo, digest, payload, len, b64, err) < 0)
    return err_wrap (err, "sign %s", digest);
  return 0;
}

/* GET the manifest ref names: its digest, and the body when wanted. */
static int
resolve (struct reg_repo *repo, const char *reference, char *digest,
         char **body, size_t *len, enum doc_kind *kind, struct err **err)
{
  _cleanup_free_ char *path
      = xasprintf ("/v2/%s/manifests/%s", repo->path, reference);
  _cleanup_free_ char *mt = NULL;
  struct http_request req = { .url = path,
                              .accept = MANIFEST_ACCEPT,
                              .max_body = MANIFEST_MAX_SIZE };
  struct http_response resp = { 0 };
  int ret = -1;
  if (reg_repo_do (repo, &req, &resp, err) < 0)
    goto out;
  if (resp.status != 200)
    {
      _cleanup_free_ char *t = reg_repo_denied_text (repo, &resp);
      err_set (err, 0, "manifest '%s' of %s/%s: %s", reference, repo->host,
               repo->path, t);
      goto out;
    }
  digest_buf (resp.body.buf, resp.body.len, digest);
  if (digest_is_sha256 (reference) && strcmp (reference, digest))
    {
      err_set (err, 0, "manifest digest mismatch: expected %s, got %s",
               reference, digest);
      goto out;
    }
  if (image_doc_kind (resp.content_type, resp.body.buf, resp.body.len, kind,
                      &mt, err)
      < 0)
    goto out;
  *len = resp.body.len;
  *body = strbuf_detach (&resp.body, NULL);
  ret = 0;
out:
  http_response_release (&resp);
  return ret;
}

/* The repository of ref, opened with actions. */
static int
open_repo (struct reg_client *c, const char *refstr, const char *actions,
           struct reg_repo *repo, struct ref *r, char **name, struct err **err)
{
  if (ref_parse (refstr, r, err) < 0)
    return -1;
  *name = ref_name (r);
  if (reg_repo_init (repo, c, ref_api_host (r), r->domain, r->path, actions,
                     err)
      < 0)
    {
      free (*name);
      ref_release (r);
      return -1;
    }
  return 0;
}

int
trust_sign_ref (struct reg_client *c, const char *refstr,
                const struct trust_key *k, const char *identity, bool recursive,
                char ***signed_digests, struct err **err)
{
  struct reg_repo repo;
  struct ref r;
  _cleanup_free_ char *name = NULL, *body = NULL;
  char digest[DIGEST_STR_LEN + 1];
  enum doc_kind kind;
  size_t len;
  int ret = -1;
  if (identity)
    {
      struct ref id;
      if (ref_parse (identity, &id, err) < 0)
        return err_wrap (err, "--sign-identity '%s'", identity);
      ref_release (&id);
    }
  if (open_repo (c, refstr, "pull,push", &repo, &r, &name, err) < 0)
    return -1;
  if (resolve (&repo, r.digest ? r.digest : r.tag, digest, &body, &len, &kind,
               err)
      < 0)
    goto out;
  if (!identity)
    identity = name;
  if (trust_sign_digest (&repo, k, identity, digest, err) < 0)
    goto out;
  strv_push (signed_digests, xstrdup (digest));
  if (recursive && kind == DOC_INDEX)
    {
      struct image_index ix = { 0 };
      if (image_index_parse (body, len, &ix, err) < 0)
        goto out;
      for (size_t i = 0; i < ix.n_manifests; i++)
        {
          if (digest_check (ix.manifests[i].digest, err) < 0
              || trust_sign_digest (&repo, k, identity, ix.manifests[i].digest,
                                    err)
                     < 0)
            break;
          strv_push (signed_digests, xstrdup (ix.manifests[i].digest));
        }
      image_index_release (&ix);
      if (*err)
        goto out;
    }
  ret = 0;
out:
  reg_repo_release (&repo);
  ref_release (&r);
  return ret;
}

int
trust_verify_ref (struct reg_client *c, const char *refstr,
                  const struct trust_key *k, char **digest_out,
                  json_t *payloads, struct err **err)
{
  struct reg_repo repo;
  struct ref r;
  struct trust_sigs sigs = { 0 };
  struct strbuf why = STRBUF_INIT;
  _cleanup_free_ char *name = NULL, *body = NULL;
  char digest[DIGEST_STR_LEN + 1];
  enum doc_kind kind;
  size_t len;
  int ret = -1;
  if (open_repo (c, refstr, "pull", &repo, &r, &name, err) < 0)
    return -1;
  if (resolve (&repo, r.digest ? r.digest : r.tag, digest, &body, &len, &kind,
               err)
          < 0
      || trust_sigs_fetch (&repo, digest, &sigs, err) < 0)
    goto out;
  *digest_out = xstrdup (digest);
  if (sigs.n == 0)
    {
      err_set (err, 0, "no signatures found for %s", digest);
      goto out;
    }
  for (size_t i = 0; i < sigs.n; i++)
    {
      char *ds[] = { digest, NULL };
      struct trust_payload pl;
      struct err *e = NULL;
      trust_sig_verify (k, &sigs.v[i], ds, &pl, &e);
      trust_payload_release (&pl);
      if (e)
        {
          strbuf_addf (&why, "%s%s", why.len ? "; " : "", e->msg);
          err_free (e);
          continue;
        }
      json_array_append_new (
          payloads, json_loadb (sigs.v[i].payload, sigs.v[i].len, 0, NULL));
    }
  if (json_array_size (payloads) == 0)
    {
      err_set (err, 0, "no signature of %s verifies: %s", digest, why.buf);
      goto out;
    }
  ret = 0;
out:
  strbuf_release (&why);
  trust_sigs_release (&sigs);
  reg_repo_release (&repo);
  ref_release (&r);
  return ret;
}

int
trust_copy_ref_sigs (struct reg_client *src, const char *src_ref,
                     struct reg_client *dst, const char *dst_ref,
                     const char *digest, struct err **err)
{
  struct reg_repo from, to;
  struct ref rf, rt;
  _cleanup_free_ char *nf = NULL, *nt = NULL;
  int ret;
  if (open_repo (src, src_ref, "pull", &from, &rf, &nf, err) < 0)
    return -1;
  if (open_repo (dst, dst_ref, "pull,push", &to, &rt, &nt, err) < 0)
    {
      reg_repo_release (&from);
      ref_release (&rf);
      return -1;
    }
  ret = trust_sigs_copy (&from, &to, digest, err);
  reg_repo_release (&from);
  reg_repo_release (&to);
  ref_release (&rf);
  ref_release (&rt);
  return ret;
}
