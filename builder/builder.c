/* The build: stages in order, each step looked up in the cache or
 * executed, the image written at the end (see builder.h). */
#include "builder/builder.h"
#include "builder/build_int.h"
#include "layers/image_store.h"
#include "layers/store.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/human.h"
#include "lib/strbuf.h"
#include "lib/xalloc.h"
#include "registry/client.h"
#include "registry/ref.h"
#include "trust/pull.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int
build_check_interrupt (struct build *b, struct err **err)
{
  struct signalfd_siginfo si;
  if (!b->interrupted && b->interrupt_fd >= 0
      && read (b->interrupt_fd, &si, sizeof si) == (ssize_t)sizeof si)
    b->interrupted = (int)si.ssi_signo;
  if (!b->interrupted)
    return 0;
  err_set (err, 0, "build interrupted (signal %d)", b->interrupted);
  return err_exit (err, 130);
}

int64_t
build_now (const struct build *b)
{
  return b->o->have_epoch ? b->o->source_date_epoch : (int64_t)time (NULL);
}

static double
mono (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- states ---- */

void
build_state_release (struct build_state *st)
{
  json_decref (st->doc);
  for (size_t i = 0; i < st->n_layers; i++)
    {
      free (st->layers[i].digest);
      free (st->layers[i].diff_id);
      free (st->layers[i].media_type);
    }
  free (st->layers);
  if (st->scope.plan)
    bf_scope_release (&st->scope);
  strv_free (st->lowers);
  memset (st, 0, sizeof *st);
}

void
build_state_copy (struct build_state *dst, const struct build_state *src)
{
  memset (dst, 0, sizeof *dst);
  dst->doc = json_deep_copy (src->doc);
  dst->n_layers = src->n_layers;
  dst->layers = xcalloc (src->n_layers + 1, sizeof *dst->layers);
  for (size_t i = 0; i < src->n_layers; i++)
    dst->layers[i] = (struct build_layer){ xstrdup (src->layers[i].digest),
                                           xstrdup (src->layers[i].diff_id),
                                           xstrdup (src->layers[i].media_type),
                                           src->layers[i].size };
  memcpy (dst->key, src->key, sizeof dst->key);
  bf_scope_copy (&dst->scope, &src->scope);
  dst->history_added = src->history_added;
}

static const char *
top_layer (const struct build_state *st)
{
  return st->n_layers ? st->layers[st->n_layers - 1].digest : NULL;
}

struct bf_stage *
build_from_stage (struct build *b, const char *name, size_t before)
{
  struct bf_stage *s = bf_plan_stage (b->plan, name);
  if (!s || (before != SIZE_MAX && (size_t)s->index >= before))
    return NULL;
  if (before == SIZE_MAX && !b->stages[s->index].done)
    return NULL;
  return s;
}

/* Pull policy and store lookup for a FROM or --from image. */
static int
find_image (struct build *b, const char *name, const char *platform,
            struct image *img, struct err **err)
{
  struct ref r;
  struct store_ref ref = { 0 };
  struct platform want = { 0 };
  int ret = -1, got;
  if (ref_parse (name, &r, err) < 0)
    return -1;
  _cleanup_free_ char *full = ref_string (&r);
  ref_release (&r);
  const char *plat = platform ? platform : b->o->platform;
  got = b->o->pull == BUILD_PULL_ALWAYS
            ? 1
            : store_ref_get (b->store, full, &ref, err);
  if (got < 0)
    return -1;
  if (plat ? platform_parse (plat, &want, err) < 0 : (platform_host (&want), 0))
    goto out;
  /* an index pulled for another platform lacks this one's image: pull it
     (platform.c's builds of a multi-arch base) */
  if (got == 0 && b->o->pull == BUILD_PULL_MISSING
      && !build_platform_in_store (b->store, &ref, &want))
    {
      store_ref_release (&ref);
      memset (&ref, 0, sizeof ref);
      got = 1;
    }
  if (got == 1)
    {
      if (b->o->pull == BUILD_PULL_NEVER)
        {
          err_set (err, 0, "image '%s' is not in the store (--pull=never)",
                   name);
          goto out;
        }
      struct reg_pull_opts po = { .config_path = b->o->config_path,
                                  .platform = plat,
                                  .no_tls_verify = b->o->no_tls_verify,
                                  .quiet = b->o->quiet,
                                  .out = b->out };
      struct reg_pull_result res;
      struct trust_pull tp;
      int pulled;
      trust_pull_init (&tp, &po, b->store, b->o->signature_policy);
      pulled = reg_pull (b->store, &po, full, &res, err);
      trust_pull_release (&tp);
      if (pulled < 0)
        goto out;
      reg_pull_result_release (&res);
      if (store_ref_get (b->store, full, &ref, err) != 0)
        goto out;
    }
  ret = image_load_ref (b->store, &ref, plat ? &want : NULL, img, err);
out:
  platform_release (&want);
  store_ref_release (&ref);
  return ret;
}

/* The state of an image: its config, layers and env; key = its ID. */
int
build_image_state (struct build *b, const char *name, const char *platform,
                   struct build_state *st, struct err **err)
{
  struct image img;
  memset (st, 0, sizeof *st);
  if (find_image (b, name, platform, &img, err) < 0)
    return -1;
  size_t n = strv_len (img.config.diff_ids);
  if (n != img.manifest.n_layers)
    {
      image_release (&img);
      return err_set (err, 0, "image '%s' has %zu layers but %zu diff_ids",
                      name, img.manifest.n_layers, n);
    }
  st->doc = json_deep_copy (img.config.json);
  st->layers = xcalloc (n + 1, sizeof *st->layers);
  for (size_t i = 0; i < n; i++)
    st->layers[i] = (struct build_layer){
      xstrdup (img.manifest.layers[i].digest), xstrdup (img.config.diff_ids[i]),
      xstrdup (img.manifest.layers[i].media_type), img.manifest.layers[i].size
    };
  st->n_layers = n;
  build_cache_key ("image", img.manifest.config.digest, st->key);
  bf_scope_init (&st->scope, b->plan, &b->args, img.config.env);
  st->done = true;
  image_release (&img);
  return 0;
}

/* ---- steps ---- */

static void say (struct build *b, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));
static void
say (struct build *b, const char *fmt, ...)
{
  va_list ap;
  if (b->o->quiet || b->replay)
    return;
  va_start (ap, fmt);
  vfprintf (b->out, fmt, ap);
  va_end (ap);
  fflush (b->out);
}

