/* cosign's .sig tags: see trust/sigstore.h. */
#include "trust/sigstore.h"
#include "layers/digest.h"
#include "layers/image.h"
#include "lib/err.h"
#include "lib/xalloc.h"
#include "registry/session.h"
#include "registry/upload.h"
#include "trust/payload.h"

#include <jansson.h>
#include <string.h>

/* containers/image's MaxSignatureBodySize. */
#define SIG_BODY_MAX (4u << 20)

char *
trust_sig_tag (const char *digest)
{
  const char *colon = strchr (digest, ':');
  return xasprintf ("%.*s-%s.sig", (int)(colon - digest), digest, colon + 1);
}

void
trust_sigs_release (struct trust_sigs *s)
{
  for (size_t i = 0; i < s->n; i++)
    {
      free (s->v[i].payload);
      free (s->v[i].sig_b64);
      free (s->v[i].under_digest);
    }
  free (s->v);
  memset (s, 0, sizeof *s);
}

/* GET the .sig manifest: 1 when there is none. Its bytes go to *raw
 * when raw is not NULL. */
static int
get_sig_manifest_raw (struct reg_repo *repo, const char *digest, json_t **out,
                      struct strbuf *raw, struct err **err)
{
  _cleanup_free_ char *tag = trust_sig_tag (digest);
  _cleanup_free_ char *path
      = xasprintf ("/v2/%s/manifests/%s", repo->path, tag);
  struct http_request req
      = { .url = path, .accept = MT_OCI_MANIFEST, .max_body = SIG_BODY_MAX };
  struct http_response resp = { 0 };
  json_error_t je;
  int ret = -1;
  *out = NULL;
  if (reg_repo_do (repo, &req, &resp, err) < 0)
    goto out;
  if (resp.status == 404)
    {
      ret = 1;
      goto out;
    }
  if (resp.status != 200)
    {
      _cleanup_free_ char *t = reg_repo_denied_text (repo, &resp);
      err_set (err, 0, "fetch signatures '%s': %s", tag, t);
      goto out;
    }
  if (resp.content_type && strcmp (resp.content_type, MT_OCI_MANIFEST))
    {
      err_set (err, 0, "signatures '%s': unexpected media type '%s'", tag,
               resp.content_type);
      goto out;
    }
  *out = json_loadb (resp.body.buf, resp.body.len, 0, &je);
  if (!json_is_object (*out))
    {
      json_decref (*out);
      *out = NULL;
      err_set (err, 0, "signatures '%s': not a manifest", tag);
      goto out;
    }
  if (raw)
    strbuf_add (raw, resp.body.buf, resp.body.len);
  ret = 0;
out:
  http_response_release (&resp);
  return ret;
}

static int
get_sig_manifest (struct reg_repo *repo, const char *digest, json_t **out,
                  struct err **err)
{
  return get_sig_manifest_raw (repo, digest, out, NULL, err);
}

static int
get_blob (struct reg_repo *repo, const char *digest, char **out, size_t *len,
          struct err **err)
{
  _cleanup_free_ char *path = xasprintf ("/v2/%s/blobs/%s", repo->path, digest);
  struct http_request req = { .url = path, .max_body = SIG_BODY_MAX };
  struct http_response resp = { 0 };
  char got[DIGEST_STR_LEN + 1];
  int ret = -1;
  if (reg_repo_do (repo, &req, &resp, err) < 0)
    goto out;
  if (resp.status != 200)
    {
      _cleanup_free_ char *t = reg_repo_denied_text (repo, &resp);
      err_set (err, 0, "fetch signature payload %s: %s", digest, t);
      goto out;
    }
  digest_buf (resp.body.buf, resp.body.len, got);
  if (strcmp (got, digest))
    {
      err_set (err, 0, "signature payload %s: digest mismatch (got %s)", digest,
               got);
      goto out;
    }
  *len = resp.body.len;
  *out = strbuf_detach (&resp.body, NULL);
  ret = 0;
out:
  http_response_release (&resp);
  return ret;
}

int
trust_sigs_exist (struct reg_repo *repo, const char *digest, struct err **err)
{
  json_t *m;
  int r = get_sig_manifest (repo, digest, &m, err);
  json_decref (m);
  return r < 0 ? -1 : r == 0;
}

