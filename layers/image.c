/* OCI and Docker image documents (see image.h). */
#include "layers/image.h"
#include "layers/digest.h"
#include "lib/err.h"
#include "lib/json.h"
#include "lib/strbuf.h"
#include "lib/xalloc.h"

#include <jansson.h>
#include <string.h>
#include <sys/utsname.h>

static char *
dup_or_null (const char *s)
{
  return s ? xstrdup (s) : NULL;
}

static json_t *
load_object (const char *body, size_t len, const char *what, struct err **err)
{
  json_error_t jerr;
  json_t *root = json_loadb (body, len, JSON_REJECT_DUPLICATES, &jerr);
  if (!root)
    {
      err_set (err, 0, "malformed %s: %s at line %d", what, jerr.text,
               jerr.line);
      return NULL;
    }
  if (!json_is_object (root))
    {
      json_decref (root);
      err_set (err, 0, "malformed %s: not a JSON object", what);
      return NULL;
    }
  return root;
}

int
image_doc_kind (const char *content_type, const char *body, size_t len,
                enum doc_kind *kind, char **media_type, struct err **err)
{
  _cleanup_free_ char *ct = NULL;
  json_t *root;
  const char *mt;
  int ret = 0;

  if (content_type && *content_type)
    {
      ct = xstrdup (content_type);
      ct[strcspn (ct, "; \t")] = '\0'; /* ignore parameters */
    }
  root = load_object (body, len, "manifest", err);
  if (!root)
    return -1;
  mt = json_peek_str (root, "mediaType");
  if (!mt && json_integer_value (json_object_get (root, "schemaVersion")) == 1)
    mt = MT_DOCKER_SCHEMA1;
  /* OCI documents may omit mediaType: tell them apart by their fields. */
  if (!mt && ct && strcmp (ct, "application/json")
      && strcmp (ct, "application/octet-stream"))
    mt = ct;
  if (!mt)
    mt = json_object_get (root, "manifests") ? MT_OCI_INDEX : MT_OCI_MANIFEST;
  if (ct && json_peek_str (root, "mediaType") && strcmp (ct, mt)
      && strcmp (ct, "application/json")
      && strcmp (ct, "application/octet-stream"))
    ret = err_set (err, 0,
                   "manifest media type '%s' does not match its "
                   "Content-Type '%s'",
                   mt, ct);
  else if (!strcmp (mt, MT_OCI_INDEX) || !strcmp (mt, MT_DOCKER_LIST))
    *kind = DOC_INDEX;
  else if (!strcmp (mt, MT_OCI_MANIFEST) || !strcmp (mt, MT_DOCKER_MANIFEST))
    *kind = DOC_MANIFEST;
  else if (!strcmp (mt, MT_DOCKER_SCHEMA1)
           || !strcmp (mt, MT_DOCKER_SCHEMA1_SIGNED))
    ret = err_set (err, 0,
                   "unsupported manifest: Docker schema 1 is deprecated "
                   "and not supported; push the image again with a current "
                   "client");
  else
    ret = err_set (err, 0, "unsupported manifest media type '%s'", mt);
  if (ret == 0 && media_type)
    *media_type = xstrdup (mt);
  json_decref (root);
  return ret;
}

void
platform_release (struct platform *p)
{
  free (p->os);
  free (p->arch);
  free (p->variant);
  free (p->os_version);
  memset (p, 0, sizeof *p);
}

void
descriptor_release (struct descriptor *d)
{
  free (d->media_type);
  free (d->digest);
  free (d->annotations_json);
  platform_release (&d->platform);
  memset (d, 0, sizeof *d);
}

