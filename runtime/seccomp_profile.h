/* The in-memory form of a seccomp profile, shared by the built-in default
 * (seccomp_default.c), the docker-format JSON reader (seccomp_json.c) and
 * the compiler (seccomp.c). Private to runtime/. */
#ifndef IMGTOOL_SECCOMP_PROFILE_H
#define IMGTOOL_SECCOMP_PROFILE_H

#include <stddef.h>
#include <stdint.h>

struct err;

#define RT_SC_MAX_ARGS 6
#define RT_SC_MAX_SUBARCH 4

/* Architecture names as docker's "includes.arches" spells them, as bits. */
enum rt_sc_arch_bit
{
  RT_SC_AMD64 = 1u << 0,
  RT_SC_X86 = 1u << 1,
  RT_SC_X32 = 1u << 2,
  RT_SC_ARM = 1u << 3,
  RT_SC_ARM64 = 1u << 4,
  RT_SC_PPC64LE = 1u << 5,
  RT_SC_S390 = 1u << 6,
  RT_SC_S390X = 1u << 7,
  RT_SC_RISCV64 = 1u << 8,
  RT_SC_OTHER = 1u << 31, /* a name we do not run on: never native */
};

struct rt_sc_arg
{
  unsigned index;
  uint64_t value, value_two;
  int op; /* enum scmp_compare */
};

/* A rule applies when the container holds every cap of inc_caps, none of
 * exc_caps, the native arch is in inc_arches (0 = any) and not in
 * exc_arches, and the kernel is at least min_kernel (NULL = any). */
struct rt_sc_rule
{
  const char *const *names; /* NULL-terminated */
  uint32_t action;          /* a libseccomp action, errno included */
  struct rt_sc_arg args[RT_SC_MAX_ARGS];
  unsigned n_args;
  uint64_t inc_caps, exc_caps;
  uint32_t inc_arches, exc_arches;
  const char *min_kernel; /* "4.8" */
};

/* archMap: for a native arch, the sub-architectures added to the filter
 * (x86_64 adds x86 and x32, so 32-bit binaries are filtered, not killed
 * by the bad-arch action). */
struct rt_sc_archmap
{
  uint32_t arch;                   /* SCMP_ARCH_* */
  uint32_t sub[RT_SC_MAX_SUBARCH]; /* 0-terminated */
};

struct rt_sc_profile
{
  uint32_t default_action;
  const struct rt_sc_archmap *archmap;
  size_t n_archmap;
  const struct rt_sc_rule *rules;
  size_t n_rules;
  void *owner; /* what to free for a parsed profile (seccomp_json.c) */
};

/* The built-in profile (docker's allowlist, ENOSYS default, EPERM for the
 * known-dangerous calls). */
extern const struct rt_sc_profile rt_sc_default_profile;

/* Read a docker-format JSON profile. Errors name the file. */
int rt_sc_profile_load (const char *path, struct rt_sc_profile *out,
                        struct err **err);
void rt_sc_profile_release (struct rt_sc_profile *prof);

/* The docker arch bit of a libseccomp arch token (RT_SC_OTHER if none). */
uint32_t rt_sc_arch_bit (uint32_t scmp_arch);

#endif
