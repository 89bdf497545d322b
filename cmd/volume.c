/* imgtool volume create|ls|inspect|rm|prune: docker's local volumes
 * (runtime/volume.h). A volume in use by any container, running or not,
 * is never removed. */
#include "runtime/volume.h"
#include "cmd/command.h"
#include "cmd/opttable.h"
#include "lib/err.h"
#include "lib/gotmpl.h"
#include "lib/human.h"
#include "lib/strbuf.h"
#include "lib/xalloc.h"
#include "runtime/state.h"

#include <getopt.h>
#include <regex.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

static const char usage_text[]
    = "imgtool volume create [-d local] [--label K=V] [NAME] | "
      "ls [-q] [-f FILTER] [--format FORMAT] | inspect [-f FORMAT] VOLUME... "
      "| rm [-f] VOLUME... | prune [-a] [-f] [--filter FILTER]";

#define DEFAULT_TABLE "table {{.Driver}}\t{{.Name}}"

/* The store's volumes and containers, opened together. */
struct vol_ctx
{
  struct rt_volumes vs;
  struct rt_containers cs;
};

static int
ctx_open (struct global *g, struct vol_ctx *x, bool containers,
          struct err **err)
{
  memset (x, 0, sizeof *x);
  x->vs.fd = x->cs.fd = -1;
  if (rt_volumes_open (&x->vs, g->root, err) < 0)
    return -1;
  return containers ? rt_containers_open (&x->cs, g->root, err) : 0;
}

static void
ctx_release (struct vol_ctx *x)
{
  rt_volumes_release (&x->vs);
  if (x->cs.path)
    rt_containers_release (&x->cs);
}

/* docker volume inspect's object. */
static json_t *
volume_json (const struct rt_volume *v)
{
  char created[40];
  rfc3339_format (v->created, created, sizeof created);
  return json_pack ("{s:s, s:s, s:o, s:s, s:s, s:o, s:s}", "CreatedAt", created,
                    "Driver", "local", "Labels",
                    rt_volume_labels_json (v->labels), "Mountpoint",
                    v->mountpoint, "Name", v->name, "Options", json_object (),
                    "Scope", "local");
}

static const struct cmd_opt volume_create_opts[] = {
  CMD_OPT ("driver", 'd', "DRIVER", 0, "Specify volume driver name (local)",
           "--driver"),
  CMD_OPT ("label", 0, "K=V", 'l', "Set metadata for a volume", "--label"),
  CMD_OPT ("opt", 'o', "K=V", 0, "Set driver specific options", "--opt"),
  CMD_OPT ("name", 0, "NAME", 'n', "Name", "--name"),
  CMD_OPT_HELP,
  CMD_OPT_END,
};

const struct cmd_spec cmd_volume_create_spec = {
  .name = "volume create",
  .summary = "Create a volume",
  .usage = usage_text,
  .opts = volume_create_opts,
};

/* -------- create -------- */

static int
volume_create (struct global *g, int argc, char **argv, struct err **err)
{
  _cleanup_strv_ char **labels = xcalloc (1, sizeof (char *));
  const char *name = NULL;
  struct vol_ctx x;
  struct rt_volume v;
  bool made;
  int c, lock, r;
  while ((c = cmd_getopt (argc, argv, &cmd_volume_create_spec)) != -1)
    switch (c)
      {
      case 'd':
        if (strcmp (optarg, "local"))
          return err_set (err, 0,
                          "error looking up volume plugin %s: plugin \"%s\" "
                          "not found",
                          optarg, optarg);
        break;
      case 'l':
        strv_push (&labels, xstrdup (optarg));
        break;
      case 'o':
        return err_set (err, 0,
                        "invalid option '%s': the local driver's mount "
                        "options are not supported",
                        optarg);
      case 'n':
        name = optarg;
        break;
      case CMD_OPT_HELP_ID:
        return 0;
      default:
        return command_bad_option (err);
      }
  if (argc - optind > 1
      || (name && optind < argc && strcmp (name, argv[optind])))
    return command_usage_error (usage_text, err);
  if (optind < argc)
    name = argv[optind];
  if (ctx_open (g, &x, false, err) < 0)
    {
      ctx_release (&x);
      return -1;
    }
  lock = rt_volumes_lock (&x.vs, LOCK_SH, err);
  r = lock < 0 ? -1
               : rt_volume_create (&x.vs, name, labels, false, &v, &made, err);
  if (lock >= 0)
    close (lock);
  if (r == 0)
    {
      printf ("%s\n", v.name);
      rt_volume_release (&v);
    }
  ctx_release (&x);
  return r;
}

