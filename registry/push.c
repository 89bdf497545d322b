/* Push an image to a registry: see registry/push.h. */
#include "registry/push.h"
#include "layers/digest.h"
#include "layers/image.h"
#include "layers/store.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/log.h"
#include "lib/progress.h"
#include "lib/xalloc.h"
#include "registry/ref.h"
#include "registry/session.h"
#include "registry/sources.h"
#include "registry/upload.h"

#include <fcntl.h>
#include <string.h>

#define DEFAULT_JOBS 4

static char *
store_path (void *ctx, const char *digest)
{
  struct store *s = ctx;
  return store_has_blob (s, digest) ? store_blob_path (s, digest) : NULL;
}

struct reg_push_source
reg_push_source_store (struct store *s)
{
  return (struct reg_push_source){ .ctx = s, .blob_path = store_path };
}

void
reg_push_result_release (struct reg_push_result *r)
{
  free (r->name);
  free (r->reference);
  free (r->digest);
  free (r->media_type);
  memset (r, 0, sizeof *r);
}

/* A manifest or index to PUT, as stored. */
struct pdoc
{
  char *body;
  size_t len;
  char digest[DIGEST_STR_LEN + 1];
  char *media_type;
  enum doc_kind kind;
};

static void
pdoc_release (struct pdoc *d)
{
  free (d->body);
  free (d->media_type);
  memset (d, 0, sizeof *d);
}

struct push
{
  const struct reg_push_source *src;
  const struct reg_push_opts *o;
  struct ref dest;
  struct pdoc top;   /* what the reference will point at */
  struct pdoc *mans; /* manifests, pushed before top (when top is an index) */
  size_t n_mans;
  struct reg_upload_job *jobs;
  char **job_paths;
  char ***job_mounts;
  size_t n_jobs;
};

static void
push_release (struct push *ps)
{
  pdoc_release (&ps->top);
  for (size_t i = 0; i < ps->n_mans; i++)
    pdoc_release (&ps->mans[i]);
  free (ps->mans);
  for (size_t i = 0; i < ps->n_jobs; i++)
    {
      free ((char *)ps->jobs[i].digest);
      reg_upload_job_release (&ps->jobs[i]);
      free (ps->job_paths[i]);
      strv_free (ps->job_mounts[i]);
    }
  free (ps->jobs);
  free (ps->job_paths);
  free (ps->job_mounts);
  ref_release (&ps->dest);
}

/* Read a document from the source, verified against its digest. */
static int
doc_read (struct push *ps, const char *digest, const char *media_type,
          struct pdoc *d, struct err **err)
{
  _cleanup_free_ char *path = NULL;
  char sbuf[20];
  memset (d, 0, sizeof *d);
  if (digest_check (digest, err) < 0)
    return -1;
  path = ps->src->blob_path (ps->src->ctx, digest);
  if (!path)
    return err_set (err, 0, "manifest %s is not in the store",
                    digest_short (digest, sbuf));
  if (fs_read_file (AT_FDCWD, path, MANIFEST_MAX_SIZE, &d->body, &d->len, err)
      < 0)
    return err_wrap (err, "manifest %s", digest_short (digest, sbuf));
  /* The identity of a document is the hash of its exact bytes. */
  digest_buf (d->body, d->len, d->digest);
  if (strcmp (d->digest, digest))
    return err_set (err, 0, "manifest %s is corrupt: its bytes hash to %s",
                    digest, d->digest);
  if (image_doc_kind (media_type, d->body, d->len, &d->kind, &d->media_type,
                      err)
      < 0)
    return err_wrap (err, "manifest %s", digest_short (digest, sbuf));
  return 0;
}

static bool
layer_is_foreign (const struct descriptor *l)
{
  return !strcmp (l->media_type, MT_DOCKER_LAYER_FOREIGN)
         || strstr (l->media_type, "nondistributable");
}

