/* Small helpers over jansson: typed getters and setters of object
 * members, and a codec that turns a C struct into a JSON object and back
 * from one table of its fields (so each field is named once, not once per
 * direction). */
#ifndef IMGTOOL_JSON_H
#define IMGTOOL_JSON_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* o[key] as a string (borrowed), or NULL. */
const char *json_peek_str (json_t *o, const char *key);
/* o[key] as a new string, or NULL. */
char *json_get_str (json_t *o, const char *key);
/* o[key] as an integer, 0 when missing or not one. */
int64_t json_get_int (json_t *o, const char *key);
bool json_get_bool (json_t *o, const char *key);
/* RFC 3339 text <-> time_t (0 = unset: not written, read when missing). */
time_t json_get_time (json_t *o, const char *key);
void json_set_time (json_t *o, const char *key, time_t t);
/* o[key] = v, left out when v is NULL. */
void json_set_str (json_t *o, const char *key, const char *v);

/* NULL-terminated string vectors (lib/xalloc.h's strv) as JSON arrays
 * of strings: a new array of v's strings (NULL v gives []), and the
 * strings of array a (other elements skipped; NULL when a is not an
 * array). */
json_t *strv_to_json (char *const *v);
char **json_to_strv (json_t *a);

/* One member of a struct, for json_fields_to / json_fields_from. */
enum json_field_type
{
  JF_STR,  /* char * (NULL: left out) */
  JF_STRV, /* char ** NULL-terminated (lib/xalloc.h's strv) */
  JF_BOOL, /* bool */
  JF_INT,  /* int */
  JF_I64,  /* int64_t */
  JF_U64,  /* uint64_t, as a JSON integer */
  JF_PID,  /* pid_t */
  JF_TIME, /* time_t, as RFC 3339 text */
};

struct json_field
{
  const char *key;
  enum json_field_type type;
  size_t offset; /* offsetof (struct, member) */
};

#define JSON_FIELD(type_, st, member, key_)                                    \
  {                                                                            \
    key_, type_, offsetof (st, member)                                         \
  }

/* Set o's members from the struct at base; read them back into it
 * (members missing from o become zero / NULL; strings are allocated). */
void json_fields_to (json_t *o, const void *base, const struct json_field *f,
                     size_t n);
void json_fields_from (json_t *o, void *base, const struct json_field *f,
                       size_t n);

#endif
