/* imgtool run [OPTIONS] IMAGE [COMMAND [ARG...]]: docker run.
 *
 * The image config and the options become a container record (state.h)
 * and a plan (plan.h); the runtime core starts it. In the foreground the
 * stdio is passed straight through (no copying) unless -t asks for a pty,
 * whose master imgtool pumps. With -d a monitor process (double fork,
 * setsid) keeps the container as its child, logs its output, records its
 * exit, and removes it with --rm. */
#include "cmd/command.h"
#include "cmd/containers.h"
#include "cmd/lookup.h"
#include "cmd/runflags.h"
#include "layers/image_store.h"
#include "layers/snapshot.h"
#include "layers/store.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "registry/client.h"
#include "runtime/console.h"
#include "runtime/container.h"
#include "runtime/lifecycle.h"
#include "runtime/net.h"
#include "runtime/runopts.h"
#include "runtime/state.h"
#include "runtime/user.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>


/* The image's root filesystem and config. */
struct run_image
{
  struct image img;
  bool loaded;
  char *ref;
  char **lower_dirs;
};

static void
run_image_release (struct run_image *ri)
{
  if (ri->loaded)
    image_release (&ri->img);
  free (ri->ref);
  strv_free (ri->lower_dirs);
}

/* docker run's pull: progress on stderr, the container's stdout stays
 * its own. */
static int
pull_image (struct global *g, const struct run_flags *f, struct store *st,
            struct err **err)
{
  struct reg_pull_opts o = {
    .config_path = g->config_path,
    .platform = f->reg.platform,
    .no_tls_verify = !f->reg.tls_verify,
    .quiet = g->quiet,
    .out = stderr,
  };
  struct reg_pull_result res;
  if (f->pull == RUN_PULL_MISSING && !g->quiet)
    fprintf (stderr, "Unable to find image '%s' locally\n", f->image);
  if (reg_pull (st, &o, f->image, &res, err) < 0)
    return -1;
  reg_pull_result_release (&res);
  return 0;
}

static int
load_image (struct global *g, const struct run_flags *f, struct run_image *ri,
            struct err **err)
{
  struct store st;
  struct store_ref ref = { 0 };
  struct platform want = { 0 }, *pwant = NULL;
  int ret = -1;

  if (f->rootfs)
    {
      strv_push (&ri->lower_dirs, xstrdup (f->rootfs));
      return 0;
    }
  if (store_open (&st, g->root, err) < 0)
    return err_exit (err, 125);
  if (f->pull == RUN_PULL_ALWAYS
      || lookup_image (&st, f->image, &ref, err) < 0)
    {
      err_clear (err);
      if (f->pull == RUN_PULL_NEVER)
        {
          err_set (err, 0, "image '%s' is not in the store (--pull never)",
                   f->image);
          goto out;
        }
      store_ref_release (&ref);
      memset (&ref, 0, sizeof ref);
      if (pull_image (g, f, &st, err) < 0
          || lookup_image (&st, f->image, &ref, err) < 0)
        goto out;
    }
  if (f->reg.platform)
    {
      if (platform_parse (f->reg.platform, &want, err) < 0)
        goto out;
      pwant = &want;
    }
  if (image_load_ref (&st, &ref, pwant, &ri->img, err) < 0)
    goto out;
  ri->loaded = true;
  ri->ref = xstrdup (ref.name);
  if (snapshot_prepare_image (&st, &ri->img.manifest, &ri->img.config,
                              &ri->lower_dirs, err) < 0)
    {
      err_wrap (err, "prepare the layers of '%s'", f->image);
      goto out;
    }
  ret = 0;
out:
  if (pwant)
    platform_release (&want);
  store_ref_release (&ref);
  snapshot_flush_later (&st);
  store_release (&st);
  return ret < 0 ? err_exit (err, 125) : 0;
}

/* Fill rec (and its plan) from the flags and the image. */
static int
build_record (const struct run_flags *f, struct run_image *ri,
              struct rt_record *rec, struct err **err)
{
  struct image_config *ic = ri->loaded ? &ri->img.config : NULL;
  struct rt_process proc;
  struct rt_user_info ui;
  struct rt_plan *p = &rec->plan;
  struct rt_process_request req = {
    .image_entrypoint = ic ? ic->entrypoint : NULL,
    .image_cmd = ic ? ic->cmd : NULL,
    .image_env = ic ? ic->env : NULL,
    .image_workdir = ic ? ic->working_dir : NULL,
    .image_user = ic ? ic->user : NULL,
    .entrypoint_set = f->entrypoint_set,
    .entrypoint = f->entrypoint,
    .args = f->args,
    .env = f->env,
    .workdir = f->workdir,
    .user = f->user,
    .tty = f->tty,
  };

