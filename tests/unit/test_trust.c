/* Unit tests for trust/: containers-policy.json parsing, scope lookup,
 * signedIdentity matching, the payload, registries.d, and the decision
 * over signatures made here with a fresh key. */
#include "lib/base64.h"
#include "lib/err.h"
#include "lib/xalloc.h"
#include "tests/unit/test.h"
#include "trust/check.h"
#include "trust/key.h"
#include "trust/payload.h"
#include "trust/policy.h"
#include "trust/regd.h"
#include "trust/sigstore.h"

#include <string.h>

/* A P-256 key made for these tests (openssl genpkey), and its public key. */
static const char test_key[]
    = "-----BEGIN PRIVATE KEY-----\n"
      "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg/ZvfoV8HIHmQcR1M\n"
      "MHdEj06/o+LVOtSNl/F+Yw5YSdShRANCAAT2PLHI8YRhNor0iHmDGawVPmqBw+j0\n"
      "cGl2vHq+yrYfejwD4ehakHTewwdorrciG/fAFPv6Sk3V+mLCEuL/ZxOV\n"
      "-----END PRIVATE KEY-----\n";
static const char test_pub[]
    = "-----BEGIN PUBLIC KEY-----\n"
      "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE9jyxyPGEYTaK9Ih5gxmsFT5qgcPo\n"
      "9HBpdrx6vsq2H3o8A+HoWpB03sMHaK63Ihv3wBT7+kpN1fpiwhLi/2cTlQ==\n"
      "-----END PUBLIC KEY-----\n";

static int
parse (const char *text, struct trust_policy *p, struct err **err)
{
  return trust_policy_parse (text, strlen (text), "p.json", p, err);
}

static void
bad_policy (const char *text, const char *why)
{
  struct trust_policy p;
  struct err *err = NULL;
  int r = parse (text, &p, &err);
  CHECK (r < 0 && err && strstr (err->msg, why), "refused (%s): %s", why,
         err ? err->msg : "accepted");
  err_free (err);
}

static void
test_parse (void)
{
  bad_policy ("{}", "'default'");
  bad_policy ("{\"default\":[]}", "non-empty array");
  bad_policy ("{\"default\":[{\"type\":\"reject\"}],\"x\":1}",
              "unknown field 'x'");
  bad_policy ("{\"default\":[{\"type\":\"reject\",\"keyPath\":\"/k\"}]}",
              "unknown field 'keyPath'");
  bad_policy ("{\"default\":[{\"type\":\"nope\"}]}",
              "unknown requirement type 'nope'");
  bad_policy ("{\"default\":[{\"type\":\"sigstoreSigned\"}]}",
              "exactly one of 'keyPath' and 'keyData'");
  bad_policy ("{\"default\":[{\"type\":\"sigstoreSigned\",\"keyPath\":\"/a\","
              "\"keyData\":\"YQ==\"}]}",
              "exactly one of");
  bad_policy ("{\"default\":[{\"type\":\"sigstoreSigned\",\"keyPath\":\"/a\","
              "\"fulcio\":{}}]}",
              "keyless signing) is not supported");
  bad_policy ("{\"default\":[{\"type\":\"sigstoreSigned\",\"keyPath\":\"/a\","
              "\"signedIdentity\":{\"type\":\"exactReference\"}}]}",
              "'dockerReference' is missing");
  bad_policy ("{\"default\":[{\"type\":\"reject\"}],\"transports\":{\"docker\":"
              "{\"a*.example.com\":[{\"type\":\"reject\"}]}}}",
              "wildcard");
  bad_policy ("{\"default\":[{\"type\":\"reject\"}],\"default\":[]}",
              "duplicate");
}

static const char policy_text[]
    = "{\"default\":[{\"type\":\"reject\"}],"
      "\"transports\":{\"docker\":{"
      "\"\":[{\"type\":\"insecureAcceptAnything\"}],"
      "\"reg.example/team\":[{\"type\":\"sigstoreSigned\",\"keyPath\":\"/k\","
      "\"signedIdentity\":{\"type\":\"matchRepository\"}}],"
      "\"reg.example/team/app:1\":[{\"type\":\"reject\"}],"
      "\"reg.example:5000\":[{\"type\":\"reject\"}],"
      "\"*.example\":[{\"type\":\"signedBy\",\"keyType\":\"GPGKeys\","
      "\"keyPath\":\"/g\"}]},"
      "\"oci\":{\"/srv/lay\":[{\"type\":\"reject\"}]}}}";