/* The first line of an instruction as written, for the STEP line. */
static void
say_step (struct build *b, const char *prefix, const char *raw)
{
  size_t n = strcspn (raw, "\n");
  say (b, "%s%.*s%s\n", prefix, (int)n, raw, raw[n] ? " ..." : "");
}

static int
exec_step (struct build *b, struct build_state *st, const struct bf_instr *in,
           struct err **err)
{
  struct bf_instr *x = NULL;
  struct build_cache_rec rec = { 0 };
  _cleanup_free_ char *text = NULL, *workdir = NULL;
  char key[DIGEST_STR_LEN + 1];
  int ret = -1, hit;

  if (build_check_interrupt (b, err) < 0)
    return -1;
  if (bf_scope_step (&st->scope, in, &x, err) < 0)
    return -1;
  if (x->kind == BF_COPY || x->kind == BF_ADD)
    {
      if (build_copy_key (b, st, x, &text, err) < 0)
        {
          if (!strstr ((*err)->msg, b->plan->file))
            err_wrap (err, "%s:%d", b->plan->file, x->line);
          goto out;
        }
    }
  else
    text = build_instr_text (x, st->scope.shell);
  if (x->kind == BF_RUN)
    {
      /* the network a RUN gets is part of what it does */
      const char *net = bf_flag (x, "network");
      struct strbuf sb = STRBUF_INIT;
      struct build_mounts ms;
      strbuf_addf (&sb, "%s\nnetwork=%s/%d", text, net ? net : "",
                   (int)b->o->network);
      /* what the step's process gets, as BuildKit's ExecOp meta */
      for (size_t i = 0; b->o->add_hosts && b->o->add_hosts[i]; i++)
        strbuf_addf (&sb, "\nhost=%s", b->o->add_hosts[i]);
      for (size_t i = 0; i < b->o->n_ulimits; i++)
        strbuf_addf (&sb, "\nulimit=%d:%llu:%llu", b->o->ulimits[i].resource,
                     (unsigned long long)b->o->ulimits[i].soft,
                     (unsigned long long)b->o->ulimits[i].hard);
      if (b->o->shm_size)
        strbuf_addf (&sb, "\nshm=%lld", (long long)b->o->shm_size);
      free (text);
      text = NULL;
      /* the mounts' definitions, never a cache's or a secret's content */
      if (build_mounts_parse (st, x, &ms, err) < 0
          || build_mounts_key (b, &ms, &sb, err) < 0)
        {
          build_mounts_release (&ms);
          strbuf_release (&sb);
          err_wrap (err, "%s:%d", b->plan->file, x->line);
          goto out;
        }
      build_mounts_release (&ms);
      text = strbuf_detach (&sb, NULL);
    }
  if (x->kind == BF_WORKDIR)
    workdir = build_workdir_path (st, x->args[0]);
  build_cache_key (st->key, text, key);

