/* What each instruction does to the image config (reference/buildfile.md
 * section 3): ENV, LABEL, EXPOSE, VOLUME, USER, WORKDIR, STOPSIGNAL, CMD,
 * ENTRYPOINT (which resets a CMD inherited from the base), SHELL,
 * HEALTHCHECK, ONBUILD and MAINTAINER. The file system steps (RUN, COPY,
 * ADD) leave the config alone. */
#include "builder/build_int.h"
#include "lib/err.h"
#include "lib/json.h"
#include "lib/path.h"
#include "lib/strbuf.h"
#include "lib/xalloc.h"
#include "runtime/lifecycle.h"

#include <ctype.h>
#include <string.h>

char *
build_workdir_path (const struct build_state *st, const char *arg)
{
  const char *wd = json_string_value (
      json_object_get (json_object_get (st->doc, "config"), "WorkingDir"));
  _cleanup_free_ char *joined
      = arg[0] == '/' ? xstrdup (arg)
                      : xasprintf ("%s/%s", wd && *wd ? wd : "/", arg);
  return path_clean (joined);
}

static int
expose (json_t *doc, const char *port, struct err **err)
{
  const char *slash = strchr (port, '/');
  size_t n = slash ? (size_t)(slash - port) : strlen (port);
  if (!n || strspn (port, "0123456789-") != n)
    return err_set (err, 0, "EXPOSE: invalid port '%s'", port);
  _cleanup_free_ char *proto = xstrdup (slash ? slash + 1 : "tcp");
  for (char *c = proto; *c; c++)
    *c = (char)tolower ((unsigned char)*c);
  if (strcmp (proto, "tcp") && strcmp (proto, "udp") && strcmp (proto, "sctp"))
    return err_set (err, 0, "EXPOSE: invalid protocol in '%s'", port);
  _cleanup_free_ char *key = xasprintf ("%.*s/%s", (int)n, port, proto);
  build_config_add_set (doc, "ExposedPorts", key);
  return 0;
}

static void
healthcheck (json_t *doc, const struct bf_instr *x, char *const *shell)
{
  json_t *h = json_object ();
  json_t *test = json_array ();
  if (x->health.none)
    json_array_append_new (test, json_string ("NONE"));
  else if (x->sub && x->sub->json)
    {
      json_array_append_new (test, json_string ("CMD"));
      for (size_t i = 0; x->sub->args[i]; i++)
        json_array_append_new (test, json_string (x->sub->args[i]));
    }
  else if (x->sub)
    {
      json_array_append_new (test, json_string ("CMD-SHELL"));
      json_array_append_new (
          test,
          json_string (x->sub->args && x->sub->args[0] ? x->sub->args[0] : ""));
    }
  (void)shell;
  json_object_set_new (h, "Test", test);
  if (!x->health.none)
    {
      const struct
      {
        const char *key;
        int64_t v;
      } d[] = { { "Interval", x->health.interval_ns },
                { "Timeout", x->health.timeout_ns },
                { "StartPeriod", x->health.start_period_ns },
                { "StartInterval", x->health.start_interval_ns },
                { "Retries", x->health.retries } };
      for (size_t i = 0; i < ARRAY_SIZE (d); i++)
        if (d[i].v)
          json_object_set_new (h, d[i].key, json_integer (d[i].v));
    }
  json_object_set_new (build_config_obj (doc), "Healthcheck", h);
}

