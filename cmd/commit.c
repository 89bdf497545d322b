/* imgtool commit [-a AUTHOR] [-m MESSAGE] [-c INSTR]... [-p|--pause=false|
 * --no-pause] [--source-date-epoch N] CONTAINER [REPO[:TAG]]: the
 * container's writable layer as a new layer on its image, as docker's
 * commit (reference/archives.md section 8). The layer comes from the
 * build's differ (layers/diff.h: whiteouts, opaque directories), without
 * the mount points the runtime made; a running container is frozen for
 * it (service/freeze.c) unless told not to, and thawed on every path. The
 * config is the image's with what the container ran with (command, env,
 * working dir, user), then -c (builder: build_apply_changes); history
 * gains docker's entry (created_by the command, author, comment). With
 * --source-date-epoch (or SOURCE_DATE_EPOCH) the times are that, and two
 * commits of the same changes give the same image ID. Prints the ID. */
#include "builder/builder.h"
#include "cmd/command.h"
#include "cmd/lookup.h"
#include "cmd/opttable.h"
#include "layers/diff.h"
#include "layers/image.h"
#include "layers/image_store.h"
#include "layers/store.h"
#include "lib/err.h"
#include "lib/human.h"
#include "lib/json.h"
#include "lib/strbuf.h"
#include "lib/xalloc.h"
#include "registry/ref.h"
#include "runtime/container.h"
#include "runtime/runopts.h"
#include "service/service.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char usage_text[]
    = "imgtool commit [-a AUTHOR] [-m MESSAGE] [-c INSTRUCTION]... "
      "[-p|--pause=false|--no-pause] [--source-date-epoch N] CONTAINER "
      "[REPOSITORY[:TAG]]";

struct commit_opts
{
  const char *author, *message;
  char **changes;
  bool pause;
  bool have_epoch;
  int64_t epoch;
};

/* Did run add K=V itself (runtime/runopts.h: PATH, HOSTNAME, TERM before
 * the image's, HOME after), rather than the image or -e? docker keeps
 * those out of the container's config, so out of the commit. */
static bool
added_by_run (const char *kv, const struct rt_record *rec,
              char *const *image_env)
{
  const char *eq = strchr (kv, '=');
  if (!eq)
    return false;
  _cleanup_free_ char *k = xstrndup (kv, (size_t)(eq - kv));
  const char *v = eq + 1, *host = rec->plan.hostname;
  if (rt_env_get (image_env, k))
    return false;
  return (!strcmp (k, "HOSTNAME") && host && !strcmp (v, host))
         || (!strcmp (k, "TERM") && rec->plan.tty && !strcmp (v, "xterm"))
         || (!strcmp (k, "PATH") && !strcmp (v, RT_DEFAULT_PATH))
         || !strcmp (k, "HOME");
}

static json_t *
argv_json (char *const *v)
{
  json_t *a = json_array ();
  for (size_t i = 0; v && v[i]; i++)
    json_array_append_new (a, json_string (v[i]));
  return a;
}

/* The image's config with what the container ran with, as docker's
 * commit starts from the container's config. The record keeps the
 * resolved command, so Entrypoint stays the image's when the command
 * starts with it (Cmd: the rest), else the command is all Cmd: the new
 * image runs the same argv either way. */