static int
descriptor_from_json (json_t *o, struct descriptor *d, const char *what,
                      struct err **err)
{
  const char *mt = json_peek_str (o, "mediaType"),
             *dg = json_peek_str (o, "digest");
  json_t *size = json_object_get (o, "size"), *plat, *ann;
  memset (d, 0, sizeof *d);
  if (!json_is_object (o) || !dg || !json_is_integer (size)
      || json_integer_value (size) < 0)
    return err_set (err, 0, "malformed %s descriptor", what);
  if (digest_check (dg, err) < 0)
    return err_wrap (err, "%s descriptor", what);
  d->media_type = xstrdup (mt ? mt : "");
  d->digest = xstrdup (dg);
  d->size = json_integer_value (size);
  plat = json_object_get (o, "platform");
  if (json_is_object (plat))
    {
      d->has_platform = true;
      d->platform.os = dup_or_null (json_peek_str (plat, "os"));
      d->platform.arch = dup_or_null (json_peek_str (plat, "architecture"));
      d->platform.variant = dup_or_null (json_peek_str (plat, "variant"));
      d->platform.os_version = dup_or_null (json_peek_str (plat, "os.version"));
    }
  ann = json_object_get (o, "annotations");
  if (json_is_object (ann) && json_object_size (ann))
    d->annotations_json = json_dumps (ann, JSON_COMPACT | JSON_SORT_KEYS);
  return 0;
}

int
image_index_parse (const char *body, size_t len, struct image_index *out,
                   struct err **err)
{
  json_t *root = load_object (body, len, "image index", err), *list, *e;
  size_t i;
  memset (out, 0, sizeof *out);
  if (!root)
    return -1;
  list = json_object_get (root, "manifests");
  if (json_integer_value (json_object_get (root, "schemaVersion")) != 2
      || !json_is_array (list))
    {
      json_decref (root);
      return err_set (err, 0, "malformed image index: %s",
                      json_is_array (list) ? "schemaVersion is not 2"
                                           : "no manifests list");
    }
  out->media_type = xstrdup (json_peek_str (root, "mediaType")
                                 ? json_peek_str (root, "mediaType")
                                 : MT_OCI_INDEX);
  out->manifests = xcalloc (json_array_size (list) + 1, sizeof *out->manifests);
  json_array_foreach (list, i, e)
  {
    if (descriptor_from_json (e, &out->manifests[i], "index entry", err) < 0)
      {
        json_decref (root);
        image_index_release (out);
        return err_wrap (err, "malformed image index");
      }
    out->n_manifests++;
  }
  json_decref (root);
  return 0;
}

void
image_index_release (struct image_index *ix)
{
  for (size_t i = 0; i < ix->n_manifests; i++)
    descriptor_release (&ix->manifests[i]);
  free (ix->manifests);
  free (ix->media_type);
  memset (ix, 0, sizeof *ix);
}

int
image_manifest_parse (const char *body, size_t len, struct image_manifest *out,
                      struct err **err)
{
  json_t *root = load_object (body, len, "image manifest", err), *layers, *e;
  size_t i;
  memset (out, 0, sizeof *out);
  if (!root)
    return -1;
  layers = json_object_get (root, "layers");
  if (json_integer_value (json_object_get (root, "schemaVersion")) != 2)
    {
      json_decref (root);
      return err_set (err, 0,
                      "malformed image manifest: schemaVersion is not 2");
    }
  if (layers && !json_is_array (layers))
    {
      json_decref (root);
      return err_set (err, 0, "malformed image manifest: layers is not a list");
    }
  out->media_type = xstrdup (json_peek_str (root, "mediaType")
                                 ? json_peek_str (root, "mediaType")
                                 : MT_OCI_MANIFEST);
  if (descriptor_from_json (json_object_get (root, "config"), &out->config,
                            "config", err)
      < 0)
    goto fail;
  out->layers = xcalloc (json_array_size (layers) + 1, sizeof *out->layers);
  json_array_foreach (layers, i, e)
  {
    if (descriptor_from_json (e, &out->layers[i], "layer", err) < 0)
      goto fail;
    out->n_layers++;
  }
  json_decref (root);
  return 0;
fail:
  json_decref (root);
  image_manifest_release (out);
  return err_wrap (err, "malformed image manifest");
}

