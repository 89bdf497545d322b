/* imgtool start [-a] [-i] [--detach-keys KEYS] CONTAINER...
 * imgtool start --all [--filter KEY=VALUE]...
 * docker start: created or exited containers again, each with its own
 * writable layer. -a runs one in the foreground (this process is its
 * monitor, as `run` is), -i passes stdin. --all (podman's) takes every
 * container that does not run, narrowed by --filter; `--filter
 * restart-policy=always` is the boot hook (docs/lifecycle.md). */
#include "cmd/command.h"
#include "cmd/containers.h"
#include "cmd/opttable.h"
#include "lib/err.h"
#include "lib/xalloc.h"
#include "service/service.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

static const char usage_text[]
    = "imgtool start [-a] [-i] [--detach-keys KEYS] CONTAINER...\n"
      "       imgtool start --all [--filter KEY=VALUE]...\n"
      "  filters: restart-policy=no|always|unless-stopped|on-failure,\n"
      "  status=created|exited, name=NAME, id=PREFIX";

static int
start_one (struct svc *s, struct svc_container *c, void *data, struct err **err)
{
  (void)data;
  return svc_start (s, c, false, false, err);
}

/* One --filter: KEY=VALUE of the keys above. */
struct filter
{
  char **policy, **status, **name, **id;
};

static int
filter_add (struct filter *f, const char *arg, struct err **err)
{
  const char *eq = strchr (arg, '=');
  struct svc_restart_policy rp;
  char ***to = NULL;
  size_t klen = eq ? (size_t)(eq - arg) : 0;
  if (eq && klen == 14 && !strncmp (arg, "restart-policy", klen))
    {
      if (svc_restart_parse (eq + 1, &rp, err) < 0 || strchr (eq + 1, ':'))
        {
          err_clear (err);
          goto bad;
        }
      to = &f->policy;
    }
  else if (eq && klen == 6 && !strncmp (arg, "status", klen))
    {
      if (strcmp (eq + 1, "created") && strcmp (eq + 1, "exited"))
        goto bad;
      to = &f->status;
    }
  else if (eq && klen == 4 && !strncmp (arg, "name", klen))
    to = &f->name;
  else if (eq && klen == 2 && !strncmp (arg, "id", klen))
    to = &f->id;
  else
    goto bad;
  strv_push (to, xstrdup (eq + 1));
  return 0;
bad:
  err_set (err, 0, "invalid filter '%s': %s", arg, usage_text);
  return err_exit (err, 2);
}

static bool
any_is (char **v, const char *s)
{
  for (; v && *v; v++)
    if (!strcmp (*v, s))
      return true;
  return false;
}

/* A key's values are alternatives, keys narrow each other (docker). The
 * policy always also takes unless-stopped containers the user did not
 * stop: what docker's daemon starts again when it comes up. */
static bool
filter_match (struct svc *s, const struct filter *f, const struct rt_record *r)
{
  struct svc_restart_policy p;
  bool ok;
  svc_restart_of (r, &p);
  if (f->policy)
    {
      ok = any_is (f->policy, svc_restart_name (p.kind));
      if (!ok && p.kind == SVC_RESTART_UNLESS_STOPPED
          && any_is (f->policy, "always"))
        {
          enum svc_stop_request q = svc_stop_request_get (s, r->id);
          ok = q != SVC_STOP_SIGNAL && q != SVC_STOP_CANCEL;
        }
      if (!ok)
        return false;
    }
  if (f->status && !any_is (f->status, rt_status_name (r->state.status)))
    return false;
  if (f->name && !any_is (f->name, r->name ? r->name : ""))
    return false;
  if (f->id)
    {
      ok = false;
      for (char **v = f->id; *v && !ok; v++)
        ok = !strncmp (r->id, *v, strlen (*v));
      if (!ok)
        return false;
    }
  return true;
}