/* -------- filters -------- */

struct vol_filter
{
  char **dangling, **name, **label, **label_not, **driver;
  bool all;
};

static void
filter_release (struct vol_filter *f)
{
  strv_free (f->dangling);
  strv_free (f->name);
  strv_free (f->label);
  strv_free (f->label_not);
  strv_free (f->driver);
}

/* One --filter KEY=VALUE; keys is the set the command takes. */
static int
filter_add (struct vol_filter *f, const char *arg, const char *keys,
            struct err **err)
{
  const char *eq = strchr (arg, '=');
  _cleanup_free_ char *key = eq ? xstrndup (arg, (size_t)(eq - arg)) : NULL;
  const char *val = eq ? eq + 1 : NULL;
  _cleanup_free_ char *bounded = NULL;
  if (!key || !*key)
    return err_set (err, 0, "bad format of filter (expected name=value)");
  /* label!=K=V arrives as key "label!" */
  bounded = xasprintf (" %s ", key);
  if (!strstr (keys, bounded))
    return err_set (err, 0, "invalid filter '%s'", key);
  if (!strcmp (key, "dangling"))
    {
      if (strcmp (val, "true") && strcmp (val, "false") && strcmp (val, "1")
          && strcmp (val, "0"))
        return err_set (err, 0, "invalid filter 'dangling=%s'", val);
      strv_push (&f->dangling, xstrdup (val));
    }
  else if (!strcmp (key, "name"))
    strv_push (&f->name, xstrdup (val));
  else if (!strcmp (key, "label"))
    strv_push (&f->label, xstrdup (val));
  else if (!strcmp (key, "label!"))
    strv_push (&f->label_not, xstrdup (val));
  else if (!strcmp (key, "driver"))
    strv_push (&f->driver, xstrdup (val));
  else if (!strcmp (key, "all"))
    {
      if (command_parse_bool (val, &f->all) < 0)
        return err_set (err, 0, "invalid filter 'all=%s'", val);
    }
  return 0;
}

/* label=K matches a volume with label K, label=K=V one whose K is V. */
static bool
has_label (char *const *labels, const char *want)
{
  bool kv = strchr (want, '=') != NULL;
  size_t klen = kv ? (size_t)(strchr (want, '=') - want) : strlen (want);
  for (size_t i = 0; labels && labels[i]; i++)
    if (kv ? !strcmp (labels[i], want)
           : !strncmp (labels[i], want, klen) && labels[i][klen] == '=')
      return true;
  return false;
}

/* docker's rules: values of one key are alternatives (labels must all
 * match), keys together must all hold. */
static bool
filter_match (const struct vol_filter *f, const struct rt_volume *v,
              bool in_use)
{
  bool ok;
  for (size_t i = 0; f->label && f->label[i]; i++)
    if (!has_label (v->labels, f->label[i]))
      return false;
  for (size_t i = 0; f->label_not && f->label_not[i]; i++)
    if (has_label (v->labels, f->label_not[i]))
      return false;
  if (f->dangling)
    {
      ok = false;
      for (size_t i = 0; f->dangling[i]; i++)
        ok = ok
             || (!strcmp (f->dangling[i], "true")
                 || !strcmp (f->dangling[i], "1"))
                    == !in_use;
      if (!ok)
        return false;
    }
  if (f->driver)
    {
      ok = false;
      for (size_t i = 0; f->driver[i]; i++)
        ok = ok || !strcmp (f->driver[i], "local");
      if (!ok)
        return false;
    }
  if (f->name)
    {
      ok = false;
      for (size_t i = 0; f->name[i] && !ok; i++)
        {
          regex_t re;
          if (regcomp (&re, f->name[i], REG_EXTENDED | REG_NOSUB) != 0)
            ok = strstr (v->name, f->name[i]) != NULL;
          else
            {
              ok = regexec (&re, v->name, 0, NULL, 0) == 0;
              regfree (&re);
            }
        }
      if (!ok)
        return false;
    }
  return true;
}

/* -------- ls -------- */

