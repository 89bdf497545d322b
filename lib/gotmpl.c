/* Go text/template, the subset docker's --format needs: see lib/gotmpl.h. */
#include "lib/gotmpl.h"
#include "lib/err.h"
#include "lib/strbuf.h"
#include "lib/xalloc.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the tree ------------------------------------------------------- */

enum operand_kind
{
  OP_FIELD, /* ".A.B" from dot; "." alone has no names */
  OP_STRING,
  OP_NUMBER,
  OP_BOOL,
  OP_FUNC, /* an identifier: a function called with the other operands */
  OP_PIPE, /* ( PIPELINE ) */
};

struct pipeline;

struct operand
{
  enum operand_kind kind;
  char **names;        /* OP_FIELD: the path (NULL-terminated, may be empty) */
  char *text;          /* OP_STRING, OP_FUNC */
  long long number;    /* OP_NUMBER, OP_BOOL */
  struct pipeline *in; /* OP_PIPE */
};

struct command
{
  struct operand *ops;
  size_t n;
};

struct pipeline
{
  struct command *cmds;
  size_t n;
};

enum node_kind
{
  N_TEXT,
  N_ACTION,
  N_IF,
  N_RANGE,
  N_WITH,
};

struct node;

struct list
{
  struct node *nodes;
  size_t n;
};

struct node
{
  enum node_kind kind;
  char *text;         /* N_TEXT */
  struct pipeline *p; /* the rest */
  struct list body, otherwise;
};

struct gotmpl
{
  struct list root;
};

/* ---- parsing -------------------------------------------------------- */

struct parser
{
  const char *src, *s; /* whole template, position */
  const char *act_end; /* end of the current action's text */
  bool trim_next;      /* the last action ended with -}} */
  struct err **err;
};

static int
syntax (struct parser *ps, const char *what, const char *near)
{
  int len = (int)strcspn (near, "\n");
  return err_set (ps->err, 0, "template: %s near '%.*s'", what,
                  len > 30 ? 30 : len, near);
}

static void pipeline_free (struct pipeline *p);

static void
operand_free (struct operand *o)
{
  strv_free (o->names);
  free (o->text);
  if (o->in)
    pipeline_free (o->in);
}

static void
pipeline_free (struct pipeline *p)
{
  for (size_t i = 0; p && i < p->n; i++)
    {
      for (size_t k = 0; k < p->cmds[i].n; k++)
        operand_free (&p->cmds[i].ops[k]);
      free (p->cmds[i].ops);
    }
  if (p)
    free (p->cmds);
  free (p);
}

static void
list_free (struct list *l)
{
  for (size_t i = 0; i < l->n; i++)
    {
      free (l->nodes[i].text);
      pipeline_free (l->nodes[i].p);
      list_free (&l->nodes[i].body);
      list_free (&l->nodes[i].otherwise);
    }
  free (l->nodes);
  l->nodes = NULL;
  l->n = 0;
}

static struct node *
list_add (struct list *l, enum node_kind kind)
{
  l->nodes = xrealloc (l->nodes, (l->n + 1) * sizeof *l->nodes);
  memset (&l->nodes[l->n], 0, sizeof *l->nodes);
  l->nodes[l->n].kind = kind;
  return &l->nodes[l->n++];
}

static void
skip_space (struct parser *ps)
{
  while (ps->s < ps->act_end && isspace ((unsigned char)*ps->s))
    ps->s++;
}

static bool
at_word (struct parser *ps, const char *w)
{
  size_t n = strlen (w);
  return (size_t)(ps->act_end - ps->s) >= n && !strncmp (ps->s, w, n)
         && (ps->s + n == ps->act_end || !isalnum ((unsigned char)ps->s[n]));
}

static struct pipeline *parse_pipeline (struct parser *ps, bool in_parens);

static int
parse_string (struct parser *ps, struct operand *o)
{
  struct strbuf sb = STRBUF_INIT;
  char q = *ps->s++;
  while (ps->s < ps->act_end && *ps->s != q)
    {
      char c = *ps->s++;
      if (q == '"' && c == '\\' && ps->s < ps->act_end)
        {
          c = *ps->s++;
          c = c == 'n' ? '\n' : c == 't' ? '\t' : c;
        }
      strbuf_addch (&sb, c);
    }
  if (ps->s >= ps->act_end)
    {
      strbuf_release (&sb);
      return syntax (ps, "unterminated string", ps->src);
    }
  ps->s++;
  o->kind = OP_STRING;
  o->text = strbuf_detach (&sb, NULL);
  return 0;
}