int
build_apply_meta (struct build *b, struct build_state *st,
                  const struct bf_instr *x, struct err **err)
{
  json_t *doc = st->doc;
  json_t *cfg = build_config_obj (doc);
  switch (x->kind)
    {
    case BF_ENV:
      build_config_set_env (doc, &st->scope.env);
      break;
    case BF_LABEL:
      {
        json_t *l = json_object_get (cfg, "Labels");
        if (!json_is_object (l))
          {
            l = json_object ();
            json_object_set_new (cfg, "Labels", l);
          }
        for (size_t i = 0; i < x->n_kvs; i++)
          json_object_set_new (
              l, x->kvs[i].key,
              json_string (x->kvs[i].value ? x->kvs[i].value : ""));
        break;
      }
    case BF_EXPOSE:
      for (size_t i = 0; x->args[i]; i++)
        if (expose (doc, x->args[i], err) < 0)
          return err_wrap (err, "%s:%d", b->plan->file, x->line);
      break;
    case BF_VOLUME:
      for (size_t i = 0; x->args[i]; i++)
        {
          if (!*x->args[i])
            return err_set (err, 0, "%s:%d: VOLUME: empty path", b->plan->file,
                            x->line);
          build_config_add_set (doc, "Volumes", x->args[i]);
        }
      break;
    case BF_USER:
      build_config_set_str (doc, "User", x->args[0]);
      break;
    case BF_WORKDIR:
      {
        _cleanup_free_ char *p = build_workdir_path (st, x->args[0]);
        build_config_set_str (doc, "WorkingDir", p);
        break;
      }
    case BF_STOPSIGNAL:
      {
        int sig;
        if (rt_signal_parse (x->args[0], &sig, err) < 0)
          return err_wrap (err, "%s:%d: STOPSIGNAL", b->plan->file, x->line);
        build_config_set_str (doc, "StopSignal", x->args[0]);
        break;
      }
    case BF_CMD:
      {
        char **argv = bf_instr_argv (x, st->scope.shell);
        json_object_set_new (cfg, "Cmd", strv_to_json (argv));
        strv_free (argv);
        st->cmd_set = true;
        break;
      }
    case BF_ENTRYPOINT:
      {
        char **argv = bf_instr_argv (x, st->scope.shell);
        json_object_set_new (cfg, "Entrypoint", strv_to_json (argv));
        strv_free (argv);
        /* an ENTRYPOINT resets the CMD inherited from the base image
           (BuildKit's dispatchEntrypoint) */
        if (!st->cmd_set)
          json_object_del (cfg, "Cmd");
        break;
      }
    case BF_SHELL:
      json_object_set_new (cfg, "Shell", strv_to_json (x->args));
      break;
    case BF_HEALTHCHECK:
      healthcheck (doc, x, st->scope.shell);
      break;
    case BF_ONBUILD:
      {
        json_t *o = json_object_get (cfg, "OnBuild");
        if (!json_is_array (o))
          {
            o = json_array ();
            json_object_set_new (cfg, "OnBuild", o);
          }
        json_array_append_new (o, json_string (x->args[0]));
        break;
      }
    case BF_MAINTAINER:
      json_object_set_new (doc, "author", json_string (x->args[0]));
      break;
    default:
      break;
    }
  return 0;
}

/* docker's validCommitCommands (reference/archives.md section 7). */
static bool
change_allowed (enum bf_kind k)
{
  static const enum bf_kind ok[]
      = { BF_CMD,         BF_ENTRYPOINT, BF_ENV,       BF_EXPOSE,
          BF_HEALTHCHECK, BF_LABEL,      BF_ONBUILD,   BF_USER,
          BF_VOLUME,      BF_WORKDIR,    BF_STOPSIGNAL };
  for (size_t i = 0; i < ARRAY_SIZE (ok); i++)
    if (ok[i] == k)
      return true;
  return false;
}

int
build_apply_changes (json_t *doc, char *const *changes, struct err **err)
{
  struct strbuf text = STRBUF_INIT;
  struct bf_plan *plan = NULL;
  struct bf_kvs no_args = { 0 };
  struct build b = { .plan = NULL };
  struct build_state st = { .doc = doc };
  _cleanup_strv_ char **env = NULL;
  json_t *e, *v;
  size_t i;
  int ret = -1;
  if (!changes || !changes[0])
    return 0;
  /* the changes are a Buildfile's instructions after a FROM (docker
     joins them with newlines too); line 1 is ours */
  strbuf_addstr (&text, "FROM scratch\n");
  for (i = 0; changes[i]; i++)
    strbuf_addf (&text, "%s\n", changes[i]);
  if (bf_parse (text.buf, text.len, "--change", &plan, err) < 0)
    goto out;
  if (plan->n_stages != 1)
    {
      err_set (err, 0, "FROM is not a valid change command");
      goto out;
    }
  b.plan = plan;
  e = json_object_get (build_config_obj (doc), "Env");
  json_array_foreach (e, i, v) if (json_is_string (v))
      strv_push (&env, xstrdup (json_string_value (v)));
  bf_scope_init (&st.scope, plan, &no_args, env);
  for (i = 0; i < plan->stages[0].n_instrs; i++)
    {
      const struct bf_instr *in = &plan->stages[0].instrs[i];
      struct bf_instr *x = NULL;
      if (!change_allowed (in->kind))
        {
          err_set (err, 0, "%s is not a valid change command",
                   bf_kind_name (in->kind));
          goto out;
        }
      if (bf_scope_step (&st.scope, in, &x, err) < 0)
        goto out;
      int r = build_apply_meta (&b, &st, x, err);
      bf_instr_free (x);
      if (r < 0)
        goto out;
    }
  ret = 0;
out:
  if (st.scope.plan)
    bf_scope_release (&st.scope);
  bf_plan_free (plan);
  strbuf_release (&text);
  return ret;
}