  /* a replay reads what a stage's own process just wrote (parallel.c) */
  hit = st->no_cache && !b->replay ? 1 : build_cache_get (b, key, &rec, err);
  if (hit < 0)
    goto out;
  if (hit == 0)
    say (b, "--> CACHED\n");
  else
    {
      double t0 = mono ();
      switch (x->kind)
        {
        case BF_RUN:
          ret = build_run_layer (b, st, x, &rec.layer, &rec.has_layer, err);
          break;
        case BF_COPY:
        case BF_ADD:
          ret = build_copy_layer (b, st, x, &rec.layer, &rec.has_layer, err);
          break;
        case BF_WORKDIR:
          ret = build_workdir_layer (b, st, workdir, &rec.layer, &rec.has_layer,
                                     err);
          if (ret < 0)
            err_wrap (err, "%s:%d", b->plan->file, x->line);
          break;
        default:
          ret = 0;
          break;
        }
      if (ret < 0)
        goto out;
      ret = -1;
      _cleanup_free_ char *created_by = build_instr_text (x, st->scope.shell);
      rec.history
          = build_history_new (build_now (b), created_by, !rec.has_layer);
      if (rec.has_layer)
        {
          char size[32];
          human_size (rec.layer.size, size, sizeof size);
          say (b, "--> %.2fs, layer %s\n", mono () - t0, size);
        }
      else if (x->kind == BF_RUN || x->kind == BF_COPY || x->kind == BF_ADD)
        say (b, "--> %.2fs, no changes\n", mono () - t0);
    }
  if (build_apply_meta (b, st, x, err) < 0)
    goto out;
  build_state_add (st, rec.history, rec.has_layer ? &rec.layer : NULL);
  build_cache_note (b, st, key, &rec);
  /* a --cache-from hit too: the next build here hits without it (a
     record is a miss until its layer blob is in the store) */
  if ((hit != 0 || rec.remote)
      && build_cache_put (b, key, &rec, top_layer (st), err) < 0)
    goto out;
  memcpy (st->key, key, sizeof key);
  ret = 0;
out:
  build_cache_rec_release (&rec);
  bf_instr_free (x);
  return ret;
}

/* The base image's ONBUILD triggers run right after FROM, then go: they
 * are not passed on to images built from this one. */
static int
run_triggers (struct build *b, struct build_state *st, struct err **err)
{
  json_t *cfg = build_config_obj (st->doc);
  json_t *ob = json_incref (json_object_get (cfg, "OnBuild"));
  size_t i;
  json_t *v;
  int ret = 0;
  json_object_del (cfg, "OnBuild");
  json_array_foreach (ob, i, v)
  {
    const char *t = json_string_value (v);
    struct bf_plan *p = NULL;
    if (!t)
      continue;
    _cleanup_free_ char *text = xasprintf ("FROM scratch\n%s\n", t);
    say (b, "ONBUILD %s\n", t);
    if (bf_parse (text, strlen (text), b->plan->file, &p, err) < 0
        || p->n_stages != 1 || p->stages[0].n_instrs != 1)
      {
        if (!*err)
          err_set (err, 0, "not one instruction");
        err_wrap (err, "ONBUILD trigger '%s' of the base image", t);
        bf_plan_free (p);
        ret = -1;
        break;
      }
    struct bf_instr *in = &p->stages[0].instrs[0];
    in->line = b->plan->stages[0].line; /* messages point at the FROM */
    ret = exec_step (b, st, in, err);
    bf_plan_free (p);
    if (ret < 0)
      {
        err_wrap (err, "ONBUILD trigger '%s'", t);
        break;
      }
  }
  json_decref (ob);
  return ret;
}