static int
parse_operand (struct parser *ps, struct operand *o)
{
  const char *start = ps->s;
  memset (o, 0, sizeof *o);
  if (*ps->s == '.')
    {
      o->kind = OP_FIELD;
      o->names = xcalloc (1, sizeof *o->names);
      ps->s++;
      while (ps->s < ps->act_end
             && (isalnum ((unsigned char)*ps->s) || *ps->s == '_'))
        {
          const char *w = ps->s;
          while (ps->s < ps->act_end
                 && (isalnum ((unsigned char)*ps->s) || *ps->s == '_'))
            ps->s++;
          strv_push (&o->names, xstrndup (w, (size_t)(ps->s - w)));
          if (ps->s < ps->act_end && *ps->s == '.')
            ps->s++;
          else
            break;
        }
      return 0;
    }
  if (*ps->s == '"' || *ps->s == '`')
    return parse_string (ps, o);
  if (*ps->s == '(')
    {
      ps->s++;
      o->kind = OP_PIPE;
      o->in = parse_pipeline (ps, true);
      if (!o->in)
        return -1;
      ps->s++; /* ')' */
      return 0;
    }
  if (isdigit ((unsigned char)*ps->s) || *ps->s == '-')
    {
      char *end;
      o->kind = OP_NUMBER;
      o->number = strtoll (ps->s, &end, 10);
      if (end == ps->s || end > ps->act_end)
        return syntax (ps, "bad number", start);
      ps->s = end;
      return 0;
    }
  if (*ps->s == '$')
    return syntax (ps, "variables are not supported", start);
  if (isalpha ((unsigned char)*ps->s))
    {
      while (ps->s < ps->act_end
             && (isalnum ((unsigned char)*ps->s) || *ps->s == '_'))
        ps->s++;
      o->text = xstrndup (start, (size_t)(ps->s - start));
      if (!strcmp (o->text, "true") || !strcmp (o->text, "false"))
        {
          o->kind = OP_BOOL;
          o->number = o->text[0] == 't';
        }
      else
        o->kind = OP_FUNC;
      return 0;
    }
  return syntax (ps, "unexpected character", start);
}

/* Operands up to ')' (in_parens) or the action's end, split by '|'. */
static struct pipeline *
parse_pipeline (struct parser *ps, bool in_parens)
{
  struct pipeline *p = xcalloc (1, sizeof *p);
  struct command *c = NULL;
  for (;;)
    {
      skip_space (ps);
      if (ps->s >= ps->act_end || (in_parens && *ps->s == ')'))
        break;
      if (*ps->s == '|')
        {
          if (!c || !c->n)
            {
              syntax (ps, "missing command before '|'", ps->s);
              goto fail;
            }
          ps->s++;
          c = NULL;
          continue;
        }
      if (!c)
        {
          p->cmds = xrealloc (p->cmds, (p->n + 1) * sizeof *p->cmds);
          c = &p->cmds[p->n++];
          memset (c, 0, sizeof *c);
        }
      c->ops = xrealloc (c->ops, (c->n + 1) * sizeof *c->ops);
      if (parse_operand (ps, &c->ops[c->n]) < 0)
        goto fail;
      c->n++;
    }
  if (in_parens && (ps->s >= ps->act_end || *ps->s != ')'))
    {
      syntax (ps, "unclosed '('", ps->src);
      goto fail;
    }
  if (!p->n || !c || !c->n)
    {
      syntax (ps, "missing value", ps->s);
      goto fail;
    }
  return p;
fail:
  pipeline_free (p);
  return NULL;
}

/* Find the next action; text before it goes to l. Returns the start of
 * the action's words (after "{{" and an optional "- "), or NULL at the
 * end. */
