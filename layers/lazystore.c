/* Lazy start's records in the store (layers/lazystore.h). */
#include "layers/lazystore.h"
#include "layers/image.h"
#include "layers/snapshot.h"
#include "layers/store.h"
#include "layers/toc.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/json.h"
#include "lib/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define RECORD_MAX (64u << 10)

static const struct json_field fields[] = {
  JSON_FIELD (JF_STR, struct lazy_record, digest, "digest"),
  JSON_FIELD (JF_STR, struct lazy_record, media_type, "mediaType"),
  JSON_FIELD (JF_I64, struct lazy_record, size, "size"),
  JSON_FIELD (JF_STR, struct lazy_record, endpoint, "endpoint"),
  JSON_FIELD (JF_STR, struct lazy_record, cred_domain, "credDomain"),
  JSON_FIELD (JF_STR, struct lazy_record, path, "path"),
  JSON_FIELD (JF_STR, struct lazy_record, config_path, "configPath"),
  JSON_FIELD (JF_STR, struct lazy_record, cert_dir, "certDir"),
  JSON_FIELD (JF_BOOL, struct lazy_record, no_tls_verify, "noTlsVerify"),
  JSON_FIELD (JF_INT, struct lazy_record, format, "tocFormat"),
  JSON_FIELD (JF_U64, struct lazy_record, toc_offset, "tocOffset"),
  JSON_FIELD (JF_U64, struct lazy_record, toc_length, "tocLength"),
  JSON_FIELD (JF_U64, struct lazy_record, toc_ulength, "tocUncompressed"),
  JSON_FIELD (JF_U64, struct lazy_record, usize, "uncompressedSize"),
  JSON_FIELD (JF_STR, struct lazy_record, toc_digest, "tocDigest"),
};

void
lazy_record_release (struct lazy_record *r)
{
  free (r->digest);
  free (r->media_type);
  free (r->endpoint);
  free (r->cred_domain);
  free (r->path);
  free (r->config_path);
  free (r->cert_dir);
  free (r->toc_digest);
  memset (r, 0, sizeof *r);
}

int
lazy_dir_open (struct store *s, const char *sub, struct err **err)
{
  _cleanup_free_ char *path = xasprintf ("lazy/%s", sub ? sub : "");
  if (fs_mkdir_p (s->root_fd, path, 0700, err) < 0)
    return -1;
  return fs_open_dir (s->root_fd, path, err);
}

int
lazy_record_put (struct store *s, const struct lazy_record *r,
                 const uint8_t *toc, size_t toc_len, struct err **err)
{
  _cleanup_close_ int dir = lazy_dir_open (s, NULL, err);
  _cleanup_free_ char *tname = NULL, *jname = NULL, *text = NULL;
  json_t *o;
  int ret;
  if (dir < 0)
    return -1;
  tname = xasprintf ("%s.toc", digest_hex (r->digest));
  jname = xasprintf ("%s.json", digest_hex (r->digest));
  o = json_object ();
  json_fields_to (o, r, fields, sizeof fields / sizeof *fields);
  text = json_dumps (o, JSON_COMPACT);
  json_decref (o);
  /* the TOC first: a record never names a TOC that is not there */
  ret = fs_write_file_atomic (dir, tname, toc, toc_len, 0600, err) < 0
                || fs_write_file_atomic (dir, jname, text, strlen (text), 0600,
                                         err)
                       < 0
            ? -1
            : 0;
  return ret;
}

int
lazy_record_get (struct store *s, const char *digest, struct lazy_record *r,
                 struct err **err)
{
  _cleanup_free_ char *path = NULL, *text = NULL;
  size_t len;
  json_t *o;
  memset (r, 0, sizeof *r);
  if (!digest_is_sha256 (digest))
    return 1;
  path = xasprintf ("lazy/%s.json", digest_hex (digest));
  if (fs_read_file (s->root_fd, path, RECORD_MAX, &text, &len, err) < 0)
    {
      if ((*err)->errnum != ENOENT)
        return -1;
      err_clear (err);
      return 1;
    }
  o = json_loadb (text, len, 0, NULL);
  if (!json_is_object (o))
    {
      json_decref (o);
      return err_set (err, 0, "lazy record '%s' is not JSON", path);
    }
  json_fields_from (o, r, fields, sizeof fields / sizeof *fields);
  json_decref (o);
  if (!r->digest || strcmp (r->digest, digest) || !r->endpoint || !r->path)
    {
      lazy_record_release (r);
      return err_set (err, 0, "lazy record '%s' is incomplete", path);
    }
  return 0;
}