int
build_stage (struct build *b, size_t idx, struct err **err)
{
  struct bf_stage *sg = &b->plan->stages[idx];
  struct build_state *st = &b->stages[idx];
  struct bf_stage *from = build_from_stage (b, sg->base, idx);
  char base_key[DIGEST_STR_LEN + 1];

  b->step++;
  say (b, "STEP %d/%d: ", b->step, b->n_steps);
  say_step (b, "", sg->from->raw);
  /* --no-cache-filter names stages by name or index */
  _cleanup_free_ char *idx_s = xasprintf ("%zu", idx);
  bool no_cache = strv_has (b->o->no_cache_stages, idx_s)
                  || (sg->name && strv_has (b->o->no_cache_stages, sg->name));
  if (from)
    {
      build_state_copy (st, &b->stages[from->index]);
      st->done = false;
    }
  else if (!strcasecmp (sg->base, "scratch"))
    {
      struct platform p = { 0 };
      if (sg->platform && platform_parse (sg->platform, &p, err) < 0)
        return err_wrap (err, "%s:%d", b->plan->file, sg->line);
      st->doc = build_config_scratch (sg->platform ? &p : &b->target);
      _cleanup_free_ char *ps
          = platform_string (sg->platform ? &p : &b->target);
      build_cache_key ("scratch", ps, st->key);
      if (sg->platform)
        platform_release (&p);
      bf_scope_init (&st->scope, b->plan, &b->args, NULL);
    }
  else
    {
      if (build_image_state (b, sg->base, sg->platform, st, err) < 0)
        return err_wrap (err, "%s:%d: FROM '%s'", b->plan->file, sg->line,
                         sg->base);
      st->done = false;
    }
  /* settings that change every layer or history entry are part of every
     key below */
  _cleanup_free_ char *opts = xasprintf (
      "compression=%d epoch=%lld", (int)b->lopts.compression,
      b->o->have_epoch ? (long long)b->o->source_date_epoch : -1LL);
  memcpy (base_key, st->key, sizeof base_key);
  build_cache_key (base_key, opts, st->key);
  st->cmd_set = false;
  st->no_cache = no_cache;
  if (run_triggers (b, st, err) < 0)
    return -1;
  for (size_t i = 0; i < sg->n_instrs; i++)
    {
      b->step++;
      say (b, "STEP %d/%d: ", b->step, b->n_steps);
      say_step (b, "", sg->instrs[i].raw);
      if (exec_step (b, st, &sg->instrs[i], err) < 0)
        return -1;
    }
  st->done = true;
  return 0;
}

/* Stages the target needs: itself, the stages it is built FROM and those
 * it copies --from, transitively. */
static void
mark_needed (struct build *b, size_t idx)
{
  if (b->needed[idx])
    return;
  b->needed[idx] = true;
  _cleanup_free_ bool *deps = xcalloc (b->plan->n_stages, sizeof *deps);
  build_stage_deps (b, idx, deps);
  for (size_t i = 0; i < b->plan->n_stages; i++)
    if (deps[i])
      mark_needed (b, i);
}

static void
set_builtin_args (struct build *b)
{
  struct platform host;
  _cleanup_free_ char *tp = platform_string (&b->target);
  platform_host (&host);
  _cleanup_free_ char *hp = platform_string (&host);
  bf_kvs_set (&b->builtin, "TARGETPLATFORM", tp);
  bf_kvs_set (&b->builtin, "TARGETOS", b->target.os);
  bf_kvs_set (&b->builtin, "TARGETARCH", b->target.arch);
  bf_kvs_set (&b->builtin, "TARGETVARIANT",
              b->target.variant ? b->target.variant : "");
  bf_kvs_set (&b->builtin, "BUILDPLATFORM", hp);
  bf_kvs_set (&b->builtin, "BUILDOS", host.os);
  bf_kvs_set (&b->builtin, "BUILDARCH", host.arch);
  bf_kvs_set (&b->builtin, "BUILDVARIANT", host.variant ? host.variant : "");
  platform_release (&host);
  bf_kvs_copy (&b->args, &b->builtin);
  for (size_t i = 0; i < b->o->build_args.n; i++)
    bf_kvs_set (&b->args, b->o->build_args.v[i].key,
                b->o->build_args.v[i].value);
}

static bool
declares (const struct bf_instr *in, size_t n, const char *name)
{
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; in[i].kind == BF_ARG && j < in[i].n_kvs; j++)
      if (!strcmp (in[i].kvs[j].key, name))
        return true;
  return false;
}

