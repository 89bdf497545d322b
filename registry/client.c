/* Pull over the store API: see registry/client.h. */
#include "registry/client.h"
#include "layers/digest.h"
#include "layers/image.h"
#include "layers/image_store.h"
#include "lib/err.h"
#include "lib/log.h"
#include "lib/progress.h"
#include "lib/xalloc.h"
#include "registry/partial.h"
#include "registry/ref.h"
#include "registry/session.h"
#include "registry/sources.h"

#include <string.h>

#define DEFAULT_JOBS 4

/* A manifest or index fetched (or read from the store), kept in memory
 * until everything it names is in the store. */
struct doc
{
  char *body;
  size_t len;
  char digest[DIGEST_STR_LEN + 1];
  char *media_type;
  enum doc_kind kind;
  bool stored; /* already a blob in the store */
};

static void
doc_release (struct doc *d)
{
  free (d->body);
  free (d->media_type);
  memset (d, 0, sizeof *d);
}

void
reg_pull_result_release (struct reg_pull_result *r)
{
  free (r->name);
  store_ref_release (&r->top);
  store_ref_release (&r->manifest);
  memset (r, 0, sizeof *r);
}

/* GET (or HEAD) a manifest by tag or digest. */
static int
manifest_request (struct reg_repo *repo, const char *method,
                  const char *reference, struct http_response *resp,
                  struct err **err)
{
  _cleanup_free_ char *path
      = xasprintf ("/v2/%s/manifests/%s", repo->path, reference);
  struct http_request req = { .method = method,
                              .url = path,
                              .accept = MANIFEST_ACCEPT,
                              .max_body = MANIFEST_MAX_SIZE };
  if (reg_repo_do (repo, &req, resp, err) < 0)
    return -1;
  if (resp->status != 200)
    {
      _cleanup_free_ char *t = reg_repo_denied_text (repo, resp);
      if (resp->status == 404)
        return err_set (err, 0, "manifest '%s' not found in %s/%s: %s",
                        reference, repo->host, repo->path, t);
      return err_set (err, 0, "fetch manifest '%s': %s", reference, t);
    }
  return 0;
}

/* The document with this digest: from the store if there, else fetched
 * and checked against the digest (and size when known). */
static int
doc_get (struct store *s, struct reg_repo *repo, const char *reference,
         const char *expect, int64_t size, struct doc *d, struct err **err)
{
  _cleanup_free_ char *ctype = NULL;
  memset (d, 0, sizeof *d);
  if (expect && digest_check (expect, err) < 0)
    return -1;
  if (size > (int64_t)MANIFEST_MAX_SIZE)
    return err_set (err, 0, "manifest %s is too large (%lld bytes)", expect,
                    (long long)size);
  if (expect && store_has_blob (s, expect))
    {
      if (store_blob_read (s, expect, MANIFEST_MAX_SIZE, &d->body, &d->len, err)
          < 0)
        return -1;
      d->stored = true;
    }
  else
    {
      struct http_response resp = { 0 };
      if (manifest_request (repo, NULL, expect ? expect : reference, &resp, err)
          < 0)
        {
          http_response_release (&resp);
          return -1;
        }
      d->len = resp.body.len;
      d->body = strbuf_detach (&resp.body, NULL);
      ctype = steal_pointer (&resp.content_type);
      http_response_release (&resp);
    }
  /* The identity of a document is the hash of its exact bytes. */
  digest_buf (d->body, d->len, d->digest);
  if (expect && strcmp (expect, d->digest))
    return err_set (err, 0, "manifest digest mismatch: expected %s, got %s",
                    expect, d->digest);
  if (size >= 0 && (size_t)size != d->len)
    return err_set (err, 0,
                    "manifest %s has %zu bytes, its descriptor says %lld",
                    expect, d->len, (long long)size);
  return image_doc_kind (ctype, d->body, d->len, &d->kind, &d->media_type, err);
}

static bool
layer_is_foreign (const struct descriptor *l)
{
  return !strcmp (l->media_type, MT_DOCKER_LAYER_FOREIGN)
         || strstr (l->media_type, "nondistributable");
}

struct pull
{
  struct store *s;
  const struct reg_pull_opts *o;
  struct ref *r;
  const char *name;
  struct progress *p;
  struct doc top;
  struct doc *mans;
  size_t n_mans;
  struct image_manifest *parsed;
  struct reg_blob_job *cfg_jobs; /* configs: fetched first */
  size_t n_cfg_jobs;
  struct reg_blob_job *jobs; /* layers */
  size_t n_jobs;
  struct descriptor **job_layer;      /* the layer each job is */
  size_t chosen;                      /* index in mans of the platform's one */
  const char *endpoint, *cred_domain; /* of the source being tried */
};