static json_t *
ls_row (const struct rt_volume *v)
{
  char created[40];
  struct strbuf labels = STRBUF_INIT;
  json_t *o;
  rfc3339_format (v->created, created, sizeof created);
  for (size_t i = 0; v->labels && v->labels[i]; i++)
    {
      if (labels.len)
        strbuf_addch (&labels, ',');
      strbuf_addstr (&labels, v->labels[i]);
    }
  o = json_pack ("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "CreatedAt",
                 created, "Driver", "local", "Labels",
                 labels.buf ? labels.buf : "", "Links", "N/A", "Mountpoint",
                 v->mountpoint, "Name", v->name, "Scope", "local", "Size",
                 "N/A");
  strbuf_release (&labels);
  return o;
}

static const struct cmd_opt volume_ls_opts[] = {
  CMD_OPT ("quiet", 'q', NULL, 0, "Only show IDs", "--quiet"),
  CMD_OPT_FILTER,
  CMD_OPT_FORMAT ('F'),
  CMD_OPT_HELP,
  CMD_OPT_END,
};

const struct cmd_spec cmd_volume_ls_spec = {
  .name = "volume ls",
  .summary = "List volumes",
  .usage = usage_text,
  .opts = volume_ls_opts,
};

static int
volume_ls (struct global *g, int argc, char **argv, struct err **err)
{
  struct vol_filter f = { 0 };
  struct vol_ctx x;
  struct rt_volume_users u = { 0 };
  _cleanup_strv_ char **names = NULL;
  const char *format = NULL;
  bool quiet = false;
  json_t *rows, *header;
  int c, r = -1;
  while ((c = cmd_getopt (argc, argv, &cmd_volume_ls_spec)) != -1)
    switch (c)
      {
      case 'q':
        quiet = cmd_optbool;
        break;
      case 'f':
        if (filter_add (&f, optarg, " dangling name label driver ", err) < 0)
          {
            filter_release (&f);
            return -1;
          }
        break;
      case 'F':
        format = optarg;
        break;
      case CMD_OPT_HELP_ID:
        filter_release (&f);
        return 0;
      default:
        filter_release (&f);
        return command_bad_option (err);
      }
  if (optind != argc)
    {
      filter_release (&f);
      return command_usage_error (usage_text, err);
    }
  rows = json_array ();
  header = json_pack ("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "CreatedAt",
                      "CREATED", "Driver", "DRIVER", "Labels", "LABELS",
                      "Links", "LINKS", "Mountpoint", "MOUNTPOINT", "Name",
                      "VOLUME NAME", "Scope", "SCOPE", "Size", "SIZE");
  if (ctx_open (g, &x, f.dangling != NULL, err) < 0
      || rt_volume_list (&x.vs, &names, err) < 0
      || (f.dangling && rt_volume_users_scan (&x.cs, &u, err) < 0))
    goto out;
  for (size_t i = 0; names[i]; i++)
    {
      struct rt_volume v;
      struct err *e = NULL;
      _cleanup_free_ char *users = NULL;
      if (rt_volume_load (&x.vs, names[i], &v, &e) < 0)
        {
          err_free (e); /* removed meanwhile */
          continue;
        }
      users = f.dangling ? rt_volume_users_of (&u, v.name) : NULL;
      if (filter_match (&f, &v, users && *users))
        json_array_append_new (rows, ls_row (&v));
      rt_volume_release (&v);
    }
  r = command_print_format (quiet ? "{{.Name}}" : format, DEFAULT_TABLE, header,
                            rows, err);
out:
  json_decref (rows);
  json_decref (header);
  rt_volume_users_release (&u);
  ctx_release (&x);
  filter_release (&f);
  return r;
}

static const struct cmd_opt volume_inspect_opts[] = {
  CMD_OPT ("format", 'f', "FORMAT", 0,
           "Format output: table, json or a Go template", "--format"),
  CMD_OPT_HELP,
  CMD_OPT_END,
};

const struct cmd_spec cmd_volume_inspect_spec = {
  .name = "volume inspect",
  .summary = "Show volumes as JSON",
  .usage = usage_text,
  .opts = volume_inspect_opts,
};

/* -------- inspect -------- */

