/* The container's security layer: seccomp-bpf, capabilities, masked and
 * read-only paths. runtime-core calls these from the container's child
 * process; see docs/security.md for what the container sees by default.
 *
 * Order in the child (runc's, reference/runtime-security.md section 1):
 *   rt_seccomp_prepare()   in the parent, before clone: parses a profile
 *                          file while its path is reachable and compiles
 *                          (or loads from the cache) the BPF program
 *   ... pivot_root, masks, setresgid/setresuid with PR_SET_KEEPCAPS ...
 *   rt_caps_apply()        after setresuid/setresgid
 *   prctl(PR_SET_NO_NEW_PRIVS)
 *   rt_seccomp_install()   last, just before execve
 * With no_new_privs off, loading a filter needs CAP_SYS_ADMIN in the
 * effective set, which a switch to a non-root uid empties, so then
 * rt_seccomp_install() runs before setresgid/setresuid and rt_caps_apply()
 * (runc does so). */
#ifndef IMGTOOL_SECURITY_H
#define IMGTOOL_SECURITY_H

#include "runtime/plan.h"

#include <stdint.h>

struct err;

/* ---- seccomp (runtime/seccomp.c) ---- */

/* Install the plan's seccomp filter in the calling process: the default
 * profile (p->seccomp_profile NULL), a docker-format JSON profile (a path),
 * or none ("unconfined", or p->privileged). Uses the program made by
 * rt_seccomp_prepare() when it was made for the same profile and
 * capabilities, else builds it here. */
int rt_seccomp_install (const struct rt_plan *p, struct err **err);

/* Parse and compile the plan's profile ahead of time (in the parent,
 * before clone and pivot_root) and keep the BPF program in this process
 * for rt_seccomp_install() in the child. A bad profile fails here, with
 * the file named, before the container starts. cache_dir (may be NULL:
 * no cache) holds compiled programs keyed by a SHA-256 of the profile,
 * capabilities, architecture, kernel and libseccomp versions: building a
 * ~400-rule filter costs more than reading it back. Created if missing. */
int rt_seccomp_prepare (const struct rt_plan *p, const char *cache_dir,
                        struct err **err);

/* ---- capabilities (runtime/caps.c) ---- */

/* Bit 63 of cap_add/cap_drop means "ALL" (docker's --cap-drop ALL). */
#define RT_CAP_ALL_BIT 63
#define RT_CAP_ALL (UINT64_C (1) << RT_CAP_ALL_BIT)

/* Drop the bounding set to what the plan allows, clear the ambient set,
 * and set effective = permitted = the plan's set for uid 0 (empty for
 * other uids, as docker since CVE-2022-24769), inheritable empty. Called
 * in the child after setresuid/setresgid, which must have been done with
 * PR_SET_KEEPCAPS set (else a non-root switch already lost the caps that
 * the bounding-set drop needs). */
int rt_caps_apply (const struct rt_plan *p, struct err **err);

/* The default set (see caps.c for the choice: podman's 11). */
uint64_t rt_caps_default (void);

/* The set the plan gives the container: all for --privileged, else the
 * default minus cap_drop (everything if its ALL bit is set), plus cap_add
 * (everything if its ALL bit is set), limited to caps the kernel knows. */
uint64_t rt_caps_for_plan (const struct rt_plan *p);

/* "NET_ADMIN", "CAP_NET_ADMIN", "net_admin" or "all" (*cap =
 * RT_CAP_ALL_BIT). Error: unknown capability 'X'. */
int rt_cap_parse (const char *name, int *cap, struct err **err);

/* "CAP_NET_ADMIN" for 12, NULL for an unknown number. */
const char *rt_cap_name (int cap);

/* Is cap in this process's effective set? */
bool rt_cap_effective (int cap);

/* The highest capability number the running kernel knows
 * (/proc/sys/kernel/cap_last_cap), or the headers' CAP_LAST_CAP. */
int rt_cap_last (void);

/* ---- masked and read-only paths (runtime/masks.c) ---- */

/* NULL-terminated; docker's list (plus podman's /sys/fs/selinux). Files
 * are masked by a bind of /dev/null, directories by a read-only tmpfs. */
extern const char *const rt_masked_paths[];
/* NULL-terminated; docker's list. Bind-remounted read-only. */
extern const char *const rt_readonly_paths[];

/* rt_masked_paths plus the per-CPU thermal_throttle directories docker
 * masks (/sys/devices/system/cpu/cpuN/thermal_throttle, those that exist
 * on this host). NULL-terminated; free with strv_free(). */
char **rt_masked_paths_all (void);

/* Apply the masks and read-only paths under rootfd (the container's root,
 * before or after pivot_root):
 * missing paths are skipped, /dev/null is checked to be the char device
 * 1:3 before it is bound over anything (CVE-2025-31133), and every target
 * is opened with O_NOFOLLOW inside root and mounted through its fd, so a
 * symlink in the image cannot redirect a mount. Skipped for privileged
 * plans. Needs CAP_SYS_ADMIN (call before rt_caps_apply). */
int rt_masks_apply (const struct rt_plan *p, int rootfd, struct err **err);

#endif
