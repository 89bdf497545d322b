#include "cmd/lookup.h"
#include "builder/builder.h"
#include "layers/image_store.h"
#include "lib/err.h"
#include "lib/xalloc.h"
#include "registry/ref.h"

#include <ctype.h>
#include <string.h>

int
lookup_repo_tag (const char *name, char **repo, char **tag)
{
  struct ref r;
  struct err *e = NULL;
  if (ref_parse (name, &r, &e) < 0)
    {
      err_free (e);
      return -1;
    }
  *tag = steal_pointer (&r.tag);
  free (r.digest);
  r.digest = NULL;
  *repo = ref_familiar (&r);
  ref_release (&r);
  return 0;
}

char *
lookup_image_id (struct store *s, const struct store_ref *ref)
{
  struct image img;
  struct err *err = NULL;
  char *id;
  if (image_load_ref (s, ref, NULL, &img, &err) < 0)
    {
      err_free (err);
      return NULL;
    }
  id = xstrdup (img.manifest.config.digest);
  image_release (&img);
  return id;
}

static bool
is_hex_prefix (const char *s)
{
  size_t n = strlen (s);
  if (n < 4 || n > DIGEST_HEX_LEN)
    return false;
  for (; *s; s++)
    if (!isxdigit ((unsigned char)*s) || isupper ((unsigned char)*s))
      return false;
  return true;
}

static int
lookup_by_id (struct store *s, const char *user, struct store_ref *out,
              struct err **err)
{
  const char *hex = strncmp (user, "sha256:", 7) ? user : user + 7;
  struct store_ref *refs;
  size_t n, found = 0;
  if (!is_hex_prefix (hex) || store_ref_list (s, &refs, &n, err) < 0)
    return 1;
  for (size_t i = 0; i < n; i++)
    {
      _cleanup_free_ char *id = lookup_image_id (s, &refs[i]);
      bool match = (id && !strncmp (id + 7, hex, strlen (hex)))
                   || !strncmp (refs[i].digest + 7, hex, strlen (hex));
      if (!match)
        continue;
      if (found++ == 0)
        {
          out->name = xstrdup (refs[i].name);
          out->media_type = xstrdup (refs[i].media_type);
          out->digest = xstrdup (refs[i].digest);
          out->size = refs[i].size;
        }
      else if (strcmp (out->digest, refs[i].digest))
        {
          store_refs_free (refs, n);
          store_ref_release (out);
          return err_set (err, 0, "image id prefix '%s' is ambiguous", user);
        }
    }
  store_refs_free (refs, n);
  return found ? 0 : 1;
}

int
lookup_image (struct store *s, const char *user, struct store_ref *out,
              struct err **err)
{
  struct ref r;
  struct err *parse_err = NULL;
  int ret;
  memset (out, 0, sizeof *out);
  if (ref_parse (user, &r, &parse_err) == 0)
    {
      _cleanup_free_ char *name = ref_string (&r);
      ref_release (&r);
      ret = store_ref_get (s, name, out, err);
      if (ret <= 0)
        {
          err_free (parse_err);
          return ret;
        }
    }
  ret = lookup_by_id (s, user, out, err);
  if (ret == 1 && parse_err)
    {
      /* neither a reference nor an ID: say why it is not a reference */
      *err = parse_err;
      return -1;
    }
  err_free (parse_err);
  if (ret == 1)
    return err_set (err, 0, "no such image: '%s'", user);
  return ret;
}

/* Does any reference reach image_id? */
static bool
image_named (struct store *s, const char *image_id)
{
  struct store_ref *refs;
  size_t n;
  bool found = false;
  struct err *e = NULL;
  if (store_ref_list (s, &refs, &n, &e) < 0)
    {
      err_free (e);
      return false;
    }
  for (size_t i = 0; i < n && !found; i++)
    {
      _cleanup_free_ char *id = lookup_image_id (s, &refs[i]);
      found = id && !strcmp (id, image_id);
    }
  store_refs_free (refs, n);
  return found;
}

int
lookup_keep_untagged (struct store *s, const char *media_type,
                      const char *digest, int64_t size, const char *image_id,
                      struct err **err)
{
  if (image_named (s, image_id))
    return 0;
  _cleanup_free_ char *name
      = xasprintf (BUILD_UNTAGGED_REPO ":%.12s", digest_hex (image_id));
  return store_ref_set (s, name, media_type, digest, size, err);
}

int
lookup_tag_set (struct store *s, const char *name, const char *media_type,
                const char *digest, int64_t size, const char *image_id,
                char **moved_from, struct err **err)
{
  struct store_ref cur;
  _cleanup_free_ char *old_id = NULL;
  int rc = store_ref_get (s, name, &cur, err);
  if (moved_from)
    *moved_from = NULL;
  if (rc < 0)
    return -1;
  if (rc == 0)
    {
      old_id = lookup_image_id (s, &cur);
      if (old_id && !strcmp (old_id, image_id))
        {
          store_ref_release (&cur);
          return 0;
        }
    }
  if (store_ref_set (s, name, media_type, digest, size, err) < 0)
    {
      if (rc == 0)
        store_ref_release (&cur);
      return -1;
    }
  if (rc == 0)
    {
      int r = old_id ? lookup_keep_untagged (s, cur.media_type, cur.digest,
                                             cur.size, old_id, err)
                     : 0;
      store_ref_release (&cur);
      if (r < 0)
        return -1;
      if (moved_from && old_id)
        *moved_from = steal_pointer (&old_id);
    }
  return 0;
}
