/* The Buildfile parser (see buildfile.h): text -> plan of stages. The
 * rules follow moby/buildkit's parser (reference/buildfile.md section 1
 * and 3); the expansion of words lives in bfscope.c and shlex.c. */
#include "builder/buildfile.h"
#include "builder/shlex.h"
#include "lib/err.h"
#include "lib/human.h"
#include "lib/strbuf.h"
#include "lib/xalloc.h"

#include <ctype.h>
#include <jansson.h>
#include <string.h>
#include <strings.h>

static const char *const kind_names[] = {
  [BF_FROM] = "FROM",
  [BF_RUN] = "RUN",
  [BF_COPY] = "COPY",
  [BF_ADD] = "ADD",
  [BF_ENV] = "ENV",
  [BF_ARG] = "ARG",
  [BF_WORKDIR] = "WORKDIR",
  [BF_USER] = "USER",
  [BF_CMD] = "CMD",
  [BF_ENTRYPOINT] = "ENTRYPOINT",
  [BF_LABEL] = "LABEL",
  [BF_EXPOSE] = "EXPOSE",
  [BF_VOLUME] = "VOLUME",
  [BF_STOPSIGNAL] = "STOPSIGNAL",
  [BF_HEALTHCHECK] = "HEALTHCHECK",
  [BF_SHELL] = "SHELL",
  [BF_ONBUILD] = "ONBUILD",
  [BF_MAINTAINER] = "MAINTAINER",
};

const char *
bf_kind_name (enum bf_kind k)
{
  return (size_t)k < ARRAY_SIZE (kind_names) ? kind_names[k] : "?";
}

/* Flags each instruction takes. "!" marks a boolean flag, "-" one that
 * is recognised but not supported yet (a clear error instead of "unknown
 * flag"). */
static const char *const *
allowed_flags (enum bf_kind k)
{
  static const char *const from[] = { "platform", NULL };
  static const char *const run[]
      = { "network", "mount", "-security", "-device", NULL };
  static const char *const copy[]
      = { "from", "chown", "chmod", "!link", "-parents", "-exclude", NULL };
  static const char *const add[]
      = { "chown",         "chmod",   "!link",    "checksum",
          "!keep-git-dir", "!unpack", "-exclude", NULL };
  static const char *const health[]
      = { "interval",       "timeout", "start-period",
          "start-interval", "retries", NULL };
  static const char *const none[] = { NULL };
  switch (k)
    {
    case BF_FROM:
      return from;
    case BF_RUN:
      return run;
    case BF_COPY:
      return copy;
    case BF_ADD:
      return add;
    case BF_HEALTHCHECK:
      return health;
    default:
      return none;
    }
}

const char *
bf_flag (const struct bf_instr *in, const char *name)
{
  for (size_t i = in->n_flags; i-- > 0;)
    if (!strcmp (in->flags[i].name, name))
      return in->flags[i].value;
  return NULL;
}

void
bf_instr_free (struct bf_instr *in)
{
  if (!in)
    return;
  free (in->raw);
  for (size_t i = 0; i < in->n_flags; i++)
    {
      free (in->flags[i].name);
      free (in->flags[i].value);
    }
  free (in->flags);
  strv_free (in->args);
  for (size_t i = 0; i < in->n_kvs; i++)
    {
      free (in->kvs[i].key);
      free (in->kvs[i].value);
    }
  free (in->kvs);
  for (size_t i = 0; i < in->n_heredocs; i++)
    {
      free (in->heredocs[i].name);
      free (in->heredocs[i].body);
    }
  free (in->heredocs);
  bf_instr_free (in->sub);
  free (in);
}

/* An instruction embedded in an array: free its parts, not itself. */
static void
instr_release (struct bf_instr *in)
{
  struct bf_instr *copy = xmalloc (sizeof *copy);
  *copy = *in;
  bf_instr_free (copy);
  memset (in, 0, sizeof *in);
}

