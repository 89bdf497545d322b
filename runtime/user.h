/* Users and groups of an image, resolved without NSS.
 *
 * `-u` / the image's User ("name", "uid", "name:group", "uid:gid", ...) is
 * resolved by reading /etc/passwd and /etc/group of the container's root
 * filesystem ourselves: getpwnam() and friends would load NSS modules chosen
 * by files we do not trust (CVE-2019-14271). The root filesystem is given
 * as a stack of directories, top first (overlay lower dirs, or one mounted
 * rootfs), and overlay whiteouts and opaque directories are honoured, so
 * the files read are the ones the container will see. */
#ifndef IMGTOOL_USER_H
#define IMGTOOL_USER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "runtime/plan.h"

struct err;

/* The largest id runc and docker accept. */
#define RT_ID_MAX 2147483647u

/* What a user spec resolves to. */
struct rt_user_info
{
  struct rt_user user; /* uid, gid, supplementary groups */
  char *name;          /* passwd name or NULL */
  char *home;          /* home from passwd, "/" when there is no entry */
};

/* Parse a decimal id; false unless s is all digits and <= RT_ID_MAX. */
bool rt_user_parse_id (const char *s, unsigned *out);

/* Resolve spec ("" or NULL = root) against the files of the stack
 * dirs (NULL-terminated, top first). Numeric ids need no entry; a numeric
 * uid with an entry takes its primary group and home from it. The
 * supplementary groups are docker's: the primary gid first, then, when
 * the user has a passwd entry and no group was given (runc's rule), the
 * /etc/group entries that list it, without duplicates.
 * A name that is not there is an error with exit status 125:
 *   unable to find user app: no matching entries in passwd file */
int rt_user_resolve (char *const *dirs, const char *spec,
                     struct rt_user_info *out, struct err **err);
void rt_user_info_release (struct rt_user_info *u);

/* --group-add: each of names (a group name of the stack's /etc/group, or
 * a gid) added to u's supplementary groups, without duplicates. A name
 * that is not there: "unable to find group X: ...", exit 125. */
int rt_user_add_groups (char *const *dirs, char *const *names,
                        struct rt_user *u, struct err **err);

/* Open path (relative, e.g. "etc/passwd") as the overlay of dirs would show
 * it: the topmost layer that has it, unless a whiteout or an opaque
 * directory above hides it. Symlinks are followed inside the stack's root
 * as openat2(RESOLVE_IN_ROOT) follows them (lib/inroot.h), never out of
 * it. Returns an fd of a regular file, or -1 with errno ENOENT (no error
 * set) when it is not there (a dangling link, a non-directory on the
 * way), or -1 with *err set on other failures (a symlink loop). */
int rt_stack_open (char *const *dirs, const char *path, struct err **err);

#endif
