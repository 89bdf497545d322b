/* imgtool run [OPTIONS] IMAGE [COMMAND [ARG...]]: docker run.
 *
 * The image config and the options become a container record (state.h)
 * and a plan (plan.h); the container service (service/service.h) creates
 * it and starts it, in the foreground (stdio passed straight through
 * unless -t asks for a pty) or with -d beside a monitor process. */
#include "cmd/command.h"
#include "cmd/containers.h"
#include "cmd/lookup.h"
#include "cmd/runflags.h"
#include "layers/image_store.h"
#include "layers/lazystore.h"
#include "layers/snapshot.h"
#include "layers/store.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "registry/client.h"
#include "registry/lazypull.h"
#include "runtime/binfmt.h"
#include "runtime/etcfiles.h"
#include "runtime/names.h"
#include "runtime/rlimits.h"
#include "runtime/runopts.h"
#include "runtime/user.h"
#include "service/service.h"
#include "trust/pull.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
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
  struct trust_pull tp;
  int r;
  struct reg_lazy lz = { .s = st, .o = &o };
  if (reg_lazy_possible ())
    o.defer = reg_lazy_defer, o.defer_ud = &lz;
  log_debug ("run: lazy start %s", o.defer ? "possible" : "not possible");
  trust_pull_init (&tp, &o, st, f->reg.signature_policy);
  if (f->pull == RUN_PULL_MISSING && !g->quiet)
    fprintf (stderr, "Unable to find image '%s' locally\n", f->image);
  r = reg_pull (st, &o, f->image, &res, err);
  trust_pull_release (&tp);
  if (r < 0)
    return -1;
  reg_pull_result_release (&res);
  return 0;
}

/* An image of another architecture with no emulator for it: docker runs
 * it anyway (exec then fails: exit 126) after a warning; ours says what
 * is missing and how to get it (runtime/binfmt.h). */