void
bf_plan_free (struct bf_plan *p)
{
  if (!p)
    return;
  free (p->file);
  free (p->syntax);
  for (size_t i = 0; i < p->n_meta_args; i++)
    instr_release (&p->meta_args[i]);
  free (p->meta_args);
  for (size_t i = 0; i < p->n_meta; i++)
    {
      free (p->meta[i].key);
      free (p->meta[i].value);
    }
  free (p->meta);
  for (size_t i = 0; i < p->n_stages; i++)
    {
      struct bf_stage *st = &p->stages[i];
      free (st->name);
      free (st->base);
      free (st->platform);
      bf_instr_free (st->from);
      for (size_t j = 0; j < st->n_instrs; j++)
        instr_release (&st->instrs[j]);
      free (st->instrs);
    }
  free (p->stages);
  free (p);
}

/* ---- physical lines --------------------------------------------------- */

struct reader
{
  const char *text;
  size_t len, pos;
  int lineno; /* of the line last returned */
};

/* The next physical line without its newline (and \r), or NULL at EOF. */
static char *
next_line (struct reader *r)
{
  if (r->pos >= r->len)
    return NULL;
  const char *s = r->text + r->pos;
  const char *nl = memchr (s, '\n', r->len - r->pos);
  size_t n = nl ? (size_t)(nl - s) : r->len - r->pos;
  r->pos += n + (nl ? 1 : 0);
  r->lineno++;
  if (n && s[n - 1] == '\r')
    n--;
  return xstrndup (s, n);
}

static const char *
skip_ws (const char *s)
{
  while (*s == ' ' || *s == '\t')
    s++;
  return s;
}

static void
rtrim (char *s)
{
  size_t n = strlen (s);
  while (n && isspace ((unsigned char)s[n - 1]))
    s[--n] = '\0';
}

static bool
is_comment (const char *line)
{
  return *skip_ws (line) == '#';
}

static bool
is_blank (const char *line)
{
  return *skip_ws (line) == '\0';
}

/* Remove a trailing escape char (and blanks after it). True if found. */
static bool
trim_continuation (char *line, char esc)
{
  size_t n = strlen (line);
  while (n && (line[n - 1] == ' ' || line[n - 1] == '\t'))
    n--;
  if (n && line[n - 1] == esc)
    {
      line[n - 1] = '\0';
      return true;
    }
  return false;
}

/* ---- parser state ----------------------------------------------------- */

struct parser
{
  struct reader r;
  struct bf_plan *p;
  const char *file;
  char esc;
};

#define PERR(P, line, ...) perr ((P), (line), err, __VA_ARGS__)

static int __attribute__ ((format (printf, 4, 5)))
perr (struct parser *P, int line, struct err **err, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  _cleanup_free_ char *msg = NULL;
  if (vasprintf (&msg, fmt, ap) < 0)
    abort ();
  va_end (ap);
  return err_set (err, 0, "%s:%d: %s", P->file, line, msg);
}

static int
parse_directives (struct parser *P, struct err **err)
{
  bool seen_escape = false, seen_syntax = false, seen_check = false;
  for (;;)
    {
      size_t save_pos = P->r.pos;
      int save_line = P->r.lineno;
      _cleanup_free_ char *line = next_line (&P->r);
      if (!line)
        return 0;
      const char *s = line;
      s = skip_ws (s);
      bool directive = false;
      if (*s == '#')
        {
          const char *k = skip_ws (s + 1), *ke = k;
          while (isalnum ((unsigned char)*ke))
            ke++;
          const char *eq = skip_ws (ke);
          if (ke > k && isalpha ((unsigned char)*k) && *eq == '=')
            {
              _cleanup_free_ char *key = xstrndup (k, (size_t)(ke - k));
              _cleanup_free_ char *val = xstrdup (skip_ws (eq + 1));
              rtrim (val);
              for (char *c = key; *c; c++)
                *c = (char)tolower ((unsigned char)*c);
              bool *seen = !strcmp (key, "escape")   ? &seen_escape
                           : !strcmp (key, "syntax") ? &seen_syntax
                           : !strcmp (key, "check")  ? &seen_check
                                                     : NULL;
              if (seen)
                {
                  if (*seen)
                    return PERR (P, P->r.lineno,
                                 "only one %s parser directive can be used",
                                 key);
                  *seen = true;
                  directive = true;
                  if (!strcmp (key, "escape"))
                    {
                      if (strcmp (val, "\\") && strcmp (val, "`"))
                        return PERR (P, P->r.lineno,
                                     "invalid escape token '%s' does not "
                                     "match ` or \\",
                                     val);
                      P->esc = val[0];
                      P->p->escape = val[0];
                    }
                  else if (!strcmp (key, "syntax"))
                    P->p->syntax = xstrdup (val);
                }
            }
        }
      if (!directive)
        {
          /* Not a directive (or an unknown one, a comment): directives
             end here and this line is read again as an ordinary one. */
          P->r.pos = save_pos;
          P->r.lineno = save_line;
          return 0;
        }
    }
}

