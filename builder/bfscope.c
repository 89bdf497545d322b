/* Variables of a build: global ARGs for FROM, and per stage ARG/ENV
 * scoping and per-instruction expansion (see buildfile.h, and
 * reference/buildfile.md section 2 and ARG). */
#include "builder/buildfile.h"
#include "builder/shlex.h"
#include "lib/err.h"
#include "lib/strbuf.h"
#include "lib/xalloc.h"

#include <ctype.h>
#include <string.h>

/* ---- key/value lists ------------------------------------------------- */

static struct bf_kv *
kvs_find (const struct bf_kvs *kvs, const char *key)
{
  for (size_t i = kvs ? kvs->n : 0; i-- > 0;)
    if (!strcmp (kvs->v[i].key, key))
      return &kvs->v[i];
  return NULL;
}

const char *
bf_kvs_get (const struct bf_kvs *kvs, const char *key)
{
  struct bf_kv *kv = kvs_find (kvs, key);
  return kv ? kv->value : NULL;
}

void
bf_kvs_set (struct bf_kvs *kvs, const char *key, const char *value)
{
  struct bf_kv *kv = kvs_find (kvs, key);
  if (kv)
    {
      free (kv->value);
      kv->value = value ? xstrdup (value) : NULL;
      return;
    }
  kvs->v = xrealloc (kvs->v, (kvs->n + 1) * sizeof *kvs->v);
  kvs->v[kvs->n++]
      = (struct bf_kv){ xstrdup (key), value ? xstrdup (value) : NULL };
}

void
bf_kvs_release (struct bf_kvs *kvs)
{
  for (size_t i = 0; i < kvs->n; i++)
    {
      free (kvs->v[i].key);
      free (kvs->v[i].value);
    }
  free (kvs->v);
  kvs->v = NULL;
  kvs->n = 0;
}

void
bf_kvs_copy (struct bf_kvs *dst, const struct bf_kvs *src)
{
  memset (dst, 0, sizeof *dst);
  for (size_t i = 0; i < src->n; i++)
    bf_kvs_set (dst, src->v[i].key, src->v[i].value);
}

bool
bf_is_proxy_arg (const char *name)
{
  static const char *const proxies[] = {
    "HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "FTP_PROXY",
    "ftp_proxy",  "NO_PROXY",   "no_proxy",    "ALL_PROXY",   "all_proxy"
  };
  for (size_t i = 0; i < ARRAY_SIZE (proxies); i++)
    if (!strcmp (name, proxies[i]))
      return true;
  return false;
}

/* ---- global ARGs and FROM -------------------------------------------- */

struct meta_ctx
{
  const struct bf_kvs *meta;
  const struct bf_kvs *builtin;
};

static const char *
meta_lookup (void *ctx, const char *name)
{
  struct meta_ctx *m = ctx;
  if (kvs_find (m->meta, name))
    return bf_kvs_get (m->meta, name);
  return bf_kvs_get (m->builtin, name);
}

int
bf_plan_resolve (struct bf_plan *p, const struct bf_kvs *build_args,
                 const struct bf_kvs *builtin, struct err **err)
{
  struct bf_kvs meta = { 0 };
  struct meta_ctx mc = { &meta, builtin };

  for (size_t i = 0; i < p->n_meta_args; i++)
    {
      const struct bf_instr *in = &p->meta_args[i];
      for (size_t j = 0; j < in->n_kvs; j++)
        {
          const struct bf_kv *kv = &in->kvs[j];
          struct bf_kv *given = kvs_find (build_args, kv->key);
          _cleanup_free_ char *val = NULL;
          if (given)
            val = given->value ? xstrdup (given->value) : NULL;
          else if (kv->value
                   && bf_shlex_word (kv->value, p->escape, meta_lookup, &mc,
                                     &val, err)
                          < 0)
            {
              bf_kvs_release (&meta);
              return err_wrap (err, "%s:%d", p->file, in->line);
            }
          bf_kvs_set (&meta, kv->key, val);
        }
    }
  for (size_t i = 0; i < p->n_meta; i++)
    {
      free (p->meta[i].key);
      free (p->meta[i].value);
    }
  free (p->meta);
  p->meta = meta.v;
  p->n_meta = meta.n;

  for (size_t i = 0; i < p->n_stages; i++)
    {
      struct bf_stage *st = &p->stages[i];
      char *base = NULL, *plat = NULL;
      if (bf_shlex_word (st->from->args[0], p->escape, meta_lookup, &mc, &base,
                         err)
          < 0)
        return err_wrap (err, "%s:%d", p->file, st->line);
      if (!*base)
        {
          err_set (err, 0, "%s:%d: base name (%s) should not be blank", p->file,
                   st->line, st->from->args[0]);
          free (base);
          return -1;
        }
      const char *pf = bf_flag (st->from, "platform");
      if (pf && bf_shlex_word (pf, p->escape, meta_lookup, &mc, &plat, err) < 0)
        {
          free (base);
          return err_wrap (err, "%s:%d", p->file, st->line);
        }
      free (st->base);
      free (st->platform);
      st->base = base;
      st->platform = plat;
    }
  return 0;
}

