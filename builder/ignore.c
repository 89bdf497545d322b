/* .dockerignore parsing and matching (see ignore.h). */
#include "builder/ignore.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/path.h"
#include "lib/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>

#define IGNORE_MAX (16u << 20) /* an ignore file bigger than this is wrong */

/* Match a [...] class at *pp against c; advance *pp past it. Returns 1
 * match, 0 no match, -1 malformed. */
static int
match_class (const char **pp, char c)
{
  const char *p = *pp + 1;
  bool neg = false, ok = false;
  if (*p == '^' || *p == '!')
    {
      neg = true;
      p++;
    }
  bool first = true;
  while (first || *p != ']')
    {
      first = false;
      char lo = *p, hi;
      if (!lo)
        return -1;
      if (lo == '\\')
        lo = *++p;
      if (!lo)
        return -1;
      p++;
      hi = lo;
      if (*p == '-' && p[1] != ']')
        {
          hi = *++p;
          if (hi == '\\')
            hi = *++p;
          if (!hi)
            return -1;
          p++;
        }
      if ((unsigned char)c >= (unsigned char)lo
          && (unsigned char)c <= (unsigned char)hi)
        ok = true;
    }
  *pp = p + 1;
  return ok != neg;
}

static bool
glob (const char *p, const char *s)
{
  while (*p)
    {
      if (p[0] == '*' && p[1] == '*')
        {
          const char *rest = p + 2;
          if (*rest == '/')
            {
              /* "**" + "/": zero or more whole directories. */
              rest++;
              if (glob (rest, s))
                return true;
              for (const char *q = s; *q; q++)
                if (*q == '/' && glob (rest, q + 1))
                  return true;
              return false;
            }
          for (const char *q = s;; q++)
            {
              if (glob (rest, q))
                return true;
              if (!*q)
                return false;
            }
        }
      switch (*p)
        {
        case '*':
          p++;
          for (const char *q = s;; q++)
            {
              if (glob (p, q))
                return true;
              if (!*q || *q == '/')
                return false;
            }
        case '?':
          if (!*s || *s == '/')
            return false;
          p++, s++;
          continue;
        case '[':
          {
            if (!*s || *s == '/')
              return false;
            int m = match_class (&p, *s);
            if (m <= 0)
              return false;
            s++;
            continue;
          }
        case '\\':
          if (!p[1])
            return false;
          p++;
          /* fall through */
        default:
          if (*p != *s)
            return false;
          p++, s++;
        }
    }
  return *s == '\0';
}

bool
bf_glob_match (const char *pattern, const char *path)
{
  return glob (pattern, path);
}

bool
bf_glob_valid (const char *pattern)
{
  for (const char *p = pattern; *p; p++)
    {
      if (*p == '\\')
        {
          if (!p[1])
            return false;
          p++;
        }
      else if (*p == '[')
        {
          const char *q = p;
          if (match_class (&q, 'a') < 0)
            return false;
          p = q - 1;
        }
    }
  return true;
}

void
bf_ignore_free (struct bf_ignore *ig)
{
  if (!ig)
    return;
  for (size_t i = 0; i < ig->n; i++)
    free (ig->v[i].pattern);
  free (ig->v);
  free (ig);
}

int
bf_ignore_parse (const char *text, size_t len, const char *file,
                 struct bf_ignore **out, struct err **err)
{
  struct bf_ignore *ig = xcalloc (1, sizeof *ig);
  const char *s = text, *end = text + len;
  int lineno = 0;
  if (len >= 3 && !memcmp (s, "\xef\xbb\xbf", 3))
    s += 3;
  while (s < end)
    {
      const char *nl = memchr (s, '\n', (size_t)(end - s));
      const char *le = nl ? nl : end;
      lineno++;
      _cleanup_free_ char *line = xstrndup (s, (size_t)(le - s));
      s = nl ? nl + 1 : end;
      if (line[0] == '#') /* comments only in column 1 */
        continue;
      char *b = line, *e = line + strlen (line);
      while (*b == ' ' || *b == '\t' || *b == '\r' || *b == '\v' || *b == '\f')
        b++;
      while (e > b
             && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\v'
                 || e[-1] == '\f'))
        *--e = '\0';
      if (!*b)
        continue;
      bool excl = *b == '!';
      if (excl)
        {
          b++;
          while (*b == ' ' || *b == '\t')
            b++;
        }
      char *pat = *b ? path_clean (b) : xstrdup ("");
      if (pat[0] == '/' && pat[1])
        memmove (pat, pat + 1, strlen (pat));
      if (!bf_glob_valid (pat))
        {
          err_set (err, 0, "%s:%d: bad pattern '%s'", file, lineno, b);
          free (pat);
          bf_ignore_free (ig);
          return -1;
        }
      ig->v = xrealloc (ig->v, (ig->n + 1) * sizeof *ig->v);
      ig->v[ig->n++] = (struct bf_ignore_pat){ pat, excl };
    }
  *out = ig;
  return 0;
}

int
bf_ignore_load (int context_fd, const char *buildfile, struct bf_ignore **out,
                struct err **err)
{
  _cleanup_free_ char *beside
      = buildfile ? xasprintf ("%s.dockerignore", buildfile) : NULL;
  struct
  {
    int dirfd;
    const char *path;
  } tries[] = { { AT_FDCWD, beside },
                { context_fd, ".dockerignore" },
                { context_fd, ".containerignore" } };
  for (size_t i = 0; i < ARRAY_SIZE (tries); i++)
    {
      if (!tries[i].path)
        continue;
      _cleanup_free_ char *text = NULL;
      size_t len = 0;
      struct err *e = NULL;
      if (fs_read_file (tries[i].dirfd, tries[i].path, IGNORE_MAX, &text, &len,
                        &e)
          < 0)
        {
          if (e->errnum == ENOENT)
            {
              err_free (e);
              continue;
            }
          *err = e;
          return -1;
        }
      return bf_ignore_parse (text, len, tries[i].path, out, err);
    }
  *out = xcalloc (1, sizeof **out);
  return 0;
}

bool
bf_ignore_match (const struct bf_ignore *ig, const char *path)
{
  _cleanup_free_ char *file = path_clean (path);
  char *f = file;
  while (*f == '/')
    f++;
  bool matched = false;
  for (size_t i = 0; ig && i < ig->n; i++)
    {
      const struct bf_ignore_pat *pat = &ig->v[i];
      /* An inclusion cannot change an already excluded path, nor an
         exclusion one that is not excluded. */
      if (pat->exclusion != matched)
        continue;
      bool m = glob (pat->pattern, f);
      /* A pattern matching a parent directory covers what is inside. */
      for (char *slash = strchr (f, '/'); !m && slash;
           slash = strchr (slash + 1, '/'))
        {
          *slash = '\0';
          m = glob (pat->pattern, f);
          *slash = '/';
        }
      if (m)
        matched = !pat->exclusion;
    }
  return matched;
}

bool
bf_ignore_has_exceptions (const struct bf_ignore *ig)
{
  for (size_t i = 0; ig && i < ig->n; i++)
    if (ig->v[i].exclusion)
      return true;
  return false;
}