/* Split the leading --flags off rest. Flag values keep their quotes (they
 * are expanded with the instruction). Returns the text after the flags. */
static const char *
split_flags (const char *rest, struct bf_instr *in)
{
  const char *s = skip_ws (rest);
  while (s[0] == '-' && s[1] == '-')
    {
      const char *e = s;
      char quote = 0;
      while (*e && (quote || !isspace ((unsigned char)*e)))
        {
          if (quote && *e == quote)
            quote = 0;
          else if (!quote && (*e == '"' || *e == '\''))
            quote = *e;
          e++;
        }
      if (e == s + 2) /* "--" ends the flags */
        return skip_ws (e);
      const char *eq = memchr (s, '=', (size_t)(e - s));
      in->flags = xrealloc (in->flags, (in->n_flags + 1) * sizeof *in->flags);
      struct bf_flag *f = &in->flags[in->n_flags++];
      f->name = xstrndup (s + 2, (size_t)((eq ? eq : e) - (s + 2)));
      f->value = eq ? xstrndup (eq + 1, (size_t)(e - eq - 1)) : NULL;
      s = skip_ws (e);
    }
  return s;
}

static int
check_flags (struct parser *P, struct bf_instr *in, struct err **err)
{
  const char *const *allowed = allowed_flags (in->kind);
  for (size_t i = 0; i < in->n_flags; i++)
    {
      struct bf_flag *f = &in->flags[i];
      const char *a = NULL;
      for (size_t j = 0; allowed[j]; j++)
        {
          const char *n = allowed[j];
          if (*n == '!' || *n == '-')
            n++;
          if (!strcmp (n, f->name))
            a = allowed[j];
        }
      if (!a)
        return PERR (P, in->line, "unknown flag '--%s' for %s", f->name,
                     bf_kind_name (in->kind));
      if (*a == '-')
        return PERR (P, in->line, "%s --%s is not supported yet",
                     bf_kind_name (in->kind), f->name);
      if (*a == '!')
        {
          if (!f->value)
            f->value = xstrdup ("true");
          else if (strcmp (f->value, "true") && strcmp (f->value, "false"))
            return PERR (P, in->line, "--%s expects true or false, not '%s'",
                         f->name, f->value);
        }
      else if (!f->value || !*f->value)
        return PERR (P, in->line, "flag '--%s' needs a value", f->name);
    }
  return 0;
}

/* Is rest a JSON array? 1 = yes (argv filled), 0 = not JSON (shell form),
 * -1 = a JSON array with something other than strings, -2 = a string
 * holding a NUL (\u0000 is valid JSON, so BuildKit takes the exec form,
 * but no program can be given it: runc fails at exec; the build stops
 * here instead of cutting the argument short); *bad = its index. */
static int
parse_json_array (const char *rest, char ***out, size_t *bad)
{
  if (*rest != '[')
    return 0;
  json_error_t jerr;
  json_t *j = json_loads (rest, JSON_ALLOW_NUL, &jerr);
  if (!j || !json_is_array (j))
    {
      json_decref (j);
      return 0;
    }
  char **v = xcalloc (json_array_size (j) + 1, sizeof *v);
  size_t i;
  json_t *e;
  json_array_foreach (j, i, e)
  {
    int r = !json_is_string (e)                                         ? -1
            : memchr (json_string_value (e), 0, json_string_length (e)) ? -2
                                                                        : 0;
    if (r < 0)
      {
        *bad = i + 1;
        strv_free (v);
        json_decref (j);
        return r;
      }
    v[i] = xstrdup (json_string_value (e));
  }
  json_decref (j);
  *out = v;
  return 1;
}

