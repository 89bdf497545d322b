/* imgtool copy [--all] [--platform P] [--tls-verify=false]
 * [--src-tls-verify=false] [--dest-tls-verify=false] [--jobs N] [-q] SRC DST
 *
 * SRC and DST: docker://HOST/REPO[:TAG|@DIGEST], a plain reference (the
 * same), or oci:DIR[:TAG] (an OCI layout directory). Images are copied as
 * they are, never unpacked: every digest stays. Registry blobs go through
 * a scratch store under the store's tmp/; within one registry they are
 * mounted instead of uploaded. Without --all, the platform's image of an
 * index is copied (as skopeo does). */
#include "cmd/command.h"
#include "cmd/opttable.h"
#include "cmd/regflags.h"
#include "layers/image_store.h"
#include "layers/ocidir.h"
#include "layers/store.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/xalloc.h"
#include "registry/client.h"
#include "registry/push.h"
#include "registry/ref.h"
#include "registry/session.h"
#include "trust/pull.h"
#include "trust/sign.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char usage_text[]
    = "imgtool copy [--all] " REGFLAGS_USAGE_PLATFORM
      " " REGFLAGS_USAGE_TLS_VERIFY " [--src-tls-verify=false] "
      "[--dest-tls-verify=false] " REGFLAGS_USAGE_JOBS
      " " REGFLAGS_USAGE_SIGNATURE_POLICY
      " [--remove-signatures] [-q] SRC DST   "
      "(docker://REF, REF or oci:DIR[:TAG])";

struct endpoint
{
  bool oci;
  const char *ref; /* registry reference */
  char *dir;       /* oci: */
  char *tag;       /* oci: NULL when none */
};

static int
endpoint_parse (const char *s, struct endpoint *e, struct err **err)
{
  memset (e, 0, sizeof *e);
  if (!strncmp (s, "oci:", 4))
    {
      const char *colon = strchr (s + 4, ':');
      e->oci = true;
      e->dir
          = colon ? xstrndup (s + 4, (size_t)(colon - s - 4)) : xstrdup (s + 4);
      e->tag = colon && colon[1] ? xstrdup (colon + 1) : NULL;
      if (!*e->dir)
        return err_set (err, 0, "'%s': no directory after oci:", s);
      if (e->tag && !ref_tag_valid (e->tag))
        return err_set (err, 0, "'%s': invalid tag '%s'", s, e->tag);
      return 0;
    }
  if (!strncmp (s, "docker://", 9))
    {
      e->ref = s + 9;
      return 0;
    }
  if (strstr (s, "://") || !strncmp (s, "docker-daemon:", 14)
      || !strncmp (s, "containers-storage:", 19) || !strncmp (s, "dir:", 4)
      || !strncmp (s, "docker-archive:", 15)
      || !strncmp (s, "oci-archive:", 12))
    return err_set (err, 0,
                    "'%s': unsupported transport (docker:// and "
                    "oci: are)",
                    s);
  e->ref = s;
  return 0;
}

static void
endpoint_release (struct endpoint *e)
{
  free (e->dir);
  free (e->tag);
}

static char *
ocidir_path_cb (void *ctx, const char *digest)
{
  return ocidir_blob_path (ctx, digest);
}

/* The domain and path of a registry reference, for the same-registry
 * check; NULL when it does not parse (reg_pull/reg_push will say why). */
static bool
same_registry (const char *a, const char *b, char **a_path)
{
  struct ref ra, rb;
  struct err *e = NULL;
  bool same = false;
  if (ref_parse (a, &ra, &e) == 0)
    {
      if (ref_parse (b, &rb, &e) == 0)
        {
          same = !strcmp (ra.domain, rb.domain);
          if (same)
            *a_path = xstrdup (ra.path);
          ref_release (&rb);
        }
      ref_release (&ra);
    }
  err_free (e);
  return same;
}

