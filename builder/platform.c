/* Multi-platform builds: --platform a,b builds the Buildfile once per
 * platform (each a whole build, its FROM images chosen for that platform)
 * and names an OCI index of the results, as BuildKit and buildah do; and
 * the check a RUN makes that the kernel can run its stage's executables
 * (qemu-user through binfmt_misc, runtime/binfmt.h). */
#include "builder/build_int.h"
#include "layers/image.h"
#include "layers/image_store.h"
#include "layers/store.h"
#include "lib/err.h"
#include "lib/xalloc.h"
#include "runtime/binfmt.h"

#include <string.h>
#include <unistd.h>

int
build_platform_check_run (const struct build_state *st, struct err **err)
{
  const char *os = json_string_value (json_object_get (st->doc, "os"));
  const char *arch
      = json_string_value (json_object_get (st->doc, "architecture"));
  return rt_binfmt_check (os, arch, err);
}

bool
build_platform_is_list (const char *spec)
{
  return spec && strchr (spec, ',');
}

/* "linux/amd64, linux/arm64/v8" -> parsed, normalised, once each */
static int
parse_list (const char *spec, struct platform **out, size_t *n,
            struct err **err)
{
  _cleanup_free_ char *copy = xstrdup (spec);
  char *save = NULL;
  *out = NULL;
  *n = 0;
  for (char *t = strtok_r (copy, ",", &save); t;
       t = strtok_r (NULL, ",", &save))
    {
      struct platform p;
      t += strspn (t, " ");
      t[strcspn (t, " ")] = '\0';
      if (platform_parse (t, &p, err) < 0)
        return err_wrap (err, "--platform '%s'", spec);
      _cleanup_free_ char *ps = platform_string (&p);
      for (size_t i = 0; i < *n; i++)
        {
          _cleanup_free_ char *qs = platform_string (&(*out)[i]);
          if (!strcmp (ps, qs))
            {
              platform_release (&p);
              return err_set (err, 0, "--platform '%s': '%s' is given twice",
                              spec, ps);
            }
        }
      *out = xrealloc (*out, (*n + 1) * sizeof **out);
      (*out)[(*n)++] = p;
    }
  if (!*n)
    return err_set (err, 0, "--platform '%s': no platform", spec);
  return 0;
}

static json_t *
index_entry (const struct platform *p, const struct build_result *r)
{
  json_t *plat = json_pack ("{s:s, s:s}", "architecture", p->arch, "os", p->os);
  if (p->variant)
    json_object_set_new (plat, "variant", json_string (p->variant));
  return json_pack ("{s:s, s:s, s:I, s:o}", "mediaType", MT_OCI_MANIFEST,
                    "digest", r->manifest_digest, "size",
                    (json_int_t)r->manifest_size, "platform", plat);
}

static int
name_index (struct store *s, const struct build_opts *o,
            struct build_result *out, struct err **err)
{
  for (size_t i = 0; o->tags && o->tags[i]; i++)
    if (store_ref_set (s, o->tags[i], MT_OCI_INDEX, out->manifest_digest,
                       out->manifest_size, err)
        < 0)
      return -1;
  if (o->tags && o->tags[0])
    return 0;
  _cleanup_free_ char *name = xasprintf (BUILD_UNTAGGED_REPO ":%.12s",
                                         digest_hex (out->manifest_digest));
  return store_ref_set (s, name, MT_OCI_INDEX, out->manifest_digest,
                        out->manifest_size, err);
}

int
build_run_platforms (struct store *s, const struct build_opts *o,
                     struct build_result *out, struct err **err)
{
  struct platform *ps = NULL;
  size_t n = 0;
  json_t *manifests = json_array ();
  _cleanup_close_ int guard = -1;
  _cleanup_free_ char *bytes = NULL;
  json_t *ix;
  int ret = -1;

  memset (out, 0, sizeof *out);
  if (parse_list (o->platform, &ps, &n, err) < 0)
    goto out;
  if (o->output.type != BUILD_OUT_NONE)
    {
      err_set (err, 0, "--output with several platforms is not supported");
      goto out;
    }
  /* held until the index is named: prune keeps what each part wrote */
  guard = store_writer_guard (s, err);
  if (guard < 0)
    goto out;
  for (size_t i = 0; i < n; i++)
    {
      _cleanup_free_ char *p = platform_string (&ps[i]);
      struct build_opts po = *o;
      struct build_result r;
      po.platform = p;
      po.platform_part = true;
      if (!o->quiet)
        {
          fprintf (o->out ? o->out : stdout, "PLATFORM %zu/%zu: %s\n", i + 1, n,
                   p);
          fflush (o->out ? o->out : stdout);
        }
      if (build_run (s, &po, &r, err) < 0)
        {
          err_wrap (err, "%s", p);
          goto out;
        }
      json_array_append_new (manifests, index_entry (&ps[i], &r));
      if (!out->unused_args)
        out->unused_args = steal_pointer (&r.unused_args);
      build_result_release (&r);
    }
  ix = json_pack ("{s:i, s:s, s:O}", "schemaVersion", 2, "mediaType",
                  MT_OCI_INDEX, "manifests", manifests);
  bytes = json_dumps (ix, JSON_COMPACT);
  json_decref (ix);
  out->manifest_size = (int64_t)strlen (bytes);
  if (store_blob_put (s, bytes, strlen (bytes), NULL, &out->manifest_digest,
                      err)
          < 0
      || name_index (s, o, out, err) < 0)
    goto out;
  /* an index has no config: its own digest is its ID (buildx --iidfile) */
  out->image_id = xstrdup (out->manifest_digest);
  ret = 0;
out:
  for (size_t i = 0; i < n; i++)
    platform_release (&ps[i]);
  free (ps);
  json_decref (manifests);
  if (ret < 0)
    {
      build_result_release (out);
      if (*err && (*err)->exit != 130)
        err_exit (err, 1);
    }
  return ret;
}

bool
build_platform_in_store (struct store *s, const struct store_ref *ref,
                         const struct platform *want)
{
  _cleanup_free_ char *raw = NULL;
  struct image_index ix;
  struct err *e = NULL;
  size_t len, chosen;
  bool in = true;
  if (strcmp (ref->media_type, MT_OCI_INDEX)
      && strcmp (ref->media_type, MT_DOCKER_LIST))
    return true; /* one image: image_load_ref judges its platform */
  if (store_blob_read (s, ref->digest, MANIFEST_MAX_SIZE, &raw, &len, &e) < 0
      || image_index_parse (raw, len, &ix, &e) < 0)
    {
      err_free (e);
      return true; /* image_load_ref says what is wrong */
    }
  /* a platform the index does not list: image_load_ref's error lists
     those it does */
  if (image_index_choose (&ix, want, &chosen, &e) == 0)
    in = store_has_blob (s, ix.manifests[chosen].digest);
  err_free (e);
  image_index_release (&ix);
  return in;
}