void
image_manifest_release (struct image_manifest *m)
{
  descriptor_release (&m->config);
  for (size_t i = 0; i < m->n_layers; i++)
    descriptor_release (&m->layers[i]);
  free (m->layers);
  free (m->media_type);
  memset (m, 0, sizeof *m);
}

enum layer_compression
layer_compression_of (const char *mt)
{
  size_t n = strlen (mt);
  if (!strcmp (mt, MT_DOCKER_LAYER_GZIP)
      || !strcmp (mt, MT_DOCKER_LAYER_FOREIGN)
      || (n > 5 && !strcmp (mt + n - 5, "+gzip")))
    return LAYER_GZIP;
  if ((n > 5 && !strcmp (mt + n - 5, "+zstd"))
      || !strcmp (mt, "application/vnd.docker.image.rootfs.diff.tar.zstd"))
    return LAYER_ZSTD;
  if (!strcmp (mt, MT_OCI_LAYER)
      || !strcmp (mt, "application/vnd.oci.image.layer.nondistributable.v1.tar")
      || !strcmp (mt, "application/vnd.docker.image.rootfs.diff.tar"))
    return LAYER_UNCOMPRESSED;
  return LAYER_UNKNOWN;
}

/* containerd's normalisation (distribution.md §3). */
void
platform_normalize (struct platform *p)
{
  static const struct
  {
    const char *from, *arch, *variant;
  } arch_map[] = {
    { "x86_64", "amd64", NULL },  { "x86-64", "amd64", NULL },
    { "aarch64", "arm64", NULL }, { "armhf", "arm", "v7" },
    { "armel", "arm", "v6" },     { "i386", "386", NULL },
    { "i686", "386", NULL },
  };
  if (p->os)
    for (char *c = p->os; *c; c++)
      *c = (char)(*c >= 'A' && *c <= 'Z' ? *c + 32 : *c);
  if (!p->arch)
    return;
  for (size_t i = 0; i < ARRAY_SIZE (arch_map); i++)
    if (!strcmp (p->arch, arch_map[i].from))
      {
        free (p->arch);
        p->arch = xstrdup (arch_map[i].arch);
        if (arch_map[i].variant && !p->variant)
          p->variant = xstrdup (arch_map[i].variant);
        break;
      }
  if (p->variant && !*p->variant)
    {
      free (p->variant);
      p->variant = NULL;
    }
  if (!strcmp (p->arch, "amd64") && p->variant && !strcmp (p->variant, "v1"))
    {
      free (p->variant);
      p->variant = NULL;
    }
  if (!strcmp (p->arch, "arm64") && p->variant
      && (!strcmp (p->variant, "8") || !strcmp (p->variant, "v8")
          || !strcmp (p->variant, "v8.0")))
    {
      free (p->variant);
      p->variant = NULL;
    }
  if (!strcmp (p->arch, "arm"))
    {
      if (!p->variant)
        p->variant = xstrdup ("v7");
      else if (p->variant[0] != 'v')
        {
          char *v = xasprintf ("v%s", p->variant);
          free (p->variant);
          p->variant = v;
        }
    }
}

int
platform_parse (const char *s, struct platform *out, struct err **err)
{
  _cleanup_free_ char *w = xstrdup (s);
  char *os = w, *arch = strchr (w, '/'), *variant = NULL;
  memset (out, 0, sizeof *out);
  if (arch)
    {
      *arch++ = '\0';
      variant = strchr (arch, '/');
      if (variant)
        *variant++ = '\0';
    }
  if (!*os || !arch || !*arch
      || (variant && (!*variant || strchr (variant, '/'))))
    return err_set (err, 0,
                    "invalid platform '%s': want os/arch[/variant], e.g. "
                    "linux/arm64",
                    s);
  out->os = xstrdup (os);
  out->arch = xstrdup (arch);
  out->variant = dup_or_null (variant);
  platform_normalize (out);
  return 0;
}