static const char *
next_action (struct parser *ps, struct list *l)
{
  const char *open = strstr (ps->s, "{{"), *text_end, *words, *close;
  const char *text = ps->s;
  text_end = open ? open : ps->s + strlen (ps->s);
  words = open ? open + 2 : NULL;
  if (open && words[0] == '-' && isspace ((unsigned char)words[1]))
    {
      while (text_end > text && isspace ((unsigned char)text_end[-1]))
        text_end--;
      words += 2;
    }
  if (ps->trim_next)
    while (text < text_end && isspace ((unsigned char)*text))
      text++;
  if (text_end > text)
    list_add (l, N_TEXT)->text = xstrndup (text, (size_t)(text_end - text));
  if (!open)
    {
      ps->s += strlen (ps->s);
      return NULL;
    }
  close = strstr (words, "}}");
  if (!close)
    {
      syntax (ps, "unclosed action", open);
      return NULL;
    }
  ps->trim_next = close > words && close[-1] == '-' && close - 1 > words
                  && isspace ((unsigned char)close[-2]);
  ps->act_end = ps->trim_next ? close - 2 : close;
  ps->s = words;
  skip_space (ps);
  return words;
}

static const char *
after_action (const struct parser *ps)
{
  return ps->act_end + (ps->trim_next ? 4 : 2); /* " -}}" or "}}" */
}

static int parse_list (struct parser *ps, struct list *l, bool nested,
                       const char **stop);

/* After {{if P}}, {{range P}} or {{with P}}: the body, then an {{else}}
 * branch up to {{end}}; {{else if P}} is an if nested in the else branch
 * that ends at the same {{end}}. Fills l->nodes[at]. */
static int
parse_branches (struct parser *ps, struct list *l, size_t at,
                enum node_kind kind)
{
  const char *st = NULL;
  struct list body = { 0 }, other = { 0 };
  int r = parse_list (ps, &body, true, &st);
  if (r == 0 && !strcmp (st, "else"))
    {
      if (kind == N_IF && at_word (ps, "if"))
        {
          struct node *inner;
          ps->s += 2;
          inner = list_add (&other, N_IF);
          inner->p = parse_pipeline (ps, false);
          if (!inner->p)
            r = -1;
          else
            {
              ps->s = after_action (ps);
              r = parse_branches (ps, &other, 0, N_IF);
            }
          goto done; /* the inner if took the {{end}} */
        }
      if (ps->s != ps->act_end)
        r = syntax (ps, "junk after {{else}}", ps->s);
      else
        {
          ps->s = after_action (ps);
          r = parse_list (ps, &other, true, &st);
          if (r == 0 && strcmp (st, "end"))
            r = syntax (ps, "a second {{else}}", ps->s);
        }
    }
  if (r == 0)
    {
      if (ps->s != ps->act_end)
        r = syntax (ps, "junk after {{end}}", ps->s);
      else
        ps->s = after_action (ps);
    }
done:
  l->nodes[at].body = body;
  l->nodes[at].otherwise = other;
  return r;
}

/* Parse nodes into l until {{end}} or {{else}} (nested), which is left in
 * *stop ("end", "else") with ps->s after the word; at the top, until the
 * end of the text. */
static int
parse_list (struct parser *ps, struct list *l, bool nested, const char **stop)
{
  for (;;)
    {
      const char *w = next_action (ps, l);
      struct node *n;
      enum node_kind kind;
      if (!w)
        {
          if (*ps->err)
            return -1;
          if (nested)
            return syntax (ps, "missing {{end}}", ps->src);
          return 0;
        }
      if (ps->s + 2 <= ps->act_end && !strncmp (ps->s, "/*", 2))
        {
          ps->s = after_action (ps);
          continue;
        }
      if (at_word (ps, "end") || at_word (ps, "else"))
        {
          if (!nested)
            return syntax (ps, "unexpected {{end}} or {{else}}", ps->s);
          *stop = at_word (ps, "end") ? "end" : "else";
          ps->s += strlen (*stop);
          skip_space (ps);
          return 0;
        }
      kind = at_word (ps, "if")      ? N_IF
             : at_word (ps, "range") ? N_RANGE
             : at_word (ps, "with")  ? N_WITH
                                     : N_ACTION;
      if (kind != N_ACTION)
        ps->s += kind == N_IF ? 2 : kind == N_RANGE ? 5 : 4;
      n = list_add (l, kind);
      n->p = parse_pipeline (ps, false);
      if (!n->p)
        return -1;
      ps->s = after_action (ps);
      if (kind != N_ACTION && parse_branches (ps, l, l->n - 1, kind) < 0)
        return -1;
    }
}

int
gotmpl_parse (const char *src, struct gotmpl **out, struct err **err)
{
  struct gotmpl *t = xcalloc (1, sizeof *t);
  struct parser ps = { .src = src, .s = src, .err = err };
  if (parse_list (&ps, &t->root, false, NULL) < 0)
    {
      gotmpl_free (t);
      return -1;
    }
  *out = t;
  return 0;
}