struct bf_stage *
bf_plan_stage (struct bf_plan *p, const char *name)
{
  for (size_t i = 0; i < p->n_stages; i++)
    if (p->stages[i].name && !strcasecmp (p->stages[i].name, name))
      return &p->stages[i];
  char *end;
  long idx = strtol (name, &end, 10);
  if (*name && !*end && idx >= 0 && (size_t)idx < p->n_stages)
    return &p->stages[idx];
  return NULL;
}

/* ---- stage scope ------------------------------------------------------ */

static char **
default_shell (void)
{
  return strv_dup ((char *[]){ (char *)"/bin/sh", (char *)"-c", NULL });
}

void
bf_scope_init (struct bf_scope *s, const struct bf_plan *p,
               const struct bf_kvs *build_args, char *const *base_env)
{
  memset (s, 0, sizeof *s);
  s->plan = p;
  s->build_args = build_args;
  for (size_t i = 0; base_env && base_env[i]; i++)
    {
      const char *eq = strchr (base_env[i], '=');
      _cleanup_free_ char *k
          = eq ? xstrndup (base_env[i], (size_t)(eq - base_env[i]))
               : xstrdup (base_env[i]);
      bf_kvs_set (&s->env, k, eq ? eq + 1 : "");
    }
  s->shell = default_shell ();
}

void
bf_scope_copy (struct bf_scope *dst, const struct bf_scope *src)
{
  dst->plan = src->plan;
  dst->build_args = src->build_args;
  bf_kvs_copy (&dst->env, &src->env);
  bf_kvs_copy (&dst->args, &src->args);
  dst->shell = strv_dup (src->shell);
}

void
bf_scope_release (struct bf_scope *s)
{
  bf_kvs_release (&s->env);
  bf_kvs_release (&s->args);
  strv_free (s->shell);
  s->shell = NULL;
}

const char *
bf_scope_get (const struct bf_scope *s, const char *name)
{
  /* ENV always wins over an ARG of the same name. */
  if (kvs_find (&s->env, name))
    return bf_kvs_get (&s->env, name);
  return bf_kvs_get (&s->args, name);
}

static const char *
scope_lookup (void *ctx, const char *name)
{
  return bf_scope_get (ctx, name);
}

char **
bf_scope_run_env (const struct bf_scope *s)
{
  char **v = xcalloc (1, sizeof *v);
  for (size_t i = 0; i < s->env.n; i++)
    strv_push (&v, xasprintf ("%s=%s", s->env.v[i].key,
                              s->env.v[i].value ? s->env.v[i].value : ""));
  for (size_t i = 0; i < s->args.n; i++)
    if (s->args.v[i].value && !kvs_find (&s->env, s->args.v[i].key))
      strv_push (&v, xasprintf ("%s=%s", s->args.v[i].key, s->args.v[i].value));
  for (size_t i = 0; s->build_args && i < s->build_args->n; i++)
    {
      const struct bf_kv *kv = &s->build_args->v[i];
      if (kv->value && bf_is_proxy_arg (kv->key) && !kvs_find (&s->env, kv->key)
          && !kvs_find (&s->args, kv->key))
        strv_push (&v, xasprintf ("%s=%s", kv->key, kv->value));
    }
  return v;
}