  memset (rec, 0, sizeof *rec);
  rt_plan_init (p);
  rec->id = rt_new_id ();
  if (f->hostname)
    p->hostname = xstrdup (f->hostname);
  else if (f->network == RT_NET_HOST)
    {
      char h[256] = "";
      gethostname (h, sizeof h - 1);
      p->hostname = xstrdup (h);
    }
  else /* docker: the short id */
    p->hostname = xstrndup (rec->id, RT_SHORT_ID);
  req.hostname = p->hostname;
  if (rt_process_resolve (&req, &proc, err) < 0)
    return -1;
  if (rt_user_resolve (ri->lower_dirs, proc.user, &ui, err) < 0)
    {
      rt_process_release (&proc);
      return -1;
    }
  if (!rt_env_get (proc.env, "HOME"))
    {
      _cleanup_free_ char *home = xasprintf ("HOME=%s", ui.home);
      rt_env_set (&proc.env, home);
    }

  p->lower_dirs = steal_pointer (&ri->lower_dirs);
  p->readonly_rootfs = f->read_only;
  p->volatile_upper = f->rm; /* its upper dir goes with it */
  p->argv = strv_dup (proc.argv);
  p->env = steal_pointer (&proc.env);
  p->cwd = steal_pointer (&proc.cwd);
  p->user = ui.user;
  ui.user.groups = NULL;
  p->tty = f->tty;
  p->stdin_open = f->interactive;
  p->name = f->name ? xstrdup (f->name) : NULL;
  if (f->n_mounts)
    {
      p->mounts = xcalloc (f->n_mounts, sizeof *p->mounts);
      for (size_t i = 0; i < f->n_mounts; i++)
        {
          const struct rt_mount *m = &f->mounts[i];
          p->mounts[i] = (struct rt_mount){
            .kind = m->kind,
            .source = m->source ? xstrdup (m->source) : NULL,
            .destination = xstrdup (m->destination),
            .readonly = m->readonly,
            .options = m->options ? xstrdup (m->options) : NULL,
          };
        }
      p->n_mounts = f->n_mounts;
    }
  p->network = f->network;
  p->limits = f->limits;
  p->cap_add = f->cap_add;
  p->cap_drop = f->cap_drop;
  p->privileged = f->privileged;
  if (f->n_devices)
    {
      p->devices = xcalloc (f->n_devices, sizeof *p->devices);
      for (size_t i = 0; i < f->n_devices; i++)
        {
          p->devices[i] = f->devices[i];
          p->devices[i].host = xstrdup (f->devices[i].host);
          p->devices[i].path = xstrdup (f->devices[i].path);
        }
      p->n_devices = f->n_devices;
    }
  p->no_new_privs = f->no_new_privs;
  p->seccomp_profile = f->seccomp ? xstrdup (f->seccomp) : NULL;
  p->stop_signal = f->stop_signal    ? xstrdup (f->stop_signal)
                   : ic && ic->stop_signal ? xstrdup (ic->stop_signal)
                                           : NULL;

  rec->name = f->name ? xstrdup (f->name) : NULL;
  rec->image = xstrdup (f->image);
  rec->image_ref = ri->ref ? xstrdup (ri->ref) : NULL;
  rec->image_id = ri->loaded ? xstrdup (ri->img.manifest.config.digest) : NULL;
  rec->command = steal_pointer (&proc.argv);
  rec->auto_remove = f->rm;
  rec->detach = f->detach;
  rec->stop_timeout = f->stop_timeout;
  rec->created = time (NULL);
  rt_process_release (&proc);
  rt_user_info_release (&ui);
  return 0;
}

/* The bridge hook of rec's plan, or NULL (--network none or host). */
static struct net_hook *
net_hook_of (struct rt_record *rec)
{
  return rec->plan.net_setup == net_plan_hook ? rec->plan.net_setup_data
                                              : NULL;
}

/* The container ended (or never started): record it, clean up. The
 * foreground leaves the deletion of a --rm record's files to a child of
 * its own (rt_record_remove), so that its exit status comes at once. */
