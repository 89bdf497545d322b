/* --cache-to: the records of this build's steps and the layers they name,
 * as an OCI artifact (the format is in build_int.h) pushed to a registry
 * or written to an OCI layout directory, after the image is stored.
 *
 * mode=min exports the steps of the final image's stages (the target and
 * the stages it is built FROM); mode=max every stage's, as BuildKit's.
 * A push mounts a blob from another repository of the registry where the
 * store knows it is (registry/sources.h), and skips one already there. A
 * failure is an error after the build (the image is stored and tagged),
 * as with docker buildx; ignore-error=true makes it a warning. */
#include "builder/build_int.h"
#include "layers/image.h"
#include "layers/ocidir.h"
#include "layers/store.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "registry/push.h"

#include <fcntl.h>
#include <string.h>

void
build_cache_note (struct build *b, const struct build_state *st,
                  const char *key, const struct build_cache_rec *rec)
{
  if (!b->export_all || st < b->stages || st >= b->stages + b->plan->n_stages)
    return;
  json_t *j = build_cache_rec_json (rec);
  json_object_set (b->export_all, key, j);
  if (b->min_stage[st - b->stages])
    json_object_set (b->export_min, key, j);
  json_decref (j);
}

/* The artifact's two documents, written under the build's temp dir. */
struct artifact
{
  char config_digest[DIGEST_STR_LEN + 1];
  char manifest_digest[DIGEST_STR_LEN + 1];
  char *config_path, *manifest_path;
  int64_t manifest_size;
  struct build_layer *layers; /* borrowed from the records' JSON */
  size_t n_layers;
  struct store *store;
};

static void
artifact_release (struct artifact *a)
{
  free (a->config_path);
  free (a->manifest_path);
  free (a->layers);
}

static int
write_doc (struct build *b, json_t *j, const char *name, char *digest,
           char **path, int64_t *size, struct err **err)
{
  char *text = json_dumps (j, JSON_COMPACT | JSON_SORT_KEYS);
  size_t len = strlen (text);
  digest_buf (text, len, digest);
  *path = xasprintf ("%s/%s", b->tmp, name);
  int r = fs_write_file_atomic (AT_FDCWD, *path, text, len, 0644, err);
  free (text);
  if (size)
    *size = (int64_t)len;
  return r;
}

static int
artifact_make (struct build *b, json_t *recs, struct artifact *a,
               struct err **err)
{
  json_t *layers = json_array ();
  const char *key;
  json_t *v;
  int ret = -1;
  memset (a, 0, sizeof *a);
  a->store = b->store;
  a->layers = xcalloc (json_object_size (recs) + 1, sizeof *a->layers);
  json_object_foreach (recs, key, v)
  {
    json_t *l = json_object_get (v, "layer");
    const char *dg = json_string_value (json_object_get (l, "digest"));
    bool dup = !dg;
    for (size_t i = 0; i < a->n_layers && !dup; i++)
      dup = !strcmp (a->layers[i].digest, dg);
    if (dup)
      continue;
    struct build_layer *bl = &a->layers[a->n_layers++];
    *bl = (struct build_layer){
      (char *)dg, (char *)json_string_value (json_object_get (l, "diff_id")),
      (char *)json_string_value (json_object_get (l, "mediaType")),
      json_integer_value (json_object_get (l, "size"))
    };
    json_array_append_new (
        layers,
        json_pack ("{s:s,s:s,s:I,s:{s:s}}", "mediaType", bl->media_type,
                   "digest", bl->digest, "size", (json_int_t)bl->size,
                   "annotations", "containerd.io/uncompressed", bl->diff_id));
  }
  /* a layer a hit of --cache-from named but no step needed yet */
  if (build_remote_fetch (b, a->layers, a->n_layers, err) < 0)
    goto out;
  for (size_t i = 0; i < a->n_layers; i++)
    if (!store_has_blob (b->store, a->layers[i].digest))
      {
        err_set (err, 0, "layer %s is not in the store", a->layers[i].digest);
        goto out;
      }
  json_t *cfg = json_pack ("{s:O}", "records", recs);
  int64_t csize = 0;
  int r = write_doc (b, cfg, "cache-config.json", a->config_digest,
                     &a->config_path, &csize, err);
  json_decref (cfg);
  if (r < 0)
    goto out;
  json_t *m = json_pack ("{s:i,s:s,s:s,s:{s:s,s:s,s:I},s:O}", "schemaVersion",
                         2, "mediaType", MT_OCI_MANIFEST, "artifactType",
                         BUILD_CACHE_MT, "config", "mediaType", BUILD_CACHE_MT,
                         "digest", a->config_digest, "size", (json_int_t)csize,
                         "layers", layers);
  r = write_doc (b, m, "cache-manifest.json", a->manifest_digest,
                 &a->manifest_path, &a->manifest_size, err);
  json_decref (m);
  ret = r;
out:
  json_decref (layers);
  return ret;
}

