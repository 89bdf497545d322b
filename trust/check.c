/* The policy decision: see trust/check.h. */
#include "trust/check.h"
#include "lib/base64.h"
#include "lib/err.h"
#include "lib/strbuf.h"
#include "lib/xalloc.h"
#include "trust/key.h"
#include "trust/payload.h"
#include "trust/policy.h"
#include "trust/sigstore.h"

#include <string.h>

bool
trust_scope_needs_sigs (const struct trust_scope *sc)
{
  for (size_t i = 0; i < sc->n_reqs; i++)
    if (sc->reqs[i].type == TRUST_SIGSTORE)
      return true;
  return false;
}

void
trust_verdict_release (struct trust_verdict *v)
{
  free (v->scope);
  free (v->key);
  free (v->fingerprint);
  free (v->identity);
  free (v->digest);
  memset (v, 0, sizeof *v);
}

static int
req_key (const struct trust_req *r, struct trust_key *k, struct err **err)
{
  if (r->key_path)
    return trust_key_load (r->key_path, false, NULL, k, err);
  if (trust_key_public (r->key_pem, strlen (r->key_pem), k, err) < 0)
    return err_wrap (err, "keyData");
  return 0;
}

int
trust_sig_verify (const struct trust_key *k, const struct trust_sig *s,
                  char *const *digests, struct trust_payload *pl,
                  struct err **err)
{
  _cleanup_free_ char *raw = NULL;
  size_t raw_len = 0;
  memset (pl, 0, sizeof *pl);
  if (!s->sig_b64)
    return err_set (err, 0, "missing %s annotation", TRUST_SIG_ANNOTATION);
  raw = base64_decode (s->sig_b64, &raw_len);
  if (!raw)
    return err_set (err, 0, "the signature is not base64");
  if (!trust_key_sig_wellformed (k, raw, raw_len))
    return err_set (err, 0,
                    "malformed signature (truncated or garbage) for the "
                    "%s key",
                    k->kind);
  if (!trust_key_verify (k, s->payload, s->len, raw, raw_len))
    return err_set (err, 0, "signed by another key (not %s)", k->fingerprint);
  if (trust_payload_parse (s->payload, s->len, pl, err) < 0)
    return -1;
  if (!strv_has (digests, pl->digest))
    return err_set (err, 0, "the signature is for digest %s, not %s",
                    pl->digest, s->under_digest);
  return 0;
}

/* One signature under a requirement: 0 accepted (payload filled), else
 * -1 and a reason. */
static int
check_sig (const struct trust_key *k, const struct trust_req *r,
           const char *image, char *const *digests, const struct trust_sig *s,
           struct trust_payload *pl, struct err **err)
{
  if (trust_sig_verify (k, s, digests, pl, err) < 0)
    return -1;
  if (!trust_ident_match (&r->ident, image, pl->identity))
    return err_set (err, 0,
                    "identity mismatch: signed identity '%s' is not accepted "
                    "for '%s'",
                    pl->identity, image);
  return 0;
}

static int
check_sigstore (const struct trust_req *r, const char *image,
                char *const *digests, const struct trust_sigs *sigs,
                struct trust_verdict *v, struct err **err)
{
  struct trust_key k;
  struct strbuf why = STRBUF_INIT;
  int ret = -1;
  if (sigs->n == 0)
    {
      _cleanup_free_ char *list = NULL;
      struct strbuf b = STRBUF_INIT;
      for (char *const *d = digests; *d; d++)
        strbuf_addf (&b, "%s%s", d == digests ? "" : " or ", *d);
      list = strbuf_detach (&b, NULL);
      return err_set (err, 0,
                      "no signature: a signature is required, but %s has "
                      "none",
                      *list ? list : image);
    }
  if (req_key (r, &k, err) < 0)
    return -1;
  for (size_t i = 0; i < sigs->n; i++)
    {
      struct trust_payload pl = { 0 };
      struct err *e = NULL;
      if (check_sig (&k, r, image, digests, &sigs->v[i], &pl, &e) == 0)
        {
          trust_verdict_release (v); /* an earlier requirement's */
          v->signed_by_key = true;
          v->key = xstrdup (r->key_path ? r->key_path : "keyData");
          v->fingerprint = xstrdup (k.fingerprint);
          v->identity = steal_pointer (&pl.identity);
          v->digest = steal_pointer (&pl.digest);
          trust_payload_release (&pl);
          ret = 0;
          goto out;
        }
      trust_payload_release (&pl);
      strbuf_addf (&why, "%s%s", why.len ? "; " : "", e->msg);
      err_free (e);
    }
  err_set (err, 0, "%s", why.buf);
out:
  strbuf_release (&why);
  trust_key_release (&k);
  return ret;
}

int
trust_evaluate (const struct trust_policy *p, const struct trust_scope *sc,
                const char *image, char *const *digests,
                const struct trust_sigs *sigs, struct trust_verdict *v,
                struct err **err)
{
  _cleanup_free_ char *name = trust_scope_name (sc);
  memset (v, 0, sizeof *v);
  for (size_t i = 0; i < sc->n_reqs; i++)
    {
      const struct trust_req *r = &sc->reqs[i];
      switch (r->type)
        {
        case TRUST_ACCEPT:
          continue;
        case TRUST_REJECT:
          err_set (err, 0, "rejected by policy");
          break;
        case TRUST_SIGNEDBY:
          err_set (err, 0, "signedBy (GPG signatures) is not supported");
          break;
        case TRUST_SIGSTORE:
          if (check_sigstore (r, image, digests, sigs, v, err) == 0)
            continue;
          break;
        }
      trust_verdict_release (v);
      return err_wrap (err, "image '%s' refused by scope '%s' of '%s'", image,
                       name, p->path);
    }
  v->scope = steal_pointer (&name);
  return 0;
}
