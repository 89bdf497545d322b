/* --filter KEY=VALUE as docker's CLI takes it (ps, images; volume ls,
 * network ls and the prune commands can use it too): values of the same
 * key are alternatives (any one may match), different keys must all
 * match; label is docker's exception, every label asked for must be there
 * (filters_labels). Each command says which keys it accepts and what a
 * value means for its rows. */
#ifndef IMGTOOL_FILTER_H
#define IMGTOOL_FILTER_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

struct err;

struct filter_kv
{
  char *key; /* lowercased, as docker */
  char *value;
};

struct filters
{
  struct filter_kv *kv;
  size_t n;
};

#define FILTERS_INIT                                                           \
  {                                                                            \
    NULL, 0                                                                    \
  }

/* Add one --filter argument. keys: the accepted keys, NULL-terminated.
 * Errors (exit 1, docker's words): "bad format of filter 'x' (expected
 * name=value)", "invalid filter 'x'". */
int filters_add (struct filters *f, const char *arg, const char *const *keys,
                 struct err **err);
void filters_release (struct filters *f);

bool filters_has (const struct filters *f, const char *key);

/* A test of one value against the row in data. */
typedef bool (*filter_match_fn) (const char *value, void *data);
/* true when key has no values, or when any of them matches. */
bool filters_any (const struct filters *f, const char *key,
                  filter_match_fn match, void *data);

/* Each value of key through check (a value's own validity, before any row
 * is looked at): -1 with *err from the first it refuses. */
int filters_check (const struct filters *f, const char *key,
                   int (*check) (const char *value, struct err **err),
                   struct err **err);

/* true when every label=KEY (the label is there) and label=KEY=VALUE
 * matches labels, an object of strings (NULL: none) */
bool filters_labels (const struct filters *f, json_t *labels);

/* Shared tests of one value: */
/* docker's Args.Match: the value itself, else as an (unanchored) regular
 * expression, against s */
bool filter_regex (const char *value, const char *s);
/* docker's glob for references (path.Match: '*' stops at '/') */
bool filter_glob (const char *pattern, const char *s);
/* "true"/"1" or "false"/"0" (dangling=...); -1 with "invalid filter
 * 'key=value'" otherwise */
int filter_bool (const char *key, const char *value, bool *out,
                 struct err **err);

#endif
