/* Devices of a container: the one list of device cgroup rules (written
 * to devices.allow on cgroup v1, compiled to a BPF_PROG_TYPE_CGROUP_DEVICE
 * program on v2), the host device nodes --device and --privileged bring
 * in, and the program itself. Internal to runtime/ (and its unit test);
 * cmd/ parses --device with rt_device_parse (runopts.h). */
#ifndef IMGTOOL_DEVICES_H
#define IMGTOOL_DEVICES_H

#include <stdbool.h>
#include <stddef.h>

#include "runtime/plan.h"

struct err;
struct bpf_insn;

/* Longest rule as text ("c 4294967295:4294967295 rwm"). */
#define RT_DEVICE_RULE_LEN 48

/* One rule in the devices cgroup's syntax: "c 1:3 rwm", "b *:* m", or
 * "a" (every access to every device). */
int rt_device_rule_parse (const char *s, struct rt_device_rule *out,
                          struct err **err);
/* The rule as devices.allow takes it ("a" for the allow-all rule). */
const char *rt_device_rule_format (const struct rt_device_rule *r,
                                   char buf[static RT_DEVICE_RULE_LEN]);

/* The rules of a container, in *out (freshly allocated), their number
 * returned: every device when privileged; otherwise the default
 * allowlist (docker's plus runc's) and one rule per --device. */
size_t rt_device_rules (bool privileged, const struct rt_device *devs,
                        size_t n_devs, struct rt_device_rule **out);
/* Does a rule allow every access to every device? */
bool rt_device_rules_allow_all (const struct rt_device_rule *r, size_t n);

/* The device nodes under the host directory dir (itself one, or a tree
 * walked without following symlinks), appended to *devs with the path
 * prefix + their path below dir and the given access. skip_special skips
 * what docker's --privileged skips: the directories pts, shm, mqueue, fd,
 * .lxc, .lxd-mounts and .udev, and console. Unreadable subdirectories are
 * left out. */
int rt_device_walk (const char *dir, const char *prefix, bool skip_special,
                    unsigned access, struct rt_device **devs, size_t *n,
                    struct err **err);

/* devices_bpf.c: the rules as a cgroup device program (allow = 1, default
 * deny; an access is allowed when a rule of its type and numbers allows
 * all of it). *out is allocated; returns the number of instructions. */
size_t rt_device_bpf_compile (const struct rt_device_rule *r, size_t n,
                              struct bpf_insn **out);
/* Load a cgroup device program; its fd, or -1 with the verifier's first
 * message (its first log line that is not the instruction trace) in the
 * error. */
int rt_device_bpf_load (const struct bpf_insn *insns, size_t n,
                        struct err **err);
/* Compile, load and attach the rules' program to the cgroup2 directory
 * cgfd (not an O_PATH fd) with BPF_F_ALLOW_MULTI. Nothing when the rules
 * allow everything. */
int rt_device_bpf_attach (int cgfd, const struct rt_device_rule *r, size_t n,
                          struct err **err);

#endif