static int
add_blob (struct push *ps, const struct descriptor *d, bool may_skip,
          struct err **err)
{
  char *path;
  char sbuf[20];
  if (digest_check (d->digest, err) < 0)
    return -1;
  for (size_t i = 0; i < ps->n_jobs; i++)
    if (!strcmp (ps->jobs[i].digest, d->digest))
      return 0;
  path = ps->src->blob_path (ps->src->ctx, d->digest);
  if (!path)
    {
      if (may_skip)
        {
          /* docker pushes no foreign layer: the registry never had it. */
          log_info ("not pushing foreign layer %s", d->digest);
          return 0;
        }
      return err_set (err, 0, "blob %s is not in the store",
                      digest_short (d->digest, sbuf));
    }
  ps->jobs = xrealloc (ps->jobs, (ps->n_jobs + 1) * sizeof *ps->jobs);
  ps->job_paths
      = xrealloc (ps->job_paths, (ps->n_jobs + 1) * sizeof *ps->job_paths);
  ps->job_mounts
      = xrealloc (ps->job_mounts, (ps->n_jobs + 1) * sizeof *ps->job_mounts);
  memset (&ps->jobs[ps->n_jobs], 0, sizeof *ps->jobs);
  ps->jobs[ps->n_jobs].digest = xstrdup (d->digest);
  ps->jobs[ps->n_jobs].size = d->size;
  ps->jobs[ps->n_jobs].path = path;
  ps->job_paths[ps->n_jobs] = path;
  ps->job_mounts[ps->n_jobs] = NULL;
  ps->n_jobs++;
  return 0;
}

static int
add_manifest_blobs (struct push *ps, const struct pdoc *d, struct err **err)
{
  struct image_manifest m;
  char sbuf[20];
  int ret = 0;
  if (image_manifest_parse (d->body, d->len, &m, err) < 0)
    return err_wrap (err, "manifest %s", digest_short (d->digest, sbuf));
  if (m.config.size < 0 || m.config.size > (int64_t)CONFIG_MAX_SIZE)
    ret = err_set (err, 0, "config %s: bad size %lld", m.config.digest,
                   (long long)m.config.size);
  if (ret == 0)
    ret = add_blob (ps, &m.config, false, err);
  for (size_t i = 0; i < m.n_layers && ret == 0; i++)
    {
      if (m.layers[i].size < 0)
        ret = err_set (err, 0, "layer %s: bad size", m.layers[i].digest);
      else
        ret = add_blob (ps, &m.layers[i], layer_is_foreign (&m.layers[i]), err);
    }
  image_manifest_release (&m);
  return ret;
}

/* What to push: the manifests, their blobs, the top document. */
static int
push_plan (struct push *ps, const char *top_digest, const char *top_mt,
           struct err **err)
{
  const struct reg_push_opts *o = ps->o;
  if (doc_read (ps, top_digest, top_mt, &ps->top, err) < 0)
    return -1;
  if (ps->top.kind == DOC_MANIFEST)
    return add_manifest_blobs (ps, &ps->top, err);

  struct image_index ix;
  int ret = 0;
  if (image_index_parse (ps->top.body, ps->top.len, &ix, err) < 0)
    return -1;
  if (o->all)
    {
      ps->mans = xcalloc (ix.n_manifests + 1, sizeof *ps->mans);
      for (size_t i = 0; i < ix.n_manifests && ret == 0; i++)
        {
          const struct descriptor *e = &ix.manifests[i];
          struct pdoc *d = &ps->mans[ps->n_mans];
          _cleanup_free_ char *plat
              = e->has_platform ? platform_string (&e->platform) : NULL;
          _cleanup_free_ char *have
              = digest_is_sha256 (e->digest)
                    ? ps->src->blob_path (ps->src->ctx, e->digest)
                    : NULL;
          char sbuf[20];
          if (!have && digest_is_sha256 (e->digest))
            {
              ret = err_set (err, 0,
                             "manifest %s%s%s%s of the index is not in the "
                             "store (pull with --all-platforms first)",
                             digest_short (e->digest, sbuf), plat ? " (" : "",
                             plat ? plat : "", plat ? ")" : "");
              break;
            }
          ret = doc_read (ps, e->digest, e->media_type, d, err);
          if (ret == 0)
            ps->n_mans++;
          else
            break;
          if (d->kind != DOC_MANIFEST)
            ret = err_set (err, 0,
                           "manifest %s: an index inside an index is "
                           "not supported",
                           d->digest);
          else
            ret = add_manifest_blobs (ps, d, err);
        }
    }
  else
    {
      /* One platform's image, as skopeo and podman push by default. */
      struct platform want = { 0 };
      size_t chosen = 0;
      ret = o->platform ? platform_parse (o->platform, &want, err)
                        : (platform_host (&want), 0);
      if (ret == 0)
        ret = image_index_choose (&ix, &want, &chosen, err);
      if (ret == 0)
        {
          struct pdoc d;
          ret = doc_read (ps, ix.manifests[chosen].digest,
                          ix.manifests[chosen].media_type, &d, err);
          if (ret == 0 && d.kind != DOC_MANIFEST)
            ret = err_set (err, 0,
                           "an index inside an index is not "
                           "supported");
          pdoc_release (&ps->top);
          ps->top = d;
          if (ret == 0)
            ret = add_manifest_blobs (ps, &ps->top, err);
        }
      platform_release (&want);
    }
  image_index_release (&ix);
  return ret;
}

