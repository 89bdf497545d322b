/* The simple-signing payload: see trust/payload.h. */
#include "trust/payload.h"
#include "lib/err.h"
#include "lib/xalloc.h"

#include <jansson.h>
#include <string.h>

char *
trust_payload_make (const char *identity, const char *digest, size_t *len)
{
  json_t *j = json_pack ("{s:{s:{s:s},s:{s:s},s:s},s:n}", "critical",
                         "identity", "docker-reference", identity, "image",
                         "docker-manifest-digest", digest, "type",
                         TRUST_PAYLOAD_TYPE, "optional");
  char *s = json_dumps (j, JSON_COMPACT | JSON_PRESERVE_ORDER);
  json_decref (j);
  if (!s)
    abort ();
  *len = strlen (s);
  return s;
}

/* o is an object with exactly the n keys named. */
static bool
exact_keys (json_t *o, const char *const *keys, size_t n)
{
  if (!json_is_object (o) || json_object_size (o) != n)
    return false;
  for (size_t i = 0; i < n; i++)
    if (!json_object_get (o, keys[i]))
      return false;
  return true;
}

int
trust_payload_parse (const char *data, size_t len, struct trust_payload *out,
                     struct err **err)
{
  static const char *const crit_keys[] = { "type", "image", "identity" };
  static const char *const image_keys[] = { "docker-manifest-digest" };
  static const char *const ident_keys[] = { "docker-reference" };
  json_error_t je;
  json_t *j = json_loadb (data, len, JSON_REJECT_DUPLICATES, &je), *crit, *opt;
  const char *type, *dig, *ident;
  int ret = -1;
  memset (out, 0, sizeof *out);
  if (!json_is_object (j))
    {
      err_set (err, 0, "payload is not a JSON object");
      goto out;
    }
  crit = json_object_get (j, "critical");
  opt = json_object_get (j, "optional");
  if (!exact_keys (crit, crit_keys, 3)
      || !exact_keys (json_object_get (crit, "image"), image_keys, 1)
      || !exact_keys (json_object_get (crit, "identity"), ident_keys, 1)
      || (opt && !json_is_null (opt) && !json_is_object (opt)))
    {
      err_set (err, 0, "payload does not have the simple-signing fields");
      goto out;
    }
  type = json_string_value (json_object_get (crit, "type"));
  dig = json_string_value (json_object_get (json_object_get (crit, "image"),
                                            "docker-manifest-digest"));
  ident = json_string_value (
      json_object_get (json_object_get (crit, "identity"), "docker-reference"));
  if (!type || strcmp (type, TRUST_PAYLOAD_TYPE))
    {
      err_set (err, 0, "payload type is not '%s'", TRUST_PAYLOAD_TYPE);
      goto out;
    }
  if (!dig || !ident)
    {
      err_set (err, 0, "payload digest or identity is not a string");
      goto out;
    }
  out->digest = xstrdup (dig);
  out->identity = xstrdup (ident);
  ret = 0;
out:
  json_decref (j);
  return ret;
}

void
trust_payload_release (struct trust_payload *p)
{
  free (p->identity);
  free (p->digest);
  memset (p, 0, sizeof *p);
}
