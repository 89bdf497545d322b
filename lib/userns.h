/* Which user namespace this process runs in. Rootless (an ordinary user,
 * or root of a user namespace that is not the initial one) cannot touch
 * cgroups, the host's network or trusted.* xattrs; the modules that care
 * ask here instead of guessing from geteuid() (docs/rootless.md). */
#ifndef IMGTOOL_USERNS_H
#define IMGTOOL_USERNS_H

#include <stdbool.h>

/* In a user namespace other than the initial one. */
bool userns_active (void);
/* Not root of the initial user namespace: an ordinary user, or any
 * process in a user namespace. */
bool userns_rootless (void);
/* In a user namespace whose uid map is a single id (no subordinate
 * ranges): other owners cannot be set, layers keep the caller's. */
bool userns_single (void);

/* Parse a /proc/PID/uid_map text: the number of lines and the total
 * count of ids; false when it is not a map. Pure, for the tests. */
bool userns_map_parse (const char *text, unsigned *lines, unsigned long *ids,
                       bool *identity);

#endif
