/* imgtool build [-t NAME]... [-f FILE|-] [--build-arg K=V]... [--target S]
 * [--no-cache] [--pull[=always|missing|never]] [--network host|none|bridge]
 * [--platform P] [--compression gzip|zstd] [--source-date-epoch N] [-q]
 * CONTEXT */
#include "builder/builder.h"
#include "cmd/command.h"
#include "cmd/regflags.h"
#include "layers/snapshot.h"
#include "layers/store.h"
#include "layers/tarwriter.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/human.h"
#include "lib/xalloc.h"
#include "network/net.h"
#include "registry/ref.h"
#include "runtime/etcfiles.h"
#include "runtime/rlimits.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char usage_text[]
    = "imgtool build [-t NAME]... [-f FILE|-] [--build-arg K=V]... "
      "[--target STAGE] [--no-cache] [--pull[=always|missing|never]] "
      "[--network host|none|bridge] [--platform OS/ARCH] [--compression "
      "gzip|zstd] "
      "[--source-date-epoch N] [--secret id=ID,src=FILE|env=VAR]... "
      "[--ssh default|ID=SOCKET]... [--label K=V]... [--iidfile FILE] "
      "[--progress auto|plain|tty|quiet] [-o|--output SPEC] "
      "[--no-cache-filter STAGE[,...]] [--add-host NAME:IP]... "
      "[--shm-size SIZE] [--ulimit "
      "NAME=SOFT[:HARD]]... " REGFLAGS_USAGE_TLS_VERIFY
      " " REGFLAGS_USAGE_SIGNATURE_POLICY " [-q] CONTEXT";

/* Buildfiles bigger than this are not plausible. */
#define BUILDFILE_MAX (8u << 20)

static int
add_build_arg (struct bf_kvs *kvs, const char *arg, struct err **err)
{
  const char *eq = strchr (arg, '=');
  if (eq == arg || !*arg)
    return err_set (err, 0, "invalid --build-arg '%s'", arg);
  if (!eq)
    {
      /* docker: a bare name takes imgtool's environment value, if any */
      const char *v = getenv (arg);
      if (v)
        bf_kvs_set (kvs, arg, v);
      return 0;
    }
  _cleanup_free_ char *k = xstrndup (arg, (size_t)(eq - arg));
  bf_kvs_set (kvs, k, eq + 1);
  return 0;
}

static int
add_tag (char ***tags, const char *name, struct err **err)
{
  struct ref r;
  if (ref_parse (name, &r, err) < 0)
    return err_wrap (err, "tag '%s'", name);
  if (r.digest)
    {
      ref_release (&r);
      return err_set (err, 0, "tag '%s': a tag cannot have a digest", name);
    }
  strv_push (tags, ref_string (&r));
  ref_release (&r);
  return 0;
}

/* The Buildfile: -f FILE, "-" for stdin, else Buildfile, Dockerfile or
 * Containerfile in the context. */
static int
read_buildfile (const char *file, const char *context, char **path, char **name,
                char **text, size_t *len, struct err **err)
{
  if (file && !strcmp (file, "-"))
    {
      *name = xstrdup ("-");
      *path = NULL;
      return fs_read_fd (0, BUILDFILE_MAX, text, len, err) < 0
                 ? err_wrap (err, "read the Buildfile from stdin")
                 : 0;
    }
  if (file)
    {
      *name = xstrdup (file);
      *path = xstrdup (file);
      return fs_read_file (AT_FDCWD, file, BUILDFILE_MAX, text, len, err);
    }
  static const char *const names[]
      = { "Buildfile", "Dockerfile", "Containerfile" };
  for (size_t i = 0; i < ARRAY_SIZE (names); i++)
    {
      _cleanup_free_ char *p = xasprintf ("%s/%s", context, names[i]);
      if (access (p, F_OK) < 0)
        continue;
      *name = xstrdup (names[i]);
      *path = steal_pointer (&p);
      return fs_read_file (AT_FDCWD, *path, BUILDFILE_MAX, text, len, err);
    }
  return err_set (err, 0,
                  "no Buildfile in '%s' (nor Dockerfile or "
                  "Containerfile): name one with -f",
                  context);
}

