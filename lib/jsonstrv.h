/* NULL-terminated string vectors (lib/xalloc.h's strv) to and from JSON
 * arrays of strings (jansson). */
#ifndef IMGTOOL_JSONSTRV_H
#define IMGTOOL_JSONSTRV_H

#include <jansson.h>

/* A new array of v's strings; NULL v gives []. */
json_t *strv_to_json (char *const *v);

/* The strings of array a (other elements skipped), or NULL when a is not
 * an array. */
char **json_to_strv (json_t *a);

#endif