/* ---- expansion of one instruction ------------------------------------ */

static struct bf_instr *
instr_dup (const struct bf_instr *in)
{
  struct bf_instr *o = xcalloc (1, sizeof *o);
  o->kind = in->kind;
  o->line = in->line;
  o->raw = xstrdup (in->raw);
  o->json = in->json;
  o->health = in->health;
  o->args = in->args ? strv_dup (in->args) : NULL;
  if (in->n_flags)
    {
      o->flags = xcalloc (in->n_flags, sizeof *o->flags);
      for (size_t i = 0; i < in->n_flags; i++)
        o->flags[i] = (struct bf_flag){ xstrdup (in->flags[i].name),
                                        in->flags[i].value
                                            ? xstrdup (in->flags[i].value)
                                            : NULL };
      o->n_flags = in->n_flags;
    }
  if (in->n_kvs)
    {
      o->kvs = xcalloc (in->n_kvs, sizeof *o->kvs);
      for (size_t i = 0; i < in->n_kvs; i++)
        o->kvs[i]
            = (struct bf_kv){ xstrdup (in->kvs[i].key),
                              in->kvs[i].value ? xstrdup (in->kvs[i].value)
                                               : NULL };
      o->n_kvs = in->n_kvs;
    }
  if (in->n_heredocs)
    {
      o->heredocs = xcalloc (in->n_heredocs, sizeof *o->heredocs);
      for (size_t i = 0; i < in->n_heredocs; i++)
        {
          o->heredocs[i] = in->heredocs[i];
          o->heredocs[i].name = xstrdup (in->heredocs[i].name);
          o->heredocs[i].body = xstrdup (in->heredocs[i].body);
        }
      o->n_heredocs = in->n_heredocs;
    }
  if (in->sub)
    o->sub = instr_dup (in->sub);
  return o;
}

/* Replace *word by its processed form. */
static int
expand_in_place (struct bf_scope *s, char **word, struct err **err)
{
  char *v = NULL;
  if (bf_shlex_word (*word, s->plan->escape, scope_lookup, s, &v, err) < 0)
    return -1;
  free (*word);
  *word = v;
  return 0;
}