static void
warn_emulation (const struct image_config *c)
{
  struct err *e = NULL;
  if (rt_binfmt_check (c->os, c->arch, &e) < 0)
    {
      _cleanup_free_ char *line = err_line (e->msg);
      fprintf (stderr, "WARNING: %s\n", line);
    }
  err_free (e);
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
  if (f->pull == RUN_PULL_ALWAYS || lookup_image (&st, f->image, &ref, err) < 0)
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
  warn_emulation (&ri->img.config);
  ri->loaded = true;
  ri->ref = xstrdup (ref.name);
  size_t lazy;
  if (lazy_prepare_image (&st, &ri->img.manifest, &ri->img.config,
                          &ri->lower_dirs, &lazy, err)
      < 0)
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

static char **
strv_dup_or_null (char *const *v)
{
  return v && *v ? strv_dup (v) : NULL;
}

/* docker's Config.Labels: the image's, then --label's over them. */
static char **
config_labels (const struct image_config *ic, char *const *flags)
{
  json_t *all = json_object (), *img, *v;
  const char *k;
  char **out = NULL;
  img = ic && ic->json
            ? json_object_get (json_object_get (ic->json, "config"), "Labels")
            : NULL;
  json_object_foreach (img, k, v) if (json_is_string (v))
      json_object_set (all, k, v);
  for (char *const *l = flags; l && *l; l++)
    {
      const char *eq = strchr (*l, '=');
      _cleanup_free_ char *key = xstrndup (*l, (size_t)(eq - *l));
      json_object_set_new (all, key, json_string (eq + 1));
    }
  json_object_foreach (all, k, v)
      strv_push (&out, xasprintf ("%s=%s", k, json_string_value (v)));
  json_decref (all);
  return out;
}

/* --add-host as /etc/hosts lines; host-gateway is the network's (net:
 * NULL = the default one) gateway, the host's address as the containers
 * on it reach it (docker: its bridge's). */
static int
extra_host_lines (struct global *g, const char *net, char *const *args,
                  char ***lines, struct err **err)
{
  struct net_config cfg;
  char gw[INET_ADDRSTRLEN];
  if (!args || !*args)
    return 0;
  if (net_config_find (g->root, g->config_path, net, &cfg, NULL, NULL, err) < 0)
    return err_exit (err, 125);
  inet_ntop (AF_INET, &cfg.gateway, gw, sizeof gw);
  for (char *const *a = args; *a; a++)
    {
      char *line;
      if (rt_extra_host_parse (*a, gw, &line, err) < 0)
        return -1;
      strv_push (lines, line);
    }
  return 0;
}

/* --cidfile: docker refuses a file that is there, so that two runs
 * cannot share one. Written once the container exists. */
static int
cidfile_check (const char *path, struct err **err)
{
  if (path && access (path, F_OK) == 0)
    {
      err_set (err, 0,
               "container ID file found, make sure the other container "
               "isn't running or delete %s",
               path);
      return err_exit (err, 125);
    }
  return 0;
}

static int
cidfile_write (const char *path, const char *id, struct err **err)
{
  _cleanup_close_ int fd = -1;
  if (!path)
    return 0;
  fd = open (path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0 || fs_write_all (fd, id, strlen (id)) < 0)
    {
      err_set (err, errno, "write the container ID file '%s'", path);
      return err_exit (err, 125);
    }
  return 0;
}

/* --pid/--ipc container:NAME and --network container:NAME: NAME becomes
 * the container's ID, as docker records it; the container must exist
 * (it must run when this one starts). */
static int
resolve_join (struct svc *s, char **ref, size_t prefix, struct err **err)
{
  struct svc_container t = { 0 };
  char *named;
  if (!*ref)
    return 0;
  if (svc_load (s, *ref + prefix, &t, err) < 0)
    return err_exit (err, 125);
  named = xasprintf ("%.*s%s", (int)prefix, *ref, t.rec.id);
  svc_container_release (&t);
  free (*ref);
  *ref = named;
  return 0;
}

static int
resolve_joins (struct svc *s, struct rt_plan *p, struct err **err)
{
  if (rt_plan_joins (p->pid_mode)
      && resolve_join (s, &p->pid_mode, 10, err) < 0)
    return -1;
  if (rt_plan_joins (p->ipc_mode)
      && resolve_join (s, &p->ipc_mode, 10, err) < 0)
    return -1;
  return resolve_join (s, &p->net_container, 0, err);
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
        rt_mount_copy (&p->mounts[i], &f->mounts[i]);
      p->n_mounts = f->n_mounts;
    }
  /* docker: the image's VOLUMEs not mounted otherwise are anonymous */
  if (ic)
    rt_mounts_add_image_volumes (&p->mounts, &p->n_mounts, ic->volumes);
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
  p->stop_signal = f->stop_signal          ? xstrdup (f->stop_signal)
                   : ic && ic->stop_signal ? xstrdup (ic->stop_signal)
                                           : NULL;
  if (rt_user_add_groups (p->lower_dirs, f->group_add, &p->user, err) < 0)
    {
      rt_process_release (&proc);
      rt_user_info_release (&ui);
      return -1;
    }
  for (char **u = f->ulimits; u && *u; u++)
    {
      struct rt_rlimit l;
      if (rt_rlimit_parse (*u, &l, NULL) == 0)
        rt_rlimit_add (p, &l);
    }
  p->sysctls = strv_dup_or_null (f->sysctls);
  p->shm_size = f->shm_size;
  p->init = f->init;
  p->dns = strv_dup_or_null (f->dns);
  p->dns_search = strv_dup_or_null (f->dns_search);
  p->dns_options = strv_dup_or_null (f->dns_options);
  p->pid_mode = f->pid_mode ? xstrdup (f->pid_mode) : NULL;
  p->ipc_mode = f->ipc_mode ? xstrdup (f->ipc_mode) : NULL;
  p->net_container = f->net_container ? xstrdup (f->net_container) : NULL;
  p->net_name = f->net_name ? xstrdup (f->net_name) : NULL;
  rec->labels = config_labels (ic, f->labels);
  rec->exposed = strv_dup_or_null (ic ? ic->exposed_ports : NULL);
  for (char **e = f->expose; e && *e; e++)
    {
      bool have = false;
      for (char **x = rec->exposed; x && *x && !have; x++)
        have = !strcmp (*x, *e);
      if (!have)
        strv_push (&rec->exposed, xstrdup (*e));
    }

  rec->name = f->name ? xstrdup (f->name) : NULL;
  rec->image = xstrdup (f->image);
  rec->image_ref = ri->ref ? xstrdup (ri->ref) : NULL;
  rec->image_id = ri->loaded ? xstrdup (ri->img.manifest.config.digest) : NULL;
  rec->command = steal_pointer (&proc.argv);
  rec->auto_remove = f->rm;
  rec->detach = f->detach;
  rec->stop_timeout = f->stop_timeout;
  if (f->restart)
    {
      struct svc_restart_policy rp;
      if (svc_restart_parse (f->restart, &rp, err) < 0)
        return -1;
      rec->restart = xstrdup (svc_restart_name (rp.kind));
      rec->restart_max = rp.max;
    }
  rec->created = time (NULL);
  rt_process_release (&proc);
  rt_user_info_release (&ui);
  return run_monitor_apply (&f->monitor, ic ? ic->json : NULL, rec, err);
}

