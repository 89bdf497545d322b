/* Unit tests for registry/ref.c: docker's reference grammar. */
#include "lib/err.h"
#include "lib/xalloc.h"
#include "registry/ref.h"
#include "tests/unit/test.h"

static void
norm (const char *in, const char *want)
{
  struct ref r;
  struct err *err = NULL;
  if (ref_parse (in, &r, &err) < 0)
    {
      CHECK (0, "parse '%s': %s", in, err->msg);
      err_free (err);
      return;
    }
  char *s = ref_string (&r);
  CHECK_STR (s, want, "'%s' normalises to '%s'", in, want);
  free (s);
  ref_release (&r);
}

static void
bad (const char *in, const char *why)
{
  struct ref r;
  struct err *err = NULL;
  int ret = ref_parse (in, &r, &err);
  CHECK (ret < 0 && err && strstr (err->msg, why), "'%s' is refused (%s)", in,
         err ? err->msg : "accepted");
  if (ret == 0)
    ref_release (&r);
  err_free (err);
}

static void
familiar (const char *in, const char *want)
{
  struct ref r;
  struct err *err = NULL;
  CHECK (ref_parse (in, &r, &err) == 0, "parse '%s'", in);
  char *s = ref_familiar (&r);
  CHECK_STR (s, want, "'%s' displays as '%s'", in, want);
  free (s);
  ref_release (&r);
  err_free (err);
}

int
main (void)
{
  const char *d
      = "sha256:"
        "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
  char buf[256];

  norm ("alpine", "docker.io/library/alpine:latest");
  norm ("alpine:3.20", "docker.io/library/alpine:3.20");
  norm ("user/app", "docker.io/user/app:latest");
  norm ("docker.io/alpine", "docker.io/library/alpine:latest");
  norm ("index.docker.io/library/alpine:1", "docker.io/library/alpine:1");
  norm ("localhost/foo", "localhost/foo:latest");
  norm ("localhost:5000/a/b:v1", "localhost:5000/a/b:v1");
  norm ("127.0.0.1:5001/team/app:1", "127.0.0.1:5001/team/app:1");
  norm ("example.com/a/b/c", "example.com/a/b/c:latest");
  norm ("[::1]:5000/x", "[::1]:5000/x:latest");
  norm ("a__b/c-d--e.f", "docker.io/a__b/c-d--e.f:latest");
  snprintf (buf, sizeof buf, "127.0.0.1:5001/team/app@%s", d);
  norm (buf, buf);
  snprintf (buf, sizeof buf, "busybox:1.36@%s", d);
  {
    char want[256];
    snprintf (want, sizeof want, "docker.io/library/busybox:1.36@%s", d);
    norm (buf, want);
  }
  /* a bare "localhost" with no slash is a Hub name (distribution's rule) */
  norm ("localhost", "docker.io/library/localhost:latest");

  bad ("", "empty");
  bad ("Alpine", "lowercase");
  bad ("user/App", "lowercase");
  bad ("alpine:", "invalid tag");
  bad ("alpine:-x", "invalid tag");
  bad ("alpine@sha256:abc", "invalid digest");
  bad ("alpine@md5:0123456789abcdef0123456789abcdef", "unsupported digest");
  bad ("a//b", "invalid repository name");
  bad ("a_/b", "invalid repository name");
  bad ("-a", "invalid repository name");
  bad ("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
       "hexadecimal");
  bad ("bad_host.com:port/x", "invalid registry host");

  familiar ("alpine", "alpine:latest");
  familiar ("docker.io/user/app:1", "user/app:1");
  familiar ("127.0.0.1:5000/a/b:t", "127.0.0.1:5000/a/b:t");

  {
    struct ref r;
    struct err *err = NULL;
    ref_parse ("alpine", &r, &err);
    CHECK_STR (ref_api_host (&r), "registry-1.docker.io",
               "docker.io is served by registry-1.docker.io");
    CHECK_STR (ref_auth_key (&r), "https://index.docker.io/v1/",
               "docker.io credentials key");
    ref_release (&r);
    ref_parse ("127.0.0.1:5000/x", &r, &err);
    CHECK_STR (ref_api_host (&r), "127.0.0.1:5000", "other hosts as given");
    CHECK_STR (ref_auth_key (&r), "127.0.0.1:5000", "other hosts' key");
    ref_release (&r);
    snprintf (buf, sizeof buf, "x@%s", d);
    ref_parse (buf, &r, &err);
    CHECK (r.tag == NULL && r.digest, "digest only: no default tag");
    ref_release (&r);
  }
  return test_done ();
}