/* Secrets bigger than this are refused, as BuildKit does (500 KiB). */
#define SECRET_MAX (500u << 10)

/* --secret id=ID[,src=FILE|,env=VAR][,type=file|env]: the value is read
 * now and kept in memory only; without src or env, the variable ID. */
static int
add_secret (struct build_opts *o, const char *arg, struct err **err)
{
  _cleanup_free_ char *copy = xstrdup (arg), *id = NULL, *src = NULL,
                      *env = NULL, *type = NULL;
  char *save = NULL;
  for (char *f = strtok_r (copy, ",", &save); f;
       f = strtok_r (NULL, ",", &save))
    {
      char *eq = strchr (f, '=');
      char **slot = NULL;
      if (eq)
        *eq++ = '\0';
      if (!strcmp (f, "id"))
        slot = &id;
      else if (!strcmp (f, "src") || !strcmp (f, "source"))
        slot = &src;
      else if (!strcmp (f, "env"))
        slot = &env;
      else if (!strcmp (f, "type"))
        slot = &type;
      if (!slot || !eq || !*eq)
        return err_set (err, 0,
                        "invalid --secret '%s': use id=ID,src=FILE "
                        "or id=ID,env=VAR",
                        arg);
      free (*slot);
      *slot = xstrdup (eq);
    }
  if (type && strcmp (type, "file") && strcmp (type, "env"))
    return err_set (err, 0, "invalid --secret '%s': type is file or env", arg);
  if (!id)
    id = xstrdup (src ? src : env ? env : "");
  if (!*id || (src && env))
    return err_set (err, 0,
                    "invalid --secret '%s': use id=ID,src=FILE "
                    "or id=ID,env=VAR",
                    arg);
  if (type && !strcmp (type, "env") && src)
    {
      env = src;
      src = NULL;
    }
  if (!src && !env && !(type && !strcmp (type, "file")))
    env = xstrdup (id);
  else if (!src && !env)
    src = xstrdup (id);
  struct build_secret sec = { .id = steal_pointer (&id) };
  if (src)
    {
      if (fs_read_file (AT_FDCWD, src, SECRET_MAX, &sec.data, &sec.len, err)
          < 0)
        {
          err_wrap (err, "secret '%s'", sec.id);
          free (sec.id);
          return -1;
        }
    }
  else
    {
      const char *v = getenv (env);
      if (!v)
        {
          err_set (err, 0, "secret '%s': environment variable '%s' is not set",
                   sec.id, env);
          free (sec.id);
          return -1;
        }
      sec.data = xstrdup (v);
      sec.len = strlen (v);
    }
  o->secrets = xrealloc (o->secrets, (o->n_secrets + 1) * sizeof *o->secrets);
  o->secrets[o->n_secrets++] = sec;
  return 0;
}

/* --ssh default | ID=SOCKET: "default" alone is $SSH_AUTH_SOCK. */
static int
add_ssh (struct build_opts *o, const char *arg, struct err **err)
{
  const char *eq = strchr (arg, '=');
  _cleanup_free_ char *id
      = eq ? xstrndup (arg, (size_t)(eq - arg)) : xstrdup (arg);
  const char *path = eq ? eq + 1 : getenv ("SSH_AUTH_SOCK");
  if (!*id || (eq && !*path) || strchr (id, ','))
    return err_set (err, 0, "invalid --ssh '%s': use default or ID=SOCKET",
                    arg);
  if (!path)
    return err_set (err, 0, "--ssh %s: SSH_AUTH_SOCK is not set", id);
  bf_kvs_set (&o->ssh, id, path);
  return 0;
}