void
gotmpl_free (struct gotmpl *t)
{
  if (!t)
    return;
  list_free (&t->root);
  free (t);
}

/* ---- values --------------------------------------------------------- */

/* Go's %v of a value; NULL (a missing field) is "<no value>". */
static int
by_name (const void *a, const void *b)
{
  return strcmp (*(char *const *)a, *(char *const *)b);
}

/* The keys of object o, sorted as Go sorts a map's (the array is the
 * caller's to free, the keys are o's). */
static const char **
sorted_keys (json_t *o, size_t *n)
{
  const char *k;
  json_t *e;
  const char **keys = xcalloc (json_object_size (o) + 1, sizeof *keys);
  *n = 0;
  json_object_foreach (o, k, e) keys[(*n)++] = k;
  qsort (keys, *n, sizeof *keys, by_name);
  return keys;
}

static void
print_value (struct strbuf *out, json_t *v)
{
  if (!v)
    {
      strbuf_addstr (out, "<no value>");
      return;
    }
  switch (json_typeof (v))
    {
    case JSON_STRING:
      strbuf_add (out, json_string_value (v), json_string_length (v));
      break;
    case JSON_INTEGER:
      strbuf_addf (out, "%lld", (long long)json_integer_value (v));
      break;
    case JSON_REAL:
      strbuf_addf (out, "%g", json_real_value (v));
      break;
    case JSON_TRUE:
    case JSON_FALSE:
      strbuf_addstr (out, json_is_true (v) ? "true" : "false");
      break;
    case JSON_NULL:
      strbuf_addstr (out, "<nil>");
      break;
    case JSON_ARRAY:
      {
        size_t i;
        json_t *e;
        strbuf_addch (out, '[');
        json_array_foreach (v, i, e)
        {
          if (i)
            strbuf_addch (out, ' ');
          print_value (out, e);
        }
        strbuf_addch (out, ']');
        break;
      }
    case JSON_OBJECT:
      {
        size_t n;
        const char **keys = sorted_keys (v, &n);
        strbuf_addstr (out, "map[");
        for (size_t i = 0; i < n; i++)
          {
            if (i)
              strbuf_addch (out, ' ');
            strbuf_addf (out, "%s:", keys[i]);
            print_value (out, json_object_get (v, keys[i]));
          }
        strbuf_addch (out, ']');
        free (keys);
        break;
      }
    }
}

static bool
truthy (json_t *v)
{
  if (!v)
    return false;
  switch (json_typeof (v))
    {
    case JSON_STRING:
      return json_string_length (v) > 0;
    case JSON_INTEGER:
      return json_integer_value (v) != 0;
    case JSON_REAL:
      return json_real_value (v) != 0;
    case JSON_TRUE:
      return true;
    case JSON_ARRAY:
      return json_array_size (v) > 0;
    case JSON_OBJECT:
      return json_object_size (v) > 0;
    default:
      return false;
    }
}

/* A function's result made of text: a JSON string of sb's (sb is
 * released). */
static json_t *
text_result (struct strbuf *sb)
{
  json_t *r = json_string (sb->buf ? sb->buf : "");
  strbuf_release (sb);
  return r;
}

static char *
text_of (json_t *v)
{
  struct strbuf sb = STRBUF_INIT;
  print_value (&sb, v);
  return strbuf_detach (&sb, NULL);
}

/* ---- evaluation ----------------------------------------------------- */

struct exec
{
  json_t *root;
  struct err **err;
};

static json_t *eval_pipeline (struct exec *x, const struct pipeline *p,
                              json_t *dot);

static int
fail (struct exec *x, const char *fn, const char *why)
{
  return err_set (x->err, 0, "template: %s: %s", fn, why);
}

/* Returns a new reference, or NULL with *missing (a missing field, not an
 * error) or with the error set. */
static json_t *
eval_operand (struct exec *x, const struct operand *o, json_t *dot,
              bool *missing)
{
  json_t *v;
  *missing = false;
  switch (o->kind)
    {
    case OP_FIELD:
      v = dot;
      for (char **n = o->names; *n && v; n++)
        v = json_is_object (v) ? json_object_get (v, *n) : NULL;
      if (!v)
        {
          *missing = true;
          return NULL;
        }
      return json_incref (v);
    case OP_STRING:
      return json_string (o->text);
    case OP_NUMBER:
      return json_integer (o->number);
    case OP_BOOL:
      return json_boolean (o->number);
    case OP_PIPE:
      return eval_pipeline (x, o->in, dot);
    default:
      fail (x, o->text, "a function's name where a value belongs");
      return NULL;
    }
}