/* The error for parse_json_array's r < 0. */
static int
json_form_err (struct parser *P, const struct bf_instr *in, int r, size_t bad,
               struct err **err)
{
  if (r == -2)
    return PERR (P, in->line,
                 "%s: argument %zu holds a NUL character, which no program "
                 "can take",
                 bf_kind_name (in->kind), bad);
  return PERR (P, in->line, "%s: a JSON array must hold only strings",
               bf_kind_name (in->kind));
}

/* Whitespace-separated words, no quote handling (buildkit's
 * parseStringsWhitespaceDelimited). */
static char **
split_ws (const char *s)
{
  char **v = xcalloc (1, sizeof *v);
  for (;;)
    {
      while (isspace ((unsigned char)*s))
        s++;
      if (!*s)
        return v;
      const char *e = s;
      while (*e && !isspace ((unsigned char)*e))
        e++;
      strv_push (&v, xstrndup (s, (size_t)(e - s)));
      s = e;
    }
}

static int
parse_maybe_json (struct parser *P, struct bf_instr *in, const char *rest,
                  struct err **err)
{
  size_t bad;
  int r = parse_json_array (rest, &in->args, &bad);
  if (r < 0)
    return json_form_err (P, in, r, bad, err);
  if (r == 1)
    {
      in->json = true;
      return 0;
    }
  in->args = xcalloc (2, sizeof *in->args);
  if (*rest)
    in->args[0] = xstrdup (rest);
  return 0;
}

static int
parse_maybe_json_list (struct parser *P, struct bf_instr *in, const char *rest,
                       struct err **err)
{
  size_t bad;
  int r = parse_json_array (rest, &in->args, &bad);
  if (r < 0)
    return json_form_err (P, in, r, bad, err);
  if (r == 1)
    in->json = true;
  else
    in->args = split_ws (rest);
  return 0;
}

static void
add_kv (struct bf_instr *in, char *key, char *value)
{
  in->kvs = xrealloc (in->kvs, (in->n_kvs + 1) * sizeof *in->kvs);
  in->kvs[in->n_kvs++] = (struct bf_kv){ key, value };
}

/* ENV and LABEL: k=v pairs, or the legacy "K rest of line". */
static int
parse_name_val (struct parser *P, struct bf_instr *in, const char *rest,
                struct err **err)
{
  const char *what = bf_kind_name (in->kind);
  _cleanup_strv_ char **words = bf_shlex_split (rest, P->esc);
  if (!words[0])
    return PERR (P, in->line, "%s requires at least one argument", what);
  if (!strchr (words[0], '='))
    {
      /* Legacy form: the first word is the name, the rest of the line
         (as written) the value. */
      const char *s = skip_ws (rest), *e = s;
      while (*e && !isspace ((unsigned char)*e))
        e++;
      const char *v = skip_ws (e);
      if (!*v)
        return PERR (P, in->line, "%s %s: missing value (use %s %s=value)",
                     what, words[0], what, words[0]);
      add_kv (in, xstrndup (s, (size_t)(e - s)), xstrdup (v));
      return 0;
    }
  for (size_t i = 0; words[i]; i++)
    {
      char *eq = strchr (words[i], '=');
      if (!eq)
        return PERR (P, in->line,
                     "%s: can't find = in '%s' (must be of the form "
                     "name=value)",
                     what, words[i]);
      if (eq == words[i])
        return PERR (P, in->line, "%s: empty name in '%s'", what, words[i]);
      add_kv (in, xstrndup (words[i], (size_t)(eq - words[i])),
              xstrdup (eq + 1));
    }
  return 0;
}

static bool
valid_var_name (const char *s)
{
  if (!*s || isdigit ((unsigned char)*s))
    return false;
  for (; *s; s++)
    if (!isalnum ((unsigned char)*s) && *s != '_')
      return false;
  return true;
}

