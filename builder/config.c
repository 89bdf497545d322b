/* The image config document, its history, and the manifest a build
 * writes (reference/image.md section 3; history in BuildKit's style,
 * reference/buildfile.md section 5). */
#include "builder/build_int.h"
#include "layers/image.h"
#include "layers/image_store.h"
#include "layers/store.h"
#include "lib/err.h"
#include "lib/human.h"
#include "lib/strbuf.h"
#include "lib/xalloc.h"

#include <string.h>

#define HISTORY_COMMENT "imgtool.buildfile.v0"

json_t *
build_config_scratch (const struct platform *p)
{
  json_t *doc = json_object ();
  json_object_set_new (doc, "architecture", json_string (p->arch));
  json_object_set_new (doc, "os", json_string (p->os));
  if (p->variant)
    json_object_set_new (doc, "variant", json_string (p->variant));
  json_object_set_new (doc, "config", json_object ());
  json_object_set_new (doc, "rootfs",
                       json_pack ("{s:s,s:[]}", "type", "layers", "diff_ids"));
  json_object_set_new (doc, "history", json_array ());
  return doc;
}

json_t *
build_config_obj (json_t *doc)
{
  json_t *c = json_object_get (doc, "config");
  if (!json_is_object (c))
    {
      c = json_object ();
      json_object_set_new (doc, "config", c);
    }
  return c;
}

void
build_config_set_str (json_t *doc, const char *key, const char *v)
{
  json_t *c = build_config_obj (doc);
  if (!v)
    json_object_del (c, key);
  else
    json_object_set_new (c, key, json_string (v));
}

const char *
build_config_str (json_t *doc, const char *key)
{
  return json_string_value (json_object_get (build_config_obj (doc), key));
}

void
build_config_add_set (json_t *doc, const char *key, const char *item)
{
  json_t *c = build_config_obj (doc);
  json_t *m = json_object_get (c, key);
  if (!json_is_object (m))
    {
      m = json_object ();
      json_object_set_new (c, key, m);
    }
  json_object_set_new (m, item, json_object ());
}

void
build_config_set_env (json_t *doc, const struct bf_kvs *env)
{
  json_t *a = json_array ();
  for (size_t i = 0; i < env->n; i++)
    {
      _cleanup_free_ char *kv = xasprintf (
          "%s=%s", env->v[i].key, env->v[i].value ? env->v[i].value : "");
      json_array_append_new (a, json_string (kv));
    }
  json_object_set_new (build_config_obj (doc), "Env", a);
}

json_t *
build_history_new (int64_t t, const char *created_by, bool empty_layer)
{
  char when[64];
  rfc3339_format ((time_t)t, when, sizeof when);
  json_t *h = json_pack ("{s:s,s:s,s:s}", "created", when, "created_by",
                         created_by, "comment", HISTORY_COMMENT);
  if (empty_layer)
    json_object_set_new (h, "empty_layer", json_true ());
  return h;
}

void
build_state_add (struct build_state *st, json_t *history,
                 const struct build_layer *layer)
{
  json_t *hist = json_object_get (st->doc, "history");
  if (!json_is_array (hist))
    {
      hist = json_array ();
      json_object_set_new (st->doc, "history", hist);
    }
  json_array_append (hist, history);
  st->history_added = true;
  if (!layer)
    return;
  json_t *rootfs = json_object_get (st->doc, "rootfs");
  if (!json_is_object (rootfs))
    {
      rootfs = json_pack ("{s:s,s:[]}", "type", "layers", "diff_ids");
      json_object_set_new (st->doc, "rootfs", rootfs);
    }
  json_t *ids = json_object_get (rootfs, "diff_ids");
  if (!json_is_array (ids))
    {
      ids = json_array ();
      json_object_set_new (rootfs, "diff_ids", ids);
    }
  json_array_append_new (ids, json_string (layer->diff_id));
  st->layers = xrealloc (st->layers, (st->n_layers + 1) * sizeof *st->layers);
  st->layers[st->n_layers++]
      = (struct build_layer){ xstrdup (layer->digest), xstrdup (layer->diff_id),
                              xstrdup (layer->media_type), layer->size };
  /* the stack changed: the snapshot list is made again when needed */
  strv_free (st->lowers);
  st->lowers = NULL;
}