static void
container_config (json_t *cfg, const struct image_config *ic,
                  const struct rt_record *rec)
{
  const struct rt_plan *p = &rec->plan;
  char *const *argv = rec->command;
  size_t ne = ic->entrypoint ? strv_len (ic->entrypoint) : 0;
  bool keep_ep = ne > 0 && strv_len (argv) >= ne;
  for (size_t i = 0; keep_ep && i < ne; i++)
    keep_ep = !strcmp (argv[i], ic->entrypoint[i]);
  if (!keep_ep)
    json_object_set_new (cfg, "Entrypoint", json_null ());
  json_object_set_new (cfg, "Cmd", argv_json (argv + (keep_ep ? ne : 0)));

  json_t *env = json_array ();
  for (size_t i = 0; p->env && p->env[i]; i++)
    if (!added_by_run (p->env[i], rec, ic->env))
      json_array_append_new (env, json_string (p->env[i]));
  json_object_set_new (cfg, "Env", env);

  const char *wd = ic->working_dir ? ic->working_dir : "";
  if (p->cwd && strcmp (p->cwd, wd) && (*wd || strcmp (p->cwd, "/")))
    json_object_set_new (cfg, "WorkingDir", json_string (p->cwd));
  if ((!ic->user || !*ic->user) && (p->user.uid || p->user.gid))
    json_object_set_new (
        cfg, "User",
        json_sprintf ("%u:%u", (unsigned)p->user.uid, (unsigned)p->user.gid));
  if (p->stop_signal
      && (!ic->stop_signal || strcmp (p->stop_signal, ic->stop_signal)))
    json_object_set_new (cfg, "StopSignal", json_string (p->stop_signal));
}

/* The Cmd of cfg joined with spaces. */
static char *
created_by (json_t *cfg)
{
  struct strbuf sb = STRBUF_INIT;
  json_t *cmd = json_object_get (cfg, "Cmd"), *v;
  size_t i;
  json_array_foreach (cmd, i, v)
  {
    strbuf_addf (&sb, "%s%s", i ? " " : "", json_string_value (v));
  }
  return strbuf_detach (&sb, NULL);
}

/* The container's image, loaded: a stored manifest with its config. */
static int
load_base (struct store *s, const struct rt_record *rec, struct image *img,
           struct err **err)
{
  char *configs[] = { rec->image_id, NULL };
  _cleanup_strv_ char **mans = NULL;
  if (!rec->image_id)
    return err_set (err, 0, "it was not made from an image");
  if (image_manifests_of_configs (s, configs, &mans, err) < 0)
    return -1;
  if (!mans || !mans[0])
    return err_set (err, 0, "its image '%s' is not in the store",
                    rec->image_id);
  return image_load (s, mans[0], MT_OCI_MANIFEST, NULL, img, err);
}

/* The upper dir as a layer, the container frozen meanwhile (with pause).
 * Interrupts wait until it is thawed: a frozen container must never be
 * left behind by a ^C. */