static int
put_manifest (struct reg_repo *repo, const char *reference,
              const struct pdoc *d, struct err **err)
{
  _cleanup_free_ char *path
      = xasprintf ("/v2/%s/manifests/%s", repo->path, reference);
  _cleanup_free_ char *ctype = xasprintf ("Content-Type: %s", d->media_type);
  char *hdrs[] = { ctype, NULL };
  struct http_request req = { .method = "PUT",
                              .url = path,
                              .headers = hdrs,
                              .body = d->body,
                              .body_len = d->len };
  struct http_response resp = { 0 };
  char sbuf[20];
  int ret = -1;
  log_debug ("PUT manifest %s as %s (%s)", d->digest, reference, d->media_type);
  if (reg_repo_do (repo, &req, &resp, err) < 0)
    goto out;
  if (resp.status != 201 && resp.status != 200 && resp.status != 202)
    {
      _cleanup_free_ char *t = upload_error_text (repo, &resp);
      if (resp.status == 401 || resp.status == 403)
        err_set (err, 0, "%s", t);
      else
        err_set (err, 0, "the registry refused manifest %s: %s",
                 digest_short (d->digest, sbuf), t);
      goto out;
    }
  if (resp.digest && *resp.digest && strcmp (resp.digest, d->digest))
    {
      err_set (err, 0, "the registry stored manifest %s as %s", d->digest,
               resp.digest);
      goto out;
    }
  ret = 0;
out:
  http_response_release (&resp);
  return ret;
}

/* Mount hints: the repositories of the destination's registry that hold
 * each blob; the token must then cover their pull scope too. */
static void
push_mounts (struct push *ps, struct reg_repo *repo)
{
  _cleanup_strv_ char **asked = NULL;
  for (size_t i = 0; i < ps->n_jobs; i++)
    {
      char **v = ps->o->hints ? reg_source_lookup (
                     ps->o->hints, ps->jobs[i].digest, ps->dest.domain)
                              : xcalloc (1, sizeof *v);
      if (ps->o->mount_from)
        strv_push (&v, xstrdup (ps->o->mount_from));
      ps->job_mounts[i] = v;
      ps->jobs[i].mount_from = v;
      /* The first other repository is the one tried. */
      for (char **m = v; *m; m++)
        {
          if (!strcmp (*m, repo->path))
            continue;
          bool seen = false;
          for (char **a = asked; a && *a; a++)
            seen |= !strcmp (*a, *m);
          if (!seen)
            {
              reg_repo_add_scope (repo, *m, "pull");
              strv_push (&asked, xstrdup (*m));
            }
          break;
        }
    }
}

/* One request before the uploads settle the scheme (HTTPS or an insecure
 * registry's HTTP) and the credentials, so the parallel requests do not
 * each meet the 401. */