/* The ids of the containers --all takes. */
static int
select_all (struct global *g, const struct filter *f, char ***out,
            struct err **err)
{
  struct svc s;
  _cleanup_strv_ char **ids = NULL;
  *out = xcalloc (1, sizeof **out);
  if (svc_open (&s, g->root, g->config_path, err) < 0)
    return -1;
  if (rt_record_list (&s.cs, &ids, err) < 0)
    {
      svc_close (&s);
      return -1;
    }
  for (char **id = ids; *id; id++)
    {
      struct rt_record r;
      struct err *e = NULL;
      if (svc_load_id (&s, *id, &r, &e) < 0)
        err_free (e); /* removed meanwhile */
      else if ((r.state.status == RT_CREATED || r.state.status == RT_EXITED)
               && !r.auto_remove && filter_match (&s, f, &r))
        strv_push (out, xstrdup (*id));
      rt_record_release (&r);
    }
  svc_close (&s);
  return 0;
}

/* start -a: in the foreground; one that runs already is attached to */
static int
start_attached (struct svc *s, struct svc_container *c, bool interactive,
                const char *keys, struct err **err)
{
  if (c->rec.state.status == RT_RUNNING)
    {
      struct svc_attach_opts o = { .no_stdin = !interactive,
                                   .sig_proxy = true,
                                   .detach_keys = keys };
      return svc_attach (s, c, &o, err);
    }
  interactive = interactive && c->rec.plan.stdin_open;
  return svc_start (s, c, true, interactive, err);
}

static const struct cmd_opt start_opts[] = {
  CMD_OPT ("attach", 'a', NULL, 0, "Attach STDOUT/STDERR and forward signals",
           "--attach"),
  CMD_OPT ("interactive", 'i', NULL, 0, "Attach the container's STDIN",
           "--interactive"),
  CMD_OPT ("detach-keys", 0, "KEYS", 'K',
           "Override the key sequence for detaching a container",
           "--detach-keys"),
  CMD_OPT ("all", 0, NULL, 'A', "Start all containers that match --filter",
           NULL),
  CMD_OPT_FILTER,
  CMD_OPT_HELP,
  CMD_OPT_END,
};

const struct cmd_spec cmd_start_spec = {
  .name = "start",
  .usage = usage_text,
  .opts = start_opts,
};

COMMAND (start)
{
  bool attach = false, interactive = false, all = false;
  const char *keys = NULL;
  struct filter f = { 0 };
  _cleanup_strv_ char **names = NULL;
  int c, ret = -1;

  while ((c = cmd_getopt (argc, argv, &cmd_start_spec)) != -1)
    switch (c)
      {
      case 'a':
        attach = cmd_optbool;
        break;
      case 'i':
        interactive = cmd_optbool;
        break;
      case 'K':
        keys = optarg;
        break;
      case 'A':
        all = cmd_optbool;
        break;
      case 'f':
        if (filter_add (&f, optarg, err) < 0)
          goto out;
        break;
      case CMD_OPT_HELP_ID:
        ret = 0;
        goto out;
      default:
        command_bad_option (err);
        goto out;
      }
  if (all == (optind < argc) || (f.policy || f.status || f.name || f.id) > all)
    {
      command_usage_error (usage_text, err);
      goto out;
    }
  if (attach && argc - optind > 1)
    {
      err_set (err, 0,
               "you cannot start and attach multiple containers at "
               "once");
      goto out;
    }
  if (command_rootless ("start", 1, err) < 0)
    goto out;
  if (attach || interactive)
    {
      struct svc s = { .cs = { .fd = -1 } };
      struct svc_container ct = { 0 };
      if (containers_load (&s, g->root, g->config_path, argv[optind], &ct, err)
          == 0)
        ret = start_attached (&s, &ct, interactive, keys, err);
      svc_container_release (&ct);
      svc_close (&s);
      goto out;
    }
  if (all && select_all (g, &f, &names, err) < 0)
    goto out;
  ret = containers_each_serial (g, "start", all ? names : argv + optind,
                                start_one, NULL);
out:
  strv_free (f.policy);
  strv_free (f.status);
  strv_free (f.name);
  strv_free (f.id);
  return ret;
}