static int
diff_container (struct svc *svc, struct svc_container *c, struct store *s,
                const struct commit_opts *o, struct layer_result *res,
                struct err **err)
{
  struct rt_plan *p = &c->rec.plan;
  struct layer_opts lo = { .compression = LAYER_GZIP,
                           .clamp_mtime = o->have_epoch,
                           .source_date_epoch = o->epoch };
  struct layer_diff_skip skip = { rt_rootfs_made_by_runtime, p->lower_dirs };
  sigset_t block, old;
  int frozen = 0, r;
  _cleanup_close_ int upper = -1;
  if (!p->upper_dir || !p->lower_dirs)
    return err_set (err, 0, "it has no writable layer over image layers");
  upper = open (p->upper_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (upper < 0)
    return err_set (err, errno, "open its writable layer");
  sigemptyset (&block);
  sigaddset (&block, SIGINT);
  sigaddset (&block, SIGTERM);
  sigaddset (&block, SIGHUP);
  sigaddset (&block, SIGQUIT);
  sigprocmask (SIG_BLOCK, &block, &old);
  if (o->pause && (frozen = svc_freeze (svc, c, err)) < 0)
    {
      sigprocmask (SIG_SETMASK, &old, NULL);
      return -1;
    }
  r = layer_diff (upper, p->lower_dirs, &lo, &skip, s, res, err);
  if (frozen > 0)
    {
      struct err *e = NULL;
      if (svc_unfreeze (svc, c, &e) < 0 && r == 0)
        r = err_set (err, e->errnum, "%s", e->msg);
      err_free (e);
    }
  sigprocmask (SIG_SETMASK, &old, NULL);
  return r;
}

/* The new config document: the image's, the container's settings, -c,
 * the times, author and comment, a history entry, and the layer. */
static json_t *
commit_doc (const struct image *base, const struct rt_record *rec,
            const struct commit_opts *o, const struct layer_result *res,
            bool empty, struct err **err)
{
  json_t *doc = json_deep_copy (base->config.json), *cfg, *h;
  char now[64];
  rfc3339_format (o->have_epoch ? (time_t)o->epoch : time (NULL), now,
                  sizeof now);
  if (!json_is_object (cfg = json_object_get (doc, "config")))
    json_object_set_new (doc, "config", cfg = json_object ());
  container_config (cfg, &base->config, rec);
  /* docker's created_by: the container's Cmd, whatever -c says */
  _cleanup_free_ char *by = created_by (cfg);
  if (build_apply_changes (doc, o->changes, err) < 0)
    {
      json_decref (doc);
      return NULL;
    }
  cfg = json_object_get (doc, "config");
  json_object_set_new (doc, "created", json_string (now));
  json_object_del (doc, "author");
  json_object_del (doc, "comment");
  h = json_pack ("{s:s,s:s}", "created", now, "created_by", by);
  if (o->author && *o->author)
    {
      json_object_set_new (doc, "author", json_string (o->author));
      json_object_set_new (h, "author", json_string (o->author));
    }
  if (o->message && *o->message)
    {
      json_object_set_new (doc, "comment", json_string (o->message));
      json_object_set_new (h, "comment", json_string (o->message));
    }
  if (empty)
    json_object_set_new (h, "empty_layer", json_true ());
  if (!json_is_array (json_object_get (doc, "history")))
    json_object_set_new (doc, "history", json_array ());
  json_array_append_new (json_object_get (doc, "history"), h);
  if (!empty)
    json_array_append_new (
        json_object_get (json_object_get (doc, "rootfs"), "diff_ids"),
        json_string (res->diff_id));
  return doc;
}

static int
commit (struct global *g, const char *key, const char *name,
        const struct commit_opts *o, struct err **err)
{
  struct svc svc;
  struct svc_container c = { 0 };
  struct store s = { .root_fd = -1 };
  struct image base = { 0 };
  struct layer_result res;
  _cleanup_free_ char *cfg = NULL, *cfg_digest = NULL, *man_digest = NULL;
  struct descriptor *layers = NULL;
  json_t *doc = NULL;
  int64_t man_size;
  int guard = -1, ret = -1;

  if (svc_open (&svc, g->root, g->config_path, err) < 0)
    return -1;
  if (svc_load (&svc, key, &c, err) < 0 || store_open (&s, g->root, err) < 0
      || (guard = store_writer_guard (&s, err)) < 0
      || load_base (&s, &c.rec, &base, err) < 0)
    goto out;
  /* the changes first: a bad one costs no pause */
  if (!(doc = commit_doc (&base, &c.rec, o, &res, true, err)))
    goto out;
  json_decref (steal_pointer (&doc));
  if (diff_container (&svc, &c, &s, o, &res, err) < 0)
    goto out;
  /* an empty diff (the end marker alone) adds no layer (docker) */
  bool empty = res.tar_size <= 1024;
  if (!(doc = commit_doc (&base, &c.rec, o, &res, empty, err)))
    goto out;
  if (!(cfg = json_dumps (doc, JSON_COMPACT | JSON_SORT_KEYS)))
    {
      err_set (err, 0, "serialise the image config");
      goto out;
    }
  size_t n = base.manifest.n_layers;
  layers = xcalloc (n + 2, sizeof *layers);
  memcpy (layers, base.manifest.layers, n * sizeof *layers);
  if (!empty)
    layers[n++] = (struct descriptor){ .media_type = (char *)res.media_type,
                                       .digest = res.digest,
                                       .size = res.size };
  if (store_blob_put (&s, cfg, strlen (cfg), NULL, &cfg_digest, err) < 0
      || image_store_manifest (&s, cfg_digest, (int64_t)strlen (cfg), layers, n,
                               &man_digest, &man_size, err)
             < 0)
    goto out;
  if ((name ? lookup_tag_set (&s, name, MT_OCI_MANIFEST, man_digest, man_size,
                              cfg_digest, NULL, err)
            : lookup_keep_untagged (&s, MT_OCI_MANIFEST, man_digest, man_size,
                                    cfg_digest, err))
      < 0)
    goto out;
  printf ("%s\n", cfg_digest);
  ret = 0;
out:
  if (ret < 0)
    err_wrap (err, "commit '%s'", key);
  free (layers);
  json_decref (doc);
  image_release (&base);
  if (guard >= 0)
    close (guard);
  if (s.root)
    store_release (&s);
  svc_container_release (&c);
  svc_close (&svc);
  return ret;
}

static const struct cmd_opt commit_opts[] = {
  CMD_OPT ("author", 'a', "AUTHOR", 0,
           "Author (e.g., \"John Hannibal Smith <hannibal@a-team.com>\")",
           "--author"),
  CMD_OPT ("message", 'm', "MESSAGE", 0, "Commit message", "--message"),
  CMD_OPT ("change", 'c', "INSTRUCTION", 0,
           "Apply Dockerfile instruction to the created image", "--change"),
  CMD_OPT ("pause", 'p', NULL, 0, "Pause the container during commit (true)",
           "--pause"),
  CMD_OPT ("no-pause", 0, NULL, 'P', "Do not pause the container during commit",
           NULL),
  CMD_OPT ("source-date-epoch", 0, "SECONDS", 'e',
           "Timestamps set to this time, for reproducible output "
           "($SOURCE_DATE_EPOCH)",
           NULL),
  CMD_OPT_HELP_H,
  CMD_OPT_END,
};

const struct cmd_spec cmd_commit_spec = {
  .name = "commit",
  .usage = usage_text,
  .opts = commit_opts,
};

COMMAND (commit)
{
  struct commit_opts o = { .pause = true };
  _cleanup_strv_ char **changes = NULL;
  _cleanup_free_ char *name = NULL;
  int c;

  while ((c = cmd_getopt (argc, argv, &cmd_commit_spec)) != -1)
    switch (c)
      {
      case 'a':
        o.author = optarg;
        break;
      case 'm':
        o.message = optarg;
        break;
      case 'c':
        strv_push (&changes, xstrdup (optarg));
        break;
      case 'p':
        if (command_parse_bool (optarg, &o.pause) < 0)
          {
            err_set (err, 0, "invalid --pause '%s': expected true or false",
                     optarg);
            return err_exit (err, 2);
          }
        break;
      case 'P':
        o.pause = !cmd_optbool;
        break;
      case 'e':
        if (command_parse_epoch (optarg, &o.epoch, err) < 0)
          return err_exit (err, 2);
        o.have_epoch = true;
        break;
      case CMD_OPT_HELP_ID:
        return 0;
      default:
        return command_bad_option (err);
      }
  if (optind != argc - 1 && optind != argc - 2)
    return command_usage_error (usage_text, err);
  if (optind == argc - 2)
    {
      struct ref r;
      if (ref_parse (argv[optind + 1], &r, err) < 0)
        return -1;
      bool digest = r.digest != NULL;
      name = ref_string (&r);
      ref_release (&r);
      if (digest)
        return err_set (err, 0, "commit '%s': a target cannot have a digest",
                        argv[optind + 1]);
    }
  if (command_epoch_from_env (&o.have_epoch, &o.epoch, err) < 0)
    return -1;
  o.changes = changes;
  return commit (g, argv[optind], name, &o, err);
}