static void
pull_release (struct pull *pl)
{
  doc_release (&pl->top);
  for (size_t i = 0; i < pl->n_mans; i++)
    {
      doc_release (&pl->mans[i]);
      image_manifest_release (&pl->parsed[i]);
    }
  free (pl->mans);
  free (pl->parsed);
  free (pl->cfg_jobs);
  free (pl->jobs);
  free (pl->job_layer);
  pl->mans = NULL;
  pl->parsed = NULL;
  pl->cfg_jobs = pl->jobs = NULL;
  pl->job_layer = NULL;
  pl->n_mans = pl->n_cfg_jobs = pl->n_jobs = 0;
}

static void
add_job (struct reg_blob_job **jobs, size_t *n, const struct descriptor *d)
{
  for (size_t i = 0; i < *n; i++)
    if (!strcmp ((*jobs)[i].digest, d->digest))
      return;
  *jobs = xrealloc (*jobs, (*n + 1) * sizeof **jobs);
  memset (&(*jobs)[*n], 0, sizeof **jobs);
  (*jobs)[*n].digest = d->digest;
  (*jobs)[*n].size = d->size;
  (*jobs)[*n].media_type = d->media_type;
  (*n)++;
}

static void
add_layer_job (struct pull *pl, struct descriptor *layer)
{
  size_t n = pl->n_jobs;
  add_job (&pl->jobs, &pl->n_jobs, layer);
  if (pl->n_jobs == n)
    return; /* the same blob twice */
  pl->job_layer = xrealloc (pl->job_layer, pl->n_jobs * sizeof *pl->job_layer);
  pl->job_layer[n] = layer;
}

static int
add_manifest (struct pull *pl, struct reg_repo *repo, const char *reference,
              const struct descriptor *desc, struct doc *given,
              struct err **err)
{
  struct doc *d;
  struct image_manifest *m;
  char sbuf[20];
  pl->mans = xrealloc (pl->mans, (pl->n_mans + 1) * sizeof *pl->mans);
  pl->parsed = xrealloc (pl->parsed, (pl->n_mans + 1) * sizeof *pl->parsed);
  d = &pl->mans[pl->n_mans];
  m = &pl->parsed[pl->n_mans];
  memset (m, 0, sizeof *m);
  if (given)
    *d = *given, memset (given, 0, sizeof *given);
  else if (doc_get (pl->s, repo, reference, desc->digest, desc->size, d, err)
           < 0)
    {
      doc_release (d);
      return err_wrap (err, "manifest %s", digest_short (desc->digest, sbuf));
    }
  pl->n_mans++;
  if (d->kind != DOC_MANIFEST)
    return err_set (err, 0,
                    "manifest %s: an index inside an index is not "
                    "supported",
                    d->digest);
  if (image_manifest_parse (d->body, d->len, m, err) < 0)
    return err_wrap (err, "manifest %s", digest_short (d->digest, sbuf));
  if (digest_check (m->config.digest, err) < 0)
    return err_wrap (err, "config of manifest %s",
                     digest_short (d->digest, sbuf));
  if (m->config.size < 0 || m->config.size > (int64_t)CONFIG_MAX_SIZE)
    return err_set (err, 0, "config %s: bad size %lld", m->config.digest,
                    (long long)m->config.size);
  add_job (&pl->cfg_jobs, &pl->n_cfg_jobs, &m->config);
  for (size_t i = 0; i < m->n_layers; i++)
    {
      if (layer_is_foreign (&m->layers[i]))
        {
          log_info ("skipping foreign layer %s", m->layers[i].digest);
          continue;
        }
      if (digest_check (m->layers[i].digest, err) < 0)
        return err_wrap (err, "layer %zu of manifest %s", i,
                         digest_short (d->digest, sbuf));
      int deferred = pl->o->defer
                         ? pl->o->defer (pl->o->defer_ud, repo, pl->endpoint,
                                         pl->cred_domain, &m->layers[i], err)
                         : 0;
      if (deferred < 0)
        return -1;
      if (!deferred)
        add_layer_job (pl, &m->layers[i]);
    }
  return 0;
}

/* The config of the one manifest pulled, parsed, when the caller unpacks
 * layers: 0 and *c filled, 1 when there is nothing to unpack. */
