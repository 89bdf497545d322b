/* Rootless: an ordinary user's imgtool in a user namespace of its own
 * (docs/rootless.md). */
#ifndef IMGTOOL_ROOTLESS_H
#define IMGTOOL_ROOTLESS_H

#include <stdbool.h>
#include <sys/types.h>

struct err;

/* For an ordinary user: move this process into a new user namespace
 * mapped with the user's subordinate ids (newuidmap/newgidmap), or, with
 * no ranges or no helpers, the user's own id alone (warned once), become
 * its root, and enter a private mount namespace. Nothing for root (of
 * any user namespace). The process must be single-threaded. */
int rt_rootless_enter (struct err **err);

/* log_warn once per runtime directory (a marker file named key in it),
 * so a user sees it at the first command, not at every one. */
void rt_rootless_warn_once (const char *key, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));

#endif