void
platform_host (struct platform *out)
{
  struct utsname u;
  memset (out, 0, sizeof *out);
  out->os = xstrdup ("linux");
  out->arch = xstrdup (uname (&u) == 0 ? u.machine : "amd64");
  platform_normalize (out);
}

char *
platform_string (const struct platform *p)
{
  return xasprintf ("%s/%s%s%s", p->os ? p->os : "unknown",
                    p->arch ? p->arch : "unknown", p->variant ? "/" : "",
                    p->variant ? p->variant : "");
}

static bool
str_eq (const char *a, const char *b)
{
  return a && b && !strcmp (a, b);
}

static bool
platform_matches (const struct platform *want, const struct descriptor *d)
{
  struct platform have = { 0 };
  bool ok;
  if (!d->has_platform)
    return false;
  have.os = dup_or_null (d->platform.os);
  have.arch = dup_or_null (d->platform.arch);
  have.variant = dup_or_null (d->platform.variant);
  platform_normalize (&have);
  /* Both sides are normalised, so arm64 "v8" and no variant are equal and
   * arm without a variant is v7: the variants must simply be the same. */
  ok = str_eq (have.os, want->os) && str_eq (have.arch, want->arch)
       && (have.variant && want->variant ? !strcmp (have.variant, want->variant)
                                         : have.variant == want->variant);
  platform_release (&have);
  return ok;
}

static bool
is_attestation (const struct descriptor *d)
{
  return (d->has_platform && str_eq (d->platform.os, "unknown"))
         || (d->annotations_json
             && strstr (d->annotations_json, "attestation-manifest"));
}

/* How many platforms "no matching manifest" names. */
#define AVAILABLE_SHOWN 5

int
image_index_choose (const struct image_index *ix, const struct platform *want,
                    size_t *chosen, struct err **err)
{
  struct strbuf have = STRBUF_INIT;
  char *shown[AVAILABLE_SHOWN];
  size_t n_shown = 0, more = 0;
  _cleanup_free_ char *want_s = platform_string (want);
  for (size_t i = 0; i < ix->n_manifests; i++)
    {
      const struct descriptor *d = &ix->manifests[i];
      if (is_attestation (d)
          || (strcmp (d->media_type, MT_OCI_MANIFEST)
              && strcmp (d->media_type, MT_DOCKER_MANIFEST)
              && strcmp (d->media_type, MT_OCI_INDEX)
              && strcmp (d->media_type, MT_DOCKER_LIST)))
        continue;
      if (platform_matches (want, d))
        {
          *chosen = i;
          strbuf_release (&have);
          return 0;
        }
    }
  /* A few of them, each once, then how many more: an index may list
   * thousands. */
  for (size_t i = 0; i < ix->n_manifests; i++)
    {
      const struct descriptor *d = &ix->manifests[i];
      _cleanup_free_ char *p = NULL;
      bool dup = false;
      if (!d->has_platform || is_attestation (d))
        continue;
      p = platform_string (&d->platform);
      for (size_t k = 0; k < n_shown && !dup; k++)
        dup = !strcmp (shown[k], p);
      if (dup)
        continue;
      if (n_shown == AVAILABLE_SHOWN)
        more++;
      else
        {
          strbuf_addf (&have, "%s%s", n_shown ? ", " : "", p);
          shown[n_shown++] = steal_pointer (&p);
        }
    }
  if (more)
    strbuf_addf (&have, " (and %zu more)", more);
  for (size_t k = 0; k < n_shown; k++)
    free (shown[k]);
  err_set (err, 0,
           "no matching manifest for %s in the manifest list entries "
           "(available: %s)",
           want_s, have.len ? have.buf : "none");
  strbuf_release (&have);
  return -1;
}