static int
load_config (struct pull *pl, struct image_config *c, struct err **err)
{
  _cleanup_free_ char *body = NULL;
  const struct image_manifest *m;
  size_t len;
  if (!pl->o->sink_open && !pl->o->layers_done)
    return 1;
  if (pl->o->all_platforms || pl->n_mans != 1)
    return 1;
  m = &pl->parsed[0];
  if (store_blob_read (pl->s, m->config.digest, CONFIG_MAX_SIZE, &body, &len,
                       err)
          < 0
      || image_config_parse (body, len, c, err) < 0)
    return err_wrap (err, "config %s", m->config.digest);
  return 0;
}

/* The chain IDs of the one manifest's layers, or NULL when the config
 * does not match it (layers_done reports that) or a layer is foreign. */
static char **
layer_chain (struct pull *pl, const struct image_config *c)
{
  const struct image_manifest *m = &pl->parsed[0];
  if (strv_len (c->diff_ids) != m->n_layers)
    return NULL;
  for (size_t i = 0; i < m->n_layers; i++)
    if (layer_is_foreign (&m->layers[i]) || !digest_is_sha256 (c->diff_ids[i]))
      return NULL;
  return image_chain_ids (c->diff_ids);
}

/* Open a sink for each layer job (all of one manifest). Nothing is opened
 * when the config does not match the manifest: layers_done reports it. */
static int
open_sinks (struct pull *pl, const struct image_config *c, struct err **err)
{
  const struct image_manifest *m = &pl->parsed[0];
  _cleanup_strv_ char **chain = NULL;
  if (!pl->o->sink_open || !(chain = layer_chain (pl, c)))
    return 0;
  for (size_t i = 0; i < pl->n_jobs; i++)
    {
      size_t at = (size_t)(pl->job_layer[i] - m->layers);
      struct reg_layer l = { .desc = pl->job_layer[i],
                             .index = at,
                             .diff_id = c->diff_ids[at],
                             .chain_id = chain[at] };
      if (pl->o->sink_open (pl->o->sink_ud, &l, &pl->jobs[i].sink, err) < 0)
        return -1;
    }
  return 0;
}

/* Layers with a zstd:chunked TOC, in part (registry/partial.h), when the
 * caller unpacks: those made leave the job list. With the reverse set,
 * after the pull: the files of the layers pulled whole go into the file
 * cache. */
static int
partial_layers (struct pull *pl, struct reg_repo *repo,
                const struct image_config *c, bool after, struct err **err)
{
  const struct image_manifest *m = &pl->parsed[0];
  _cleanup_strv_ char **chain = NULL;
  size_t k = 0;
  if (!pl->o->layers_done || !(chain = layer_chain (pl, c)))
    return 0;
  if (after)
    {
      for (size_t i = 0; i < m->n_layers; i++)
        reg_partial_remember (pl->s, &m->layers[i], chain[i]);
      return 0;
    }
  for (size_t i = 0; i < pl->n_jobs; i++)
    {
      size_t at = (size_t)(pl->job_layer[i] - m->layers);
      int r = reg_partial_layer (repo, pl->s, pl->job_layer[i], c->diff_ids[at],
                                 chain[at], pl->p, err);
      if (r < 0)
        return err_wrap (err, "layer %zu (%s)", at + 1,
                         pl->job_layer[i]->digest);
      if (r == 0)
        continue;
      pl->jobs[k] = pl->jobs[i];
      pl->job_layer[k++] = pl->job_layer[i];
    }
  pl->n_jobs = k;
  return 0;
}

/* Configs first (small; their diff_ids name the snapshots), then the
 * layers, each watched by its sink, then the layers_done hook. */
static int
fetch_blobs (struct pull *pl, struct reg_repo *repo, struct err **err)
{
  struct image_config c = { 0 };
  int jobs = pl->o->jobs > 0 ? pl->o->jobs : DEFAULT_JOBS;
  int have_config, ret = -1;
  if (reg_blobs_fetch (repo, pl->s, pl->cfg_jobs, pl->n_cfg_jobs, jobs, pl->p,
                       err)
      < 0)
    return -1;
  if ((have_config = load_config (pl, &c, err)) < 0)
    return -1;
  if (have_config == 0 && partial_layers (pl, repo, &c, false, err) < 0)
    goto out;
  if (have_config == 0 && open_sinks (pl, &c, err) < 0)
    goto out;
  if (reg_blobs_fetch (repo, pl->s, pl->jobs, pl->n_jobs, jobs, pl->p, err) < 0)
    goto out;
  if (have_config == 0 && pl->o->layers_done
      && pl->o->layers_done (pl->o->sink_ud, &pl->parsed[0], &c, err) < 0)
    goto out;
  if (have_config == 0)
    partial_layers (pl, repo, &c, true, err);
  ret = 0;
out:
  image_config_release (&c);
  return ret;
}

