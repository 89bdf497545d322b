/* Unit tests for builder/git.c: which sources are git URLs (docker's
 * rules) and how #REF:SUBDIR splits. The clones themselves are tested
 * against a served repository (tests/integration/66-build-git.sh). */
#include "builder/git.h"
#include "lib/err.h"
#include "lib/xalloc.h"
#include "tests/unit/test.h"

#include <string.h>

static void
test_is_url (void)
{
  static const char *const yes[] = {
    "https://example.com/repo.git", "http://h/r.git#main:sub", "git://h/repo",
    "git@github.com:o/r.git",       "ssh://git@h/r",           "github.com/o/r",
    "file:///srv/repo.git#v1"
  };
  static const char *const no[] = { "https://example.com/ctx.tar.gz",
                                    "http://h/r.git/x",
                                    "https://h/a#b.git",
                                    "./repo.git",
                                    "file:///srv/repo",
                                    "-" };
  for (size_t i = 0; i < sizeof yes / sizeof *yes; i++)
    CHECK (build_git_is_url (yes[i]), "a git URL: %s", yes[i]);
  for (size_t i = 0; i < sizeof no / sizeof *no; i++)
    CHECK (!build_git_is_url (no[i]), "not a git URL: %s", no[i]);
}

static void
test_parse (void)
{
  struct build_git_spec s;
  struct err *e = NULL;
  CHECK (build_git_parse ("https://h/r.git#v1.0:a/b", &s, &e) == 0
             && !strcmp (s.url, "https://h/r.git") && !strcmp (s.ref, "v1.0")
             && !strcmp (s.subdir, "a/b"),
         "#ref:subdir splits");
  build_git_spec_release (&s);
  CHECK (build_git_parse ("https://h/r.git#:sub", &s, &e) == 0 && !s.ref
             && !strcmp (s.subdir, "sub"),
         "#:subdir: the remote's HEAD");
  build_git_spec_release (&s);
  CHECK (build_git_parse ("https://h/r.git", &s, &e) == 0 && !s.ref
             && !s.subdir,
         "no fragment: HEAD, the top");
  build_git_spec_release (&s);
  CHECK (build_git_parse ("github.com/o/r#main", &s, &e) == 0
             && !strcmp (s.url, "https://github.com/o/r"),
         "github.com/ gets https://");
  build_git_spec_release (&s);
  CHECK (build_git_parse ("git@h:o/r.git#dev", &s, &e) == 0
             && !strcmp (s.url, "git@h:o/r.git") && !strcmp (s.ref, "dev"),
         "scp-like ssh: the colon before # is the URL's");
  build_git_spec_release (&s);
  CHECK (build_git_parse ("https://h/r.git#main:a/../../x", &s, &e) < 0 && e
             && strstr (e->msg, "must be relative"),
         "a subdir climbing out is refused");
  err_clear (&e);
  CHECK (build_git_parse ("https://h/r.git#main:/etc", &s, &e) < 0 && e,
         "an absolute subdir is refused");
  err_clear (&e);
  CHECK (build_git_parse ("https://h/r.git#main:a..b/c", &s, &e) == 0,
         "'..' inside a name is fine");
  build_git_spec_release (&s);
}

int
main (void)
{
  test_is_url ();
  test_parse ();
  return test_done ();
}
