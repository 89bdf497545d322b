/* Subordinate id ranges (/etc/subuid, /etc/subgid) and the id map a
 * rootless user namespace gets from them (runtime/idmap.c). */
#ifndef IMGTOOL_IDMAP_H
#define IMGTOOL_IDMAP_H

#include <stddef.h>
#include <stdint.h>

struct err;

struct rt_idrange
{
  uint32_t start, count;
};

/* The ranges of user name (or numeric id, either form matches, as
 * shadow's find_range) in a subuid/subgid file; a range that holds the
 * user's own id is skipped (podman refuses it). A missing file gives no
 * ranges. Returns the number found (*out is freed by the caller), or -1
 * with *err set. */
int rt_subid_ranges (const char *path, const char *name, uint32_t id,
                     struct rt_idrange **out, struct err **err);

/* The arguments of newuidmap/newgidmap for pid: "0 <own> 1" then the
 * ranges packed from inside id 1 on (podman's layout). NULL-terminated,
 * freed with strv_free. */
char **rt_idmap_argv (const char *prog, int pid, uint32_t own,
                      const struct rt_idrange *r, size_t n);

#endif
