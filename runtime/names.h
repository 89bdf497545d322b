/* Container ids and names (names.c). */
#ifndef IMGTOOL_NAMES_H
#define IMGTOOL_NAMES_H

#include <stdbool.h>

/* A random 64-hex id whose 12-digit prefix is not all digits (docker). */
char *rt_new_id (void);

/* A docker-style random name, "adjective_surname". */
char *rt_random_name (void);

/* docker's rule for a given name: [a-zA-Z0-9][a-zA-Z0-9_.-]+, at most
 * 128 characters. */
bool rt_name_valid (const char *name);

#endif