static int
parse_arg (struct parser *P, struct bf_instr *in, const char *rest,
           struct err **err)
{
  _cleanup_strv_ char **words = bf_shlex_split (rest, P->esc);
  if (!words[0])
    return PERR (P, in->line, "ARG requires at least one argument");
  for (size_t i = 0; words[i]; i++)
    {
      char *eq = strchr (words[i], '=');
      char *key = eq ? xstrndup (words[i], (size_t)(eq - words[i]))
                     : xstrdup (words[i]);
      if (!valid_var_name (key))
        {
          PERR (P, in->line, "ARG: invalid name '%s'", key);
          free (key);
          return -1;
        }
      add_kv (in, key, eq ? xstrdup (eq + 1) : NULL);
    }
  return 0;
}

static int parse_instruction (struct parser *P, const char *line, int lineno,
                              struct bf_instr *in, bool in_onbuild,
                              struct err **err);

static int
parse_healthcheck (struct parser *P, struct bf_instr *in, const char *rest,
                   struct err **err)
{
  const char *s = skip_ws (rest), *e = s;
  while (*e && !isspace ((unsigned char)*e))
    e++;
  _cleanup_free_ char *type = xstrndup (s, (size_t)(e - s));
  if (!strcasecmp (type, "NONE"))
    {
      if (*skip_ws (e) || in->n_flags)
        return PERR (P, in->line, "HEALTHCHECK NONE takes no arguments");
      in->health.none = true;
      in->args = strv_dup ((char *[]){ (char *)"NONE", NULL });
      return 0;
    }
  if (strcasecmp (type, "CMD"))
    return PERR (P, in->line, "unknown type '%s' in HEALTHCHECK (try CMD)",
                 type);
  static const char *const durs[]
      = { "interval", "timeout", "start-period", "start-interval" };
  int64_t *fields[]
      = { &in->health.interval_ns, &in->health.timeout_ns,
          &in->health.start_period_ns, &in->health.start_interval_ns };
  for (size_t i = 0; i < ARRAY_SIZE (durs); i++)
    {
      const char *v = bf_flag (in, durs[i]);
      if (v && (human_duration_parse (v, fields[i]) < 0 || *fields[i] < 0))
        return PERR (P, in->line, "HEALTHCHECK --%s: bad duration '%s'",
                     durs[i], v);
      if (v && *fields[i] != 0 && *fields[i] < 1000000)
        return PERR (P, in->line, "HEALTHCHECK --%s cannot be less than 1ms",
                     durs[i]);
    }
  const char *rv = bf_flag (in, "retries");
  if (rv)
    {
      char *end;
      long n = strtol (rv, &end, 10);
      if (*end || end == rv || n < 0 || n > 1000000)
        return PERR (P, in->line, "HEALTHCHECK --retries: bad number '%s'", rv);
      in->health.retries = (int)n;
    }
  const char *cmd = skip_ws (e);
  if (!*cmd)
    return PERR (P, in->line, "HEALTHCHECK CMD requires a command");
  in->args = strv_dup ((char *[]){ (char *)"CMD", NULL });
  in->sub = xcalloc (1, sizeof *in->sub);
  in->sub->kind = BF_CMD;
  in->sub->line = in->line;
  in->sub->raw = xasprintf ("CMD %s", cmd);
  return parse_maybe_json (P, in->sub, cmd, err);
}

static bool
valid_stage_name (const char *s)
{
  if (!islower ((unsigned char)*s))
    return false;
  for (; *s; s++)
    if (!islower ((unsigned char)*s) && !isdigit ((unsigned char)*s)
        && *s != '-' && *s != '_' && *s != '.')
      return false;
  return true;
}

static int
parse_from (struct parser *P, struct bf_instr *in, const char *rest,
            struct err **err)
{
  in->args = split_ws (rest);
  size_t n = strv_len (in->args);
  if (n == 3 && !strcasecmp (in->args[1], "AS"))
    {
      char *name = in->args[2];
      for (char *c = name; *c; c++)
        *c = (char)tolower ((unsigned char)*c);
      if (!valid_stage_name (name))
        return PERR (P, in->line,
                     "invalid name for build stage: '%s', name can't start "
                     "with a number or contain symbols",
                     name);
      free (in->args[1]);
      in->args[1] = in->args[2];
      in->args[2] = NULL;
      return 0;
    }
  if (n != 1)
    return PERR (P, in->line,
                 "FROM requires either one or three arguments "
                 "(FROM image [AS name])");
  return 0;
}