/* The .sig of what was pushed, from the source's repository to the
 * destination's. */
static int
copy_signatures (struct global *g, const struct regflags *rf,
                 const char *src_ref, const struct reg_push_result *res,
                 struct err **err)
{
  struct reg_client_opts so
      = { .config_path = g->config_path, .no_tls_verify = !rf->tls_verify };
  struct reg_client_opts dopt = { .config_path = g->config_path,
                                  .no_tls_verify = !rf->dest_tls_verify };
  struct reg_client sc, dc;
  _cleanup_free_ char *dst_ref = xasprintf ("%s@%s", res->name, res->digest);
  int r;
  if (reg_client_init (&sc, &so, err) < 0)
    return -1;
  if (reg_client_init (&dc, &dopt, err) < 0)
    {
      reg_client_release (&sc);
      return -1;
    }
  r = trust_copy_ref_sigs (&sc, src_ref, &dc, dst_ref, res->digest, err);
  reg_client_release (&sc);
  reg_client_release (&dc);
  if (r < 0)
    return err_wrap (err, "copy signatures of %s", res->digest);
  if (r == 1 && !rf->quiet)
    printf ("Copied signatures of %s\n", res->digest);
  return 0;
}

/* Write the image top reaches in the scratch store into an OCI layout. */
static int
export_oci (struct store *scratch, const struct store_ref *top,
            const struct endpoint *dst, struct err **err)
{
  struct ocidir od;
  _cleanup_strv_ char **blobs = NULL;
  int ret = -1;
  if (ocidir_open (&od, dst->dir, true, err) < 0)
    return -1;
  if (image_reachable_blobs (scratch, top->digest, &blobs, err) < 0)
    goto out;
  /* Children before the document that names them. */
  for (size_t i = strv_len (blobs); i-- > 0;)
    {
      _cleanup_free_ char *p = store_blob_path (scratch, blobs[i]);
      if (!store_has_blob (scratch, blobs[i]))
        continue;
      if (ocidir_put_file (&od, blobs[i], p, err) < 0)
        goto out;
    }
  ret = ocidir_set_ref (&od, dst->tag, top->media_type, top->digest, top->size,
                        err);
out:
  ocidir_release (&od);
  return ret;
}

static const struct cmd_opt copy_opts[] = {
  REGFLAGS_OPT_ALL,
  REGFLAGS_OPT_PLATFORM,
  REGFLAGS_OPT_TLS_VERIFY,
  REGFLAGS_OPT_SRC_DEST_TLS_VERIFY,
  REGFLAGS_OPT_JOBS,
  REGFLAGS_OPT_QUIET,
  REGFLAGS_OPT_HELP,
  REGFLAGS_OPT_SIGNATURE_POLICY,
  CMD_OPT ("remove-signatures", 0, NULL, 'S', "Do not copy the signatures",
           NULL),
  CMD_OPT_END,
};

const struct cmd_spec cmd_copy_spec = {
  .name = "copy",
  .usage = usage_text,
  .opts = copy_opts,
};