/* --add-host NAME:IP (or NAME=IP, or NAME:host-gateway): a line of the
 * RUN steps' /etc/hosts, parsed as run's (runtime/etcfiles.h). */
static int
build_add_host (struct global *g, char ***hosts, const char *arg,
                struct err **err)
{
  struct net_config cfg;
  char gw[INET_ADDRSTRLEN] = "";
  char *line;
  if (strstr (arg, "host-gateway"))
    {
      if (net_config_load (g->config_path, NULL, &cfg, err) < 0)
        return -1;
      inet_ntop (AF_INET, &cfg.gateway, gw, sizeof gw);
    }
  if (rt_extra_host_parse (arg, gw, &line, err) < 0)
    return -1;
  strv_push (hosts, line);
  return 0;
}

static void
secrets_release (struct build_opts *o)
{
  for (size_t i = 0; i < o->n_secrets; i++)
    {
      explicit_bzero (o->secrets[i].data, o->secrets[i].len);
      free (o->secrets[i].data);
      free (o->secrets[i].id);
    }
  free (o->secrets);
}

COMMAND (build)
{
  static const struct option opts[] = {
    { "tag", required_argument, NULL, 't' },
    { "file", required_argument, NULL, 'f' },
    { "build-arg", required_argument, NULL, 'A' },
    { "target", required_argument, NULL, 'T' },
    { "no-cache", no_argument, NULL, 'n' },
    { "pull", optional_argument, NULL, 'p' },
    { "network", required_argument, NULL, 'N' },
    REGFLAGS_OPT_PLATFORM,
    { "compression", required_argument, NULL, 'c' },
    { "compression-format", required_argument, NULL, 'c' }, /* podman */
    { "source-date-epoch", required_argument, NULL, 'e' },
    { "secret", required_argument, NULL, 'S' },
    { "label", required_argument, NULL, 'L' },
    { "iidfile", required_argument, NULL, 'I' },
    { "progress", required_argument, NULL, 'P' },
    { "output", required_argument, NULL, 'o' },
    { "no-cache-filter", required_argument, NULL, 'F' },
    { "add-host", required_argument, NULL, 'X' },
    { "shm-size", required_argument, NULL, 'M' },
    { "ulimit", required_argument, NULL, 'U' },
    { "ssh", required_argument, NULL, 'H' },
    REGFLAGS_OPT_TLS_VERIFY,
    REGFLAGS_OPT_SIGNATURE_POLICY,
    REGFLAGS_OPT_JOBS,
    REGFLAGS_OPT_QUIET,
    REGFLAGS_OPT_HELP,
    { 0 },
  };
  struct build_opts o = { .root = g->root,
                          .config_path = g->config_path,
                          .network = RT_NET_HOST,
                          .compression = LAYER_GZIP,
                          .out = stdout };
  struct build_result res = { 0 };
  struct build_context ctx = { 0 };
  struct store s;
  struct regflags rf;
  bool store_open_ok = false;
  _cleanup_strv_ char **tags = xcalloc (1, sizeof (char *));
  _cleanup_free_ char *path = NULL, *name = NULL, *text = NULL;
  const char *file = NULL, *iidfile = NULL;
  _cleanup_strv_ char **no_cache_stages = xcalloc (1, sizeof (char *));
  _cleanup_strv_ char **add_hosts = xcalloc (1, sizeof (char *));
  size_t len = 0;
  int c, rc, ret = -1;

  regflags_init (&rf, usage_text, g->quiet);
  while ((c = command_getopt (argc, argv, "t:f:o:qh", opts)) != -1)
    switch (c)
      {
      case 't':
        if (add_tag (&tags, optarg, err) < 0)
          goto out;
        break;
      case 'f':
        file = optarg;
        break;
      case 'A':
        if (add_build_arg (&o.build_args, optarg, err) < 0)
          goto out;
        break;
      case 'T':
        o.target = optarg;
        break;
      case 'n':
        o.no_cache = true;
        break;
      case 'p':
        if (!optarg || !strcmp (optarg, "always") || !strcmp (optarg, "true"))
          o.pull = BUILD_PULL_ALWAYS;
        else if (!strcmp (optarg, "missing") || !strcmp (optarg, "false"))
          o.pull = BUILD_PULL_MISSING;
        else if (!strcmp (optarg, "never"))
          o.pull = BUILD_PULL_NEVER;
        else
          {
            err_set (err, 0, "--pull '%s': use always, missing or never",
                     optarg);
            err_exit (err, 2);
            goto out;
          }
        break;
      case 'N':
        if (!strcmp (optarg, "host") || !strcmp (optarg, "default"))
          o.network = RT_NET_HOST;
        else if (!strcmp (optarg, "none"))
          o.network = RT_NET_NONE;
        else if (!strcmp (optarg, "bridge"))
          o.network = RT_NET_BRIDGE;
        else
          {
            err_set (err, 0, "--network '%s': use host, none or bridge",
                     optarg);
            err_exit (err, 2);
            goto out;
          }
        break;
      case 'c':
        if (layer_compression_parse (optarg, &o.compression, err) < 0)
          goto out;
        break;
      case 'S':
        if (add_secret (&o, optarg, err) < 0)
          goto out;
        break;
      case 'L':
        {
          const char *eq = strchr (optarg, '=');
          _cleanup_free_ char *k = eq ? xstrndup (optarg, (size_t)(eq - optarg))
                                      : xstrdup (optarg);
          if (!*k)
            {
              err_set (err, 0, "invalid --label '%s'", optarg);
              goto out;
            }
          bf_kvs_set (&o.labels, k, eq ? eq + 1 : "");
        }
        break;
      case 'I':
        iidfile = optarg;
        break;
      case 'P':
        /* auto and tty print as plain does; quiet is -q */
        if (!strcmp (optarg, "quiet"))
          rf.quiet = true;
        else if (strcmp (optarg, "plain") && strcmp (optarg, "tty")
                 && strcmp (optarg, "auto"))
          {
            err_set (err, 0, "--progress '%s': use auto, plain, tty or quiet",
                     optarg);
            goto out;
          }
        break;
      case 'o':
        build_output_release (&o.output);
        free (o.ulimits);
        if (build_output_parse (optarg, &o.output, err) < 0)
          goto out;
        break;
      case 'X':
        if (build_add_host (g, &add_hosts, optarg, err) < 0)
          goto out;
        break;
      case 'M':
        if (human_size_parse (optarg, &o.shm_size) < 0 || o.shm_size <= 0)
          {
            err_set (err, 0, "invalid --shm-size '%s'", optarg);
            goto out;
          }
        break;
      case 'U':
        {
          struct rt_rlimit l;
          if (rt_rlimit_parse (optarg, &l, err) < 0)
            goto out;
          o.ulimits = xrealloc (o.ulimits, (o.n_ulimits + 1) * sizeof l);
          o.ulimits[o.n_ulimits++] = l;
        }
        break;
      case 'F':
        {
          _cleanup_free_ char *copy = xstrdup (optarg);
          char *save = NULL;
          for (char *f = strtok_r (copy, ",", &save); f;
               f = strtok_r (NULL, ",", &save))
            strv_push (&no_cache_stages, xstrdup (f));
        }
        break;
      case 'H':
        if (add_ssh (&o, optarg, err) < 0)
          goto out;
        break;
      case 'e':
        if (command_parse_epoch (optarg, &o.source_date_epoch, err) < 0)
          goto out;
        o.have_epoch = true;
        break;
      default:
        if ((rc = regflags_option (&rf, c, optarg, err)) != 0)
          {
            ret = rc < 0 ? -1 : 0;
            goto out;
          }
      }
  if (optind != argc - 1)
    {
      ret = command_usage_error (usage_text, err);
      goto out;
    }
  if (command_rootless ("build", 1, err) < 0)
    goto out;
  o.platform = rf.platform;
  o.jobs = rf.jobs;
  o.no_cache_stages = no_cache_stages;
  o.add_hosts = add_hosts;
  /* a tar or layout on stdout: the progress goes to stderr (buildx) */
  if (o.output.dest && !strcmp (o.output.dest, "-"))
    o.out = stderr;
  o.no_tls_verify = !rf.tls_verify;
  o.signature_policy = rf.signature_policy;
  o.quiet = rf.quiet;
  if (!strcmp (argv[optind], "-") && file && !strcmp (file, "-"))
    {
      err_set (err, 0,
               "stdin cannot be both the build context and the "
               "Buildfile");
      goto out;
    }
  if (build_context_open (g->root, argv[optind], rf.tls_verify, &ctx, err) < 0)
    goto out;
  o.context_dir = ctx.dir;
  if (command_epoch_from_env (&o.have_epoch, &o.source_date_epoch, err) < 0)
    goto out;
  if (ctx.text)
    {
      /* stdin was the Buildfile; the context is empty */
      name = xstrdup ("-");
      text = steal_pointer (&ctx.text);
      len = ctx.len;
    }
  else if (ctx.tmp && file)
    {
      /* -f names a file inside a context that came as a tar (docker) */
      _cleanup_free_ char *in = xasprintf ("%s/%s", ctx.dir, file);
      if (read_buildfile (in, ctx.dir, &path, &name, &text, &len, err) < 0)
        goto out;
      free (name);
      name = xstrdup (file);
    }
  else if (read_buildfile (file, o.context_dir, &path, &name, &text, &len, err)
           < 0)
    goto out;
  o.buildfile = path;
  o.buildfile_name = name;
  o.text = text;
  o.text_len = len;
  o.tags = tags;
  if (store_open (&s, g->root, err) < 0)
    goto out;
  store_open_ok = true;
  if (build_run (&s, &o, &res, err) < 0)
    goto out;
  if (res.unused_args && res.unused_args[0])
    {
      /* docker's classic builder's words */
      fprintf (stderr, "[Warning] One or more build-args [");
      for (size_t i = 0; res.unused_args[i]; i++)
        fprintf (stderr, "%s%s", i ? " " : "", res.unused_args[i]);
      fprintf (stderr, "] were not consumed\n");
    }
  if (iidfile
      && fs_write_file_atomic (AT_FDCWD, iidfile, res.image_id,
                               strlen (res.image_id), 0644, err)
             < 0)
    {
      err_wrap (err, "--iidfile");
      goto out;
    }
  if (o.output.type != BUILD_OUT_NONE)
    {
      if (o.quiet && o.out == stdout)
        printf ("%s\n", res.image_id);
    }
  else if (o.quiet)
    printf ("%s\n", res.image_id);
  else
    {
      printf ("Successfully built %.12s\n", digest_hex (res.image_id));
      for (size_t i = 0; tags[i]; i++)
        {
          struct ref r;
          struct err *e = NULL;
          _cleanup_free_ char *fam = NULL;
          if (ref_parse (tags[i], &r, &e) == 0)
            {
              fam = ref_familiar (&r);
              ref_release (&r);
            }
          err_free (e);
          printf ("Successfully tagged %s\n", fam ? fam : tags[i]);
        }
    }
  ret = 0;
out:
  build_result_release (&res);
  bf_kvs_release (&o.build_args);
  bf_kvs_release (&o.ssh);
  bf_kvs_release (&o.labels);
  build_output_release (&o.output);
  free (o.ulimits);
  build_context_release (&ctx);
  secrets_release (&o);
  if (store_open_ok)
    {
      snapshot_flush_later (&s);
      store_release (&s);
    }
  return ret;
}