static int
volume_inspect (struct global *g, int argc, char **argv, struct err **err)
{
  const char *format = NULL;
  struct vol_ctx x;
  json_t *out;
  int c, status = 0;
  while ((c = cmd_getopt (argc, argv, &cmd_volume_inspect_spec)) != -1)
    switch (c)
      {
      case 'f':
        format = optarg;
        break;
      case CMD_OPT_HELP_ID:
        return 0;
      default:
        return command_bad_option (err);
      }
  if (optind >= argc)
    return command_usage_error (usage_text, err);
  if (ctx_open (g, &x, false, err) < 0)
    {
      ctx_release (&x);
      return -1;
    }
  out = json_array ();
  for (int i = optind; i < argc; i++)
    {
      struct rt_volume v;
      struct err *e = NULL;
      if (rt_volume_load (&x.vs, argv[i], &v, &e) < 0)
        {
          command_print_error ("%s", e->msg);
          err_free (e);
          status = 1;
          continue;
        }
      json_array_append_new (out, volume_json (&v));
      rt_volume_release (&v);
    }
  if (format)
    {
      struct gotmpl *t = NULL;
      struct strbuf sb = STRBUF_INIT;
      size_t i;
      json_t *o;
      if (gotmpl_parse (format, &t, err) < 0)
        status = -1;
      json_array_foreach (out, i, o)
      {
        if (status < 0 || gotmpl_exec (t, o, &sb, err) < 0)
          {
            status = -1;
            break;
          }
        strbuf_addch (&sb, '\n');
      }
      if (status >= 0)
        fputs (sb.buf ? sb.buf : "", stdout);
      strbuf_release (&sb);
      gotmpl_free (t);
    }
  else
    {
      json_dumpf (out, stdout, JSON_INDENT (4));
      printf ("\n");
    }
  json_decref (out);
  ctx_release (&x);
  return status;
}

/* -------- rm and prune -------- */

/* Remove name unless a container uses it ("volume is in use" naming
 * them, as docker). */
static int
remove_unused (struct vol_ctx *x, const struct rt_volume_users *u,
               const char *name, uint64_t *bytes, struct err **err)
{
  _cleanup_free_ char *users = rt_volume_users_of (u, name);
  if (*users)
    return err_set (err, 0, "remove %s: volume is in use - [%s]", name, users);
  return rt_volume_remove (&x->vs, name, bytes, err);
}

static const struct cmd_opt volume_rm_opts[] = {
  CMD_OPT_FORCE,
  CMD_OPT_HELP,
  CMD_OPT_END,
};

const struct cmd_spec cmd_volume_rm_spec = {
  .name = "volume rm",
  .summary = "Remove volumes",
  .usage = usage_text,
  .opts = volume_rm_opts,
};

static int
volume_rm (struct global *g, int argc, char **argv, struct err **err)
{
  struct vol_ctx x;
  struct rt_volume_users u = { 0 };
  bool force = false;
  int c, lock = -1, status = 0;
  while ((c = cmd_getopt (argc, argv, &cmd_volume_rm_spec)) != -1)
    switch (c)
      {
      case 'f':
        force = cmd_optbool;
        break;
      case CMD_OPT_HELP_ID:
        return 0;
      default:
        return command_bad_option (err);
      }
  if (optind >= argc)
    return command_usage_error (usage_text, err);
  /* exclusive: no container is being made with these meanwhile */
  if (ctx_open (g, &x, true, err) < 0
      || (lock = rt_volumes_lock (&x.vs, LOCK_EX, err)) < 0
      || rt_volume_users_scan (&x.cs, &u, err) < 0)
    {
      status = -1;
      goto out;
    }
  rt_volumes_sweep (&x.vs);
  for (int i = optind; i < argc; i++)
    {
      struct rt_volume v;
      struct err *e = NULL;
      /* -f: a missing one is not an error (the in-use check stays) */
      if (rt_volume_load (&x.vs, argv[i], &v, &e) < 0)
        {
          if (!force)
            {
              command_print_error ("%s", e->msg);
              status = 1;
            }
          err_free (e);
          continue;
        }
      rt_volume_release (&v);
      if (remove_unused (&x, &u, argv[i], NULL, &e) < 0)
        {
          command_print_error ("%s", e->msg);
          err_free (e);
          status = 1;
          continue;
        }
      printf ("%s\n", argv[i]);
    }
out:
  if (lock >= 0)
    close (lock);
  rt_volume_users_release (&u);
  ctx_release (&x);
  return status;
}

static const struct cmd_opt volume_prune_opts[] = {
  CMD_OPT ("all", 'a', NULL, 0,
           "Remove all unused volumes, not just anonymous ones", "--all"),
  CMD_OPT_FORCE,
  CMD_OPT ("filter", 0, "KEY=VALUE", 'F',
           "Filter output based on conditions provided", "--filter"),
  CMD_OPT_HELP,
  CMD_OPT_END,
};

const struct cmd_spec cmd_volume_prune_spec = {
  .name = "volume prune",
  .summary = "Remove unused volumes",
  .usage = usage_text,
  .opts = volume_prune_opts,
};