/* Heredoc markers among the words of rest: read their bodies from the
 * lines that follow. */
static int
read_heredocs (struct parser *P, struct bf_instr *in, const char *rest,
               struct err **err)
{
  _cleanup_strv_ char **words = bf_shlex_split (rest, P->esc);
  for (size_t i = 0; words[i]; i++)
    {
      const char *w = words[i];
      while (isdigit ((unsigned char)*w))
        w++;
      if (w[0] != '<' || w[1] != '<' || w[2] == '<')
        continue;
      w += 2;
      bool strip = *w == '-';
      if (strip)
        w++;
      if (!*w)
        continue;
      /* A quoted delimiter (any quoting) turns expansion off. */
      bool quoted = strpbrk (w, "'\"") || strchr (w, P->esc);
      _cleanup_free_ char *name = NULL;
      struct err *e2 = NULL;
      if (bf_shlex_word (w, P->esc, NULL, NULL, &name, &e2) < 0 && e2)
        {
          err_free (e2);
          return PERR (P, in->line, "bad heredoc delimiter '%s'", w);
        }
      if (!*name)
        return PERR (P, in->line, "empty heredoc delimiter");
      struct strbuf body = STRBUF_INIT;
      bool ended = false;
      char *line;
      while ((line = next_line (&P->r)))
        {
          const char *l = line;
          if (strip)
            while (*l == '\t')
              l++;
          if (!strcmp (l, name))
            {
              free (line);
              ended = true;
              break;
            }
          strbuf_addstr (&body, l);
          strbuf_addch (&body, '\n');
          free (line);
        }
      if (!ended)
        {
          strbuf_release (&body);
          return PERR (P, in->line, "unterminated heredoc <<%s", name);
        }
      in->heredocs = xrealloc (in->heredocs,
                               (in->n_heredocs + 1) * sizeof *in->heredocs);
      in->heredocs[in->n_heredocs++]
          = (struct bf_heredoc){ steal_pointer (&name),
                                 strbuf_detach (&body, NULL), !quoted, strip };
    }
  return 0;
}

/* The heredoc that word names ("<<EOF", "<<-'EOF'"), or NULL. */
static const struct bf_heredoc *
heredoc_for (struct parser *P, const struct bf_instr *in, const char *word)
{
  if (strncmp (word, "<<", 2) || !in->n_heredocs)
    return NULL;
  const char *w = word + 2 + (word[2] == '-');
  _cleanup_free_ char *name = NULL;
  struct err *e2 = NULL;
  if (bf_shlex_word (w, P->esc, NULL, NULL, &name, &e2) < 0)
    {
      err_free (e2);
      return NULL;
    }
  for (size_t i = 0; i < in->n_heredocs; i++)
    if (!strcmp (in->heredocs[i].name, name))
      return &in->heredocs[i];
  return NULL;
}

static int
lookup_kind (const char *kw, enum bf_kind *k)
{
  for (size_t i = 0; i < ARRAY_SIZE (kind_names); i++)
    if (!strcasecmp (kw, kind_names[i]))
      {
        *k = (enum bf_kind)i;
        return 0;
      }
  return -1;
}

static int
parse_instruction (struct parser *P, const char *line, int lineno,
                   struct bf_instr *in, bool in_onbuild, struct err **err)
{
  const char *s = skip_ws (line), *e = s;
  while (*e && !isspace ((unsigned char)*e))
    e++;
  _cleanup_free_ char *kw = xstrndup (s, (size_t)(e - s));
  in->line = lineno;
  in->raw = xstrdup (s);
  if (lookup_kind (kw, &in->kind) < 0)
    return PERR (P, lineno, "unknown instruction '%s'", kw);
  const char *rest = split_flags (e, in);
  if (check_flags (P, in, err) < 0)
    return -1;
  const char *what = bf_kind_name (in->kind);

  if ((in->kind == BF_RUN || in->kind == BF_COPY || in->kind == BF_ADD)
      && !in_onbuild && read_heredocs (P, in, rest, err) < 0)
    return -1;

