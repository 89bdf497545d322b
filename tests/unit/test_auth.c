/* Unit tests for registry/auth.c: challenges, token answers, scopes. */
#include "lib/err.h"
#include "lib/xalloc.h"
#include "registry/auth.h"
#include "tests/unit/test.h"

#include <stdlib.h>

static void
test_bearer (void)
{
  struct auth_challenge *c = NULL;
  size_t n = 0;
  struct err *err = NULL;
  CHECK (auth_challenges_parse ("Bearer "
                                "realm=\"https://auth.docker.io/"
                                "token\",service=\"registry.docker.io\","
                                "scope=\"repository:samalba/my-app:pull,push\"",
                                &c, &n, &err)
             == 0,
         "bearer challenge parses");
  CHECK (n == 1, "one challenge");
  CHECK_STR (c[0].scheme, "bearer", "scheme lowercased");
  CHECK_STR (auth_challenge_param (&c[0], "realm"),
             "https://auth.docker.io/token", "realm");
  CHECK_STR (auth_challenge_param (&c[0], "service"), "registry.docker.io",
             "service");
  CHECK_STR (auth_challenge_param (&c[0], "scope"),
             "repository:samalba/my-app:pull,push",
             "scope with a comma inside quotes");
  auth_challenges_free (c, n);
}

static void
test_several (void)
{
  struct auth_challenge *c = NULL;
  size_t n = 0;
  struct err *err = NULL;
  const struct auth_challenge *pick;
  CHECK (auth_challenges_parse (
             "Basic realm=\"reg\", BEARER realm=\"https://t/token\" , "
             "service=svc,error=insufficient_scope",
             &c, &n, &err)
             == 0,
         "two challenges in one header");
  CHECK (n == 2, "two challenges found");
  CHECK_STR (c[0].scheme, "basic", "first is basic");
  CHECK_STR (c[1].scheme, "bearer", "scheme case-insensitive");
  CHECK_STR (auth_challenge_param (&c[1], "service"), "svc", "token value");
  CHECK_STR (auth_challenge_param (&c[1], "ERROR"), "insufficient_scope",
             "param names case-insensitive");
  pick = auth_challenge_pick (c, n);
  CHECK (pick == &c[1], "bearer preferred over basic");
  CHECK (auth_challenges_parse ("Basic realm=\"only\"", &c, &n, &err) == 0
             && n == 3,
         "appends a second header's challenges");
  auth_challenges_free (c, n);

  c = NULL, n = 0;
  CHECK (auth_challenges_parse ("Basic realm=\"a \\\"quoted\\\" \\\\ realm\"",
                                &c, &n, &err)
             == 0,
         "quoted escapes parse");
  CHECK_STR (auth_challenge_param (&c[0], "realm"), "a \"quoted\" \\ realm",
             "escapes undone");
  CHECK (auth_challenge_pick (c, n) == &c[0], "basic picked when alone");
  auth_challenges_free (c, n);

  c = NULL, n = 0;
  CHECK (auth_challenges_parse ("Bearer realm=\"r\",scope=\"repository:a:pull "
                                "repository:b:pull,push\"",
                                &c, &n, &err)
             == 0,
         "scope with spaces");
  CHECK_STR (auth_challenge_param (&c[0], "scope"),
             "repository:a:pull repository:b:pull,push",
             "space-separated scopes kept");
  auth_challenges_free (c, n);

  c = NULL, n = 0;
  CHECK (auth_challenges_parse ("Bearer realm=\"unterminated", &c, &n, &err)
             < 0,
         "unterminated quote is an error");
  CHECK (err && strstr (err->msg, "unterminated"), "error says why");
  err_clear (&err);
  auth_challenges_free (c, n);
  c = NULL, n = 0;
  CHECK (auth_challenges_parse ("Negotiate", &c, &n, &err) == 0 && n == 1
             && !auth_challenge_pick (c, n),
         "unknown scheme parses but is not picked");
  auth_challenges_free (c, n);
}

static void
test_tokens (void)
{
  struct auth_token t;
  struct err *err = NULL;
  const char *j1 = "{\"token\":\"abc\",\"expires_in\":300}";
  const char *j2 = "{\"access_token\":\"xyz\"}";
  const char *j3
      = "{\"token\":\"\",\"access_token\":\"acc\",\"expires_in\":10,"
        "\"issued_at\":\"2024-01-02T03:04:05Z\",\"refresh_token\":\"r1\"}";
  time_t now = 1704164645; /* 2024-01-02T03:04:05Z */
  CHECK (auth_token_parse (j1, strlen (j1), 1000, &t, &err) == 0,
         "token parses");
  CHECK_STR (t.token, "abc", "token field");
  CHECK (t.expires == 1300, "expires_in counted from now without issued_at");
  auth_token_release (&t);
  CHECK (auth_token_parse (j2, strlen (j2), 1000, &t, &err) == 0,
         "access_token parses");
  CHECK_STR (t.token, "xyz", "access_token used when no token");
  CHECK (t.expires == 1060, "expires_in defaults to 60");
  auth_token_release (&t);
  CHECK (auth_token_parse (j3, strlen (j3), now + 5, &t, &err) == 0,
         "token with issued_at parses");
  CHECK_STR (t.token, "acc", "empty token falls back to access_token");
  CHECK (t.expires == now + 60, "issued_at + clamped 60 s lifetime");
  auth_token_release (&t);
  CHECK (auth_token_parse ("{}", 2, now, &t, &err) < 0, "no token is an error");
  CHECK (err && strstr (err->msg, "without a token"), "error says no token");
  err_clear (&err);
  CHECK (auth_token_parse ("<html>", 6, now, &t, &err) < 0, "HTML is an error");
  err_clear (&err);
}

static void
test_scope (void)
{
  char *s = auth_scope ("library/alpine", "pull");
  CHECK_STR (s, "repository:library/alpine:pull", "pull scope");
  free (s);
  s = auth_scope ("team/app", "pull,push");
  CHECK_STR (s, "repository:team/app:pull,push", "push scope");
  free (s);
}

int
main (void)
{
  test_bearer ();
  test_several ();
  test_tokens ();
  test_scope ();
  return test_done ();
}
