/* A tiny TAP harness for the unit programs in tests/unit (crun's style).
 * Each check prints "ok N - what" or "not ok N - what"; tests/run.sh counts
 * them. A program's exit status is non-zero if any check failed. */
#ifndef IMGTOOL_TEST_H
#define IMGTOOL_TEST_H

#include <stdio.h>
#include <string.h>

static int test_n, test_failed;

#define CHECK(cond, ...)                                                       \
  do                                                                           \
    {                                                                          \
      int ok_ = !!(cond);                                                      \
      printf ("%sok %d - ", ok_ ? "" : "not ", ++test_n);                      \
      printf (__VA_ARGS__);                                                    \
      printf ("\n");                                                           \
      if (!ok_)                                                                \
        {                                                                      \
          test_failed++;                                                       \
          printf ("#   failed at %s:%d: %s\n", __FILE__, __LINE__, #cond);     \
        }                                                                      \
    }                                                                          \
  while (0)

#define CHECK_STR(got, want, ...)                                              \
  do                                                                           \
    {                                                                          \
      const char *g_ = (got), *w_ = (want);                                    \
      CHECK (g_ &&w_ ? !strcmp (g_, w_) : g_ == w_, __VA_ARGS__);              \
      if (!(g_ && w_ ? !strcmp (g_, w_) : g_ == w_))                           \
        printf ("#   got '%s', want '%s'\n", g_ ? g_ : "(null)",               \
                w_ ? w_ : "(null)");                                           \
    }                                                                          \
  while (0)

#define SKIP(...)                                                              \
  do                                                                           \
    {                                                                          \
      printf ("ok %d # skip ", ++test_n);                                      \
      printf (__VA_ARGS__);                                                    \
      printf ("\n");                                                           \
    }                                                                          \
  while (0)

static inline int
test_done (void)
{
  printf ("1..%d\n", test_n);
  return test_failed ? 1 : 0;
}

#endif