  switch (in->kind)
    {
    case BF_FROM:
      return parse_from (P, in, rest, err);
    case BF_RUN:
      {
        const char *net = bf_flag (in, "network");
        if (net && strcmp (net, "none") && strcmp (net, "host")
            && strcmp (net, "default"))
          return PERR (P, lineno,
                       "RUN --network must be none, host or default, not "
                       "'%s'",
                       net);
      }
      /* fall through */
    case BF_CMD:
    case BF_ENTRYPOINT:
      if (parse_maybe_json (P, in, rest, err) < 0)
        return -1;
      if (in->kind == BF_RUN && !in->args[0])
        return PERR (P, lineno, "RUN requires at least one argument");
      return 0;
    case BF_SHELL:
      {
        size_t bad;
        int r = parse_json_array (rest, &in->args, &bad);
        if (r < 0)
          return json_form_err (P, in, r, bad, err);
        if (r == 0)
          return PERR (P, lineno,
                       "SHELL requires the arguments to be in JSON form "
                       "(SHELL [\"executable\", \"parameters\"])");
      }
      in->json = true;
      if (!in->args[0])
        return PERR (P, lineno, "SHELL requires at least one argument");
      return 0;
    case BF_COPY:
    case BF_ADD:
      if (parse_maybe_json_list (P, in, rest, err) < 0)
        return -1;
      if (strv_len (in->args) < 2)
        return PERR (P, lineno,
                     "%s requires at least two arguments: source(s) and "
                     "destination",
                     what);
      for (size_t i = 0; in->args[i]; i++)
        {
          const struct bf_heredoc *h = heredoc_for (P, in, in->args[i]);
          if (h && in->args[i + 1])
            {
              free (in->args[i]);
              in->args[i] = xasprintf ("<<%s", h->name);
            }
        }
      if (bf_flag (in, "chmod"))
        {
          const char *m = bf_flag (in, "chmod");
          bool ok = true;
          for (const char *c = m; *c; c++)
            if (!strchr ("01234567ugoa+-=rwxXst,$", *c)
                && !isalnum ((unsigned char)*c) && *c != '{' && *c != '}'
                && *c != '_')
              ok = false;
          if (!ok)
            return PERR (P, lineno, "%s --chmod: bad mode '%s'", what, m);
        }
      return 0;
    case BF_ENV:
    case BF_LABEL:
      return parse_name_val (P, in, rest, err);
    case BF_ARG:
      return parse_arg (P, in, rest, err);
    case BF_WORKDIR:
    case BF_USER:
    case BF_STOPSIGNAL:
    case BF_MAINTAINER:
      if (!*rest)
        return PERR (P, lineno, "%s requires exactly one argument", what);
      in->args = strv_dup ((char *[]){ (char *)rest, NULL });
      return 0;
    case BF_EXPOSE:
      in->args = split_ws (rest);
      if (!in->args[0])
        return PERR (P, lineno, "EXPOSE requires at least one argument");
      return 0;
    case BF_VOLUME:
      if (parse_maybe_json_list (P, in, rest, err) < 0)
        return -1;
      if (!in->args[0])
        return PERR (P, lineno, "VOLUME requires at least one argument");
      for (size_t i = 0; in->args[i]; i++)
        if (!*in->args[i])
          return PERR (P, lineno,
                       "VOLUME specified can not be an empty "
                       "string");
      return 0;
    case BF_HEALTHCHECK:
      return parse_healthcheck (P, in, rest, err);
    case BF_ONBUILD:
      {
        if (in_onbuild)
          return PERR (P, lineno,
                       "chaining ONBUILD via 'ONBUILD ONBUILD' "
                       "isn't allowed");
        if (!*rest)
          return PERR (P, lineno, "ONBUILD requires an instruction");
        const char *t = rest, *te = t;
        while (*te && !isspace ((unsigned char)*te))
          te++;
        _cleanup_free_ char *tkw = xstrndup (t, (size_t)(te - t));
        enum bf_kind tk;
        if (lookup_kind (tkw, &tk) == 0
            && (tk == BF_ONBUILD || tk == BF_FROM || tk == BF_MAINTAINER))
          {
            if (tk == BF_ONBUILD)
              return PERR (P, lineno,
                           "chaining ONBUILD via 'ONBUILD "
                           "ONBUILD' isn't allowed");
            return PERR (P, lineno, "%s isn't allowed as an ONBUILD trigger",
                         bf_kind_name (tk));
          }
        in->sub = xcalloc (1, sizeof *in->sub);
        if (parse_instruction (P, rest, lineno, in->sub, true, err) < 0)
          return -1;
        in->args = strv_dup ((char *[]){ (char *)rest, NULL });
        return 0;
      }
    }
  return PERR (P, lineno, "unknown instruction '%s'", kw);
}

