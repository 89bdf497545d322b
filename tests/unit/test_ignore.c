/* Unit tests for builder/ignore.c: .dockerignore parsing and matching
 * (moby patternmatcher semantics). */
#include "builder/ignore.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/xalloc.h"
#include "tests/unit/test.h"

#include <fcntl.h>
#include <stdlib.h>

static struct bf_ignore *
load (const char *text)
{
  struct bf_ignore *ig = NULL;
  struct err *err = NULL;
  if (bf_ignore_parse (text, strlen (text), ".dockerignore", &ig, &err) < 0)
    {
      printf ("# %s\n", err->msg);
      err_free (err);
    }
  return ig;
}

static void
glob (const char *pat, const char *path, bool want)
{
  CHECK (bf_glob_match (pat, path) == want, "'%s' %s '%s'", pat,
         want ? "matches" : "does not match", path);
}

static void
test_glob (void)
{
  glob ("*.go", "main.go", true);
  glob ("*.go", "dir/main.go", false);
  glob ("*/*.go", "dir/main.go", true);
  glob ("?.txt", "a.txt", true);
  glob ("?.txt", "ab.txt", false);
  glob ("a?b", "a/b", false);
  glob ("[a-c]x", "bx", true);
  glob ("[a-c]x", "dx", false);
  glob ("[^a-c]x", "dx", true);
  glob ("[!a]x", "ax", false);
  glob ("[[]x", "[x", true);
  glob ("\\*x", "*x", true);
  glob ("\\*x", "ax", false);
  glob ("**", "a/b/c", true);
  glob ("**/*.md", "README.md", true);
  glob ("**/*.md", "docs/a/b.md", true);
  glob ("docs/**/*.md", "docs/x.md", true);
  glob ("docs/**/*.md", "docs/a/b/x.md", true);
  glob ("docs/**/*.md", "other/x.md", false);
  glob ("a/**", "a/b/c", true);
  glob ("a/**", "a", false);
  glob ("**/node_modules", "x/y/node_modules", true);
  CHECK (!bf_glob_valid ("[abc"), "unclosed class is invalid");
  CHECK (!bf_glob_valid ("x\\"), "trailing backslash is invalid");
  CHECK (bf_glob_valid ("[]]x") && bf_glob_valid ("a[b-c]*"),
         "well-formed patterns are valid");
}

static void
test_ignore (void)
{
  struct bf_ignore *ig = load ("# comment\n"
                               "  *.log  \n"
                               "\n"
                               "/build/\n"
                               "./tmp//cache\n"
                               " # not a comment: a pattern\n"
                               "**/secret*\n"
                               "!important.log\n"
                               "docs\n"
                               "!docs/keep.md\n");
  CHECK (ig && ig->n == 8, "comments and blank lines skipped (%zu)",
         ig ? ig->n : 0);
  if (!ig)
    return;
  CHECK_STR (ig->v[1].pattern, "build", "leading / and trailing / dropped");
  CHECK_STR (ig->v[2].pattern, "tmp/cache", "patterns are cleaned");
  CHECK_STR (ig->v[3].pattern, "# not a comment: a pattern",
             "# after blanks is a pattern");
  CHECK (ig->v[5].exclusion && !strcmp (ig->v[5].pattern, "important.log"),
         "! marks an exception");
  CHECK (bf_ignore_match (ig, "debug.log"), "*.log excludes");
  CHECK (!bf_ignore_match (ig, "sub/debug.log"), "* does not cross /");
  CHECK (!bf_ignore_match (ig, "important.log"), "! re-includes");
  CHECK (bf_ignore_match (ig, "build/out/a.o"), "a dir pattern excludes below");
  CHECK (bf_ignore_match (ig, "/build"), "a leading / on the path is fine");
  CHECK (bf_ignore_match (ig, "./tmp/cache/x"), "./ on the path is fine");
  CHECK (!bf_ignore_match (ig, "tmp/other"), "siblings stay");
  CHECK (bf_ignore_match (ig, "a/b/secret.key"), "**/ matches at any depth");
  CHECK (bf_ignore_match (ig, "secret.key"), "... including the top");
  CHECK (bf_ignore_match (ig, "docs/a.md"), "docs/ excluded");
  CHECK (!bf_ignore_match (ig, "docs/keep.md"), "docs/keep.md re-included");
  CHECK (!bf_ignore_match (ig, "src/main.c"), "unrelated files stay");
  CHECK (bf_ignore_has_exceptions (ig), "exceptions present");
  bf_ignore_free (ig);

  ig = load ("*\n!src\n!Buildfile\nsrc/*.tmp\n");
  CHECK (bf_ignore_match (ig, "README"), "allow-list: everything excluded");
  CHECK (!bf_ignore_match (ig, "src/a.c"), "... except src");
  CHECK (bf_ignore_match (ig, "src/a.tmp"), "last matching line wins");
  CHECK (!bf_ignore_match (ig, "Buildfile"), "... and the Buildfile");
  bf_ignore_free (ig);

  ig = load ("a\n!a/b\n");
  CHECK (bf_ignore_match (ig, "a/c") && !bf_ignore_match (ig, "a/b/c"),
         "an exception below an excluded dir");
  bf_ignore_free (ig);
  ig = load ("");
  CHECK (ig && !bf_ignore_match (ig, "x") && !bf_ignore_has_exceptions (ig),
         "empty file excludes nothing");
  bf_ignore_free (ig);

  struct bf_ignore *bad = NULL;
  struct err *err = NULL;
  CHECK (bf_ignore_parse ("ok\n[abc\n", 8, ".dockerignore", &bad, &err) < 0
             && err
             && !strcmp (err->msg, ".dockerignore:2: bad pattern '[abc'"),
         "a bad pattern names file:line (%s)", err ? err->msg : "");
  err_free (err);
}

static void
test_load (void)
{
  struct err *err = NULL;
  char tmpl[] = "/tmp/imgtool-ignore-XXXXXX";
  char *dir = mkdtemp (tmpl);
  int dfd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  struct bf_ignore *ig = NULL;
  CHECK (bf_ignore_load (dfd, NULL, &ig, &err) == 0 && ig && ig->n == 0,
         "no ignore file: nothing excluded");
  bf_ignore_free (ig);
  fs_write_file_atomic (dfd, ".containerignore", "c\n", 2, 0644, &err);
  bf_ignore_load (dfd, NULL, &ig, &err);
  CHECK (ig && ig->n == 1 && !strcmp (ig->v[0].pattern, "c"),
         ".containerignore is read");
  bf_ignore_free (ig);
  fs_write_file_atomic (dfd, ".dockerignore", "d\n", 2, 0644, &err);
  bf_ignore_load (dfd, NULL, &ig, &err);
  CHECK (ig && ig->n == 1 && !strcmp (ig->v[0].pattern, "d"),
         ".dockerignore wins over .containerignore");
  bf_ignore_free (ig);
  fs_write_file_atomic (dfd, "app.Buildfile.dockerignore", "e\n", 2, 0644,
                        &err);
  char *bf = xasprintf ("%s/app.Buildfile", dir);
  bf_ignore_load (dfd, bf, &ig, &err);
  CHECK (ig && ig->n == 1 && !strcmp (ig->v[0].pattern, "e"),
         "<Buildfile>.dockerignore wins");
  bf_ignore_free (ig);
  free (bf);
  CHECK (err == NULL, "no error");
  close (dfd);
  fs_rm_rf (AT_FDCWD, dir, &err);
  err_free (err);
}

int
main (void)
{
  test_glob ();
  test_ignore ();
  test_load ();
  return test_done ();
}
