/* Security pieces the runtime core calls in the container's child
 * (written in branch runtime-security: seccomp.c, caps.c, masks.c). */
#ifndef IMGTOOL_SECURITY_H
#define IMGTOOL_SECURITY_H

struct rt_plan;
struct err;

/* Install the plan's seccomp filter. Called in the child last, after
 * no_new_privs, just before exec. */
int rt_seccomp_install (const struct rt_plan *p, struct err **err);

/* Apply the capability sets (bounding, effective, permitted, inheritable,
 * ambient). Called in the child after setting uid/gid (PR_SET_KEEPCAPS is
 * set before the uid change, so the permitted set survives it). */
int rt_caps_apply (const struct rt_plan *p, struct err **err);

/* Docker's masked and read-only /proc and /sys paths, NULL-terminated. */
extern const char *const rt_masked_paths[];
extern const char *const rt_readonly_paths[];

#endif