static void
scope_is (const struct trust_policy *p, const char *transport, char **cands,
          const char *want)
{
  const struct trust_scope *sc = trust_policy_scope (p, transport, cands);
  char *name = trust_scope_name (sc);
  CHECK_STR (name, want, "%s: scope %s", cands && cands[0] ? cands[0] : "-",
             want);
  free (name);
  strv_free (cands);
}

static void
test_scopes (void)
{
  struct trust_policy p;
  struct err *err = NULL;
  char **v;
  CHECK (parse (policy_text, &p, &err) == 0, "the policy parses");
  if (err)
    {
      err_free (err);
      return;
    }
  v = trust_docker_scopes ("reg.example:5000/a/b", "1", NULL);
  CHECK_STR (v[0], "reg.example:5000/a/b:1", "repo:tag first");
  CHECK_STR (v[1], "reg.example:5000/a/b", "then the repository");
  CHECK_STR (v[2], "reg.example:5000/a", "then the namespace");
  CHECK_STR (v[3], "reg.example:5000", "then the host with its port");
  CHECK_STR (v[4], "*.example", "then wildcards of the host without port");
  CHECK (v[5] == NULL, "and nothing more");
  strv_free (v);
  v = trust_docker_scopes ("r.example/x", NULL, "sha256:ab");
  CHECK_STR (v[0], "r.example/x@sha256:ab", "repo@digest first");
  strv_free (v);

  scope_is (&p, "docker",
            trust_docker_scopes ("reg.example/team/app", "1", NULL),
            "docker:reg.example/team/app:1");
  scope_is (&p, "docker",
            trust_docker_scopes ("reg.example/team/app", "2", NULL),
            "docker:reg.example/team");
  scope_is (&p, "docker", trust_docker_scopes ("reg.example:5000/x", "1", NULL),
            "docker:reg.example:5000");
  scope_is (&p, "docker", trust_docker_scopes ("a.b.example/x", "1", NULL),
            "docker:*.example");
  scope_is (&p, "docker",
            trust_docker_scopes ("docker.io/library/x", "1", NULL),
            "docker (transport default)");
  scope_is (&p, "oci", trust_path_scopes ("/srv/lay/sub", "t"), "oci:/srv/lay");
  scope_is (&p, "oci", trust_path_scopes ("/srv/other", NULL), "default");
  scope_is (&p, "docker-archive", NULL, "default");
  trust_policy_release (&p);
}

static void
ident (enum trust_ident_type t, const char *ref, const char *image,
       const char *signed_ref, bool want)
{
  struct trust_ident id = { .type = t, .ref = (char *)ref };
  CHECK (trust_ident_match (&id, image, signed_ref) == want,
         "identity %d: '%s' for '%s' %s", (int)t, signed_ref, image,
         want ? "accepted" : "refused");
}

