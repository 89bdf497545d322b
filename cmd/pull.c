/* imgtool pull [--platform P] [--all-platforms] [-a|--all-tags]
 * [--tls-verify=false] [--cert-dir DIR] [--jobs N] [--no-unpack] [-q] REF
 *
 * The layers are unpacked into their snapshots while they download
 * (registry/unpack.h), so `run` finds them ready; --no-unpack (and
 * --all-platforms) only store the blobs, as skopeo copy does. -a pulls
 * every tag of the repository, as docker's --all-tags. */
#include "trust/pull.h"
#include "cmd/command.h"
#include "cmd/opttable.h"
#include "cmd/regflags.h"
#include "layers/snapshot.h"
#include "layers/store.h"
#include "lib/err.h"
#include "lib/xalloc.h"
#include "registry/client.h"
#include "registry/ref.h"
#include "registry/session.h"
#include "registry/tags.h"
#include "registry/unpack.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage_text[]
    = "imgtool pull " REGFLAGS_USAGE_PLATFORM " [--all-platforms] "
      "[-a|--all-tags] " REGFLAGS_USAGE_TRANSFER
      " " REGFLAGS_USAGE_SIGNATURE_POLICY
      " [--no-unpack] [-q] IMAGE[:TAG|@DIGEST]";

/* docker's short form of a stored name, or the name. */
static char *
familiar (const char *name, bool with_tag)
{
  struct ref r;
  struct err *ignored = NULL;
  char *f;
  if (ref_parse (name, &r, &ignored) < 0)
    {
      err_free (ignored);
      return xstrdup (name);
    }
  if (!with_tag)
    {
      free (r.tag);
      r.tag = NULL;
    }
  f = ref_familiar (&r);
  ref_release (&r);
  return f;
}

/* Pull one reference into the store, its layers unpacked unless told not
 * to; prints docker's "Digest:" line. *updated tells whether anything
 * changed. */
static int
pull_one (struct store *s, struct reg_pull_opts *o, bool unpack,
          const char *ref, char **name, bool *updated, struct err **err)
{
  struct reg_pull_result res;
  struct reg_unpack *u = NULL;
  int ret;
  if (unpack && !o->all_platforms)
    {
      u = reg_unpack_new (s);
      reg_unpack_hooks (u, o);
    }
  ret = reg_pull (s, o, ref, &res, err);
  reg_unpack_free (u);
  if (ret < 0)
    return -1;
  if (!o->quiet)
    printf ("Digest: %s\n", res.top.digest);
  *updated = res.updated;
  *name = steal_pointer (&res.name);
  reg_pull_result_release (&res);
  return 0;
}

/* --all-tags: the repository's tags from the registry, each pulled. */
static int
pull_all_tags (struct store *s, struct reg_pull_opts *o,
               const struct regflags *rf, bool unpack, const char *user,
               bool *updated, char **repo, struct err **err)
{
  struct reg_client_opts co = { .config_path = o->config_path,
                                .no_tls_verify = !rf->tls_verify,
                                .cert_dir = rf->cert_dir };
  const char *last = strrchr (user, '/');
  _cleanup_strv_ char **tags = NULL;
  struct ref r;
  int ret = 0;

  if (ref_parse (user, &r, err) < 0)
    return -1;
  /* docker: a name only; the tag a bare name gets is not one given */
  if (r.digest || strchr (last ? last : user, ':'))
    {
      ref_release (&r);
      return err_set (err, 0, "tag can't be used with --all-tags/-a");
    }
  free (r.tag);
  r.tag = NULL;
  *repo = ref_string (&r);
  if (reg_list_tags (&co, &r, &tags, err) < 0)
    ret = err_wrap (err, "pull '%s'", user);
  else if (!tags || !*tags)
    ret = err_set (err, 0, "pull '%s': the repository has no tags", user);
  for (char **t = tags; ret == 0 && t && *t; t++)
    {
      _cleanup_free_ char *ref = xasprintf ("%s:%s", *repo, *t);
      _cleanup_free_ char *name = NULL;
      bool changed = false;
      ret = pull_one (s, o, unpack, ref, &name, &changed, err);
      *updated |= changed;
    }
  ref_release (&r);
  return ret;
}

static const struct cmd_opt pull_opts[] = {
  REGFLAGS_OPT_PLATFORM,
  REGFLAGS_OPT_ALL_PLATFORMS,
  CMD_OPT ("all-tags", 'a', NULL, 0,
           "Download all tagged images in the repository", "--all-tags"),
  REGFLAGS_OPTS_TRANSFER,
  REGFLAGS_OPT_SIGNATURE_POLICY,
  CMD_OPT ("no-unpack", 0, NULL, 'U',
           "Store the blobs, do not unpack the layers", NULL),
  REGFLAGS_OPT_QUIET,
  REGFLAGS_OPT_HELP,
  CMD_OPT_END,
};

const struct cmd_spec cmd_pull_spec = {
  .name = "pull",
  .usage = usage_text,
  .opts = pull_opts,
};

COMMAND (pull)
{
  struct reg_pull_opts o = { .config_path = g->config_path, .out = stdout };
  struct regflags rf;
  struct store s;
  struct trust_pull tp;
  _cleanup_free_ char *name = NULL, *shown = NULL;
  bool unpack = true, all_tags = false, updated = false;
  int c, rc, ret;

  regflags_init (&rf, usage_text, g->quiet);
  while ((c = cmd_getopt (argc, argv, &cmd_pull_spec)) != -1)
    switch (c)
      {
      case 'U':
        unpack = !cmd_optbool;
        break;
      case 'a':
        all_tags = cmd_optbool;
        break;
      default:
        if ((rc = regflags_option (&rf, c, optarg, err)) != 0)
          return rc < 0 ? -1 : 0;
      }
  if (optind != argc - 1)
    return command_usage_error (usage_text, err);
  regflags_pull_opts (&rf, &o);
  if (command_rootless ("pull", 1, err) < 0)
    return -1;
  if (store_open (&s, g->root, err) < 0)
    return -1;
  trust_pull_init (&tp, &o, &s, rf.signature_policy);
  if (all_tags)
    ret = pull_all_tags (&s, &o, &rf, unpack, argv[optind], &updated, &name,
                         err);
  else
    ret = pull_one (&s, &o, unpack, argv[optind], &name, &updated, err);
  trust_pull_release (&tp);
  snapshot_flush_later (&s);
  store_release (&s);
  if (ret < 0)
    return -1;
  shown = familiar (name, !all_tags);
  if (!o.quiet)
    printf ("Status: %s for %s\n",
            updated ? "Downloaded newer image" : "Image is up to date", shown);
  printf ("%s\n", name);
  return 0;
}
