/* --filter (filter.h). */
#include "cmd/filter.h"
#include "lib/err.h"
#include "lib/xalloc.h"

#include <ctype.h>
#include <fnmatch.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>

int
filters_add (struct filters *f, const char *arg, const char *const *keys,
             struct err **err)
{
  const char *eq = strchr (arg, '=');
  char *key;
  size_t i;
  if (!eq || eq == arg)
    return err_set (err, 0, "bad format of filter '%s' (expected name=value)",
                    arg);
  key = xstrndup (arg, (size_t)(eq - arg));
  for (char *p = key; *p; p++)
    *p = (char)tolower ((unsigned char)*p);
  for (i = 0; keys[i] && strcmp (keys[i], key); i++)
    ;
  if (!keys[i])
    {
      err_set (err, 0, "invalid filter '%s'", key);
      free (key);
      return -1;
    }
  f->kv = xrealloc (f->kv, (f->n + 1) * sizeof *f->kv);
  f->kv[f->n].key = key;
  f->kv[f->n].value = xstrdup (eq + 1);
  f->n++;
  return 0;
}

void
filters_release (struct filters *f)
{
  for (size_t i = 0; i < f->n; i++)
    {
      free (f->kv[i].key);
      free (f->kv[i].value);
    }
  free (f->kv);
  f->kv = NULL;
  f->n = 0;
}

bool
filters_has (const struct filters *f, const char *key)
{
  for (size_t i = 0; i < f->n; i++)
    if (!strcmp (f->kv[i].key, key))
      return true;
  return false;
}

bool
filters_any (const struct filters *f, const char *key, filter_match_fn match,
             void *data)
{
  bool seen = false;
  for (size_t i = 0; i < f->n; i++)
    if (!strcmp (f->kv[i].key, key))
      {
        if (match (f->kv[i].value, data))
          return true;
        seen = true;
      }
  return !seen;
}

int
filters_check (const struct filters *f, const char *key,
               int (*check) (const char *value, struct err **err),
               struct err **err)
{
  for (size_t i = 0; i < f->n; i++)
    if (!strcmp (f->kv[i].key, key) && check (f->kv[i].value, err) < 0)
      return -1;
  return 0;
}

static bool
label_match (const char *value, json_t *labels)
{
  const char *eq = strchr (value, '=');
  _cleanup_free_ char *key
      = eq ? xstrndup (value, (size_t)(eq - value)) : xstrdup (value);
  json_t *v = json_is_object (labels) ? json_object_get (labels, key) : NULL;
  if (!v)
    return false;
  return !eq || (json_is_string (v) && !strcmp (json_string_value (v), eq + 1));
}

bool
filters_labels (const struct filters *f, json_t *labels)
{
  for (size_t i = 0; i < f->n; i++)
    if (!strcmp (f->kv[i].key, "label")
        && !label_match (f->kv[i].value, labels))
      return false;
  return true;
}

bool
filter_regex (const char *value, const char *s)
{
  regex_t re;
  bool m;
  if (!strcmp (value, s))
    return true;
  if (regcomp (&re, value, REG_EXTENDED | REG_NOSUB) != 0)
    return false; /* docker skips a value that does not compile */
  m = regexec (&re, s, 0, NULL, 0) == 0;
  regfree (&re);
  return m;
}

bool
filter_glob (const char *pattern, const char *s)
{
  return fnmatch (pattern, s, FNM_PATHNAME) == 0;
}

int
filter_bool (const char *key, const char *value, bool *out, struct err **err)
{
  if (!strcmp (value, "true") || !strcmp (value, "1"))
    *out = true;
  else if (!strcmp (value, "false") || !strcmp (value, "0"))
    *out = false;
  else
    return err_set (err, 0, "invalid filter '%s=%s'", key, value);
  return 0;
}