struct toc *
lazy_record_toc (struct store *s, const struct lazy_record *r, struct err **err)
{
  _cleanup_free_ char *path = xasprintf ("lazy/%s.toc", digest_hex (r->digest));
  _cleanup_free_ char *buf = NULL;
  struct toc_location loc = { .format = r->format,
                              .offset = r->toc_offset,
                              .length = r->toc_length,
                              .uncompressed_length = r->toc_ulength,
                              .uncompressed_size = r->usize };
  size_t len;
  if (r->toc_digest && strlen (r->toc_digest) < sizeof loc.digest)
    strcpy (loc.digest, r->toc_digest);
  if (fs_read_file (s->root_fd, path, TOC_MAX_SIZE, &buf, &len, err) < 0)
    return NULL;
  return toc_parse (&loc, (const uint8_t *)buf, len, (uint64_t)r->size, err);
}

bool
lazy_layer_pending (struct store *s, const char *chain_id,
                    const char *blob_digest)
{
  _cleanup_free_ char *path = NULL;
  if (snapshot_exists (s, chain_id) || store_has_blob (s, blob_digest)
      || !digest_is_sha256 (blob_digest))
    return false;
  path = xasprintf ("lazy/%s.json", digest_hex (blob_digest));
  return faccessat (s->root_fd, path, F_OK, 0) == 0;
}

int
lazy_chain_get (struct store *s, const char *chain_hex, char **blob,
                char **diff_id, struct err **err)
{
  _cleanup_free_ char *path = xasprintf ("lazy/chain/%s", chain_hex);
  _cleanup_free_ char *text = NULL;
  char *sp;
  size_t len;
  if (fs_read_file (s->root_fd, path, 4096, &text, &len, err) < 0)
    {
      if ((*err)->errnum != ENOENT)
        return -1;
      err_clear (err);
      return 1;
    }
  sp = strchr (text, ' ');
  if (!sp || !digest_is_sha256 (sp + 1))
    return err_set (err, 0, "lazy chain record '%s' is malformed", path);
  *sp = 0;
  if (!digest_is_sha256 (text))
    return err_set (err, 0, "lazy chain record '%s' is malformed", path);
  *blob = xstrdup (text);
  *diff_id = xstrdup (sp + 1);
  return 0;
}

static int
chain_put (struct store *s, const char *chain_id, const char *blob,
           const char *diff_id, struct err **err)
{
  _cleanup_close_ int dir = lazy_dir_open (s, "chain", err);
  _cleanup_free_ char *text = xasprintf ("%s %s", blob, diff_id);
  if (dir < 0)
    return -1;
  return fs_write_file_atomic (dir, digest_hex (chain_id), text, strlen (text),
                               0600, err);
}

int
lazy_prepare_image (struct store *s, const struct image_manifest *m,
                    const struct image_config *c, char ***lower_dirs,
                    size_t *lazy, struct err **err)
{
  size_t n = strv_len (c->diff_ids);
  _cleanup_strv_ char **chain = NULL;
  bool *pending;
  *lazy = 0;
  if (n != m->n_layers || n == 0)
    return snapshot_prepare_image (s, m, c, lower_dirs, err);
  for (size_t i = 0; i < n; i++)
    if (digest_check (c->diff_ids[i], err) < 0)
      return err_wrap (err, "layer %zu", i + 1);
  chain = image_chain_ids (c->diff_ids);
  pending = xcalloc (n, sizeof *pending);
  for (size_t i = 0; i < n; i++)
    *lazy += pending[i] = lazy_layer_pending (s, chain[i], m->layers[i].digest);
  if (!*lazy)
    {
      free (pending);
      return snapshot_prepare_image (s, m, c, lower_dirs, err);
    }
  for (size_t i = 0; i < n; i++)
    if ((pending[i]
         && chain_put (s, chain[i], m->layers[i].digest, c->diff_ids[i], err)
                < 0)
        || (!pending[i]
            && snapshot_create_from_blob (s, chain[i], m->layers[i].digest,
                                          c->diff_ids[i], err)
                   < 0))
      {
        free (pending);
        return -1;
      }
  free (pending);
  *lower_dirs = xcalloc (n + 1, sizeof (char *));
  for (size_t i = 0; i < n; i++)
    (*lower_dirs)[i] = snapshot_path (s, chain[n - 1 - i]);
  return 0;
}