static char **
strv_from_json (json_t *a)
{
  size_t i;
  json_t *e;
  char **v;
  if (!json_is_array (a))
    return NULL;
  v = xcalloc (json_array_size (a) + 1, sizeof *v);
  json_array_foreach (a, i, e) v[i]
      = xstrdup (json_string_value (e) ? json_string_value (e) : "");
  return v;
}

static char **
strv_from_keys (json_t *o)
{
  const char *k;
  json_t *val;
  size_t i = 0;
  char **v;
  if (!json_is_object (o))
    return NULL;
  v = xcalloc (json_object_size (o) + 1, sizeof *v);
  json_object_foreach (o, k, val) v[i++] = xstrdup (k);
  return v;
}

int
image_config_parse (const char *body, size_t len, struct image_config *out,
                    struct err **err)
{
  json_t *root = load_object (body, len, "image config", err), *cfg, *rootfs;
  memset (out, 0, sizeof *out);
  if (!root)
    return -1;
  rootfs = json_object_get (root, "rootfs");
  if (!json_is_object (rootfs)
      || !str_eq (json_peek_str (rootfs, "type"), "layers")
      || !json_is_array (json_object_get (rootfs, "diff_ids")))
    {
      json_decref (root);
      return err_set (err, 0,
                      "malformed image config: rootfs is not of "
                      "type layers with diff_ids");
    }
  out->json = root;
  out->os = dup_or_null (json_peek_str (root, "os"));
  out->arch = dup_or_null (json_peek_str (root, "architecture"));
  out->variant = dup_or_null (json_peek_str (root, "variant"));
  out->created = dup_or_null (json_peek_str (root, "created"));
  out->diff_ids = strv_from_json (json_object_get (rootfs, "diff_ids"));
  for (char **d = out->diff_ids; *d; d++)
    if (digest_check (*d, err) < 0)
      {
        image_config_release (out);
        return err_wrap (err, "malformed image config: diff_ids");
      }
  cfg = json_object_get (root, "config");
  if (json_is_object (cfg))
    {
      out->user = dup_or_null (json_peek_str (cfg, "User"));
      out->working_dir = dup_or_null (json_peek_str (cfg, "WorkingDir"));
      out->env = strv_from_json (json_object_get (cfg, "Env"));
      out->entrypoint = strv_from_json (json_object_get (cfg, "Entrypoint"));
      out->cmd = strv_from_json (json_object_get (cfg, "Cmd"));
      out->stop_signal = dup_or_null (json_peek_str (cfg, "StopSignal"));
      out->exposed_ports
          = strv_from_keys (json_object_get (cfg, "ExposedPorts"));
      out->volumes = strv_from_keys (json_object_get (cfg, "Volumes"));
    }
  return 0;
}

void
image_config_release (struct image_config *c)
{
  json_decref (c->json);
  free (c->os);
  free (c->arch);
  free (c->variant);
  free (c->user);
  free (c->working_dir);
  free (c->stop_signal);
  free (c->created);
  strv_free (c->env);
  strv_free (c->entrypoint);
  strv_free (c->cmd);
  strv_free (c->diff_ids);
  strv_free (c->exposed_ports);
  strv_free (c->volumes);
  memset (c, 0, sizeof *c);
}

char **
image_chain_ids (char *const *diff_ids)
{
  size_t n = strv_len (diff_ids);
  char **chain = xcalloc (n + 1, sizeof *chain);
  for (size_t i = 0; i < n; i++)
    {
      if (i == 0)
        chain[i] = xstrdup (diff_ids[0]);
      else
        {
          char out[DIGEST_STR_LEN + 1];
          _cleanup_free_ char *s
              = xasprintf ("%s %s", chain[i - 1], diff_ids[i]);
          digest_buf (s, strlen (s), out);
          chain[i] = xstrdup (out);
        }
    }
  return chain;
}