static int
volume_prune (struct global *g, int argc, char **argv, struct err **err)
{
  struct vol_filter f = { 0 };
  struct vol_ctx x;
  struct rt_volume_users u = { 0 };
  _cleanup_strv_ char **names = NULL;
  struct strbuf out = STRBUF_INIT;
  uint64_t total = 0;
  bool force = false;
  char size[32];
  int c, lock = -1, status = -1;
  while ((c = cmd_getopt (argc, argv, &cmd_volume_prune_spec)) != -1)
    switch (c)
      {
      case 'a':
        f.all = cmd_optbool;
        break;
      case 'f':
        force = cmd_optbool;
        break;
      case 'F':
        if (filter_add (&f, optarg, " label label! all ", err) < 0)
          {
            filter_release (&f);
            return -1;
          }
        break;
      case CMD_OPT_HELP_ID:
        filter_release (&f);
        return 0;
      default:
        filter_release (&f);
        return command_bad_option (err);
      }
  if (optind != argc)
    {
      filter_release (&f);
      return command_usage_error (usage_text, err);
    }
  if (!force
      && !command_confirm (
          f.all ? "This will remove all local volumes not used by at "
                  "least one container."
                : "This will remove anonymous local volumes not used "
                  "by at least one container."))
    {
      filter_release (&f);
      return 0;
    }
  /* docker ≥ 23: only anonymous volumes unless -a */
  if (!f.all)
    strv_push (&f.label, xstrdup (RT_VOLUME_ANON_LABEL));
  if (ctx_open (g, &x, true, err) < 0
      || (lock = rt_volumes_lock (&x.vs, LOCK_EX, err)) < 0
      || rt_volume_users_scan (&x.cs, &u, err) < 0
      || rt_volume_list (&x.vs, &names, err) < 0)
    goto done;
  rt_volumes_sweep (&x.vs);
  for (size_t i = 0; names[i]; i++)
    {
      struct rt_volume v;
      struct err *e = NULL;
      _cleanup_free_ char *users = rt_volume_users_of (&u, names[i]);
      uint64_t bytes = 0;
      if (*users || rt_volume_load (&x.vs, names[i], &v, &e) < 0)
        {
          err_free (e);
          continue;
        }
      if (filter_match (&f, &v, false)
          && rt_volume_remove (&x.vs, names[i], &bytes, &e) == 0)
        {
          if (!out.len)
            strbuf_addstr (&out, "Deleted Volumes:\n");
          strbuf_addf (&out, "%s\n", names[i]);
          total += bytes;
        }
      else if (e)
        command_print_error ("%s", e->msg);
      err_free (e);
      rt_volume_release (&v);
    }
  if (out.len)
    printf ("%s\n", out.buf);
  human_size ((int64_t)total, size, sizeof size);
  printf ("Total reclaimed space: %s\n", size);
  status = 0;
done:
  if (lock >= 0)
    close (lock);
  strbuf_release (&out);
  rt_volume_users_release (&u);
  ctx_release (&x);
  filter_release (&f);
  return status;
}

static const struct cmd_spec *const volume_subs[]
    = { &cmd_volume_create_spec, &cmd_volume_inspect_spec, &cmd_volume_ls_spec,
        &cmd_volume_prune_spec,  &cmd_volume_rm_spec,      NULL };

const struct cmd_spec cmd_volume_spec = {
  .name = "volume",
  .usage = usage_text,
  .opts = cmd_opts_help_only,
  .subs = volume_subs,
};

COMMAND (volume)
{
  static const struct
  {
    const char *name;
    int (*fn) (struct global *, int, char **, struct err **);
  } subs[] = {
    { "create", volume_create },   { "ls", volume_ls }, { "list", volume_ls },
    { "inspect", volume_inspect }, { "rm", volume_rm }, { "remove", volume_rm },
    { "prune", volume_prune },
  };
  if (argc < 2)
    return command_usage_error (usage_text, err);
  for (size_t i = 0; i < ARRAY_SIZE (subs); i++)
    if (!strcmp (argv[1], subs[i].name))
      return subs[i].fn (g, argc - 1, argv + 1, err);
  if (!strcmp (argv[1], "--help") || !strcmp (argv[1], "-h"))
    {
      cmd_help_print (&cmd_volume_spec, stdout);
      return 0;
    }
  err_set (err, 0, "volume: unknown command '%s'", argv[1]);
  return err_exit (err, 2);
}