/* Go's eq/lt on basic values: numbers by value, strings bytewise;
 * -2 when they cannot be compared. */
static int
compare (json_t *a, json_t *b)
{
  if (json_is_number (a) && json_is_number (b))
    {
      double x = json_number_value (a), y = json_number_value (b);
      return x < y ? -1 : x > y;
    }
  if (json_is_string (a) && json_is_string (b))
    {
      int c = strcmp (json_string_value (a), json_string_value (b));
      return c < 0 ? -1 : c > 0;
    }
  if (json_is_boolean (a) && json_is_boolean (b))
    return json_is_true (a) == json_is_true (b) ? 0 : 2;
  return a && b && json_equal (a, b) ? 0 : -2;
}

static json_t *
call (struct exec *x, const char *fn, json_t **a, size_t n)
{
  if (!strcmp (fn, "not"))
    {
      if (n != 1)
        return fail (x, fn, "takes one value"), NULL;
      return json_boolean (!truthy (a[0]));
    }
  if (!strcmp (fn, "and") || !strcmp (fn, "or"))
    {
      /* the first value that decides, or the last: Go's */
      size_t i = 0;
      if (n < 1)
        return fail (x, fn, "takes one or more values"), NULL;
      while (i + 1 < n && truthy (a[i]) == (fn[0] == 'a'))
        i++;
      return a[i] ? json_incref (a[i]) : NULL;
    }
  if (!strcmp (fn, "eq") || !strcmp (fn, "ne"))
    {
      bool eq = false;
      if (n < 2)
        return fail (x, fn, "takes two or more values"), NULL;
      for (size_t i = 1; i < n && !eq; i++)
        eq = compare (a[0], a[i]) == 0;
      return json_boolean (fn[0] == 'e' ? eq : !eq);
    }
  if (!strcmp (fn, "lt") || !strcmp (fn, "le") || !strcmp (fn, "gt")
      || !strcmp (fn, "ge"))
    {
      int c;
      if (n != 2)
        return fail (x, fn, "takes two values"), NULL;
      c = compare (a[0], a[1]);
      if (c == -2 || c == 2)
        return fail (x, fn, "incompatible types for comparison"), NULL;
      return json_boolean (fn[0] == 'l' ? (fn[1] == 't' ? c < 0 : c <= 0)
                                        : (fn[1] == 't' ? c > 0 : c >= 0));
    }
  if (!strcmp (fn, "json"))
    {
      char *s;
      json_t *r;
      if (n != 1)
        return fail (x, fn, "takes one value"), NULL;
      s = a[0] ? json_dumps (a[0], JSON_COMPACT | JSON_ENCODE_ANY)
               : xstrdup ("null");
      r = json_string (s ? s : "null");
      free (s);
      return r;
    }
  if (!strcmp (fn, "index"))
    {
      json_t *v = n ? a[0] : NULL;
      if (n < 2)
        return fail (x, fn, "takes a value and one or more keys"), NULL;
      for (size_t i = 1; i < n && v; i++)
        {
          if (json_is_array (v) && json_is_integer (a[i]))
            {
              json_int_t k = json_integer_value (a[i]);
              if (k < 0 || (size_t)k >= json_array_size (v))
                return fail (x, fn, "index out of range"), NULL;
              v = json_array_get (v, (size_t)k);
            }
          else if (json_is_object (v) && json_is_string (a[i]))
            v = json_object_get (v, json_string_value (a[i]));
          else
            return fail (x, fn, "cannot index that with that"), NULL;
        }
      return v ? json_incref (v) : NULL;
    }
  if (!strcmp (fn, "len"))
    {
      if (n != 1 || !a[0])
        return fail (x, fn, "takes one value"), NULL;
      return json_integer (
          (json_int_t)(json_is_array (a[0])    ? json_array_size (a[0])
                       : json_is_object (a[0]) ? json_object_size (a[0])
                       : json_is_string (a[0]) ? json_string_length (a[0])
                                               : 0));
    }
  if (!strcmp (fn, "join"))
    {
      struct strbuf sb = STRBUF_INIT;
      size_t i;
      json_t *e;
      char *sep;
      if (n != 2 || !json_is_array (a[0]))
        return fail (x, fn, "takes a list and a separator"), NULL;
      sep = text_of (a[1]);
      json_array_foreach (a[0], i, e)
      {
        if (i)
          strbuf_addstr (&sb, sep);
        print_value (&sb, e);
      }
      free (sep);
      return text_result (&sb);
    }
  if (!strcmp (fn, "split"))
    {
      char *s, *sep, *p;
      json_t *r = json_array ();
      if (n != 2)
        return json_decref (r), fail (x, fn, "takes a string and a separator"),
               NULL;
      s = text_of (a[0]);
      sep = text_of (a[1]);
      for (p = s; *sep;)
        {
          char *q = strstr (p, sep);
          if (!q)
            break;
          json_array_append_new (r, json_stringn (p, (size_t)(q - p)));
          p = q + strlen (sep);
        }
      json_array_append_new (r, json_string (p));
      free (s);
      free (sep);
      return r;
    }
  if (!strcmp (fn, "lower") || !strcmp (fn, "upper") || !strcmp (fn, "title"))
    {
      char *s;
      json_t *r;
      bool start = true;
      if (n != 1)
        return fail (x, fn, "takes one value"), NULL;
      s = text_of (a[0]);
      for (char *p = s; *p; p++)
        {
          if (fn[0] == 'l')
            *p = (char)tolower ((unsigned char)*p);
          else if (fn[0] == 'u' || start)
            *p = (char)toupper ((unsigned char)*p);
          start = isspace ((unsigned char)*p);
        }
      r = json_string (s);
      free (s);
      return r;
    }
  if (!strcmp (fn, "print") || !strcmp (fn, "println"))
    {
      struct strbuf sb = STRBUF_INIT;
      for (size_t i = 0; i < n; i++)
        {
          if (i && fn[5] == 'l')
            strbuf_addch (&sb, ' ');
          print_value (&sb, a[i]);
        }
      if (fn[5] == 'l')
        strbuf_addch (&sb, '\n');
      return text_result (&sb);
    }
  if (!strcmp (fn, "printf"))
    {
      struct strbuf sb = STRBUF_INIT;
      size_t k = 1;
      const char *f;
      if (n < 1 || !json_is_string (a[0]))
        return fail (x, fn, "takes a format string"), NULL;
      for (f = json_string_value (a[0]); *f; f++)
        {
          if (*f != '%' || !f[1])
            {
              strbuf_addch (&sb, *f);
              continue;
            }
          f++;
          if (*f == '%')
            strbuf_addch (&sb, '%');
          else if (k >= n)
            strbuf_addf (&sb, "%%!%c(MISSING)", *f);
          else if (*f == 'q')
            {
              char *s = text_of (a[k++]);
              strbuf_addf (&sb, "\"%s\"", s);
              free (s);
            }
          else
            print_value (&sb, a[k++]); /* %s %v %d */
        }
      return text_result (&sb);
    }
  return fail (x, fn, "function not defined"), NULL;
}