static void
finish (struct rt_containers *cs, struct rt_record *rec, bool foreground,
        int status, bool oom, const char *error)
{
  struct net_hook *h = net_hook_of (rec);
  struct err *e = NULL;
  /* its address, rules and ports go back first: another container may be
   * waiting for them */
  if (h && net_teardown (h->req.root, rec->id, &e) < 0)
    {
      log_warn ("%s", e->msg);
      err_clear (&e);
    }
  free (rec->state.ip);
  free (rec->state.ports);
  rec->state.ip = rec->state.ports = NULL;
  rec->state.status = RT_EXITED;
  rec->state.exit_code = status;
  rec->state.oom_killed = oom;
  rec->state.finished = time (NULL);
  free (rec->state.error);
  rec->state.error = error ? xstrdup (error) : NULL;
  /* written even when the record is removed next: `logs -f` wakes on
   * this replace (its open log keeps the directory's deletion silent) */
  if (rt_record_save_state (cs, rec, &e) < 0)
    {
      log_warn ("record the exit of container %.12s: %s", rec->id, e->msg);
      err_clear (&e);
    }
  if (rt_cleanup (rec->id, rec->plan.cgroup_parent, &e) < 0)
    {
      log_warn ("clean up container %.12s: %s", rec->id, e->msg);
      err_clear (&e);
    }
  if (rec->auto_remove && rt_record_remove (cs, rec, foreground, &e) < 0)
    {
      log_warn ("%s", e->msg);
      err_clear (&e);
    }
  log_debug ("run: cleaned up");
}

static void
started (struct rt_containers *cs, struct rt_record *rec,
         const struct rt_container *c)
{
  struct net_hook *h = net_hook_of (rec);
  struct err *e = NULL;
  rec->state.status = RT_RUNNING;
  if (h && h->att.ip.s_addr)
    {
      char ip[INET_ADDRSTRLEN];
      rec->state.ip = xstrdup (inet_ntop (AF_INET, &h->att.ip, ip, sizeof ip));
      rec->state.ports = net_ports_text (h->att.ports, h->att.n_ports);
    }
  rec->state.pid = c->pid;
  rec->state.pid_start = rt_proc_start (c->pid);
  rec->state.started = time (NULL);
  if (rt_record_save_state (cs, rec, &e) < 0)
    {
      log_warn ("record the start of container %.12s: %s", rec->id, e->msg);
      err_clear (&e);
    }
}

/* Start and wait in the foreground; returns the container's status. */
static int
run_foreground (struct rt_containers *cs, struct rt_record *rec,
                const struct run_flags *f, struct err **err)
{
  _cleanup_close_ int lock = -1, oomfd = -1;
  struct rt_signals sg = { .fd = -1 };
  struct rt_stdio io = RT_STDIO_INIT;
  struct rt_container c = { 0 };
  int status = 0, ret;
  long oom;

  if (f->tty && f->interactive && !isatty (0))
    {
      err_set (err, 0, "the input device is not a TTY");
      goto failed;
    }
  lock = rt_record_monitor_lock (cs, rec->id, err);
  if (lock < 0)
    goto failed;
  if (!f->interactive)
    io.in = -1; /* docker: without -i the container reads EOF */
  io.winsize_from = rt_user_terminal ();
  fflush (stdout);
  /* blocked before the start: a Ctrl-C from now on goes to the container,
   * never kills imgtool while it runs unwatched (the core unblocks them
   * in the container) */
  if (rt_signals_block (&sg, err) < 0 || rt_start (&rec->plan, &io, &c, err) < 0)
    goto failed;
  log_debug ("run: container started");
  started (cs, rec, &c);
  if (rec->plan.limits.memory)
    oomfd = rt_oom_open (c.cgroup);
  rt_console_attach (&c, &sg, f->interactive, err);
  oom = rt_oom_count (oomfd);
  ret = rt_wait (&c, &status, err);
  log_debug ("run: container ended");
  rt_signals_restore (&sg);
  finish (cs, rec, true, ret < 0 ? 125 : status, oom > 0,
          *err ? (*err)->msg : NULL);
  close (steal_fd (&lock));
  if (ret < 0 || *err)
    return err_exit (err, 125);
  return status;

failed:
  rt_signals_restore (&sg);
  finish (cs, rec, true, *err && (*err)->exit != 1 ? (*err)->exit : 125, false,
          *err ? (*err)->msg : NULL);
  return *err && (*err)->exit != 1 ? -1 : err_exit (err, 125);
}