char *
build_json_argv (char *const *argv)
{
  json_t *a = json_array ();
  for (size_t i = 0; argv && argv[i]; i++)
    json_array_append_new (a, json_string (argv[i]));
  char *s = json_dumps (a, JSON_COMPACT | JSON_ENCODE_ANY);
  json_decref (a);
  char *r = xstrdup (s ? s : "[]");
  free (s);
  return r;
}

static void
add_kvs (struct strbuf *sb, const struct bf_instr *x)
{
  for (size_t i = 0; i < x->n_kvs; i++)
    {
      strbuf_addf (sb, " %s", x->kvs[i].key);
      if (x->kvs[i].value)
        strbuf_addf (sb, "=%s", x->kvs[i].value);
    }
}

char *
build_instr_text (const struct bf_instr *x, char *const *shell)
{
  struct strbuf sb = STRBUF_INIT;
  strbuf_addstr (&sb, bf_kind_name (x->kind));
  switch (x->kind)
    {
    case BF_RUN:
      {
        char **argv = bf_instr_argv (x, shell);
        for (size_t i = 0; argv[i]; i++)
          strbuf_addf (&sb, " %s", argv[i]);
        strv_free (argv);
        break;
      }
    case BF_CMD:
    case BF_ENTRYPOINT:
    case BF_SHELL:
      {
        char **argv = bf_instr_argv (x, shell);
        _cleanup_free_ char *j = build_json_argv (argv);
        strbuf_addf (&sb, " %s", j);
        strv_free (argv);
        break;
      }
    case BF_ENV:
    case BF_LABEL:
    case BF_ARG:
      add_kvs (&sb, x);
      break;
    case BF_COPY:
    case BF_ADD:
      for (size_t i = 0; i < x->n_flags; i++)
        strbuf_addf (&sb, " --%s=%s", x->flags[i].name,
                     x->flags[i].value ? x->flags[i].value : "");
      /* fall through */
    case BF_WORKDIR:
    case BF_USER:
    case BF_STOPSIGNAL:
    case BF_MAINTAINER:
    case BF_EXPOSE:
    case BF_VOLUME:
      for (size_t i = 0; x->args && x->args[i]; i++)
        strbuf_addf (&sb, " %s", x->args[i]);
      break;
    default:
      {
        /* HEALTHCHECK, ONBUILD, FROM: as written */
        const char *sp = strchr (x->raw, ' ');
        strbuf_reset (&sb);
        strbuf_addstr (&sb, bf_kind_name (x->kind));
        if (sp)
          strbuf_addstr (&sb, sp);
        break;
      }
    }
  return strbuf_detach (&sb, NULL);
}

int
build_write_image (struct build *b, struct build_state *st,
                   struct build_result *out, struct err **err)
{
  json_t *hist = json_object_get (st->doc, "history");
  size_t nh = json_array_size (hist);
  /* created: the newest history entry's time, so a build whose steps all
     come from the cache gives the same image again */
  if (st->history_added && nh > 0)
    {
      json_t *c = json_object_get (json_array_get (hist, nh - 1), "created");
      if (json_is_string (c))
        json_object_set (st->doc, "created", c);
    }
  char *cfg = json_dumps (st->doc, JSON_COMPACT | JSON_SORT_KEYS);
  if (!cfg)
    return err_set (err, 0, "serialise the image config");
  _cleanup_free_ char *cfg_digest = NULL;
  size_t cfg_len = strlen (cfg);
  int r = store_blob_put (b->store, cfg, cfg_len, NULL, &cfg_digest, err);
  free (cfg);
  if (r < 0)
    return err_wrap (err, "store the image config");

  struct descriptor *layers = xcalloc (st->n_layers + 1, sizeof *layers);
  for (size_t i = 0; i < st->n_layers; i++)
    layers[i] = (struct descriptor){ .media_type = st->layers[i].media_type,
                                     .digest = st->layers[i].digest,
                                     .size = st->layers[i].size };
  r = image_store_manifest (b->store, cfg_digest, (int64_t)cfg_len, layers,
                            st->n_layers, &out->manifest_digest,
                            &out->manifest_size, err);
  free (layers);
  if (r < 0)
    return -1;
  out->image_id = steal_pointer (&cfg_digest);
  return 0;
}