/* -p as given, then with -P each EXPOSEd port of the image that no -p
 * publishes already, on a random host port (docker). */
static int
publish_list (const struct run_flags *f, const struct run_image *ri,
              struct port_map **out, size_t *n_out, struct err **err)
{
  _cleanup_strv_ char **exposed = NULL;
  size_t n = f->n_ports, cap;
  if (f->publish_all && ri->loaded)
    exposed = strv_dup (ri->img.config.exposed_ports);
  if (f->publish_all)
    for (char **e = f->expose; e && *e; e++)
      strv_push (&exposed, xstrdup (*e));
  cap = n + strv_len (exposed);
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

/* run, or with create only the record (docker create: prints the ID) */
static int
run_or_create (struct global *g, int argc, char **argv, bool create,
               struct err **err)
{
  struct run_flags f;
  struct run_image ri = { 0 };
  struct svc_container c = { 0 };
  struct svc svc = { .cs = { .fd = -1 } };
  _cleanup_free_ struct port_map *ports = NULL;
  size_t n_ports = 0;
  int status = -1;

  if (run_flags_parse (argc, argv, &f, err) < 0)
    goto out;
  if (f.help) /* printed */
    {
      status = 0;
      goto out;
    }
  if (command_rootless (argv[0], 125, err) < 0)
    goto out;
  /* no sweep of the other containers' leftovers here: a start costs the
   * same beside 500 containers as beside none (what a dead one holds,
   * a host port or a veth name, is reclaimed when this one needs it) */
  log_debug ("run: started");
  if (cidfile_check (f.cidfile, err) < 0)
    goto out;
  if (load_image (g, &f, &ri, err) < 0)
    goto out;
  log_debug ("run: image loaded");
  if (build_record (&f, &ri, &c.rec, err) < 0)
    goto out;
  if (f.network >= RT_NET_BRIDGE
      && publish_list (&f, &ri, &ports, &n_ports, err) < 0)
    {
      err_exit (err, 125);
      goto out;
    }
  /* why: compiling the seccomp profile costs ~25 ms; the core caches the
   * BPF program here, keyed by profile, caps, arch and kernel */
  c.rec.plan.seccomp_cache_dir = xasprintf ("%s/tmp/seccomp", g->root);
  if (extra_host_lines (g, f.net_name, f.add_hosts, &c.rec.plan.extra_hosts,
                        err)
      < 0)
    goto out;
  if (svc_open (&svc, g->root, g->config_path, err) < 0
      || resolve_joins (&svc, &c.rec.plan, err) < 0
      || svc_create (&svc, &c, ports, n_ports, err) < 0)
    {
      err_exit (err, 125);
      goto out;
    }
  log_debug ("run: container %.12s recorded", c.rec.id);
  if (cidfile_write (f.cidfile, c.rec.id, err) < 0)
    {
      struct err *e = NULL;
      svc_remove (&svc, &c, true, &e);
      err_free (e);
      goto out;
    }
  if (create)
    {
      printf ("%s\n", c.rec.id);
      status = 0;
    }
  else if (!f.detach)
    status = svc_run_foreground (&svc, &c, f.interactive, err);
  else if ((status = svc_run_detached (&svc, &c, err)) == 0)
    printf ("%s\n", c.rec.id);
out:
  svc_container_release (&c);
  svc_close (&svc);
  run_image_release (&ri);
  run_flags_release (&f);
  return status;
}

COMMAND (run) { return run_or_create (g, argc, argv, false, err); }

COMMAND (create) { return run_or_create (g, argc, argv, true, err); }
