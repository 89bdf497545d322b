#include "lib/jsonstrv.h"
#include "lib/xalloc.h"

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
  json_array_foreach (a, i, x) if (json_is_string (x))
      strv_push (&v, xstrdup (json_string_value (x)));
  return v;
}
