/* RUN: the command runs in the runtime core (the same as `imgtool run`) on
 * an overlay of the stage's snapshots with a fresh upper dir; the upper
 * dir then becomes the step's layer (layers/diff.h). */
#include "builder/build_int.h"
#include "layers/diff.h"
#include "layers/image.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/log.h"
#include "lib/strbuf.h"
#include "lib/xalloc.h"
#include "runtime/container.h"
#include "runtime/names.h"
#include "runtime/rlimits.h"
#include "runtime/runopts.h"
#include "runtime/user.h"
#include "service/service.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char *
command_text (const struct bf_instr *x)
{
  if (!x->json)
    return xstrdup (x->args && x->args[0] ? x->args[0] : "");
  struct strbuf sb = STRBUF_INIT;
  for (size_t i = 0; x->args && x->args[i]; i++)
    strbuf_addf (&sb, "%s%s", i ? " " : "", x->args[i]);
  return strbuf_detach (&sb, NULL);
}

static int
fill_plan (struct build *b, struct build_state *st, const struct bf_instr *x,
           char **lowers, const char *dir, struct rt_plan *p, struct err **err)
{
  struct rt_user_info ui;
  const char *net = bf_flag (x, "network");
  const char *user = build_config_str (st->doc, "User");
  const char *cwd = build_config_str (st->doc, "WorkingDir");

  rt_plan_init (p);
  p->id = rt_new_id ();
  p->hostname = xstrndup (p->id, 12);
  p->lower_dirs = strv_dup (lowers);
  p->upper_dir = xasprintf ("%s/upper", dir);
  p->work_dir = xasprintf ("%s/work", dir);
  p->state_dir = xasprintf ("%s/state", dir);
  p->argv = bf_instr_argv (x, st->scope.shell);
  p->env = bf_scope_run_env (&st->scope);
  if (!rt_env_get (p->env, "PATH"))
    rt_env_set (&p->env, "PATH=" RT_DEFAULT_PATH);
  p->cwd = xstrdup (cwd && *cwd ? cwd : "/");
  /* why: builds reach package mirrors through the host's network unless
   * --network none (or RUN --network=none) cuts it, as docker build */
  p->network = b->o->network;
  if (net && !strcmp (net, "none"))
    p->network = RT_NET_NONE;
  else if (net && !strcmp (net, "host"))
    p->network = RT_NET_HOST;
  else if (net && strcmp (net, "default"))
    return err_set (err, 0, "RUN --network '%s': use default, none or host",
                    net);
  /* why: compiling the seccomp profile costs ~25 ms a step; the core
   * caches the BPF program, as `run` does */
  p->seccomp_cache_dir = xasprintf ("%s/tmp/seccomp", b->o->root);
  p->extra_hosts = strv_dup (b->o->add_hosts);
  p->shm_size = b->o->shm_size;
  for (size_t i = 0; i < b->o->n_ulimits; i++)
    rt_rlimit_add (p, &b->o->ulimits[i]);
  if (!p->argv || !p->argv[0])
    return err_set (err, 0, "RUN has no command");
  if (rt_user_resolve (lowers, user, &ui, err) < 0)
    return -1;
  if (!rt_env_get (p->env, "HOME"))
    {
      _cleanup_free_ char *home = xasprintf ("HOME=%s", ui.home);
      rt_env_set (&p->env, home);
    }
  p->user = ui.user;
  ui.user.groups = NULL;
  rt_user_info_release (&ui);
  return 0;
}

int
build_run_layer (struct build *b, struct build_state *st,
                 const struct bf_instr *x, struct build_layer *layer,
                 bool *has_layer, struct err **err)
{
  char **lowers;
  struct rt_plan plan;
  struct build_mounts ms = { 0 };
  struct svc svc;
  bool svc_opened = false;
  struct rt_stdio io = { .in = -1, .out = 1, .err = 2, .winsize_from = -1 };
  int status = 0, ret = -1;
  _cleanup_free_ char *dir = NULL;
  _cleanup_close_ int upper_fd = -1;

  *has_layer = false;
  if (build_lowers (b, st, &lowers, err) < 0)
    return -1;
  if (!(dir = build_tmpdir (b, "run", err)))
    return -1;
  memset (&plan, 0, sizeof plan);
  if (fill_plan (b, st, x, lowers, dir, &plan, err) < 0)
    goto out;
  if (build_platform_check_run (st, err) < 0)
    {
      err_wrap (err, "%s:%d: RUN", b->plan->file, x->line);
      goto out;
    }
  if (build_mounts_parse (st, x, &ms, err) < 0
      || build_mounts_setup (b, &ms, &plan, dir, err) < 0)
    {
      err_wrap (err, "%s:%d", b->plan->file, x->line);
      goto out;
    }
  if (mkdir (plan.upper_dir, 0755) < 0 || mkdir (plan.work_dir, 0700) < 0
      || mkdir (plan.state_dir, 0700) < 0)
    {
      err_set (err, errno, "create the step's directories in '%s'", dir);
      goto out;
    }
  if (b->o->quiet)
    io.out = io.err = -1;
  fflush (b->out);
  fflush (stderr);
  /* recorded before it starts: a build killed with -9 leaves what the
   * next one cleans (record.c) */
  if (build_record_step (b, plan.id, err) < 0)
    goto out;
  /* the same container service as `run`: network attached and given
   * back the same way; an interrupt of the build kills the step */
  if (svc_open (&svc, b->o->root, b->o->config_path, err) < 0)
    goto failed;
  svc_opened = true;
  if (svc_run_step (&svc, &plan, &io, b->interrupt_fd, &status, err) < 0)
    goto failed;
  if (build_check_interrupt (b, err) < 0)
    goto out;
  if (status != 0)
    {
      _cleanup_free_ char *cmd = command_text (x);
      err_set (err, 0, "%s:%d: RUN '%s': exit status %d", b->plan->file,
               x->line, cmd, status);
      goto out;
    }
  upper_fd = open (plan.upper_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (upper_fd < 0)
    {
      err_set (err, errno, "open '%s'", plan.upper_dir);
      goto out;
    }
  build_mounts_clean (&ms, upper_fd, st->n_layers ? lowers : NULL);
  struct layer_result res;
  /* the mount points the runtime made are not the command's changes */
  struct layer_diff_skip skip
      = { rt_rootfs_made_by_runtime, st->n_layers ? lowers : NULL };
  if (layer_diff (upper_fd, st->n_layers ? lowers : NULL, &b->lopts, &skip,
                  b->store, &res, err)
      < 0)
    {
      err_wrap (err, "%s:%d: RUN: make the layer", b->plan->file, x->line);
      goto out;
    }
  /* a command that changed nothing makes no layer (BuildKit) */
  if (res.tar_size > 1024)
    {
      *has_layer = true;
      *layer
          = (struct build_layer){ xstrdup (res.digest), xstrdup (res.diff_id),
                                  xstrdup (res.media_type), res.size };
    }
  ret = 0;
  goto out;
failed:
  {
    _cleanup_free_ char *cmd = command_text (x);
    if (build_check_interrupt (b, err) == 0)
      err_wrap (err, "%s:%d: RUN '%s'", b->plan->file, x->line, cmd);
  }
out:
  if (svc_opened)
    svc_close (&svc);
  rt_plan_release (&plan);
  build_mounts_release (&ms);
  if (dir)
    {
      struct err *e = NULL;
      fs_rm_rf (AT_FDCWD, dir, &e);
      err_free (e);
    }
  return ret;
}