struct log_sink
{
  struct rt_log *log;
};

static void
log_chunk (void *data, int stream, const char *buf, size_t len)
{
  rt_log_write (((struct log_sink *) data)->log, stream, buf, len);
}

/* The monitor of a detached container (runs in a grandchild, setsid).
 * Reports "ok" or "<exit> <message>" on report, then waits. */
static int
monitor (struct rt_containers *cs, struct rt_record *rec, int report)
{
  _cleanup_close_ int lock = -1, oomfd = -1;
  struct rt_signals sg = { .fd = -1 };
  struct rt_stdio io = { .in = -1, .out = -1, .err = -1, .winsize_from = -1 };
  int out[2] = { -1, -1 }, errp[2] = { -1, -1 };
  struct rt_container c = { 0 };
  struct log_sink sink = { 0 };
  struct rt_pump pump;
  struct err *err = NULL;
  _cleanup_free_ char *log_path = rt_record_path (cs, rec->id,
                                                   "container.log");
  int status = 0, ret;

  lock = rt_record_monitor_lock (cs, rec->id, &err);
  if (lock < 0)
    goto failed;
  sink.log = rt_log_open (log_path, &err);
  if (!sink.log)
    goto failed;
  if (!rec->plan.tty)
    {
      if (pipe2 (out, O_CLOEXEC) < 0 || pipe2 (errp, O_CLOEXEC) < 0)
        {
          err_set (&err, errno, "pipe");
          goto failed;
        }
      io.out = out[1];
      io.err = errp[1];
    }
  if (rt_signals_block (&sg, &err) < 0
      || rt_start (&rec->plan, &io, &c, &err) < 0)
    goto failed;
  if (out[1] >= 0)
    close (steal_fd (&out[1]));
  if (errp[1] >= 0)
    close (steal_fd (&errp[1]));
  log_debug ("run: container started");
  started (cs, rec, &c);
  if (rec->plan.limits.memory)
    oomfd = rt_oom_open (c.cgroup);
  fs_write_all (report, "ok", 2);
  close (report);
  report = -1;

  pump = (struct rt_pump){ .pidfd = c.pidfd, .sigfd = sg.fd, .in = -1,
                           .in_to = -1, .out_from = -1, .out = -1,
                           .err_from = -1, .err = -1, .winch_to = -1,
                           .sink = log_chunk, .sink_data = &sink };
  pump.out_from = rec->plan.tty ? c.console : out[0];
  pump.err_from = rec->plan.tty ? -1 : errp[0];
  rt_pump_run (&pump, &err);
  rt_log_close (sink.log);
  {
    long oom = rt_oom_count (oomfd);
    ret = rt_wait (&c, &status, &err);
    rt_signals_restore (&sg);
    finish (cs, rec, false, ret < 0 ? 125 : status, oom > 0,
            err ? err->msg : NULL);
  }
  err_free (err);
  return 0;

failed:
  {
    int code = err && err->exit != 1 ? err->exit : 125;
    _cleanup_free_ char *msg = xasprintf ("%d %s", code,
                                          err ? err->msg : "unknown error");
    rt_log_close (sink.log);
    rt_signals_restore (&sg);
    finish (cs, rec, false, code, false, err ? err->msg : NULL);
    if (report >= 0)
      fs_write_all (report, msg, strlen (msg));
    err_free (err);
    return 1;
  }
}

static int
run_detached (struct rt_containers *cs, struct rt_record *rec,
              struct err **err)
{
  int sp[2];
  pid_t pid;
  _cleanup_free_ char *reply = NULL;
  size_t len = 0;