static json_t *
eval_command (struct exec *x, const struct command *c, json_t *dot,
              json_t *piped, bool has_piped, bool *missing)
{
  json_t **args, *r = NULL;
  size_t n = 0;
  *missing = false;
  if (c->ops[0].kind != OP_FUNC)
    {
      if (c->n > 1 || has_piped)
        {
          fail (x, "pipeline", "a value cannot take arguments");
          return NULL;
        }
      return eval_operand (x, &c->ops[0], dot, missing);
    }
  args = xcalloc (c->n + 1, sizeof *args);
  for (size_t i = 1; i < c->n; i++)
    {
      bool miss;
      args[n] = eval_operand (x, &c->ops[i], dot, &miss);
      if (!args[n] && !miss)
        goto out;
      n++;
    }
  if (has_piped)
    args[n++] = piped ? json_incref (piped) : NULL;
  r = call (x, c->ops[0].text, args, n);
out:
  for (size_t i = 0; i < n; i++)
    json_decref (args[i]);
  free (args);
  return r;
}

static json_t *
eval_pipeline (struct exec *x, const struct pipeline *p, json_t *dot)
{
  json_t *v = NULL;
  for (size_t i = 0; i < p->n; i++)
    {
      bool missing;
      json_t *next = eval_command (x, &p->cmds[i], dot, v, i > 0, &missing);
      json_decref (v);
      v = next;
      if (!v && *x->err)
        return NULL;
    }
  return v;
}