static void
test_identity (void)
{
  const char *tag = "r.example/team/app:1";
  const char *dig
      = "r.example/team/app@sha256:"
        "0000000000000000000000000000000000000000000000000000000000000000";
  ident (TRUST_ID_REPO_DIGEST_OR_EXACT, NULL, tag, "r.example/team/app:1",
         true);
  ident (TRUST_ID_REPO_DIGEST_OR_EXACT, NULL, tag, "r.example/team/app:2",
         false);
  ident (TRUST_ID_REPO_DIGEST_OR_EXACT, NULL, tag, "r.example/team/app", false);
  ident (TRUST_ID_REPO_DIGEST_OR_EXACT, NULL, dig, "r.example/team/app:9",
         true);
  ident (TRUST_ID_REPOSITORY, NULL, tag, "r.example/team/app", true);
  ident (TRUST_ID_REPOSITORY, NULL, tag, "r.example/team/app:7", true);
  ident (TRUST_ID_REPOSITORY, NULL, tag, "r.example/team/other", false);
  ident (TRUST_ID_REPOSITORY, NULL, tag, "r.example/team", false);
  ident (TRUST_ID_EXACT, NULL, tag, "r.example/team/app:1", true);
  ident (TRUST_ID_EXACT, NULL, dig, "r.example/team/app:1", false);
  ident (TRUST_ID_EXACT_REFERENCE, "r.example/x:3", tag, "r.example/x:3", true);
  ident (TRUST_ID_EXACT_REFERENCE, "r.example/x:3", tag, "r.example/team/app:1",
         false);
  ident (TRUST_ID_EXACT_REPOSITORY, "r.example/x", tag, "r.example/x", true);
  ident (TRUST_ID_EXACT_REPOSITORY, "r.example/x", tag, "r.example/team/app",
         false);
  ident (TRUST_ID_REPOSITORY, NULL, "docker.io/library/busybox:1", "busybox",
         true);
  struct trust_ident remap = { .type = TRUST_ID_REMAP,
                               .prefix = (char *)"mirror:5000/vendor",
                               .signed_prefix = (char *)"vendor.example" };
  CHECK (trust_ident_match (&remap, "mirror:5000/vendor/app:1",
                            "vendor.example/app:1"),
         "remapIdentity: the mirror's name is the signed one");
  CHECK (!trust_ident_match (&remap, "mirror:5000/vendor/app:1",
                             "mirror:5000/vendor/app"),
         "remapIdentity: then matchRepoDigestOrExact (a bare name fails)");
  CHECK (!trust_ident_match (&remap, "mirror:5000/vendorx/app:1",
                             "vendor.example/x/app:1"),
         "remapIdentity: a prefix ends at a component");
}

static void
test_payload (void)
{
  size_t len;
  struct trust_payload pl;
  struct err *err = NULL;
  char *s = trust_payload_make ("r.example/a", "sha256:ab", &len);
  CHECK_STR (s,
             "{\"critical\":{\"identity\":{\"docker-reference\":\"r.example/"
             "a\"},\"image\":{\"docker-manifest-digest\":\"sha256:ab\"},"
             "\"type\":\"cosign container image signature\"},\"optional\":"
             "null}",
             "the payload is cosign's, byte for byte");
  CHECK (trust_payload_parse (s, len, &pl, &err) == 0
             && !strcmp (pl.identity, "r.example/a"),
         "it parses back");
  trust_payload_release (&pl);
  free (s);
  const char *extra
      = "{\"critical\":{\"identity\":{\"docker-reference\":\"a\"},"
        "\"image\":{\"docker-manifest-digest\":\"d\"},\"type\":"
        "\"cosign container image signature\",\"x\":1}}";
  CHECK (trust_payload_parse (extra, strlen (extra), &pl, &err) < 0,
         "a field beyond cosign's is refused");
  err_free (err);
  err = NULL;
  const char *type = "{\"critical\":{\"identity\":{\"docker-reference\":\"a\"},"
                     "\"image\":{\"docker-manifest-digest\":\"d\"},\"type\":"
                     "\"atomic container signature\"}}";
  CHECK (trust_payload_parse (type, strlen (type), &pl, &err) < 0
             && strstr (err->msg, "type"),
         "another type is refused");
  err_free (err);
}

static void
test_regd (void)
{
  const char *y = "default-docker:\n"
                  "  use-sigstore-attachments: true\n"
                  "docker:\n"
                  "  reg.example/team:\n"
                  "    use-sigstore-attachments: false # off\n"
                  "  \"reg.example/team/app\":\n"
                  "    use-sigstore-attachments: true\n";
  int depth = -1;
  CHECK (trust_regd_text (y, "reg.example/team/x", &depth) == 0,
         "registries.d: the namespace's false");
  depth = -1;
  CHECK (trust_regd_text (y, "reg.example/team/app", &depth) == 1,
         "registries.d: the repository's own true wins");
  depth = -1;
  CHECK (trust_regd_text (y, "other.example/y", &depth) == 1,
         "registries.d: default-docker");
  depth = -1;
  CHECK (trust_regd_text ("docker:\n", "a/b", &depth) == -1,
         "registries.d: nothing said");
}