static void
push_instr (struct bf_instr **v, size_t *n, struct bf_instr *in)
{
  *v = xrealloc (*v, (*n + 1) * sizeof **v);
  (*v)[(*n)++] = *in;
}

int
bf_parse (const char *text, size_t len, const char *file, struct bf_plan **out,
          struct err **err)
{
  struct bf_plan *p = xcalloc (1, sizeof *p);
  struct parser P
      = { .r = { text, len, 0, 0 }, .p = p, .file = file, .esc = '\\' };
  p->file = xstrdup (file);
  p->escape = '\\';
  char *line;

  if (len >= 3 && !memcmp (text, "\xef\xbb\xbf", 3))
    P.r.text += 3, P.r.len -= 3; /* a UTF-8 byte order mark */
  if (memchr (text, '\0', len))
    {
      err_set (err, 0, "%s: not a text file (holds NUL bytes)", file);
      goto fail;
    }
  if (parse_directives (&P, err) < 0)
    goto fail;

  while ((line = next_line (&P.r)))
    {
      _cleanup_free_ char *first = line;
      if (is_blank (first) || is_comment (first))
        continue;
      int lineno = P.r.lineno;
      struct strbuf sb = STRBUF_INIT;
      strbuf_addstr (&sb, skip_ws (first));
      bool cont = trim_continuation (sb.buf, P.esc);
      sb.len = strlen (sb.buf);
      while (cont)
        {
          _cleanup_free_ char *next = next_line (&P.r);
          if (!next)
            break;
          if (is_comment (next) || is_blank (next))
            continue; /* comments and empty lines inside a continuation */
          cont = trim_continuation (next, P.esc);
          strbuf_addstr (&sb, next);
        }
      rtrim (sb.buf);
      struct bf_instr in = { 0 };
      int r = parse_instruction (&P, sb.buf, lineno, &in, false, err);
      strbuf_release (&sb);
      if (r < 0)
        {
          instr_release (&in);
          goto fail;
        }
      if (in.kind == BF_FROM)
        {
          p->stages
              = xrealloc (p->stages, (p->n_stages + 1) * sizeof *p->stages);
          struct bf_stage *st = &p->stages[p->n_stages];
          memset (st, 0, sizeof *st);
          st->index = (int)p->n_stages++;
          st->line = lineno;
          st->base = xstrdup (in.args[0]);
          st->name = in.args[1] ? xstrdup (in.args[1]) : NULL;
          const char *plat = bf_flag (&in, "platform");
          st->platform = plat ? xstrdup (plat) : NULL;
          st->from = xmalloc (sizeof *st->from);
          *st->from = in;
          for (size_t i = 0; st->name && i + 1 < p->n_stages; i++)
            if (p->stages[i].name && !strcmp (p->stages[i].name, st->name))
              {
                PERR (&P, lineno, "duplicate name for build stage '%s'",
                      st->name);
                goto fail;
              }
        }
      else if (!p->n_stages)
        {
          if (in.kind != BF_ARG)
            {
              PERR (&P, lineno,
                    "%s before the first FROM (only ARG may come before "
                    "FROM)",
                    bf_kind_name (in.kind));
              instr_release (&in);
              goto fail;
            }
          push_instr (&p->meta_args, &p->n_meta_args, &in);
        }
      else
        {
          struct bf_stage *st = &p->stages[p->n_stages - 1];
          push_instr (&st->instrs, &st->n_instrs, &in);
        }
    }
  if (!p->n_stages)
    {
      err_set (err, 0, "%s: no FROM instruction", file);
      goto fail;
    }
  *out = p;
  return 0;
fail:
  bf_plan_free (p);
  return -1;
}
