/* Unit tests for runtime/security.h: seccomp, capabilities, masks.
 * Each kernel-facing check runs in a forked child (a filter or a dropped
 * capability cannot be undone), which reports numbers through a pipe. Runs
 * as root (make check does, on this machine). */
#include "runtime/security.h"

#include "lib/err.h"
#include "lib/fs.h"
#include "lib/xalloc.h"
#include "tests/unit/test.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_RESULTS 64

static char tmpdir[] = "/tmp/imgtool-test-security.XXXXXX";

static void
plan_default (struct rt_plan *p)
{
  memset (p, 0, sizeof *p);
  p->no_new_privs = true;
}

/* Run fn in a forked child; it fills out[] (long values), which the parent
 * gets back. Returns the number of values, or -1 if the child failed. */
static int
in_child (int (*fn) (const struct rt_plan *, long *, char *),
          const struct rt_plan *p, long *out, char *msg)
{
  int fds[2];
  if (pipe2 (fds, O_CLOEXEC) < 0)
    return -1;
  fflush (stdout);
  pid_t pid = fork ();
  if (pid == 0)
    {
      close (fds[0]);
      struct
      {
        int n;
        long v[MAX_RESULTS];
        char msg[256];
      } r;
      memset (&r, 0, sizeof r);
      r.n = fn (p, r.v, r.msg);
      fs_write_all (fds[1], &r, sizeof r);
      _exit (0);
    }
  close (fds[1]);
  struct
  {
    int n;
    long v[MAX_RESULTS];
    char msg[256];
  } r;
  memset (&r, 0, sizeof r);
  ssize_t got = fs_read_full (fds[0], &r, sizeof r);
  close (fds[0]);
  int status;
  waitpid (pid, &status, 0);
  if (got != (ssize_t)sizeof r)
    return -1;
  memcpy (out, r.v, sizeof r.v);
  if (msg)
    memcpy (msg, r.msg, sizeof r.msg);
  return r.n;
}

/* -errno of a raw syscall, or its (non-negative) result. */
#define SYS(...) (syscall (__VA_ARGS__) < 0 ? -errno : 0)

static long
status_field (const char *field)
{
  _cleanup_free_ char *buf = NULL;
  struct err *e = NULL;
  if (fs_read_file (AT_FDCWD, "/proc/self/status", 1 << 16, &buf, NULL, &e) < 0)
    {
      err_free (e);
      return -1;
    }
  char *at = strstr (buf, field);
  if (!at)
    return -1;
  return (long)strtoull (at + strlen (field) + 1, NULL,
                         strstr (field, "Cap") ? 16 : 10);
}

enum
{
  R_LOAD,
  R_MOUNT,
  R_UNSHARE,
  R_SETNS,
  R_KEYCTL,
  R_INIT_MODULE,
  R_KEXEC,
  R_REBOOT,
  R_OPEN_BY_HANDLE,
  R_CLONE3,
  R_PIVOT_ROOT,
  R_IO_URING,
  R_VSOCK,
  R_PERSONALITY_BSD,
  R_PERSONALITY_QUERY,
  R_GETPID,
  R_WRITE,
  R_OPENAT,
  R_UNIX_SOCKET,
  R_FORK,
  R_SECCOMP_MODE,
  R_CLONE_NEWNS,
  R_MKDIR,
  R_RMDIR,
  R_MEMPOLICY,
  R_MBIND,
  R_LSM_LIST,
  R_CLONE_NS_ALLOWED,
  R_N
};

/* The program the test prepared last, for child_seccomp to load (as the
 * core hands it to its child). */
static struct rt_seccomp_prog test_prog;

static int
prepare (const struct rt_plan *p, const char *cache, struct err **err)
{
  rt_seccomp_prog_release (&test_prog);
  return rt_seccomp_prepare (p, cache, &test_prog, err);
}

/* Syscalls of three families no rule names, which therefore get the
 * profile's default action. Harmless when let through. */
#ifndef SYS_lsm_list_modules
#define SYS_lsm_list_modules 461 /* the same number on every arch */
#endif
static void
probe_default_action (long *v)
{
  unsigned long mask = 0;
  uint32_t lsm_size = 0;
  v[R_MEMPOLICY] = SYS (SYS_get_mempolicy, NULL, NULL, 0, NULL, 0);
  v[R_MBIND] = SYS (SYS_mbind, NULL, 0, 0 /* MPOL_DEFAULT */, &mask, 0, 0);
  v[R_LSM_LIST] = SYS (SYS_lsm_list_modules, NULL, &lsm_size, 0);
}