static int
push_ping (struct reg_repo *repo, struct err **err)
{
  struct http_request req = { .url = "/v2/" };
  struct http_response resp = { 0 };
  int ret = 0;
  if (reg_repo_do (repo, &req, &resp, err) < 0)
    ret = -1;
  else if (resp.status == 401 || resp.status == 403)
    {
      _cleanup_free_ char *t = upload_error_text (repo, &resp);
      ret = err_set (err, 0, "%s", t);
    }
  else if (resp.status == 404)
    ret = err_set (err, 0, "%s is not a registry (GET /v2/: 404)", repo->host);
  http_response_release (&resp);
  return ret;
}

int
reg_push (const struct reg_push_source *src, const char *top_digest,
          const char *top_media_type, const char *dest,
          const struct reg_push_opts *o, struct reg_push_result *out,
          struct err **err)
{
  struct push ps = { .src = src, .o = o };
  struct reg_client c = { 0 };
  struct reg_client_opts co = { .config_path = o->config_path,
                                .no_tls_verify = o->no_tls_verify,
                                .cert_dir = o->cert_dir };
  struct reg_repo repo = { 0 };
  struct reg_upload_opts uo = { .jobs = o->jobs > 0 ? o->jobs : DEFAULT_JOBS,
                                .chunk_size = o->chunk_size,
                                .retries = -1 };
  struct progress *p = NULL;
  _cleanup_free_ char *name = NULL, *repo_name = NULL;
  const char *reference;
  bool have_client = false, have_repo = false;
  int ret = -1;

  memset (out, 0, sizeof *out);
  if (ref_parse (dest, &ps.dest, err) < 0)
    return err_wrap (err, "push '%s'", dest);
  name = ref_string (&ps.dest);
  repo_name = ref_name (&ps.dest);
  reference = ps.dest.tag ? ps.dest.tag : ps.dest.digest;

  if (push_plan (&ps, top_digest, top_media_type, err) < 0)
    goto out;
  if (ps.dest.digest && strcmp (ps.dest.digest, ps.top.digest))
    {
      err_set (err, 0,
               "the image is %s, not the digest the destination "
               "names",
               ps.top.digest);
      goto out;
    }
  if (reg_client_init (&c, &co, err) < 0)
    goto out;
  have_client = true;
  if (reg_repo_init (&repo, &c, ref_api_host (&ps.dest), ps.dest.domain,
                     ps.dest.path, "pull,push", err)
      < 0)
    goto out;
  have_repo = true;
  push_mounts (&ps, &repo);
  if (push_ping (&repo, err) < 0)
    goto out;

  p = progress_new (o->out ? o->out : stdout, o->quiet, "Pushing");
  progress_line (p, "The push refers to repository [%s]", repo_name);
  if (reg_blobs_upload (&repo, ps.jobs, ps.n_jobs, &uo, p, err) < 0)
    goto out;
  for (size_t i = 0; i < ps.n_mans; i++)
    if (put_manifest (&repo, ps.mans[i].digest, &ps.mans[i], err) < 0)
      goto out;
  if (put_manifest (&repo, reference, &ps.top, err) < 0)
    goto out;

  for (size_t i = 0; i < ps.n_jobs; i++)
    {
      struct err *e = NULL;
      switch (ps.jobs[i].result)
        {
        case UPLOAD_PUSHED:
          out->pushed++;
          break;
        case UPLOAD_MOUNTED:
          out->mounted++;
          break;
        case UPLOAD_EXISTS:
          out->existed++;
          break;
        default:
          break;
        }
      if (o->hints
          && reg_source_record (o->hints, ps.jobs[i].digest, ps.dest.domain,
                                ps.dest.path, &e)
                 < 0)
        {
          log_debug ("record the source of %s: %s", ps.jobs[i].digest, e->msg);
          err_free (e);
        }
    }
  out->name = xstrdup (name);
  out->reference = xstrdup (reference);
  out->digest = xstrdup (ps.top.digest);
  out->media_type = xstrdup (ps.top.media_type);
  out->size = (int64_t)ps.top.len;
  ret = 0;
out:
  if (ret < 0)
    err_wrap (err, "push '%s'", name);
  progress_free (p);
  if (have_repo)
    reg_repo_release (&repo);
  if (have_client)
    reg_client_release (&c);
  push_release (&ps);
  return ret;
}
