/* Where pids, sockets and locks live (docs/rootless.md).
 *
 * Root keeps them beside what they guard (a store's lock in the store, a
 * container's monitor.lock and attach.sock in its record). An ordinary
 * user (or root of a user namespace) keeps them in its runtime directory,
 * $XDG_RUNTIME_DIR/imgtool, or /tmp/imgtool-run-UID when that is unset:
 * made mode 0700, refused when another user owns it or its mode is
 * wider. A file there is named after the directory it belongs to (device
 * and inode) and its own name, so two stores never share one. */
#ifndef IMGTOOL_RUNDIR_H
#define IMGTOOL_RUNDIR_H

#include <stdbool.h>
#include <sys/types.h>

struct err;

/* The runtime directory of a user whose files it names with uid, for a
 * given $XDG_RUNTIME_DIR (NULL: unset; a directory that is gone counts
 * as unset), its owner expected to be owner (as this process sees it).
 * Not cached; allocated; NULL with *err set. */
char *rundir_for (const char *xdg, uid_t uid, uid_t owner, struct err **err);

/* This process's runtime directory (the user's, also from inside its
 * user namespace). Cached; NULL with *err set. */
const char *rundir_path (struct err **err);

/* Where run file name (may contain '/') of directory dirfd lives: *at is
 * dirfd (root) or the runtime directory's fd, the result the name there
 * (allocated). NULL with *err set. */
char *rundir_at (int dirfd, const char *name, int *at, struct err **err);

/* openat() of run file name of dirfd (see rundir_at); -1 with *err set
 * (and errno, that of openat). */
int rundir_open (int dirfd, const char *name, int flags, mode_t mode,
                 struct err **err);

/* Remove run file name of dirfd where it lives (a missing one is fine). */
void rundir_unlink (int dirfd, const char *name);

#endif