/* Sign a payload with the test key and decide on it. */
static void
test_decision (void)
{
  char *payload, *sig_b64;
  unsigned char *sig;
  size_t len, sig_len, n = strlen (test_pub);
  const char *pubpem = test_pub;
  struct trust_key k, pub;
  struct err *err = NULL;
  const char *d
      = "sha256:"
        "1111111111111111111111111111111111111111111111111111111111111111";
  char *digests[] = { (char *)d, NULL };

  CHECK (trust_key_private (test_key, strlen (test_key), NULL, &k, &err) == 0,
         "a PKCS#8 P-256 key loads");
  CHECK (trust_key_public (test_pub, n, &pub, &err) == 0,
         "its public key loads");
  CHECK_STR (k.fingerprint, pub.fingerprint, "one fingerprint for both");
  CHECK_STR (k.kind, "ecdsa", "an ECDSA key");

  payload = trust_payload_make ("r.example/team/app", d, &len);
  trust_key_sign (&k, payload, len, &sig, &sig_len, &err);
  sig_b64 = base64_encode (sig, sig_len);
  struct trust_sig s = { .payload = payload,
                         .len = len,
                         .sig_b64 = sig_b64,
                         .under_digest = (char *)d };
  struct trust_sigs sigs = { .v = &s, .n = 1 };
  struct trust_req req = { .type = TRUST_SIGSTORE,
                           .key_pem = xstrndup (pubpem, n),
                           .ident = { .type = TRUST_ID_REPOSITORY } };
  struct trust_scope sc = { .transport = (char *)"docker",
                            .scope = (char *)"r.example",
                            .reqs = &req,
                            .n_reqs = 1 };
  struct trust_policy p = { .path = (char *)"p.json" };
  struct trust_verdict v;
  CHECK (
      trust_evaluate (&p, &sc, "r.example/team/app:1", digests, &sigs, &v, &err)
              == 0
          && v.signed_by_key,
      "a signature by the key, for the digest and repository, is accepted");
  trust_verdict_release (&v);

  req.ident.type = TRUST_ID_REPO_DIGEST_OR_EXACT;
  CHECK (
      trust_evaluate (&p, &sc, "r.example/team/app:1", digests, &sigs, &v, &err)
              < 0
          && strstr (err->msg, "identity mismatch"),
      "cosign's bare repository fails the default matchRepoDigestOrExact");
  err_free (err);
  err = NULL;
  req.ident.type = TRUST_ID_REPOSITORY;

  char *other[] = { (char *)"sha256:22", NULL };
  CHECK (
      trust_evaluate (&p, &sc, "r.example/team/app:1", other, &sigs, &v, &err)
              < 0
          && strstr (err->msg, "the signature is for digest"),
      "another digest is refused");
  err_free (err);
  err = NULL;

  payload[10] ^= 1;
  CHECK (
      trust_evaluate (&p, &sc, "r.example/team/app:1", digests, &sigs, &v, &err)
              < 0
          && strstr (err->msg, "another key"),
      "a changed payload does not verify");
  err_free (err);
  err = NULL;
  payload[10] ^= 1;

  s.sig_b64 = base64_encode (sig, sig_len - 3);
  CHECK (
      trust_evaluate (&p, &sc, "r.example/team/app:1", digests, &sigs, &v, &err)
              < 0
          && strstr (err->msg, "malformed"),
      "a truncated signature is malformed");
  err_free (err);
  err = NULL;
  free (s.sig_b64);

  struct trust_sigs none = { 0 };
  CHECK (
      trust_evaluate (&p, &sc, "r.example/team/app:1", digests, &none, &v, &err)
              < 0
          && strstr (err->msg, "no signature")
          && strstr (err->msg, "scope 'docker:r.example'"),
      "no signature: refused, naming the scope");
  err_free (err);
  err = NULL;

  struct trust_req gpg = { .type = TRUST_SIGNEDBY };
  struct trust_scope gsc = { .transport = (char *)"docker",
                             .scope = (char *)"",
                             .reqs = &gpg,
                             .n_reqs = 1 };
  CHECK (trust_evaluate (&p, &gsc, "r.example/team/app:1", digests, &sigs, &v,
                         &err)
                 < 0
             && strstr (err->msg, "not supported"),
         "signedBy is refused as not supported");
  err_free (err);

  free (req.key_pem);
  free (sig_b64);
  free (sig);
  free (payload);
  trust_key_release (&k);
  trust_key_release (&pub);
}

int
main (void)
{
  test_parse ();
  test_scopes ();
  test_identity ();
  test_payload ();
  test_regd ();
  test_decision ();
  return test_done ();
}