static int
step (struct bf_scope *s, struct bf_instr *o, struct err **err)
{
  switch (o->kind)
    {
    case BF_ENV:
    case BF_LABEL:
      /* Every value is expanded with the variables as they were before
         this instruction ("ENV a=x b=$a" uses the old a). */
      for (size_t i = 0; i < o->n_kvs; i++)
        if (expand_in_place (s, &o->kvs[i].key, err) < 0
            || expand_in_place (s, &o->kvs[i].value, err) < 0)
          return -1;
      if (o->kind == BF_ENV)
        for (size_t i = 0; i < o->n_kvs; i++)
          bf_kvs_set (&s->env, o->kvs[i].key, o->kvs[i].value);
      return 0;
    case BF_ARG:
      {
        struct bf_kvs set = { 0 };
        for (size_t i = 0; i < o->n_kvs; i++)
          {
            struct bf_kv *kv = &o->kvs[i];
            struct bf_kv *given = kvs_find (s->build_args, kv->key);
            struct bf_kv *global = NULL;
            for (size_t j = 0; j < s->plan->n_meta; j++)
              if (!strcmp (s->plan->meta[j].key, kv->key))
                global = &s->plan->meta[j];
            if (kv->value && expand_in_place (s, &kv->value, err) < 0)
              {
                bf_kvs_release (&set);
                return -1;
              }
            /* --build-arg, else this ARG's default, else the global
               ARG's value, else unset. */
            const char *v = given       ? given->value
                            : kv->value ? kv->value
                            : global    ? global->value
                                        : NULL;
            if (v != kv->value)
              {
                free (kv->value);
                kv->value = v ? xstrdup (v) : NULL;
              }
            bf_kvs_set (&set, kv->key, kv->value);
          }
        for (size_t i = 0; i < set.n; i++)
          bf_kvs_set (&s->args, set.v[i].key, set.v[i].value);
        bf_kvs_release (&set);
        return 0;
      }
    case BF_COPY:
    case BF_ADD:
      for (size_t i = 0; o->args[i]; i++)
        if (strncmp (o->args[i], "<<", 2) || !o->n_heredocs)
          if (expand_in_place (s, &o->args[i], err) < 0)
            return -1;
      for (size_t i = 0; i < o->n_flags; i++)
        if (expand_in_place (s, &o->flags[i].value, err) < 0)
          return -1;
      for (size_t i = 0; i < o->n_heredocs; i++)
        if (o->heredocs[i].expand)
          {
            char *v = NULL;
            if (bf_shlex_heredoc (o->heredocs[i].body, s->plan->escape,
                                  scope_lookup, s, &v, err)
                < 0)
              return -1;
            free (o->heredocs[i].body);
            o->heredocs[i].body = v;
          }
      return 0;
    case BF_WORKDIR:
    case BF_USER:
    case BF_STOPSIGNAL:
    case BF_VOLUME:
      for (size_t i = 0; o->args[i]; i++)
        if (expand_in_place (s, &o->args[i], err) < 0)
          return -1;
      return 0;
    case BF_EXPOSE:
      {
        /* Expanded, then split again: EXPOSE $PORTS with "80 443". */
        char **v = xcalloc (1, sizeof *v);
        for (size_t i = 0; o->args[i]; i++)
          {
            if (expand_in_place (s, &o->args[i], err) < 0)
              {
                strv_free (v);
                return -1;
              }
            char *save = NULL;
            for (char *t = strtok_r (o->args[i], " \t\n", &save); t;
                 t = strtok_r (NULL, " \t\n", &save))
              strv_push (&v, xstrdup (t));
          }
        strv_free (o->args);
        o->args = v;
        return 0;
      }
    case BF_SHELL:
      strv_free (s->shell);
      s->shell = strv_dup (o->args);
      return 0;
    default:
      /* RUN CMD ENTRYPOINT HEALTHCHECK: the shell expands at run time;
         ONBUILD: expanded when triggered; MAINTAINER, FROM: as written. */
      return 0;
    }
}

int
bf_scope_step (struct bf_scope *s, const struct bf_instr *in,
               struct bf_instr **out, struct err **err)
{
  struct bf_instr *o = instr_dup (in);
  if (step (s, o, err) < 0)
    {
      bf_instr_free (o);
      return err_wrap (err, "%s:%d", s->plan->file, in->line);
    }
  *out = o;
  return 0;
}

char **
bf_instr_argv (const struct bf_instr *in, char *const *shell)
{
  if (in->json)
    return strv_dup (in->args);
  char **v = strv_dup (shell);
  if (!in->args || !in->args[0])
    return v;
  const char *cmd = in->args[0];
  if (in->n_heredocs == 1)
    {
      /* "RUN <<EOF": the body is the script. */
      const char *w = cmd + 2 + (cmd[2] == '-');
      if (!strncmp (cmd, "<<", 2)
          && (!strcmp (w, in->heredocs[0].name)
              || (strlen (w) == strlen (in->heredocs[0].name) + 2
                  && (w[0] == '"' || w[0] == '\'')
                  && !strncmp (w + 1, in->heredocs[0].name, strlen (w) - 2))))
        {
          strv_push (&v, xstrdup (in->heredocs[0].body));
          return v;
        }
    }
  if (in->n_heredocs)
    {
      /* The shell reads the heredocs itself, with its own rules for
         quoted delimiters. */
      struct strbuf sb = STRBUF_INIT;
      strbuf_addstr (&sb, cmd);
      strbuf_addch (&sb, '\n');
      for (size_t i = 0; i < in->n_heredocs; i++)
        strbuf_addf (&sb, "%s%s\n", in->heredocs[i].body, in->heredocs[i].name);
      strv_push (&v, strbuf_detach (&sb, NULL));
      return v;
    }
  strv_push (&v, xstrdup (cmd));
  return v;
}
