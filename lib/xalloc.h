/* Allocation that cannot fail, and scope-bound cleanup.
 *
 * x* allocators abort on out-of-memory: callers never check them (crun, git).
 * The _cleanup_*_ attributes free or close a variable when it leaves scope;
 * steal_pointer() moves ownership out of such a variable. */
#ifndef IMGTOOL_XALLOC_H
#define IMGTOOL_XALLOC_H

#include <dirent.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

void *xmalloc (size_t n);
void *xcalloc (size_t nmemb, size_t size);
void *xrealloc (void *p, size_t n);
char *xstrdup (const char *s);
char *xstrndup (const char *s, size_t n);
char *xasprintf (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));

/* Grow *p (an array of *alloc elements of size elem) to hold at least need. */
void *xgrow (void *p, size_t *alloc, size_t need, size_t elem);

/* Overflow-checked size arithmetic for sizes that come from the network or
 * from archive headers; these return false instead of wrapping. */
static inline int
size_add_ok (size_t a, size_t b, size_t *out)
{
  return !__builtin_add_overflow (a, b, out);
}

static inline void
freep (void *p)
{
  free (*(void **)p);
}

static inline void
closep (int *fd)
{
  if (*fd >= 0)
    close (*fd);
}

static inline void
fclosep (FILE **f)
{
  if (*f)
    fclose (*f);
}

static inline void
closedirp (DIR **d)
{
  if (*d)
    closedir (*d);
}

/* Free a NULL-terminated vector of strings. */
void strv_free (char **v);
static inline void
strv_freep (char ***v)
{
  strv_free (*v);
}
size_t strv_len (char *const *v);
/* Whether v holds the string s. */
bool strv_has (char *const *v, const char *s);
char **strv_dup (char *const *v);
/* Append s (taken over) to the NULL-terminated vector *v. */
void strv_push (char ***v, char *s);

#define _cleanup_free_ __attribute__ ((cleanup (freep)))
#define _cleanup_close_ __attribute__ ((cleanup (closep)))
#define _cleanup_fclose_ __attribute__ ((cleanup (fclosep)))
#define _cleanup_closedir_ __attribute__ ((cleanup (closedirp)))
#define _cleanup_strv_ __attribute__ ((cleanup (strv_freep)))

static inline void *
steal_ptr (void *pp)
{
  void **p = pp;
  void *v = *p;
  *p = NULL;
  return v;
}
#define steal_pointer(pp) ((__typeof__ (*(pp)))steal_ptr (pp))

static inline int
steal_fd (int *fd)
{
  int v = *fd;
  *fd = -1;
  return v;
}

#define ARRAY_SIZE(a) (sizeof (a) / sizeof ((a)[0]))
#define UNLIKELY(x) __builtin_expect (!!(x), 0)

#endif