  if (pipe2 (sp, O_CLOEXEC) < 0)
    return err_set (err, errno, "pipe");
  fflush (stdout);
  fflush (stderr);
  pid = fork ();
  if (pid < 0)
    {
      close (sp[0]);
      close (sp[1]);
      return err_set (err, errno, "fork");
    }
  if (pid == 0)
    {
      int null;
      close (sp[0]);
      /* why: the monitor must outlive this command and its terminal: its
       * own session, and reparented away from the caller */
      setsid ();
      if (fork () != 0)
        _exit (0);
      null = open ("/dev/null", O_RDWR | O_CLOEXEC);
      if (null >= 0)
        {
          dup2 (null, 0);
          dup2 (null, 1);
          dup2 (null, 2);
          close (null);
        }
      _exit (monitor (cs, rec, sp[1]));
    }
  close (sp[1]);
  while (waitpid (pid, NULL, 0) < 0 && errno == EINTR)
    ;
  {
    struct err *e = NULL;
    fs_read_fd (sp[0], 1 << 20, &reply, &len, &e);
    err_free (e);
    close (sp[0]);
  }
  if (reply && !strcmp (reply, "ok"))
    {
      printf ("%s\n", rec->id);
      return 0;
    }
  if (reply && len > 2)
    {
      char *sp1 = strchr (reply, ' ');
      err_set (err, 0, "%s", sp1 ? sp1 + 1 : reply);
      return err_exit (err, atoi (reply));
    }
  err_set (err, 0, "the monitor of container %.12s died before starting it",
           rec->id);
  return err_exit (err, 125);
}

/* -p as given, then with -P each EXPOSEd port of the image that no -p
 * publishes already, on a random host port (docker). */
static int
publish_list (const struct run_flags *f, const struct run_image *ri,
              struct port_map **out, size_t *n_out, struct err **err)
{
  char **exposed = f->publish_all && ri->loaded
                       ? ri->img.config.exposed_ports
                       : NULL;
  size_t n = f->n_ports, cap = n + strv_len (exposed);
  struct port_map *v = xcalloc (cap + 1, sizeof *v);
  if (n)
    memcpy (v, f->ports, n * sizeof *v);
  for (char **e = exposed; e && *e; e++)
    {
      struct port_map pm;
      struct err *pe = NULL;
      bool dup = false;
      if (net_parse_publish (*e, &pm, &pe) < 0 || pm.host_port)
        {
          err_free (pe);
          free (v);
          return err_set (err, 0, "image '%s': invalid exposed port '%s'",
                          f->image, *e);
        }
      for (size_t i = 0; i < n && !dup; i++)
        dup = v[i].container_port == pm.container_port
              && v[i].proto == pm.proto;
      if (!dup)
        v[n++] = pm;
    }
  *out = v;
  *n_out = n;
  return 0;
}

COMMAND (run)
{
  struct run_flags f;
  struct run_image ri = { 0 };
  struct rt_record rec = { 0 };
  struct rt_containers cs = { .fd = -1 };
  struct net_hook hook = { 0 };
  _cleanup_free_ struct port_map *ports = NULL;
  size_t n_ports = 0;
  int status = -1;

  if (run_flags_parse (argc, argv, &f, err) < 0)
    goto out;
  if (f.help)
    {
      printf ("usage: %s\n", run_flags_usage);
      status = 0;
      goto out;
    }
  if (command_needs_root ("run", 125, err) < 0)
    goto out;
  /* leftovers of containers whose imgtool was killed: their addresses,
   * host ports and rules go back before this one asks for its own */
  containers_net_gc (g->root);
  log_debug ("run: started");
  if (load_image (g, &f, &ri, err) < 0)
    goto out;
  log_debug ("run: image loaded");
  if (build_record (&f, &ri, &rec, err) < 0)
    goto out;
  if (f.network == RT_NET_BRIDGE)
    {
      if (publish_list (&f, &ri, &ports, &n_ports, err) < 0)
        {
          err_exit (err, 125);
          goto out;
        }
      hook.req = (struct net_request){ .root = g->root,
                                       .config_path = g->config_path,
                                       .ports = ports,
                                       .n_ports = n_ports };
      rec.plan.net_setup = net_plan_hook;
      rec.plan.net_setup_data = &hook;
    }
  /* why: compiling the seccomp profile costs ~25 ms; the core caches the
   * BPF program here, keyed by profile, caps, arch and kernel */
  rec.plan.seccomp_cache_dir = xasprintf ("%s/tmp/seccomp", g->root);
  if (rt_containers_open (&cs, g->root, err) < 0
      || rt_record_create (&cs, &rec, err) < 0)
    {
      err_exit (err, 125);
      goto out;
    }
  log_debug ("run: container %.12s recorded", rec.id);
  status = f.detach ? run_detached (&cs, &rec, err)
                    : run_foreground (&cs, &rec, &f, err);
out:
  net_attachment_release (&hook.att);
  rt_record_release (&rec);
  rt_containers_release (&cs);
  run_image_release (&ri);
  run_flags_release (&f);
  return status;
}
