/* jansson helpers (json.h). */
#include "lib/json.h"
#include "lib/human.h"
#include "lib/xalloc.h"

#include <sys/types.h>

const char *
json_peek_str (json_t *o, const char *key)
{
  return json_string_value (json_object_get (o, key));
}

char *
json_get_str (json_t *o, const char *key)
{
  const char *s = json_peek_str (o, key);
  return s ? xstrdup (s) : NULL;
}

int64_t
json_get_int (json_t *o, const char *key)
{
  json_t *x = json_object_get (o, key);
  return json_is_integer (x) ? (int64_t)json_integer_value (x) : 0;
}

bool
json_get_bool (json_t *o, const char *key)
{
  return json_is_true (json_object_get (o, key));
}

time_t
json_get_time (json_t *o, const char *key)
{
  const char *s = json_peek_str (o, key);
  time_t t = 0;
  if (s)
    rfc3339_parse (s, &t);
  return t;
}

void
json_set_time (json_t *o, const char *key, time_t t)
{
  char buf[64];
  if (!t)
    return;
  rfc3339_format (t, buf, sizeof buf);
  json_object_set_new (o, key, json_string (buf));
}

void
json_set_str (json_t *o, const char *key, const char *v)
{
  if (v)
    json_object_set_new (o, key, json_string (v));
}

#define AT(type, base, f) ((type *)((char *)(base) + (f)->offset))

/* The integer members, whatever their C type. */
static int64_t
num_get (const void *base, const struct json_field *f)
{
  switch (f->type)
    {
    case JF_INT:
      return *AT (const int, base, f);
    case JF_U64:
      return (int64_t)*AT (const uint64_t, base, f);
    case JF_PID:
      return *AT (const pid_t, base, f);
    default:
      return *AT (const int64_t, base, f);
    }
}

static void
num_put (void *base, const struct json_field *f, int64_t v)
{
  if (f->type == JF_INT)
    *AT (int, base, f) = (int)v;
  else if (f->type == JF_U64)
    *AT (uint64_t, base, f) = (uint64_t)v;
  else if (f->type == JF_PID)
    *AT (pid_t, base, f) = (pid_t)v;
  else
    *AT (int64_t, base, f) = v;
}

void
json_fields_to (json_t *o, const void *base, const struct json_field *f,
                size_t n)
{
  for (size_t i = 0; i < n; i++, f++)
    if (f->type == JF_STR)
      json_set_str (o, f->key, *AT (char *const, base, f));
    else if (f->type == JF_STRV)
      json_object_set_new (o, f->key,
                           strv_to_json (*AT (char **const, base, f)));
    else if (f->type == JF_BOOL)
      json_object_set_new (o, f->key, json_boolean (*AT (const bool, base, f)));
    else if (f->type == JF_TIME)
      json_set_time (o, f->key, *AT (const time_t, base, f));
    else
      json_object_set_new (o, f->key,
                           json_integer ((json_int_t)num_get (base, f)));
}

void
json_fields_from (json_t *o, void *base, const struct json_field *f, size_t n)
{
  for (size_t i = 0; i < n; i++, f++)
    if (f->type == JF_STR)
      *AT (char *, base, f) = json_get_str (o, f->key);
    else if (f->type == JF_STRV)
      *AT (char **, base, f) = json_to_strv (json_object_get (o, f->key));
    else if (f->type == JF_BOOL)
      *AT (bool, base, f) = json_get_bool (o, f->key);
    else if (f->type == JF_TIME)
      *AT (time_t, base, f) = json_get_time (o, f->key);
    else
      num_put (base, f, json_get_int (o, f->key));
}

json_t *
strv_to_json (char *const *v)
{
  json_t *a = json_array ();
  for (size_t i = 0; v && v[i]; i++)
    json_array_append_new (a, json_string (v[i]));
  return a;
}

char **
json_to_strv (json_t *a)
{
  char **v;
  size_t i;
  json_t *x;
  if (!json_is_array (a))
    return NULL;
  v = xcalloc (1, sizeof *v);
  json_array_foreach (a, i, x)
  {
    if (json_is_string (x))
      strv_push (&v, xstrdup (json_string_value (x)));
  }
  return v;
}