/* Everything from one endpoint (a mirror or the registry). */
static int
pull_from (struct pull *pl, struct reg_client *c, const char *endpoint,
           const char *cred_domain, struct err **err)
{
  struct reg_repo repo;
  struct store_ref existing = { 0 };
  const char *reference = pl->r->digest ? pl->r->digest : pl->r->tag;
  _cleanup_free_ char *head_digest = NULL;
  int have_ref, ret = -1;

  if (reg_repo_init (&repo, c, endpoint, cred_domain, pl->r->path, "pull", err)
      < 0)
    return -1;
  pl->endpoint = endpoint;
  pl->cred_domain = cred_domain;
  have_ref = store_ref_get (pl->s, pl->name, &existing, err);
  if (have_ref < 0)
    goto out;
  if (!pl->r->digest && have_ref == 0)
    {
      /* A HEAD tells the digest; if the store has that document the GET
       * (which Docker Hub counts against the rate limit) is saved. */
      struct http_response resp = { 0 };
      if (manifest_request (&repo, "HEAD", reference, &resp, err) < 0)
        {
          http_response_release (&resp);
          goto out;
        }
      if (resp.digest && digest_is_sha256 (resp.digest)
          && store_has_blob (pl->s, resp.digest))
        head_digest = xstrdup (resp.digest);
      http_response_release (&resp);
    }
  if (doc_get (pl->s, &repo, reference,
               pl->r->digest ? pl->r->digest : head_digest, -1, &pl->top, err)
      < 0)
    goto out;

  if (pl->top.kind == DOC_INDEX)
    {
      struct image_index ix = { 0 };
      struct platform want = { 0 };
      size_t chosen = 0;
      if (image_index_parse (pl->top.body, pl->top.len, &ix, err) < 0)
        goto out;
      if (pl->o->all_platforms)
        {
          for (size_t i = 0; i < ix.n_manifests; i++)
            {
              const char *mt = ix.manifests[i].media_type;
              if (strcmp (mt, MT_OCI_MANIFEST)
                  && strcmp (mt, MT_DOCKER_MANIFEST))
                continue; /* unknown entries are skipped, not errors */
              if (add_manifest (pl, &repo, reference, &ix.manifests[i], NULL,
                                err)
                  < 0)
                break;
            }
        }
      else
        {
          int r = pl->o->platform ? platform_parse (pl->o->platform, &want, err)
                                  : (platform_host (&want), 0);
          if (r == 0 && image_index_choose (&ix, &want, &chosen, err) == 0)
            add_manifest (pl, &repo, reference, &ix.manifests[chosen], NULL,
                          err);
        }
      platform_release (&want);
      image_index_release (&ix);
      if (*err)
        goto out;
    }
  else if (add_manifest (pl, &repo, reference, NULL, &pl->top, err) < 0)
    goto out;
  else
    {
      /* The top document is the manifest itself. */
      pl->top = pl->mans[0];
      pl->top.body = xmalloc (pl->mans[0].len + 1);
      memcpy (pl->top.body, pl->mans[0].body, pl->mans[0].len);
      pl->top.media_type = xstrdup (pl->mans[0].media_type);
    }

  /* The policy decides on the digests, before any blob is fetched. */
  if (pl->o->verify
      && pl->o->verify (pl->o->verify_ud, &repo, pl->name, pl->top.digest,
                        pl->top.kind == DOC_INDEX && pl->n_mans == 1
                            ? pl->mans[0].digest
                            : NULL,
                        err)
             < 0)
    goto out;
  if (fetch_blobs (pl, &repo, err) < 0)
    goto out;
  ret = 0;
out:
  store_ref_release (&existing);
  reg_repo_release (&repo);
  return ret;
}

static int
store_docs (struct pull *pl, struct err **err)
{
  /* Children first, then the top: a reader never meets a document whose
   * manifests are missing. */
  for (size_t i = 0; i < pl->n_mans; i++)
    if (!pl->mans[i].stored
        && store_blob_put (pl->s, pl->mans[i].body, pl->mans[i].len,
                           pl->mans[i].digest, NULL, err)
               < 0)
      return -1;
  if (!pl->top.stored
      && store_blob_put (pl->s, pl->top.body, pl->top.len, pl->top.digest, NULL,
                         err)
             < 0)
    return -1;
  return 0;
}

int
reg_pull (struct store *s, const struct reg_pull_opts *o, const char *refstr,
          struct reg_pull_result *out, struct err **err)
{
  struct ref r = { 0 };
  struct reg_client c;
  struct reg_client_opts co = { 0 };
  struct store_ref before = { 0 };
  struct pull pl = { 0 };
  _cleanup_free_ char *name = NULL, *familiar = NULL;
  _cleanup_close_ int guard = -1;
  char *const *mirrors;
  _cleanup_err_ struct err *mirror_answer = NULL;
  FILE *outf = o->out ? o->out : stdout;
  bool fetched = false, changed;
  int had, ret = -1;