static char *
artifact_blob_path (void *ctx, const char *digest)
{
  struct artifact *a = ctx;
  if (!strcmp (digest, a->config_digest))
    return xstrdup (a->config_path);
  if (!strcmp (digest, a->manifest_digest))
    return xstrdup (a->manifest_path);
  return store_has_blob (a->store, digest) ? store_blob_path (a->store, digest)
                                           : NULL;
}

static int
write_local (const struct build_cache_spec *sp, struct artifact *a,
             struct err **err)
{
  struct ocidir od;
  int ret = 0;
  if (ocidir_open (&od, sp->dir, true, err) < 0)
    return -1;
  /* children before the document that names them */
  for (size_t i = 0; i < a->n_layers && ret == 0; i++)
    {
      _cleanup_free_ char *p = store_blob_path (a->store, a->layers[i].digest);
      ret = ocidir_put_file (&od, a->layers[i].digest, p, err);
    }
  if (ret == 0)
    ret = ocidir_put_file (&od, a->config_digest, a->config_path, err);
  if (ret == 0)
    ret = ocidir_put_file (&od, a->manifest_digest, a->manifest_path, err);
  if (ret == 0)
    ret = ocidir_set_ref (&od, sp->tag, MT_OCI_MANIFEST, a->manifest_digest,
                          a->manifest_size, err);
  ocidir_release (&od);
  return ret;
}

static int
export_one (struct build *b, const struct build_cache_spec *sp,
            struct err **err)
{
  struct artifact a;
  json_t *recs = sp->max ? b->export_all : b->export_min;
  int ret = artifact_make (b, recs, &a, err);
  if (ret == 0 && sp->type == BUILD_CACHE_LOCAL)
    ret = write_local (sp, &a, err);
  else if (ret == 0)
    {
      struct reg_push_source src = { &a, artifact_blob_path };
      struct reg_push_opts po = { .config_path = b->o->config_path,
                                  .no_tls_verify = b->o->no_tls_verify,
                                  .quiet = true,
                                  .hints = b->store };
      struct reg_push_result res = { 0 };
      ret = reg_push (&src, a.manifest_digest, MT_OCI_MANIFEST, sp->ref, &po,
                      &res, err);
      reg_push_result_release (&res);
    }
  if (ret == 0 && !b->o->quiet)
    fprintf (b->out, "--> cache exported to %s (%zu steps, %zu layers)\n",
             sp->type == BUILD_CACHE_LOCAL ? sp->dir : sp->ref,
             json_object_size (recs), a.n_layers);
  artifact_release (&a);
  return ret;
}

int
build_cache_export (struct build *b, struct err **err)
{
  for (size_t i = 0; i < b->o->n_cache_to; i++)
    {
      const struct build_cache_spec *sp = &b->o->cache_to[i];
      if (export_one (b, sp, err) == 0)
        continue;
      err_wrap (err, "--cache-to '%s'",
                sp->type == BUILD_CACHE_LOCAL ? sp->dir : sp->ref);
      if (!sp->ignore_error)
        return -1;
      log_warn ("%s", (*err)->msg);
      err_free (*err);
      *err = NULL;
    }
  return 0;
}