static int exec_list (struct exec *x, const struct list *l, json_t *dot,
                      struct strbuf *out);

static int
exec_node (struct exec *x, const struct node *n, json_t *dot,
           struct strbuf *out)
{
  json_t *v;
  int r = 0;
  if (n->kind == N_TEXT)
    {
      strbuf_addstr (out, n->text);
      return 0;
    }
  v = eval_pipeline (x, n->p, dot);
  if (!v && *x->err)
    return -1;
  switch (n->kind)
    {
    case N_ACTION:
      print_value (out, v);
      break;
    case N_IF:
      r = exec_list (x, truthy (v) ? &n->body : &n->otherwise, dot, out);
      break;
    case N_WITH:
      r = truthy (v) ? exec_list (x, &n->body, v, out)
                     : exec_list (x, &n->otherwise, dot, out);
      break;
    case N_RANGE:
      if (!truthy (v))
        r = exec_list (x, &n->otherwise, dot, out);
      else if (json_is_array (v))
        {
          size_t i;
          json_t *e;
          json_array_foreach (v, i, e) if (r == 0) r
              = exec_list (x, &n->body, e, out);
        }
      else if (json_is_object (v))
        {
          /* Go ranges over a map in key order */
          size_t m;
          const char **keys = sorted_keys (v, &m);
          for (size_t i = 0; i < m && r == 0; i++)
            r = exec_list (x, &n->body, json_object_get (v, keys[i]), out);
          free (keys);
        }
      else
        r = fail (x, "range", "cannot range over that value");
      break;
    default:
      break;
    }
  json_decref (v);
  return r;
}

static int
exec_list (struct exec *x, const struct list *l, json_t *dot,
           struct strbuf *out)
{
  for (size_t i = 0; i < l->n; i++)
    if (exec_node (x, &l->nodes[i], dot, out) < 0)
      return -1;
  return 0;
}

int
gotmpl_exec (const struct gotmpl *t, json_t *dot, struct strbuf *out,
             struct err **err)
{
  struct exec x = { dot, err };
  return exec_list (&x, &t->root, dot, out);
}

/* ---- docker's table output ----------------------------------------- */

char *
gotmpl_docker_format (const char *fmt, bool *table)
{
  struct strbuf sb = STRBUF_INIT;
  const char *end;
  *table = !strncmp (fmt, "table", 5)
           && (!fmt[5] || fmt[5] == ' ' || fmt[5] == '\t');
  if (*table)
    fmt += 5;
  while (*fmt == ' ')
    fmt++;
  end = fmt + strlen (fmt);
  while (end > fmt && end[-1] == ' ')
    end--;
  for (const char *p = fmt; p < end; p++)
    if (p[0] == '\\' && p + 1 < end && (p[1] == 't' || p[1] == 'n'))
      strbuf_addch (&sb, *++p == 't' ? '\t' : '\n');
    else
      strbuf_addch (&sb, *p);
  return strbuf_detach (&sb, NULL);
}

/* UTF-8 display width (one column per character). */
static size_t
columns (const char *s, size_t len)
{
  size_t n = 0;
  for (size_t i = 0; i < len; i++)
    n += ((unsigned char)s[i] & 0xc0) != 0x80;
  return n;
}

char *
gotmpl_align (const char *text)
{
  struct strbuf sb = STRBUF_INIT;
  size_t width[64] = { 0 };
  /* two passes: the widths of each column over all lines, then print */
  for (int pass = 0; pass < 2; pass++)
    for (const char *line = text; *line;)
      {
        size_t len = strcspn (line, "\n"), col = 0;
        for (const char *cell = line; cell <= line + len; col++)
          {
            size_t clen = strcspn (cell, "\t\n");
            bool last = cell + clen >= line + len;
            size_t w = columns (cell, clen);
            if (col < 64 && pass == 0 && !last && w + 3 > width[col])
              width[col] = w + 3 < 10 ? 10 : w + 3;
            if (pass == 1)
              {
                strbuf_add (&sb, cell, clen);
                if (!last && col < 64)
                  strbuf_addf (&sb, "%*s", (int)(width[col] - w), "");
              }
            cell += clen + 1;
            if (last)
              break;
          }
        if (pass == 1)
          strbuf_addch (&sb, '\n');
        line += len + (line[len] == '\n');
      }
  return strbuf_detach (&sb, NULL);
}