  memset (out, 0, sizeof *out);
  if (ref_parse (refstr, &r, err) < 0)
    return -1;
  name = ref_string (&r);
  familiar = ref_familiar (&r);
  co.config_path = o->config_path;
  co.no_tls_verify = o->no_tls_verify;
  co.cert_dir = o->cert_dir;
  if (reg_client_init (&c, &co, err) < 0)
    {
      ref_release (&r);
      return err_wrap (err, "pull '%s'", name);
    }
  /* Blobs written before the ref is set must not be pruned meanwhile. */
  guard = store_writer_guard (s, err);
  if (guard < 0)
    goto out;
  had = store_ref_get (s, name, &before, err);
  if (had < 0)
    goto out;

  pl.s = s;
  pl.o = o;
  pl.r = &r;
  pl.name = name;
  pl.p = progress_new (outf, o->quiet, "Downloading");
  progress_line (pl.p, "%s: Pulling from %s", r.digest ? r.digest : r.tag,
                 r.path);
  mirrors = reg_config_mirrors (&c.cfg, r.domain);
  for (char *const *m = mirrors;; m++)
    {
      const char *endpoint = m && *m ? *m : ref_api_host (&r);
      bool is_mirror = m && *m;
      _cleanup_free_ char *mhost = is_mirror ? http_url_host (*m) : NULL;
      struct err *e = NULL;
      if (pull_from (&pl, &c, endpoint, is_mirror ? mhost : r.domain, &e) == 0)
        break;
      if (!is_mirror)
        {
          /* Behind a mirror that answered (a mistyped name: manifest
           * unknown), a registry that cannot be reached says less than the
           * mirror did: report the mirror's answer. */
          if (e->unreachable && mirror_answer)
            {
              log_info ("%s: %s", ref_api_host (&r), e->msg);
              err_free (e);
              *err = steal_pointer (&mirror_answer);
              char *msg = xasprintf ("%s (%s itself cannot be reached)",
                                     (*err)->msg, r.domain);
              free ((*err)->msg);
              (*err)->msg = msg;
            }
          else
            *err = e;
          goto out;
        }
      /* A mirror that is down or lacks the image: try the next, then the
       * registry itself. */
      log_info ("mirror %s: %s; trying the next source", *m, e->msg);
      if (!e->unreachable && !mirror_answer)
        {
          mirror_answer = e;
          err_wrap (&mirror_answer, "mirror %s", *m);
        }
      else
        err_free (e);
      pull_release (&pl);
      if (!m)
        break;
    }
  if (store_docs (&pl, err) < 0)
    goto out;
  /* Where the blobs came from, so a push to this registry can mount them. */
  reg_sources_record_pull (s, r.domain, r.path, pl.jobs, pl.n_jobs);
  reg_sources_record_pull (s, r.domain, r.path, pl.cfg_jobs, pl.n_cfg_jobs);
  for (size_t i = 0; i < pl.n_jobs; i++)
    fetched |= pl.jobs[i].fetched;
  for (size_t i = 0; i < pl.n_cfg_jobs; i++)
    fetched |= pl.cfg_jobs[i].fetched;
  changed = had != 0 || strcmp (before.digest, pl.top.digest);
  if (store_ref_set (s, name, pl.top.media_type, pl.top.digest,
                     (int64_t)pl.top.len, err)
      < 0)
    goto out;

  out->name = xstrdup (name);
  out->top.name = xstrdup (name);
  out->top.media_type = xstrdup (pl.top.media_type);
  out->top.digest = xstrdup (pl.top.digest);
  out->top.size = (int64_t)pl.top.len;
  if (pl.n_mans)
    {
      struct doc *m = &pl.mans[0];
      if (!o->all_platforms || pl.top.kind != DOC_INDEX)
        m = &pl.mans[pl.chosen];
      out->manifest.name = xstrdup (name);
      out->manifest.media_type = xstrdup (m->media_type);
      out->manifest.digest = xstrdup (m->digest);
      out->manifest.size = (int64_t)m->len;
    }
  out->updated = fetched || changed;
  ret = 0;
out:
  if (ret < 0)
    err_wrap (err, "pull '%s'", familiar ? familiar : refstr);
  progress_free (pl.p);
  pull_release (&pl);
  store_ref_release (&before);
  reg_client_release (&c);
  ref_release (&r);
  return ret;
}