static int
child_seccomp (const struct rt_plan *p, long *v, char *msg)
{
  int nsfd = open ("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
  struct err *err = NULL;
  prctl (PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
  v[R_LOAD] = rt_seccomp_install (p, &test_prog, &err);
  if (err)
    snprintf (msg, 256, "%s", err->msg);
  /* Every probe is harmless if it were let through: bad magic numbers,
   * NULL pointers, invalid flags, or a private namespace of a child that
   * exits right away. */
  v[R_MOUNT]
      = SYS (SYS_mount, "none", "/nonexistent-imgtool", "tmpfs", 0, NULL);
  v[R_UNSHARE] = SYS (SYS_unshare, CLONE_NEWNS);
  v[R_SETNS] = SYS (SYS_setns, nsfd, 0);
  v[R_KEYCTL] = SYS (SYS_keyctl, 0 /* GET_KEYRING_ID */, -3, 0);
  v[R_INIT_MODULE] = SYS (SYS_init_module, NULL, 0, NULL);
  v[R_KEXEC] = SYS (SYS_kexec_load, 0, 0, NULL, 0xdead0000UL);
  v[R_REBOOT] = SYS (SYS_reboot, 0, 0, 0, NULL);
  v[R_OPEN_BY_HANDLE] = SYS (SYS_open_by_handle_at, -1, NULL, 0);
  v[R_CLONE3] = SYS (SYS_clone3, NULL, 0);
  v[R_PIVOT_ROOT] = SYS (SYS_pivot_root, "/nonexistent-a", "/nonexistent-b");
  v[R_IO_URING] = SYS (SYS_io_uring_setup, 0, NULL);
  long s = syscall (SYS_socket, 40 /* AF_VSOCK */, SOCK_STREAM, 0);
  v[R_VSOCK] = s < 0 ? -errno : 0;
  if (s >= 0)
    close ((int)s);
  v[R_PERSONALITY_BSD] = SYS (SYS_personality, 6 /* PER_BSD */);
  v[R_PERSONALITY_QUERY] = SYS (SYS_personality, 0xffffffffUL);
  v[R_GETPID] = syscall (SYS_getpid) == getpid () ? 0 : -1;
  v[R_WRITE] = write (2, "", 0) == 0 ? 0 : -errno;
  int fd = openat (AT_FDCWD, "/proc/self/status", O_RDONLY | O_CLOEXEC);
  v[R_OPENAT] = fd >= 0 ? 0 : -errno;
  if (fd >= 0)
    close (fd);
  s = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  v[R_UNIX_SOCKET] = s < 0 ? -errno : 0;
  if (s >= 0)
    close ((int)s);
  pid_t pid = fork ();
  if (pid == 0)
    _exit (7);
  int st = 0;
  v[R_FORK] = pid > 0 && waitpid (pid, &st, 0) == pid && WEXITSTATUS (st) == 7
                  ? 0
                  : -errno;
  v[R_SECCOMP_MODE] = status_field ("Seccomp:");
  /* fork with a namespace flag: the clone flag filter. */
  long c = syscall (SYS_clone, CLONE_NEWNS | SIGCHLD, NULL, NULL, NULL, 0);
  if (c == 0)
    _exit (0);
  v[R_CLONE_NEWNS] = c < 0 ? -errno : 0;
  if (c > 0)
    waitpid ((pid_t)c, NULL, 0);
  char dir[128];
  snprintf (dir, sizeof dir, "%s/made-by-child", tmpdir);
  v[R_MKDIR] = mkdir (dir, 0700) == 0 ? 0 : -errno;
  v[R_RMDIR] = rmdir (dir) == 0 ? 0 : -errno;
  probe_default_action (v);
  /* Each namespace flag alone: the flags whose clone was not EPERM. */
  static const unsigned long ns_flags[]
      = { CLONE_NEWNS,   CLONE_NEWCGROUP, CLONE_NEWUTS, CLONE_NEWIPC,
          CLONE_NEWUSER, CLONE_NEWPID,    CLONE_NEWNET };
  v[R_CLONE_NS_ALLOWED] = 0;
  for (size_t i = 0; i < ARRAY_SIZE (ns_flags); i++)
    {
      long k = syscall (SYS_clone, ns_flags[i] | SIGCHLD, NULL, NULL, NULL, 0);
      if (k == 0)
        _exit (0);
      if (k > 0)
        waitpid ((pid_t)k, NULL, 0);
      if (!(k < 0 && errno == EPERM))
        v[R_CLONE_NS_ALLOWED] |= (long)ns_flags[i];
    }
  return R_N;
}

static void
test_seccomp_default (void)
{
  struct rt_plan p;
  plan_default (&p);
  long v[MAX_RESULTS];
  char msg[256] = "";
  int n = in_child (child_seccomp, &p, v, msg);
  CHECK (n == R_N, "seccomp child reported");
  if (n != R_N)
    return;
  CHECK (v[R_LOAD] == 0, "default filter loads (%s)", msg);
  /* doc:seccomp-mode doc:seccomp-eperm */
  CHECK (v[R_SECCOMP_MODE] == 2, "/proc/self/status says Seccomp: 2");
  CHECK (v[R_MOUNT] == -EPERM, "mount(2) is EPERM (got %ld)", v[R_MOUNT]);
  CHECK (v[R_UNSHARE] == -EPERM, "unshare(CLONE_NEWNS) is EPERM (got %ld)",
         v[R_UNSHARE]);
  CHECK (v[R_SETNS] == -EPERM, "setns is EPERM (got %ld)", v[R_SETNS]);
  CHECK (v[R_KEYCTL] == -EPERM, "keyctl is EPERM (got %ld)", v[R_KEYCTL]);
  CHECK (v[R_INIT_MODULE] == -EPERM, "init_module is EPERM (got %ld)",
         v[R_INIT_MODULE]);
  CHECK (v[R_KEXEC] == -EPERM, "kexec_load is EPERM (got %ld)", v[R_KEXEC]);
  CHECK (v[R_REBOOT] == -EPERM, "reboot is EPERM (got %ld)", v[R_REBOOT]);
  CHECK (v[R_OPEN_BY_HANDLE] == -EPERM, "open_by_handle_at is EPERM (got %ld)",
         v[R_OPEN_BY_HANDLE]);
  CHECK (v[R_PIVOT_ROOT] == -EPERM, "pivot_root is EPERM (got %ld)",
         v[R_PIVOT_ROOT]);
  CHECK (v[R_IO_URING] == -EPERM, "io_uring_setup is EPERM (got %ld)",
         v[R_IO_URING]);
  CHECK (v[R_VSOCK] == -EPERM, "socket(AF_VSOCK) is EPERM (got %ld)",
         v[R_VSOCK]);
  /* doc:seccomp-clone3 */
  CHECK (v[R_CLONE3] == -ENOSYS, "clone3 is ENOSYS (got %ld)", v[R_CLONE3]);
  CHECK (v[R_CLONE_NEWNS] == -EPERM, "clone(CLONE_NEWNS) is EPERM (got %ld)",
         v[R_CLONE_NEWNS]);
  CHECK (v[R_CLONE_NS_ALLOWED] == 0,
         "clone with each CLONE_NEW* flag is EPERM (not: %#lx)",
         v[R_CLONE_NS_ALLOWED]);
  /* doc:seccomp-personality */
  CHECK (v[R_PERSONALITY_BSD] == -ENOSYS,
         "personality(PER_BSD) gets the default ENOSYS (got %ld)",
         v[R_PERSONALITY_BSD]);
  CHECK (v[R_PERSONALITY_QUERY] == 0, "personality query works (got %ld)",
         v[R_PERSONALITY_QUERY]);
  /* doc:seccomp-allowlist */
  CHECK (v[R_GETPID] == 0, "getpid works");
  CHECK (v[R_WRITE] == 0, "write works");
  CHECK (v[R_OPENAT] == 0, "openat works");
  CHECK (v[R_UNIX_SOCKET] == 0, "socket(AF_UNIX) works");
  CHECK (v[R_FORK] == 0, "fork (clone without namespace flags) works");
  CHECK (v[R_MKDIR] == 0 && v[R_RMDIR] == 0, "mkdir and rmdir work");

  /* The default action is ERRNO(ENOSYS) for every family, not only for
   * personality: the same probes without a filter must not say ENOSYS
   * (else this kernel cannot tell). */
  /* doc:seccomp-default-action */
  long host[MAX_RESULTS];
  probe_default_action (host);
  static const struct
  {
    int slot;
    const char *what;
  } dflt[] = { { R_MEMPOLICY, "get_mempolicy (NUMA)" },
               { R_MBIND, "mbind (NUMA)" },
               { R_LSM_LIST, "lsm_list_modules (LSM)" } };
  for (size_t i = 0; i < ARRAY_SIZE (dflt); i++)
    if (host[dflt[i].slot] == -ENOSYS)
      SKIP ("%s is ENOSYS on this kernel without a filter", dflt[i].what);
    else
      CHECK (v[dflt[i].slot] == -ENOSYS,
             "%s gets the default ENOSYS (got %ld, %ld without a filter)",
             dflt[i].what, v[dflt[i].slot], host[dflt[i].slot]);
}

#if defined(__x86_64__)
/* getpid through the i386 entry (int 0x80): the filter must know the x86
 * sub-architecture, or libseccomp's bad-arch action kills the caller. */
static long
i386_getpid (void)
{
  long ret;
  __asm__ volatile("int $0x80"
                   : "=a"(ret)
                   : "a"(20L) /* i386 __NR_getpid */
                   : "memory", "r8", "r9", "r10", "r11");
  return ret;
}

static int
child_i386 (const struct rt_plan *p, long *v, char *msg)
{
  struct err *err = NULL;
  prctl (PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
  v[0] = rt_seccomp_install (p, NULL, &err);
  if (err)
    snprintf (msg, 256, "%s", err->msg);
  v[1] = i386_getpid () == getpid ();
  return 2;
}
#endif

/* docker's archMap: an x86_64 filter covers i386 calls too (x32 shares the
 * x86_64 audit arch). */
static void
test_seccomp_i386 (void)
{
#if defined(__x86_64__)
  if (i386_getpid () != getpid ())
    {
      SKIP ("no i386 emulation in this kernel");
      return;
    }
  struct rt_plan p;
  plan_default (&p);
  long v[MAX_RESULTS];
  char msg[256] = "";
  int n = in_child (child_i386, &p, v, msg);
  /* doc:seccomp-arches */
  CHECK (n == 2 && v[0] == 0 && v[1] == 1,
         "an i386 syscall passes the default filter (child %s)",
         n == 2 ? "ran" : "was killed");
#else
  SKIP ("not x86_64");
#endif
}

static void
test_seccomp_sys_admin (void)
{
  struct rt_plan p;
  plan_default (&p);
  p.cap_add = UINT64_C (1) << 21; /* CAP_SYS_ADMIN */
  long v[MAX_RESULTS];
  char msg[256] = "";
  int n = in_child (child_seccomp, &p, v, msg);
  CHECK (n == R_N && v[R_LOAD] == 0, "filter for --cap-add SYS_ADMIN loads");
  if (n != R_N)
    return;
  CHECK (v[R_UNSHARE] == 0, "with CAP_SYS_ADMIN unshare(CLONE_NEWNS) works");
  CHECK (v[R_CLONE_NEWNS] == 0, "with CAP_SYS_ADMIN clone(CLONE_NEWNS) works");
  CHECK (v[R_CLONE3] == -EINVAL,
         "with CAP_SYS_ADMIN clone3 reaches the kernel (got %ld)", v[R_CLONE3]);
  CHECK (v[R_KEYCTL] == -EPERM, "keyctl stays EPERM");
}

static void
test_seccomp_unconfined (void)
{
  struct rt_plan p;
  plan_default (&p);
  p.seccomp_profile = "unconfined";
  long v[MAX_RESULTS];
  int n = in_child (child_seccomp, &p, v, NULL);
  CHECK (n == R_N && v[R_SECCOMP_MODE] == 0,
         "seccomp=unconfined installs no filter");
  plan_default (&p);
  p.privileged = true;
  n = in_child (child_seccomp, &p, v, NULL);
  CHECK (n == R_N && v[R_SECCOMP_MODE] == 0, "--privileged installs no filter");
}

static char *
write_profile (const char *name, const char *json)
{
  char *path = xasprintf ("%s/%s", tmpdir, name);
  struct err *e = NULL;
  if (fs_write_file_atomic (AT_FDCWD, path, json, strlen (json), 0644, &e) < 0)
    err_free (e);
  return path;
}

static void
test_seccomp_json (void)
{
  _cleanup_free_ char *path = write_profile (
      "deny-mkdir.json",
      "{ \"defaultAction\": \"SCMP_ACT_ALLOW\",\n"
      "  \"archMap\": [ { \"architecture\": \"SCMP_ARCH_X86_64\",\n"
      "                 \"subArchitectures\": [\"SCMP_ARCH_X86\"] } ],\n"
      "  \"syscalls\": [ { \"names\": [\"mkdir\", \"mkdirat\"],\n"
      "                   \"action\": \"SCMP_ACT_ERRNO\" } ] }\n");
  struct rt_plan p;
  plan_default (&p);
  p.seccomp_profile = path;
  struct err *err = NULL;
  CHECK (prepare (&p, NULL, &err) == 0, "JSON profile parses");
  err_free (err);
  err = NULL;
  long v[MAX_RESULTS];
  char msg[256] = "";
  int n = in_child (child_seccomp, &p, v, msg);
  CHECK (n == R_N && v[R_LOAD] == 0, "JSON profile loads (%s)", msg);
  rt_seccomp_prog_release (&test_prog); /* the next ones build their own */
  if (n != R_N)
    return;
  CHECK (v[R_MKDIR] == -EPERM, "the profile makes mkdir EPERM (got %ld)",
         v[R_MKDIR]);
  CHECK (v[R_GETPID] == 0 && v[R_OPENAT] == 0 && v[R_FORK] == 0,
         "and allows the rest");
  CHECK (v[R_CLONE3] == -EINVAL, "clone3 is allowed by that profile");

  /* Conditions on arguments and errnoRet. */
  _cleanup_free_ char *args = write_profile (
      "args.json",
      "{ \"defaultAction\": \"SCMP_ACT_ALLOW\",\n"
      "  \"syscalls\": [ { \"names\": [\"personality\"],\n"
      "    \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 22,\n"
      "    \"args\": [ { \"index\": 0, \"value\": 6, \"op\": \"SCMP_CMP_EQ\" } "
      "] },\n"
      "   { \"names\": [\"mkdir\"], \"action\": \"SCMP_ACT_ALLOW\",\n"
      "     \"includes\": { \"caps\": [\"CAP_SYS_MODULE\"] } } ] }\n");
  p.seccomp_profile = args;
  n = in_child (child_seccomp, &p, v, msg);
  CHECK (n == R_N && v[R_LOAD] == 0, "profile with args loads (%s)", msg);
  CHECK (n == R_N && v[R_PERSONALITY_BSD] == -EINVAL
             && v[R_PERSONALITY_QUERY] == 0,
         "arg condition matches only its value, with errnoRet");
}

/* A real profile from a peer: Debian's containers-common ships podman's. */
static void
test_seccomp_podman_profile (void)
{
  const char *path = "/usr/share/containers/seccomp.json";
  if (access (path, R_OK) < 0)
    {
      SKIP ("no %s (containers-common)", path);
      return;
    }
  struct rt_plan p;
  plan_default (&p);
  p.seccomp_profile = (char *)path;
  long v[MAX_RESULTS];
  char msg[256] = "";
  int n = in_child (child_seccomp, &p, v, msg);
  CHECK (n == R_N && v[R_LOAD] == 0, "podman's own profile loads (%s)", msg);
  if (n != R_N)
    return;
  CHECK (v[R_SECCOMP_MODE] == 2 && v[R_GETPID] == 0 && v[R_FORK] == 0
             && v[R_MKDIR] == 0,
         "under podman's profile ordinary calls work");
  CHECK (v[R_KEXEC] == -EPERM, "podman's profile: kexec_load is EPERM");
  CHECK (v[R_OPEN_BY_HANDLE] == -EPERM,
         "podman's profile: open_by_handle_at is EPERM");
  CHECK (v[R_KEYCTL] != -EPERM && v[R_KEYCTL] != -ENOSYS,
         "podman's profile lets keyctl through, unlike imgtool's (got %ld)",
         v[R_KEYCTL]);
}

static void
check_bad_profile (const char *name, const char *json, const char *want)
{
  _cleanup_free_ char *path = write_profile (name, json);
  struct rt_plan p;
  plan_default (&p);
  p.seccomp_profile = path;
  struct err *err = NULL;
  int rc = prepare (&p, NULL, &err);
  CHECK (rc < 0 && err && strstr (err->msg, path) && strstr (err->msg, want),
         "bad profile %s: error names the file and '%s' (%s)", name, want,
         err ? err->msg : "no error");
  err_free (err);
}

static void
test_seccomp_bad (void)
{
  check_bad_profile ("broken.json", "{ \"defaultAction\": ", "line 1");
  check_bad_profile (
      "action.json",
      "{ \"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": "
      "[ { \"names\": [\"read\"], \"action\": \"SCMP_ACT_FOO\" } ] }",
      "unsupported action 'SCMP_ACT_FOO'");
  check_bad_profile ("noaction.json", "{ \"syscalls\": [] }",
                     "no defaultAction");
  check_bad_profile (
      "op.json",
      "{ \"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": "
      "[ { \"names\": [\"read\"], \"action\": \"SCMP_ACT_ERRNO\","
      " \"args\": [ { \"index\": 0, \"value\": 1, \"op\": \"LT\" } ] } ] }",
      "unknown op 'LT'");
  struct rt_plan p;
  plan_default (&p);
  p.seccomp_profile = "/nonexistent/profile.json";
  struct err *err = NULL;
  CHECK (prepare (&p, NULL, &err) < 0 && err
             && strstr (err->msg, "/nonexistent/profile.json"),
         "a missing profile is an error naming it (%s)",
         err ? err->msg : "no error");
  err_free (err);
}

/* The compiled program is cached, and covers the sub-architectures. */
static void
test_seccomp_cache (void)
{
  struct rt_plan p;
  plan_default (&p);
  _cleanup_free_ char *cache = xasprintf ("%s/cache", tmpdir);
  struct err *err = NULL;
  CHECK (prepare (&p, cache, &err) == 0, "prepare with a cache");
  err_free (err);
  err = NULL;
  _cleanup_closedir_ DIR *d = opendir (cache);
  struct dirent *de;
  char name[256] = "";
  int files = 0;
  while (d && (de = readdir (d)))
    if (de->d_name[0] != '.')
      {
        files++;
        snprintf (name, sizeof name, "%s", de->d_name);
      }
  CHECK (files == 1 && !strncmp (name, "seccomp-", 8),
         "one compiled program in the cache (%s)", name);
  _cleanup_free_ char *path = xasprintf ("%s/%s", cache, name);
  _cleanup_free_ char *buf = NULL;
  size_t len = 0;
  if (fs_read_file (AT_FDCWD, path, 1 << 20, &buf, &len, &err) < 0)
    err_free (err);
  err = NULL;
  const struct sock_filter *f = (const void *)buf;
  bool x86_64 = false, i386 = false;
  for (size_t i = 0; buf && i < len / sizeof *f; i++)
    if (f[i].code == (BPF_JMP | BPF_JEQ | BPF_K))
      {
        x86_64 |= f[i].k == AUDIT_ARCH_X86_64;
        i386 |= f[i].k == AUDIT_ARCH_I386;
      }
  /* doc:seccomp-arches */
  CHECK (x86_64 && i386, "the program checks x86_64 and i386 (sub-arch)");

  /* The cached copy is what gets loaded: a child still gets the filter. */
  CHECK (prepare (&p, cache, &err) == 0, "prepare from the cache");
  err_free (err);
  long v[MAX_RESULTS];
  char msg[256] = "";
  int n = in_child (child_seccomp, &p, v, msg);
  CHECK (n == R_N && v[R_LOAD] == 0 && v[R_MOUNT] == -EPERM && v[R_GETPID] == 0,
         "the cached program loads and filters (%s)", msg);
  rt_seccomp_prog_release (&test_prog);

  /* Other caps, other program. */
  p.cap_add = UINT64_C (1) << 21;
  err = NULL;
  prepare (&p, cache, &err);
  err_free (err);
  files = 0;
  rewinddir (d);
  while (d && (de = readdir (d)))
    files += de->d_name[0] != '.';
  CHECK (files == 2, "a different capability set is cached apart");
  memset (&p, 0, sizeof p);
  p.privileged = true;
  rt_seccomp_prog_release (&test_prog);
}

/* ---- capabilities ---- */

enum
{
  C_RC,
  C_EFF,
  C_PRM,
  C_BND,
  C_INH,
  C_AMB,
  C_N
};

static int
child_caps (const struct rt_plan *p, long *v, char *msg)
{
  struct err *err = NULL;
  if (p->user.uid != 0)
    {
      prctl (PR_SET_KEEPCAPS, 1, 0, 0, 0);
      if (setresgid (p->user.gid, p->user.gid, p->user.gid) < 0
          || setresuid (p->user.uid, p->user.uid, p->user.uid) < 0)
        snprintf (msg, 256, "setresuid: %s", strerror (errno));
    }
  v[C_RC] = rt_caps_apply (p, &err);
  if (err)
    snprintf (msg, 256, "%s", err->msg);
  v[C_EFF] = status_field ("CapEff:");
  v[C_PRM] = status_field ("CapPrm:");
  v[C_BND] = status_field ("CapBnd:");
  v[C_INH] = status_field ("CapInh:");
  v[C_AMB] = status_field ("CapAmb:");
  return C_N;
}

static void
test_caps (void)
{
  uint64_t def = rt_caps_default ();
  /* Pinned as a mask: podman's 11 (docker's 14 without MKNOD, NET_RAW and
   * AUDIT_WRITE), so a swapped capability fails here, not only in the
   * podman comparison that skips where podman cannot run. */
  const uint64_t want = (UINT64_C (1) << 0)     /* CHOWN */
                        | (UINT64_C (1) << 1)   /* DAC_OVERRIDE */
                        | (UINT64_C (1) << 3)   /* FOWNER */
                        | (UINT64_C (1) << 4)   /* FSETID */
                        | (UINT64_C (1) << 5)   /* KILL */
                        | (UINT64_C (1) << 6)   /* SETGID */
                        | (UINT64_C (1) << 7)   /* SETUID */
                        | (UINT64_C (1) << 8)   /* SETPCAP */
                        | (UINT64_C (1) << 10)  /* NET_BIND_SERVICE */
                        | (UINT64_C (1) << 18)  /* SYS_CHROOT */
                        | (UINT64_C (1) << 31); /* SETFCAP */
  /* doc:caps-default */
  CHECK (def == want, "the default set is exactly %#llx (got %#llx)",
         (unsigned long long)want, (unsigned long long)def);
  CHECK (__builtin_popcountll (def) == 11, "the default set has 11 caps");

  struct rt_plan p;
  plan_default (&p);
  long v[MAX_RESULTS];
  char msg[256] = "";
  int n = in_child (child_caps, &p, v, msg);
  CHECK (n == C_N && v[C_RC] == 0, "rt_caps_apply as root (%s)", msg);
  CHECK ((uint64_t)v[C_EFF] == def && (uint64_t)v[C_PRM] == def,
         "CapEff/CapPrm are the default set (%lx)", v[C_EFF]);
  CHECK ((uint64_t)v[C_BND] == def, "CapBnd is the default set (%lx)",
         v[C_BND]);
  /* doc:caps-inh-amb */
  CHECK (v[C_INH] == 0 && v[C_AMB] == 0, "no inheritable or ambient caps");

  int cap = -1;
  struct err *err = NULL;
  rt_cap_parse ("NET_ADMIN", &cap, &err);
  p.cap_add = UINT64_C (1) << cap;
  n = in_child (child_caps, &p, v, msg);
  CHECK (n == C_N && v[C_RC] == 0
             && (uint64_t)v[C_EFF] == (def | (UINT64_C (1) << 12))
             && (uint64_t)v[C_BND] == (def | (UINT64_C (1) << 12)),
         "--cap-add NET_ADMIN adds it (%lx)", v[C_EFF]);

  plan_default (&p);
  p.cap_drop = RT_CAP_ALL;
  n = in_child (child_caps, &p, v, msg);
  CHECK (n == C_N && v[C_RC] == 0 && v[C_EFF] == 0 && v[C_BND] == 0
             && v[C_PRM] == 0,
         "--cap-drop ALL leaves none (eff %lx bnd %lx)", v[C_EFF], v[C_BND]);

  p.cap_add = UINT64_C (1) << 10; /* NET_BIND_SERVICE */
  n = in_child (child_caps, &p, v, msg);
  CHECK (n == C_N && v[C_EFF] == (1L << 10) && v[C_BND] == (1L << 10),
         "--cap-drop ALL --cap-add NET_BIND_SERVICE leaves just that");

  plan_default (&p);
  p.cap_drop = (UINT64_C (1) << 0) | (UINT64_C (1) << 7); /* CHOWN, SETUID */
  n = in_child (child_caps, &p, v, msg);
  CHECK (n == C_N && (uint64_t)v[C_EFF] == (def & ~UINT64_C (0x81)),
         "--cap-drop CHOWN,SETUID drops them");

  plan_default (&p);
  p.user.uid = 1000;
  p.user.gid = 1000;
  n = in_child (child_caps, &p, v, msg);
  /* doc:caps-nonroot */
  CHECK (n == C_N && v[C_RC] == 0 && v[C_EFF] == 0 && v[C_PRM] == 0
             && (uint64_t)v[C_BND] == def,
         "a non-root user gets no effective caps, bounding = default (%s)",
         msg);

  plan_default (&p);
  p.privileged = true;
  long host_bnd = status_field ("CapBnd:");
  n = in_child (child_caps, &p, v, msg);
  CHECK (n == C_N && v[C_RC] == 0 && v[C_BND] == host_bnd
             && v[C_EFF] == host_bnd,
         "--privileged keeps every cap imgtool holds (%lx)", v[C_EFF]);
  err_free (err);
}

static void
test_cap_parse (void)
{
  struct
  {
    const char *in;
    int want;
  } ok[] = {
    { "NET_ADMIN", 12 },          { "CAP_NET_ADMIN", 12 },
    { "net_admin", 12 },          { "cap_sys_admin", 21 },
    { "all", RT_CAP_ALL_BIT },    { "ALL", RT_CAP_ALL_BIT },
    { "CHECKPOINT_RESTORE", 40 }, { "chown", 0 },
  };
  for (size_t i = 0; i < ARRAY_SIZE (ok); i++)
    {
      int cap = -1;
      struct err *err = NULL;
      CHECK (rt_cap_parse (ok[i].in, &cap, &err) == 0 && cap == ok[i].want,
             "rt_cap_parse '%s' = %d", ok[i].in, ok[i].want);
      err_free (err);
    }
  const char *bad[] = { "NET_ADMINX", "CAP_", "", "CAP_ALL", "12" };
  for (size_t i = 0; i < ARRAY_SIZE (bad); i++)
    {
      int cap = -1;
      struct err *err = NULL;
      char want[64];
      snprintf (want, sizeof want, "unknown capability '%s'", bad[i]);
      CHECK (rt_cap_parse (bad[i], &cap, &err) < 0 && err
                 && !strcmp (err->msg, want),
             "rt_cap_parse '%s' fails clearly", bad[i]);
      err_free (err);
    }
  CHECK_STR (rt_cap_name (12), "CAP_NET_ADMIN", "rt_cap_name 12");
  CHECK (rt_cap_name (99) == NULL, "rt_cap_name of an unknown number");
}

/* ---- masks ---- */

enum
{
  M_RC,
  M_FILES_SEEN,
  M_FILES_NULL,
  M_KEYS_EMPTY,
  M_SYS_RO,
  M_SYSRQ_RO,
  M_FIRMWARE_EMPTY,
  M_STATUS_READABLE,
  M_N
};

static long
read_len (const char *path)
{
  char buf[4096];
  int fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return -errno;
  ssize_t n = read (fd, buf, sizeof buf);
  close (fd);
  return n < 0 ? -errno : n;
}

static long
dir_entries (const char *path)
{
  DIR *d = opendir (path);
  if (!d)
    return -errno;
  long n = 0;
  struct dirent *de;
  while ((de = readdir (d)))
    n += strcmp (de->d_name, ".") && strcmp (de->d_name, "..");
  closedir (d);
  return n;
}

/* rt_masks_apply on a root whose /dev/null is not the null device (a
 * file, or a symlink to another device): CVE-2025-31133. */
static int
child_fake_null (const struct rt_plan *p, long *v, char *msg)
{
  struct err *err = NULL;
  if (unshare (CLONE_NEWNS) < 0
      || mount (NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
    {
      snprintf (msg, 256, "unshare: %s", strerror (errno));
      return 0;
    }
  for (int i = 0; i < 2; i++)
    {
      char dir[128];
      snprintf (dir, sizeof dir, "%s/fake-null-%d", tmpdir, i);
      mkdir (dir, 0755);
      int root = open (dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
      mkdirat (root, "dev", 0755);
      if (i == 0)
        close (openat (root, "dev/null", O_CREAT | O_WRONLY | O_CLOEXEC, 0644));
      else if (symlinkat ("/dev/zero", root, "dev/null") < 0)
        return 0;
      /* something to mask, so that a missing check would show */
      mkdirat (root, "proc", 0755);
      close (openat (root, "proc/kcore", O_CREAT | O_WRONLY | O_CLOEXEC, 0644));
      v[i] = rt_masks_apply (p, root, &err);
      close (root);
      if (err)
        snprintf (msg + 128 * i, 128, "%s", err->msg);
      err_clear (&err);
    }
  return 2;
}

static int
child_masks (const struct rt_plan *p, long *v, char *msg)
{
  struct err *err = NULL;
  /* Private mount and UTS namespaces: nothing here reaches the host. */
  if (unshare (CLONE_NEWNS | CLONE_NEWUTS) < 0
      || mount (NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
    {
      snprintf (msg, 256, "unshare: %s", strerror (errno));
      return 0;
    }
  {
    int root = open ("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
    v[M_RC] = rt_masks_apply (p, root, &err);
    close (root);
  }
  if (err)
    snprintf (msg, 256, "%s", err->msg);
  /* Every masked path that exists and is a file now is /dev/null (this
   * VM's kernel has no /proc/kcore, but has /proc/interrupts, keys...). */
  for (size_t i = 0; rt_masked_paths[i]; i++)
    {
      struct stat st;
      if (stat (rt_masked_paths[i], &st) < 0 || S_ISDIR (st.st_mode))
        continue;
      v[M_FILES_SEEN]++;
      v[M_FILES_NULL] += S_ISCHR (st.st_mode) && st.st_rdev == makedev (1, 3);
    }
  v[M_KEYS_EMPTY] = read_len ("/proc/keys");
  int fd = open ("/proc/sys/kernel/hostname", O_WRONLY | O_CLOEXEC);
  v[M_SYS_RO] = fd < 0 ? -errno : 0;
  if (fd >= 0)
    close (fd);
  fd = open ("/proc/sysrq-trigger", O_WRONLY | O_CLOEXEC);
  v[M_SYSRQ_RO] = fd < 0 ? -errno : 0;
  if (fd < 0 && errno == ENOENT)
    v[M_SYSRQ_RO] = 1; /* not in this kernel */
  if (fd >= 0)
    close (fd);
  v[M_FIRMWARE_EMPTY]
      = access ("/sys/firmware", F_OK) == 0 ? dir_entries ("/sys/firmware") : 0;
  v[M_STATUS_READABLE] = read_len ("/proc/self/status") > 0;
  return M_N;
}

static bool
in_list (const char *const *list, const char *s)
{
  for (; *list; list++)
    if (!strcmp (*list, s))
      return true;
  return false;
}

static void
test_masks (void)
{
  size_t n_masked = 0, n_ro = 0;
  while (rt_masked_paths[n_masked])
    n_masked++;
  while (rt_readonly_paths[n_ro])
    n_ro++;
  /* Pinned entry by entry: a kernel without one of these files (no
   * /proc/kcore here) would never notice its loss in the mount checks. */
  static const char *const want_masked[]
      = { /* docker's (moby daemon/pkg/oci/defaults.go) */
          "/proc/acpi", "/proc/asound", "/proc/interrupts", "/proc/kcore",
          "/proc/keys", "/proc/latency_stats", "/proc/sched_debug",
          "/proc/scsi", "/proc/timer_list", "/proc/timer_stats",
          "/sys/devices/virtual/powercap", "/sys/firmware",
          /* podman's on top */
          "/sys/fs/selinux", "/sys/dev/block"
        };
  static const char *const want_ro[] = { "/proc/bus", "/proc/fs", "/proc/irq",
                                         "/proc/sys", "/proc/sysrq-trigger" };
  /* doc:masked-paths */
  CHECK (n_masked == ARRAY_SIZE (want_masked),
         "the masked list has %zu entries (got %zu)", ARRAY_SIZE (want_masked),
         n_masked);
  for (size_t i = 0; i < ARRAY_SIZE (want_masked); i++)
    CHECK (in_list (rt_masked_paths, want_masked[i]), "%s is masked",
           want_masked[i]);
  /* doc:readonly-paths */
  CHECK (n_ro == ARRAY_SIZE (want_ro), "the read-only list has %zu entries",
         ARRAY_SIZE (want_ro));
  for (size_t i = 0; i < ARRAY_SIZE (want_ro); i++)
    CHECK (in_list (rt_readonly_paths, want_ro[i]), "%s is read-only",
           want_ro[i]);
  _cleanup_strv_ char **all = rt_masked_paths_all ();
  CHECK (strv_len (all) >= n_masked, "rt_masked_paths_all has the static list");

  struct rt_plan p;
  plan_default (&p);
  long v[MAX_RESULTS];
  char msg[256] = "";
  /* doc:masks-devnull */
  int n = in_child (child_fake_null, &p, v, msg);
  CHECK (n == 2 && v[0] < 0 && strstr (msg, "not the null device (1:3)"),
         "a /dev/null that is a file stops the masks (%s)", msg);
  CHECK (n == 2 && v[1] < 0 && strstr (msg + 128, "/dev/null"),
         "a /dev/null that is a symlink stops the masks (%s)", msg + 128);
  memset (msg, 0, 256);
  n = in_child (child_masks, &p, v, msg);
  CHECK (n == M_N && v[M_RC] == 0, "rt_masks_apply (%s)", msg);
  if (n != M_N)
    return;
  CHECK (v[M_FILES_SEEN] > 0 && v[M_FILES_NULL] == v[M_FILES_SEEN],
         "each masked file is /dev/null (%ld of %ld)", v[M_FILES_NULL],
         v[M_FILES_SEEN]);
  CHECK (v[M_KEYS_EMPTY] == 0, "/proc/keys reads empty (got %ld)",
         v[M_KEYS_EMPTY]);
  CHECK (v[M_SYS_RO] == -EROFS, "/proc/sys is read-only (got %ld)",
         v[M_SYS_RO]);
  if (v[M_SYSRQ_RO] == 1)
    SKIP ("no /proc/sysrq-trigger in this kernel");
  else
    CHECK (v[M_SYSRQ_RO] == -EROFS,
           "/proc/sysrq-trigger is read-only (got %ld)", v[M_SYSRQ_RO]);
  CHECK (v[M_FIRMWARE_EMPTY] == 0, "/sys/firmware is empty (got %ld)",
         v[M_FIRMWARE_EMPTY]);
  CHECK (v[M_STATUS_READABLE] == 1, "the rest of /proc still reads");
}

int
main (void)
{
  if (geteuid () != 0)
    {
      SKIP ("needs root");
      return test_done ();
    }
  if (!mkdtemp (tmpdir))
    return 1;
  test_seccomp_default ();
  test_seccomp_i386 ();
  test_seccomp_sys_admin ();
  test_seccomp_unconfined ();
  test_seccomp_json ();
  test_seccomp_podman_profile ();
  test_seccomp_bad ();
  test_seccomp_cache ();
  test_cap_parse ();
  test_caps ();
  test_masks ();
  struct err *err = NULL;
  fs_rm_rf (AT_FDCWD, tmpdir, &err);
  err_free (err);
  return test_done ();
}