COMMAND (copy)
{
  struct endpoint src = { 0 }, dst = { 0 };
  struct store s = { .root_fd = -1 }, scratch = { .root_fd = -1 };
  struct reg_push_source psrc = { 0 };
  struct store_ref top = { 0 };
  struct ocidir sod = { .fd = -1, .blobs_fd = -1 };
  struct reg_pull_result pres = { 0 };
  struct reg_push_result res = { 0 };
  _cleanup_free_ char *scratch_dir = NULL, *mount_from = NULL;
  struct regflags rf;
  struct trust_pull tp = { 0 };
  bool remove_sigs = false;
  int c, rc, ret = -1;

  regflags_init (&rf, usage_text, g->quiet);
  while ((c = cmd_getopt (argc, argv, &cmd_copy_spec)) != -1)
    switch (c)
      {
      case 'S':
        remove_sigs = cmd_optbool;
        break;
      default:
        if ((rc = regflags_option (&rf, c, optarg, err)) != 0)
          return rc < 0 ? -1 : 0;
      }
  if (optind != argc - 2)
    return command_usage_error (usage_text, err);
  if (endpoint_parse (argv[optind], &src, err) < 0
      || endpoint_parse (argv[optind + 1], &dst, err) < 0)
    goto out;
  if (src.oci && dst.oci)
    {
      err_set (err, 0, "copy between two OCI layouts is not supported");
      goto out;
    }

  if (src.oci)
    {
      /* an OCI layout's scopes are its path (and path:tag) */
      trust_pull_init (&tp, NULL, NULL, rf.signature_policy);
      if (ocidir_open (&sod, src.dir, false, err) < 0
          || trust_check_path (&tp, g->config_path, "oci", sod.path, src.tag,
                               err)
                 < 0
          || ocidir_find (&sod, src.tag, &top, err) < 0)
        goto out;
      psrc = (struct reg_push_source){ .ctx = &sod,
                                       .blob_path = ocidir_path_cb };
    }
  else
    {
      /* The registry's blobs land in a scratch store beside the real one
       * (same filesystem), removed at the end. */
      struct reg_pull_opts po
          = { .config_path = g->config_path, .out = stdout };
      regflags_pull_opts (&rf, &po);
      if (store_open (&s, g->root, err) < 0)
        goto out;
      trust_pull_init (&tp, &po, &scratch, rf.signature_policy);
      tp.probe_sigs = !remove_sigs;
      scratch_dir = xasprintf ("%s/tmp/copy-XXXXXX", s.root);
      if (!mkdtemp (scratch_dir))
        {
          err_set (err, errno, "create '%s'", scratch_dir);
          free (steal_pointer (&scratch_dir));
          goto out;
        }
      if (store_open (&scratch, scratch_dir, err) < 0
          || reg_pull (&scratch, &po, src.ref, &pres, err) < 0)
        goto out;
      const struct store_ref *t
          = rf.all || !pres.manifest.digest ? &pres.top : &pres.manifest;
      top.digest = xstrdup (t->digest);
      top.media_type = xstrdup (t->media_type);
      top.size = t->size;
      psrc = reg_push_source_store (&scratch);
    }

  if (dst.oci)
    {
      if (export_oci (&scratch, &top, &dst, err) < 0)
        {
          err_wrap (err, "copy to 'oci:%s'", dst.dir);
          goto out;
        }
      printf ("digest: %s size: %lld\n", top.digest, (long long)top.size);
      ret = 0;
      goto out;
    }

  struct reg_push_opts o = { .config_path = g->config_path, .out = stdout };
  regflags_push_opts (&rf, &o);
  if (!src.oci && same_registry (src.ref, dst.ref, &mount_from))
    o.mount_from = mount_from; /* the source repository has every blob */
  if (reg_push (&psrc, top.digest, top.media_type, dst.ref, &o, &res, err) < 0)
    goto out;
  /* the source's cosign signatures go along, as skopeo copy's do */
  if (strv_has (tp.have_sigs, res.digest)
      && copy_signatures (g, &rf, src.ref, &res, err) < 0)
    goto out;
  printf ("%s: digest: %s size: %lld\n", res.reference, res.digest,
          (long long)res.size);
  reg_push_result_release (&res);
  ret = 0;
out:
  trust_pull_release (&tp);
  if (sod.path)
    ocidir_release (&sod);
  reg_pull_result_release (&pres);
  store_ref_release (&top);
  if (scratch.root)
    store_release (&scratch);
  if (scratch_dir)
    {
      struct err *ignored = NULL;
      fs_rm_rf (AT_FDCWD, scratch_dir, &ignored);
      err_free (ignored);
    }
  if (s.root)
    store_release (&s);
  endpoint_release (&src);
  endpoint_release (&dst);
  return ret;
}