int
trust_sigs_fetch (struct reg_repo *repo, const char *digest,
                  struct trust_sigs *out, struct err **err)
{
  json_t *m, *layers, *l;
  size_t i;
  int r = get_sig_manifest (repo, digest, &m, err);
  if (r != 0)
    return r < 0 ? -1 : 0;
  layers = json_object_get (m, "layers");
  json_array_foreach (layers, i, l)
  {
    const char *mt = json_string_value (json_object_get (l, "mediaType"));
    const char *d = json_string_value (json_object_get (l, "digest"));
    const char *sig = json_string_value (json_object_get (
        json_object_get (l, "annotations"), TRUST_SIG_ANNOTATION));
    struct trust_sig *s;
    if (!mt || strcmp (mt, TRUST_PAYLOAD_MEDIA_TYPE))
      {
        out->others++;
        continue;
      }
    if (!d || digest_check (d, err) < 0)
      {
        json_decref (m);
        return err_set (err, 0, "signatures of %s: a layer has no digest",
                        digest);
      }
    out->v = xrealloc (out->v, (out->n + 1) * sizeof *out->v);
    s = &out->v[out->n];
    memset (s, 0, sizeof *s);
    if (get_blob (repo, d, &s->payload, &s->len, err) < 0)
      {
        json_decref (m);
        return -1;
      }
    s->sig_b64 = sig ? xstrdup (sig) : NULL;
    s->under_digest = xstrdup (digest);
    out->n++;
  }
  json_decref (m);
  return 0;
}

/* POST an upload, PUT the bytes: the blob is small. */
static int
put_blob (struct reg_repo *repo, const void *data, size_t len,
          const char *digest, struct err **err)
{
  _cleanup_free_ char *path = xasprintf ("/v2/%s/blobs/uploads/", repo->path);
  _cleanup_free_ char *loc = NULL, *put_url = NULL;
  struct http_request req = { .method = "POST", .url = path };
  struct http_response resp = { 0 };
  int ret = -1;
  if (reg_repo_do (repo, &req, &resp, err) < 0)
    goto out;
  if (resp.status != 202 || !resp.location
      || !(loc = upload_location (resp.url, resp.location)))
    {
      _cleanup_free_ char *t = upload_error_text (repo, &resp);
      err_set (err, 0, "upload %s: %s", digest, t);
      goto out;
    }
  put_url = upload_url_with_digest (loc, digest);
  http_response_release (&resp);
  memset (&resp, 0, sizeof resp);
  char *hdr[] = { (char *)"Content-Type: application/octet-stream", NULL };
  struct http_request put = { .method = "PUT",
                              .url = put_url,
                              .headers = hdr,
                              .body = data,
                              .body_len = len };
  if (reg_repo_do (repo, &put, &resp, err) < 0)
    goto out;
  if (resp.status != 201)
    {
      _cleanup_free_ char *t = upload_error_text (repo, &resp);
      err_set (err, 0, "upload %s: %s", digest, t);
      goto out;
    }
  ret = 0;
out:
  http_response_release (&resp);
  return ret;
}

static int
put_json_blob (struct reg_repo *repo, json_t *j, json_t *desc,
               const char *media_type, struct err **err)
{
  char d[DIGEST_STR_LEN + 1];
  _cleanup_free_ char *s = json_dumps (j, JSON_COMPACT | JSON_PRESERVE_ORDER);
  size_t len = strlen (s);
  digest_buf (s, len, d);
  json_object_set_new (desc, "mediaType", json_string (media_type));
  json_object_set_new (desc, "size", json_integer ((json_int_t)len));
  json_object_set_new (desc, "digest", json_string (d));
  return put_blob (repo, s, len, d, err);
}

/* PUT the .sig manifest under its tag. */
static int
put_sig_manifest (struct reg_repo *repo, const char *tag, const char *body,
                  size_t len, struct err **err)
{
  _cleanup_free_ char *path
      = xasprintf ("/v2/%s/manifests/%s", repo->path, tag);
  char *hdr[] = { (char *)"Content-Type: " MT_OCI_MANIFEST, NULL };
  struct http_request req = {
    .method = "PUT", .url = path, .headers = hdr, .body = body, .body_len = len
  };
  struct http_response resp = { 0 };
  int ret = reg_repo_do (repo, &req, &resp, err);
  if (ret == 0 && resp.status != 201)
    {
      _cleanup_free_ char *t = upload_error_text (repo, &resp);
      ret = err_set (err, 0, "put signatures '%s': %s", tag, t);
    }
  http_response_release (&resp);
  return ret;
}

