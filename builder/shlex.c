/* Dockerfile word processing (see shlex.h). */
#include "builder/shlex.h"
#include "lib/err.h"
#include "lib/strbuf.h"
#include "lib/xalloc.h"

#include <ctype.h>
#include <stdbool.h>
#include <string.h>

struct lexer
{
  const char *s;
  size_t i;
  char esc;
  bf_lookup_fn lookup;
  void *ctx;
  const char *word; /* for messages */
  bool heredoc;
};

static int process (struct lexer *L, struct strbuf *out, char stop,
                    struct err **err);

static bool
name_char (char c)
{
  return isalnum ((unsigned char)c) || c == '_';
}

static int
dollar (struct lexer *L, struct strbuf *out, struct err **err)
{
  const char *s = L->s;
  L->i++; /* the $ */
  char c = s[L->i];
  if (c == '{')
    {
      size_t start = ++L->i;
      while (name_char (s[L->i]))
        L->i++;
      if (L->i == start)
        return err_set (err, 0, "bad substitution in '%s'", L->word);
      _cleanup_free_ char *name = xstrndup (s + start, L->i - start);
      const char *val = L->lookup ? L->lookup (L->ctx, name) : NULL;
      c = s[L->i];
      if (c == '}')
        {
          L->i++;
          if (val)
            strbuf_addstr (out, val);
          return 0;
        }
      bool colon = false;
      if (c == ':')
        {
          colon = true;
          c = s[++L->i];
        }
      if (c != '-' && c != '+' && c != '?')
        {
          if (!c)
            return err_set (err, 0, "missing '}' in '%s'", L->word);
          return err_set (err, 0, "unsupported modifier '%s%c' in '${%s...}'",
                          colon ? ":" : "", c, name);
        }
      L->i++;
      _cleanup_strbuf_ struct strbuf w = STRBUF_INIT;
      if (process (L, &w, '}', err) < 0)
        return -1;
      L->i++; /* the } */
      bool set = val != NULL, empty = !val || !*val;
      switch (c)
        {
        case '-':
          strbuf_addstr (out, (colon ? empty : !set) ? w.buf : val);
          break;
        case '+':
          if (colon ? !empty : set)
            strbuf_addstr (out, w.buf);
          break;
        case '?':
          if (colon ? empty : !set)
            return err_set (err, 0, "%s: %s", name,
                            w.len ? w.buf : "is not allowed to be unset");
          strbuf_addstr (out, val);
          break;
        }
      return 0;
    }
  if (name_char (c))
    {
      size_t start = L->i;
      if (isdigit ((unsigned char)c))
        L->i++; /* $1: a positional parameter, never set here */
      else
        while (name_char (s[L->i]))
          L->i++;
      _cleanup_free_ char *name = xstrndup (s + start, L->i - start);
      const char *val = L->lookup ? L->lookup (L->ctx, name) : NULL;
      if (val)
        strbuf_addstr (out, val);
      return 0;
    }
  strbuf_addch (out, '$'); /* a lone $ is literal */
  return 0;
}

static int
process (struct lexer *L, struct strbuf *out, char stop, struct err **err)
{
  const char *s = L->s;
  for (;;)
    {
      char c = s[L->i];
      if (stop && c == stop)
        return 0;
      if (!c)
        {
          if (stop)
            return err_set (err, 0, "missing '%c' in '%s'", stop, L->word);
          return 0;
        }
      if (c == '\'' && !L->heredoc)
        {
          const char *end = strchr (s + L->i + 1, '\'');
          if (!end)
            return err_set (err, 0,
                            "unexpected end of statement while looking for "
                            "matching single-quote in '%s'",
                            L->word);
          strbuf_add (out, s + L->i + 1, (size_t)(end - (s + L->i + 1)));
          L->i = (size_t)(end - s) + 1;
          continue;
        }
      if (c == '"' && !L->heredoc)
        {
          L->i++;
          for (;;)
            {
              c = s[L->i];
              if (!c)
                return err_set (err, 0,
                                "unexpected end of statement while looking "
                                "for matching double-quote in '%s'",
                                L->word);
              if (c == '"')
                {
                  L->i++;
                  break;
                }
              if (c == L->esc
                  && (s[L->i + 1] == '"' || s[L->i + 1] == '$'
                      || s[L->i + 1] == L->esc))
                {
                  strbuf_addch (out, s[L->i + 1]);
                  L->i += 2;
                  continue;
                }
              if (c == '$')
                {
                  if (dollar (L, out, err) < 0)
                    return -1;
                  continue;
                }
              strbuf_addch (out, c);
              L->i++;
            }
          continue;
        }
      if (c == L->esc)
        {
          char n = s[L->i + 1];
          if (L->heredoc)
            {
              /* In a heredoc only \$ and \\ (and \` for sh) are escapes. */
              if (n == '$' || n == L->esc || n == '`')
                {
                  strbuf_addch (out, n);
                  L->i += 2;
                }
              else
                {
                  strbuf_addch (out, c);
                  L->i++;
                }
              continue;
            }
          if (!n)
            {
              L->i++; /* an escape at the end is dropped */
              continue;
            }
          strbuf_addch (out, n);
          L->i += 2;
          continue;
        }
      if (c == '$')
        {
          if (dollar (L, out, err) < 0)
            return -1;
          continue;
        }
      strbuf_addch (out, c);
      L->i++;
    }
}

int
bf_shlex_word (const char *word, char escape, bf_lookup_fn lookup, void *ctx,
               char **out, struct err **err)
{
  struct lexer L = { word, 0, escape, lookup, ctx, word, false };
  _cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;
  if (process (&L, &sb, 0, err) < 0)
    return -1;
  *out = strbuf_detach (&sb, NULL);
  return 0;
}

int
bf_shlex_heredoc (const char *body, char escape, bf_lookup_fn lookup, void *ctx,
                  char **out, struct err **err)
{
  struct lexer L = { body, 0, escape, lookup, ctx, "heredoc", true };
  _cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;
  if (process (&L, &sb, 0, err) < 0)
    return -1;
  *out = strbuf_detach (&sb, NULL);
  return 0;
}

char **
bf_shlex_split (const char *s, char escape)
{
  char **words = xcalloc (1, sizeof *words);
  struct strbuf w = STRBUF_INIT;
  bool in_word = false, blank_ok = false;
  char quote = 0;
  size_t i = 0, n = strlen (s);

  while (i < n)
    {
      char c = s[i];
      if (!in_word)
        {
          if (isspace ((unsigned char)c))
            {
              i++;
              continue;
            }
          in_word = true;
        }
      if (quote)
        {
          if (c == quote)
            quote = 0;
          else if (c == escape && quote != '\'')
            {
              if (i + 1 == n)
                {
                  i++; /* an escape at the very end is skipped */
                  continue;
                }
              strbuf_addch (&w, c);
              c = s[++i];
            }
          strbuf_addch (&w, c);
          i++;
          continue;
        }
      if (isspace ((unsigned char)c))
        {
          if (blank_ok || w.len)
            strv_push (&words, strbuf_detach (&w, NULL));
          in_word = blank_ok = false;
          i++;
          continue;
        }
      if (c == '\'' || c == '"')
        {
          quote = c;
          blank_ok = true;
        }
      else if (c == escape)
        {
          if (i + 1 == n)
            {
              i++;
              continue;
            }
          strbuf_addch (&w, c);
          c = s[++i];
        }
      strbuf_addch (&w, c);
      i++;
    }
  if (in_word && (blank_ok || w.len))
    strv_push (&words, strbuf_detach (&w, NULL));
  strbuf_release (&w);
  return words;
}
