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
#include "lib/xalloc.h"
#include "registry/ref.h"

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
      "[--source-date-epoch N] " REGFLAGS_USAGE_TLS_VERIFY
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
    { "source-date-epoch", required_argument, NULL, 'e' },
    REGFLAGS_OPT_TLS_VERIFY,
    REGFLAGS_OPT_SIGNATURE_POLICY,
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
  struct store s;
  struct regflags rf;
  bool store_open_ok = false;
  _cleanup_strv_ char **tags = xcalloc (1, sizeof (char *));
  _cleanup_free_ char *path = NULL, *name = NULL, *text = NULL;
  const char *file = NULL;
  size_t len = 0;
  int c, rc, ret = -1;

  regflags_init (&rf, usage_text, g->quiet);
  while ((c = command_getopt (argc, argv, "t:f:qh", opts)) != -1)
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
  o.no_tls_verify = !rf.tls_verify;
  o.signature_policy = rf.signature_policy;
  o.quiet = rf.quiet;
  o.context_dir = argv[optind];
  if (!strcmp (o.context_dir, "-"))
    {
      /* docker reads a Buildfile or a tar from stdin here: not yet */
      err_set (err, 0,
               "build context from stdin ('-') is not supported yet: "
               "give a directory");
      goto out;
    }
  if (command_epoch_from_env (&o.have_epoch, &o.source_date_epoch, err) < 0)
    goto out;
  if (read_buildfile (file, o.context_dir, &path, &name, &text, &len, err) < 0)
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
  if (o.quiet)
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
  if (store_open_ok)
    {
      snapshot_flush_later (&s);
      store_release (&s);
    }
  return ret;
}