int
trust_sig_attach (struct reg_repo *repo, const char *digest,
                  const char *payload, size_t len, const char *sig_b64,
                  struct err **err)
{
  _cleanup_free_ char *tag = trust_sig_tag (digest);
  _cleanup_free_ char *body = NULL;
  char pd[DIGEST_STR_LEN + 1];
  json_t *m = NULL, *layers, *l, *diff_ids, *config, *cdesc;
  size_t i;
  int r, ret = -1;

  digest_buf (payload, len, pd);
  if ((r = get_sig_manifest (repo, digest, &m, err)) < 0)
    return -1;
  if (r == 1)
    m = json_pack ("{s:i,s:s,s:{},s:[]}", "schemaVersion", 2, "mediaType",
                   MT_OCI_MANIFEST, "config", "layers");
  layers = json_object_get (m, "layers");
  if (!json_is_array (layers))
    {
      err_set (err, 0, "signatures '%s': not a manifest", tag);
      goto out;
    }
  /* the same signature twice is one (containers/image does the same) */
  json_array_foreach (layers, i, l)
  {
    const char *ld = json_string_value (json_object_get (l, "digest"));
    const char *ls = json_string_value (json_object_get (
        json_object_get (l, "annotations"), TRUST_SIG_ANNOTATION));
    if (ld && ls && !strcmp (ld, pd) && !strcmp (ls, sig_b64))
      {
        ret = 0;
        goto out;
      }
  }
  if (put_blob (repo, payload, len, pd, err) < 0)
    goto out;
  json_array_append_new (
      layers,
      json_pack ("{s:s,s:I,s:s,s:{s:s}}", "mediaType", TRUST_PAYLOAD_MEDIA_TYPE,
                 "size", (json_int_t)len, "digest", pd, "annotations",
                 TRUST_SIG_ANNOTATION, sig_b64));
  /* an OCI config whose diff_ids are the payloads, as cosign writes */
  diff_ids = json_array ();
  json_array_foreach (layers, i, l)
      json_array_append (diff_ids, json_object_get (l, "digest"));
  config
      = json_pack ("{s:s,s:s,s:{s:s,s:o},s:{}}", "architecture", "", "os", "",
                   "rootfs", "type", "layers", "diff_ids", diff_ids, "config");
  cdesc = json_object ();
  r = put_json_blob (repo, config, cdesc, MT_OCI_CONFIG, err);
  json_decref (config);
  json_object_set_new (m, "config", cdesc);
  if (r < 0)
    goto out;
  body = json_dumps (m, JSON_COMPACT | JSON_PRESERVE_ORDER);
  if (put_sig_manifest (repo, tag, body, strlen (body), err) < 0)
    goto out;
  ret = 0;
out:
  json_decref (m);
  return ret;
}

/* One blob of the .sig from one repository to the other. */
static int
copy_blob (struct reg_repo *from, struct reg_repo *to, json_t *desc,
           struct err **err)
{
  const char *d = json_string_value (json_object_get (desc, "digest"));
  _cleanup_free_ char *body = NULL;
  size_t len;
  if (!d || digest_check (d, err) < 0)
    return err_set (err, 0, "a signature blob has no digest");
  if (get_blob (from, d, &body, &len, err) < 0)
    return -1;
  return put_blob (to, body, len, d, err);
}

int
trust_sigs_copy (struct reg_repo *from, struct reg_repo *to, const char *digest,
                 struct err **err)
{
  struct strbuf raw = STRBUF_INIT;
  _cleanup_free_ char *tag = trust_sig_tag (digest);
  json_t *m = NULL, *l;
  size_t i;
  int r, ret = -1;
  if ((r = get_sig_manifest_raw (from, digest, &m, &raw, err)) != 0)
    {
      strbuf_release (&raw);
      return r < 0 ? -1 : 0;
    }
  if (copy_blob (from, to, json_object_get (m, "config"), err) < 0)
    goto out;
  json_array_foreach (json_object_get (m, "layers"), i, l)
  {
    if (copy_blob (from, to, l, err) < 0)
      goto out;
  }
  if (put_sig_manifest (to, tag, raw.buf, raw.len, err) < 0)
    goto out;
  ret = 1;
out:
  json_decref (m);
  strbuf_release (&raw);
  return ret;
}