/* The --build-arg names no ARG of the built stages (or before the first
 * FROM) declares; the proxy ARGs are always consumed (docker). */
static char **
unused_args (struct build *b)
{
  char **v = xcalloc (1, sizeof (char *));
  for (size_t i = 0; i < b->o->build_args.n; i++)
    {
      const char *k = b->o->build_args.v[i].key;
      bool used = bf_is_proxy_arg (k)
                  || declares (b->plan->meta_args, b->plan->n_meta_args, k);
      for (size_t s = 0; !used && s < b->plan->n_stages; s++)
        used = b->needed[s]
               && declares (b->plan->stages[s].instrs,
                            b->plan->stages[s].n_instrs, k);
      if (!used && !strv_has (v, k))
        strv_push (&v, xstrdup (k));
    }
  return v;
}

/* Every mount the build makes (views of stages) lives in a mount
 * namespace of its own, so none outlives the process however it ends. */
static int
private_mounts (struct err **err)
{
  if (unshare (CLONE_NEWNS) < 0)
    return err_set (err, errno,
                    "build needs a private mount namespace "
                    "(run as root)");
  /* why: nothing mounted here may propagate back to the host */
  if (mount (NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
    return err_set (err, errno, "make mounts private");
  return 0;
}

/* --cache-from's records, and what --cache-to will note: the stages of
 * the final image for mode=min (target and its FROM chain). */
static void
cache_setup (struct build *b, size_t target)
{
  build_remote_open (b);
  if (!b->o->n_cache_to)
    return;
  b->export_all = json_object ();
  b->export_min = json_object ();
  b->min_stage = xcalloc (b->plan->n_stages, sizeof *b->min_stage);
  for (struct bf_stage *s = &b->plan->stages[target]; s;
       s = build_from_stage (b, s->base, (size_t)s->index))
    b->min_stage[s->index] = true;
}

static int
setup (struct build *b, struct err **err)
{
  sigset_t set;
  b->context_fd = open (b->o->context_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (b->context_fd < 0)
    return err_set (err, errno, "build context '%s'", b->o->context_dir);
  if (bf_ignore_load (b->context_fd, b->o->buildfile, &b->ignore, err) < 0)
    return -1;
  if (private_mounts (err) < 0)
    return -1;
  if (build_record_open (b, err) < 0)
    return -1;
  b->empty_dir = xasprintf ("%s/empty", b->tmp);
  if (mkdir (b->empty_dir, 0755) < 0)
    return err_set (err, errno, "create '%s'", b->empty_dir);
  /* why blocked and read from an fd: the RUN step's wait polls it with
   * the container, and no handler needs a global to reach the build */
  sigemptyset (&set);
  sigaddset (&set, SIGINT);
  sigaddset (&set, SIGTERM);
  sigaddset (&set, SIGHUP);
  b->interrupt_fd = signalfd (-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
  if (b->interrupt_fd < 0)
    return err_set (err, errno, "signalfd");
  sigprocmask (SIG_BLOCK, &set, &b->saved_mask);
  return 0;
}

static void
teardown (struct build *b)
{
  struct err *e = NULL;
  if (b->interrupt_fd >= 0)
    {
      sigprocmask (SIG_SETMASK, &b->saved_mask, NULL);
      close (b->interrupt_fd);
    }
  b->interrupt_fd = -1;
  if (b->tmp)
    fs_rm_rf (AT_FDCWD, b->tmp, &e);
  err_free (e);
  build_record_close (b);
  free (b->tmp);
  free (b->empty_dir);
  if (b->context_fd >= 0)
    close (b->context_fd);
  bf_ignore_free (b->ignore);
  for (size_t i = 0; b->stages && i < b->plan->n_stages; i++)
    build_state_release (&b->stages[i]);
  free (b->stages);
  free (b->needed);
  bf_plan_free (b->plan);
  bf_kvs_release (&b->args);
  bf_kvs_release (&b->builtin);
  platform_release (&b->target);
  build_remote_close (b);
  json_decref (b->export_all);
  json_decref (b->export_min);
  free (b->min_stage);
}

int
build_run (struct store *s, const struct build_opts *o,
           struct build_result *out, struct err **err)
{
  struct build b = {
    .o = o, .store = s, .context_fd = -1, .record_fd = -1, .interrupt_fd = -1
  };
  _cleanup_close_ int guard = -1;
  struct bf_stage *target;
  int ret = -1;

  if (build_platform_is_list (o->platform))
    return build_run_platforms (s, o, out, err);
  memset (out, 0, sizeof *out);
  b.out = o->out ? o->out : stdout;
  b.lopts = (struct layer_opts){ .compression = o->compression,
                                 .clamp_mtime = o->have_epoch,
                                 .source_date_epoch = o->source_date_epoch };
  if (o->platform)
    {
      if (platform_parse (o->platform, &b.target, err) < 0)
        return -1;
    }
  else
    platform_host (&b.target);
  if (bf_parse (o->text, o->text_len, o->buildfile_name, &b.plan, err) < 0)
    goto out;
  set_builtin_args (&b);
  if (bf_plan_resolve (b.plan, &o->build_args, &b.builtin, err) < 0)
    goto out;
  if (!b.plan->n_stages)
    {
      err_set (err, 0, "%s: no FROM instruction", b.plan->file);
      goto out;
    }
  target = o->target ? bf_plan_stage (b.plan, o->target)
                     : &b.plan->stages[b.plan->n_stages - 1];
  if (!target)
    {
      err_set (err, 0, "target stage '%s' could not be found", o->target);
      goto out;
    }
  b.stages = xcalloc (b.plan->n_stages, sizeof *b.stages);
  b.needed = xcalloc (b.plan->n_stages, sizeof *b.needed);
  mark_needed (&b, (size_t)target->index);
  for (size_t i = 0; i < b.plan->n_stages; i++)
    if (b.needed[i])
      b.n_steps += 1 + (int)b.plan->stages[i].n_instrs;
  if (setup (&b, err) < 0)
    goto out;
  cache_setup (&b, (size_t)target->index);
  /* held until the tags are set: prune keeps the blobs written here */
  guard = store_writer_guard (s, err);
  if (guard < 0)
    goto out;
  if (build_stages (&b, (size_t)target->index, err) < 0)
    goto out;
  for (size_t i = 0; i < o->labels.n; i++)
    {
      json_t *cfg = build_config_obj (b.stages[target->index].doc);
      json_t *l = json_object_get (cfg, "Labels");
      if (!json_is_object (l))
        json_object_set_new (cfg, "Labels", l = json_object ());
      json_object_set_new (l, o->labels.v[i].key,
                           json_string (o->labels.v[i].value));
    }
  /* every blob of the stored image in the store, --cache-from's too */
  if (build_remote_fetch (&b, b.stages[target->index].layers,
                          b.stages[target->index].n_layers, err)
          < 0
      || build_write_image (&b, &b.stages[target->index], out, err) < 0)
    goto out;
  out->unused_args = unused_args (&b);
  if (o->output.type != BUILD_OUT_NONE)
    {
      /* exported, not named in the store */
      ret = build_export (&b, &b.stages[target->index], out, err);
      if (ret == 0)
        ret = build_cache_export (&b, err);
      goto out;
    }
  if (o->platform_part)
    {
      ret = 0; /* the index names it (platform.c) */
      goto out;
    }
  for (size_t i = 0; o->tags && o->tags[i]; i++)
    if (store_ref_set (s, o->tags[i], MT_OCI_MANIFEST, out->manifest_digest,
                       out->manifest_size, err)
        < 0)
      goto out;
  if (!o->tags || !o->tags[0])
    {
      /* without -t the image still needs a name in the store to be found
         (by its ID too): localhost/untagged:<ID prefix> */
      _cleanup_free_ char *name = xasprintf (BUILD_UNTAGGED_REPO ":%.12s",
                                             digest_hex (out->image_id));
      if (store_ref_set (s, name, MT_OCI_MANIFEST, out->manifest_digest,
                         out->manifest_size, err)
          < 0)
        goto out;
    }
  if (build_cache_export (&b, err) < 0)
    goto out;
  ret = 0;
out:
  if (ret < 0 && *err && (*err)->exit != 130)
    err_exit (err, 1);
  teardown (&b);
  if (ret < 0)
    build_result_release (out);
  return ret;
}

void
build_result_release (struct build_result *r)
{
  free (r->image_id);
  free (r->manifest_digest);
  strv_free (r->unused_args);
  memset (r, 0, sizeof *r);
}
