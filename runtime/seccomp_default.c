/* The built-in seccomp profile, as data.
 *
 * Docker's default allowlist (moby/profiles seccomp/default.json, 2026-05:
 * the same names, conditions and capability gates, written down here as a
 * table), with podman's errno strategy instead of docker's:
 *
 *   default action ERRNO(ENOSYS), not EPERM: a syscall newer than this list
 *   (or than libseccomp's tables) then looks unimplemented and libc falls
 *   back to the older call, which is what runc gets by patching the BPF
 *   and what podman's profile does; an EPERM there breaks programs on new
 *   kernels (glibc's clone3, statx, faccessat2 stories).
 *   Known-dangerous syscalls get an explicit ERRNO(EPERM) rule instead, so
 *   mount, unshare, keyctl, kexec_load, init_module, reboot... fail with
 *   "Operation not permitted", which is the truth and what users expect.
 *
 * Changing this table changes the compiled program's cache key by itself
 * (the key hashes the table). */
#include "runtime/seccomp_profile.h"

#include <errno.h>
#include <linux/capability.h>
#include <seccomp.h>

#define CAP(c) (UINT64_C (1) << CAP_##c)
#define NAMES(...) ((const char *const[]){ __VA_ARGS__, NULL })
#define EPERM_ SCMP_ACT_ERRNO (EPERM)

/* CLONE_NEWNS|NEWCGROUP|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET */
#define CLONE_NS_FLAGS 0x7E020000ULL

/* A data table, kept dense. */
// clang-format off
static const char *const allowed[] = {
  "accept", "accept4", "access", "adjtimex", "alarm", "bind", "brk",
  "cachestat", "capget", "capset", "chdir", "chmod", "chown", "chown32",
  "clock_adjtime", "clock_adjtime64", "clock_getres", "clock_getres_time64",
  "clock_gettime", "clock_gettime64", "clock_nanosleep",
  "clock_nanosleep_time64", "close", "close_range", "connect",
  "copy_file_range", "creat", "dup", "dup2", "dup3", "epoll_create",
  "epoll_create1", "epoll_ctl", "epoll_ctl_old", "epoll_pwait",
  "epoll_pwait2", "epoll_wait", "epoll_wait_old", "eventfd", "eventfd2",
  "execve", "execveat", "exit", "exit_group", "faccessat", "faccessat2",
  "fadvise64", "fadvise64_64", "fallocate", "fanotify_mark", "fchdir",
  "fchmod", "fchmodat", "fchmodat2", "fchown", "fchown32", "fchownat",
  "fcntl", "fcntl64", "fdatasync", "fgetxattr", "flistxattr", "flock", "fork",
  "fremovexattr", "fsetxattr", "fstat", "fstat64", "fstatat64", "fstatfs",
  "fstatfs64", "fsync", "ftruncate", "ftruncate64", "futex", "futex_requeue",
  "futex_time64", "futex_wait", "futex_waitv", "futex_wake", "futimesat",
  "getcpu", "getcwd", "getdents", "getdents64", "getegid", "getegid32",
  "geteuid", "geteuid32", "getgid", "getgid32", "getgroups", "getgroups32",
  "getitimer", "getpeername", "getpgid", "getpgrp", "getpid", "getppid",
  "getpriority", "getrandom", "getresgid", "getresgid32", "getresuid",
  "getresuid32", "getrlimit", "get_robust_list", "getrusage", "getsid",
  "getsockname", "getsockopt", "get_thread_area", "gettid", "gettimeofday",
  "getuid", "getuid32", "getxattr", "getxattrat", "inotify_add_watch",
  "inotify_init", "inotify_init1", "inotify_rm_watch", "io_cancel", "ioctl",
  "io_destroy", "io_getevents", "io_pgetevents", "io_pgetevents_time64",
  "ioprio_get", "ioprio_set", "io_setup", "io_submit", "ipc", "kill",
  "landlock_add_rule", "landlock_create_ruleset", "landlock_restrict_self",
  "lchown", "lchown32", "lgetxattr", "link", "linkat", "listen", "listmount",
  "listxattr", "listxattrat", "llistxattr", "_llseek", "lremovexattr",
  "lseek", "lsetxattr", "lstat", "lstat64", "madvise", "map_shadow_stack",
  "membarrier", "memfd_create", "memfd_secret", "mincore", "mkdir", "mkdirat",
  "mknod", "mknodat", "mlock", "mlock2", "mlockall", "mmap", "mmap2",
  "mprotect", "mq_getsetattr", "mq_notify", "mq_open", "mq_timedreceive",
  "mq_timedreceive_time64", "mq_timedsend", "mq_timedsend_time64",
  "mq_unlink", "mremap", "mseal", "msgctl", "msgget", "msgrcv", "msgsnd",
  "msync", "munlock", "munlockall", "munmap", "name_to_handle_at",
  "nanosleep", "newfstatat", "_newselect", "open", "openat", "openat2",
  "pause", "pidfd_open", "pidfd_send_signal", "pipe", "pipe2", "pkey_alloc",
  "pkey_free", "pkey_mprotect", "poll", "ppoll", "ppoll_time64", "prctl",
  "pread64", "preadv", "preadv2", "prlimit64", "process_mrelease", "pselect6",
  "pselect6_time64", "pwrite64", "pwritev", "pwritev2", "read", "readahead",
  "readlink", "readlinkat", "readv", "recv", "recvfrom", "recvmmsg",
  "recvmmsg_time64", "recvmsg", "remap_file_pages", "removexattr",
  "removexattrat", "rename", "renameat", "renameat2", "restart_syscall",
  "riscv_hwprobe", "rmdir", "rseq", "rt_sigaction", "rt_sigpending",
  "rt_sigprocmask", "rt_sigqueueinfo", "rt_sigreturn", "rt_sigsuspend",
  "rt_sigtimedwait", "rt_sigtimedwait_time64", "rt_tgsigqueueinfo",
  "sched_getaffinity", "sched_getattr", "sched_getparam",
  "sched_get_priority_max", "sched_get_priority_min", "sched_getscheduler",
  "sched_rr_get_interval", "sched_rr_get_interval_time64",
  "sched_setaffinity", "sched_setattr", "sched_setparam",
  "sched_setscheduler", "sched_yield", "seccomp", "select", "semctl",
  "semget", "semop", "semtimedop", "semtimedop_time64", "send", "sendfile",
  "sendfile64", "sendmmsg", "sendmsg", "sendto", "setfsgid", "setfsgid32",
  "setfsuid", "setfsuid32", "setgid", "setgid32", "setgroups", "setgroups32",
  "setitimer", "setpgid", "setpriority", "setregid", "setregid32",
  "setresgid", "setresgid32", "setresuid", "setresuid32", "setreuid",
  "setreuid32", "setrlimit", "set_robust_list", "setsid", "setsockopt",
  "set_thread_area", "set_tid_address", "setuid", "setuid32", "setxattr",
  "setxattrat", "shmat", "shmctl", "shmdt", "shmget", "shutdown",
  "sigaltstack", "signalfd", "signalfd4", "sigprocmask", "sigreturn",
  "socketcall", "socketpair", "splice", "stat", "stat64", "statfs",
  "statfs64", "statmount", "statx", "symlink", "symlinkat", "sync",
  "sync_file_range", "syncfs", "sysinfo", "tee", "tgkill", "time",
  "timer_create", "timer_delete", "timer_getoverrun", "timer_gettime",
  "timer_gettime64", "timer_settime", "timer_settime64", "timerfd_create",
  "timerfd_gettime", "timerfd_gettime64", "timerfd_settime",
  "timerfd_settime64", "times", "tkill", "truncate", "truncate64",
  "ugetrlimit", "umask", "uname", "unlink", "unlinkat", "uretprobe", "utime",
  "utimensat", "utimensat_time64", "utimes", "vfork", "vmsplice", "wait4",
  "waitid", "waitpid", "write", "writev", NULL,
};
// clang-format on

#define CLONE_NS_EPERM(flag)                                                   \
  {                                                                            \
    .names = NAMES ("clone"), .action = EPERM_,                                \
    .args = { { 0, flag, flag, SCMP_CMP_MASKED_EQ } }, .n_args = 1,            \
    .exc_caps = CAP (SYS_ADMIN), .exc_arches = RT_SC_S390 | RT_SC_S390X,       \
  }

static const struct rt_sc_rule rules[] = {
  /* Unconditional: what a normal program needs. */
  { .names = allowed, .action = SCMP_ACT_ALLOW },

  /* Before 4.8, ptrace could be used to bypass seccomp. */
  { .names = NAMES ("process_vm_readv", "process_vm_writev", "ptrace"),
    .action = SCMP_ACT_ALLOW,
    .min_kernel = "4.8" },

  /* socket: every family but AF_ALG (38, CVE-2026-31431 "Copy Fail") and
   * AF_VSOCK (40, reaches the hypervisor). Conditions in one rule are
   * ANDed, so the allowed ranges are three rules. */
  { .names = NAMES ("socket"),
    .action = SCMP_ACT_ALLOW,
    .args = { { 0, 38, 0, SCMP_CMP_LT } },
    .n_args = 1 },
  { .names = NAMES ("socket"),
    .action = SCMP_ACT_ALLOW,
    .args = { { 0, 39, 0, SCMP_CMP_EQ } },
    .n_args = 1 },
  { .names = NAMES ("socket"),
    .action = SCMP_ACT_ALLOW,
    .args = { { 0, 40, 0, SCMP_CMP_GT } },
    .n_args = 1 },
  { .names = NAMES ("socket"),
    .action = EPERM_,
    .args = { { 0, 38, 0, SCMP_CMP_EQ } },
    .n_args = 1 },
  { .names = NAMES ("socket"),
    .action = EPERM_,
    .args = { { 0, 40, 0, SCMP_CMP_EQ } },
    .n_args = 1 },

  /* personality: Linux, Linux32, UNAME26 and the query only; other
   * personalities (BSD emulation, READ_IMPLIES_EXEC...) are poorly tested
   * kernel paths. They get the default ENOSYS (an unconditional EPERM
   * rule would override these conditional allows in libseccomp). */
  { .names = NAMES ("personality"),
    .action = SCMP_ACT_ALLOW,
    .args = { { 0, 0x0, 0, SCMP_CMP_EQ } },
    .n_args = 1 },
  { .names = NAMES ("personality"),
    .action = SCMP_ACT_ALLOW,
    .args = { { 0, 0x8, 0, SCMP_CMP_EQ } },
    .n_args = 1 },
  { .names = NAMES ("personality"),
    .action = SCMP_ACT_ALLOW,
    .args = { { 0, 0x20000, 0, SCMP_CMP_EQ } },
    .n_args = 1 },
  { .names = NAMES ("personality"),
    .action = SCMP_ACT_ALLOW,
    .args = { { 0, 0x20008, 0, SCMP_CMP_EQ } },
    .n_args = 1 },
  { .names = NAMES ("personality"),
    .action = SCMP_ACT_ALLOW,
    .args = { { 0, 0xffffffff, 0, SCMP_CMP_EQ } },
    .n_args = 1 },

  /* Architecture-specific calls. */
  { .names = NAMES ("sync_file_range2", "swapcontext"),
    .action = SCMP_ACT_ALLOW,
    .inc_arches = RT_SC_PPC64LE },
  { .names = NAMES ("arm_fadvise64_64", "arm_sync_file_range",
                    "sync_file_range2", "breakpoint", "cacheflush", "set_tls"),
    .action = SCMP_ACT_ALLOW,
    .inc_arches = RT_SC_ARM | RT_SC_ARM64 },
  { .names = NAMES ("arch_prctl"),
    .action = SCMP_ACT_ALLOW,
    .inc_arches = RT_SC_AMD64 | RT_SC_X32 },
  { .names = NAMES ("modify_ldt"),
    .action = SCMP_ACT_ALLOW,
    .inc_arches = RT_SC_AMD64 | RT_SC_X32 | RT_SC_X86 },
  { .names
    = NAMES ("s390_pci_mmio_read", "s390_pci_mmio_write", "s390_runtime_instr"),
    .action = SCMP_ACT_ALLOW,
    .inc_arches = RT_SC_S390 | RT_SC_S390X },
  { .names = NAMES ("riscv_flush_icache"),
    .action = SCMP_ACT_ALLOW,
    .inc_arches = RT_SC_RISCV64 },

  /* Calls a granted capability opens up (docker's "includes.caps"). */
  /* The "shocker" breakout read host files by handle. */
  { .names = NAMES ("open_by_handle_at"),
    .action = SCMP_ACT_ALLOW,
    .inc_caps = CAP (DAC_READ_SEARCH) },
  { .names
    = NAMES ("bpf", "clone", "clone3", "fanotify_init", "fsconfig", "fsmount",
             "fsopen", "fspick", "lookup_dcookie", "lsm_get_self_attr",
             "lsm_list_modules", "lsm_set_self_attr", "mount", "mount_setattr",
             "move_mount", "open_tree", "perf_event_open", "quotactl",
             "quotactl_fd", "setdomainname", "sethostname", "setns", "syslog",
             "umount", "umount2", "unshare"),
    .action = SCMP_ACT_ALLOW,
    .inc_caps = CAP (SYS_ADMIN) },
  /* clone without namespace flags; s390 passes flags in arg 1. */
  { .names = NAMES ("clone"),
    .action = SCMP_ACT_ALLOW,
    .args = { { 0, CLONE_NS_FLAGS, 0, SCMP_CMP_MASKED_EQ } },
    .n_args = 1,
    .exc_caps = CAP (SYS_ADMIN),
    .exc_arches = RT_SC_S390 | RT_SC_S390X },
  { .names = NAMES ("clone"),
    .action = SCMP_ACT_ALLOW,
    .args = { { 1, CLONE_NS_FLAGS, 0, SCMP_CMP_MASKED_EQ } },
    .n_args = 1,
    .inc_arches = RT_SC_S390 | RT_SC_S390X,
    .exc_caps = CAP (SYS_ADMIN) },
  /* clone3 hides its flags in a struct BPF cannot read: ENOSYS, so glibc
   * falls back to clone (EPERM would stop glibc >= 2.34 making threads).
   * Skipped while it equals the default action. */
  { .names = NAMES ("clone3"),
    .action = SCMP_ACT_ERRNO (ENOSYS),
    .exc_caps = CAP (SYS_ADMIN) },
  { .names = NAMES ("reboot"),
    .action = SCMP_ACT_ALLOW,
    .inc_caps = CAP (SYS_BOOT) },
  { .names = NAMES ("chroot"),
    .action = SCMP_ACT_ALLOW,
    .inc_caps = CAP (SYS_CHROOT) },
  { .names = NAMES ("delete_module", "init_module", "finit_module"),
    .action = SCMP_ACT_ALLOW,
    .inc_caps = CAP (SYS_MODULE) },
  { .names = NAMES ("acct"),
    .action = SCMP_ACT_ALLOW,
    .inc_caps = CAP (SYS_PACCT) },
  { .names = NAMES ("kcmp", "pidfd_getfd", "process_madvise",
                    "process_vm_readv", "process_vm_writev", "ptrace"),
    .action = SCMP_ACT_ALLOW,
    .inc_caps = CAP (SYS_PTRACE) },
  { .names = NAMES ("iopl", "ioperm"),
    .action = SCMP_ACT_ALLOW,
    .inc_caps = CAP (SYS_RAWIO) },
  { .names
    = NAMES ("settimeofday", "stime", "clock_settime", "clock_settime64"),
    .action = SCMP_ACT_ALLOW,
    .inc_caps = CAP (SYS_TIME) },
  { .names = NAMES ("vhangup"),
    .action = SCMP_ACT_ALLOW,
    .inc_caps = CAP (SYS_TTY_CONFIG) },
  { .names = NAMES ("get_mempolicy", "mbind", "set_mempolicy",
                    "set_mempolicy_home_node"),
    .action = SCMP_ACT_ALLOW,
    .inc_caps = CAP (SYS_NICE) },
  { .names = NAMES ("syslog"),
    .action = SCMP_ACT_ALLOW,
    .inc_caps = CAP (SYSLOG) },
  { .names = NAMES ("bpf"), .action = SCMP_ACT_ALLOW, .inc_caps = CAP (BPF) },
  { .names = NAMES ("perf_event_open"),
    .action = SCMP_ACT_ALLOW,
    .inc_caps = CAP (PERFMON) },

  /* Explicit EPERM for what docker's documentation names as blocked,
   * unless the capability that opens it is granted. */
  /* The kernel keyring is not namespaced. */
  { .names = NAMES ("keyctl", "add_key", "request_key"), .action = EPERM_ },
  /* Loading a new kernel or modules, swapping: the host's business. */
  { .names = NAMES ("kexec_load", "kexec_file_load", "create_module",
                    "query_module", "get_kernel_syms", "swapon", "swapoff"),
    .action = EPERM_ },
  /* Exploit primitives: userfaultfd stalls the kernel at will; io_uring
   * has been the most frequent container escape (kCTF), blocked in docker
   * since 2023. */
  { .names = NAMES ("userfaultfd", "io_uring_setup", "io_uring_enter",
                    "io_uring_register"),
    .action = EPERM_ },
  /* Obsolete interfaces nobody should reach. */
  { .names = NAMES ("vm86", "vm86old", "uselib", "ustat", "sysfs", "_sysctl",
                    "nfsservctl"),
    .action = EPERM_ },
  /* pivot_root has no capability gate in docker's profile. */
  { .names = NAMES ("pivot_root"), .action = EPERM_ },
  /* Namespaces and mounts: CAP_SYS_ADMIN's. */
  { .names
    = NAMES ("mount", "umount", "umount2", "mount_setattr", "move_mount",
             "open_tree", "fsopen", "fsconfig", "fsmount", "fspick", "unshare",
             "setns", "sethostname", "setdomainname", "quotactl", "quotactl_fd",
             "fanotify_init", "lookup_dcookie"),
    .action = EPERM_,
    .exc_caps = CAP (SYS_ADMIN) },
  CLONE_NS_EPERM (0x00020000ULL), /* CLONE_NEWNS */
  CLONE_NS_EPERM (0x02000000ULL), /* CLONE_NEWCGROUP */
  CLONE_NS_EPERM (0x04000000ULL), /* CLONE_NEWUTS */
  CLONE_NS_EPERM (0x08000000ULL), /* CLONE_NEWIPC */
  CLONE_NS_EPERM (0x10000000ULL), /* CLONE_NEWUSER */
  CLONE_NS_EPERM (0x20000000ULL), /* CLONE_NEWPID */
  CLONE_NS_EPERM (0x40000000ULL), /* CLONE_NEWNET */
  { .names = NAMES ("bpf"),
    .action = EPERM_,
    .exc_caps = CAP (SYS_ADMIN) | CAP (BPF) },
  { .names = NAMES ("perf_event_open"),
    .action = EPERM_,
    .exc_caps = CAP (SYS_ADMIN) | CAP (PERFMON) },
  { .names = NAMES ("syslog"),
    .action = EPERM_,
    .exc_caps = CAP (SYS_ADMIN) | CAP (SYSLOG) },
  { .names = NAMES ("open_by_handle_at"),
    .action = EPERM_,
    .exc_caps = CAP (DAC_READ_SEARCH) },
  { .names = NAMES ("reboot"), .action = EPERM_, .exc_caps = CAP (SYS_BOOT) },
  { .names = NAMES ("chroot"), .action = EPERM_, .exc_caps = CAP (SYS_CHROOT) },
  { .names = NAMES ("delete_module", "init_module", "finit_module"),
    .action = EPERM_,
    .exc_caps = CAP (SYS_MODULE) },
  { .names = NAMES ("acct"), .action = EPERM_, .exc_caps = CAP (SYS_PACCT) },
  { .names = NAMES ("kcmp", "pidfd_getfd", "process_madvise"),
    .action = EPERM_,
    .exc_caps = CAP (SYS_PTRACE) },
  { .names = NAMES ("iopl", "ioperm"),
    .action = EPERM_,
    .exc_caps = CAP (SYS_RAWIO) },
  /* Time is not namespaced. */
  { .names
    = NAMES ("settimeofday", "stime", "clock_settime", "clock_settime64"),
    .action = EPERM_,
    .exc_caps = CAP (SYS_TIME) },
  { .names = NAMES ("vhangup"),
    .action = EPERM_,
    .exc_caps = CAP (SYS_TTY_CONFIG) },
  /* NUMA policy calls (get_mempolicy, mbind...) keep the default ENOSYS:
   * libnuma then reports "no NUMA" instead of failing. */
};

static const struct rt_sc_archmap archmap[] = {
  { SCMP_ARCH_X86_64, { SCMP_ARCH_X86, SCMP_ARCH_X32 } },
  { SCMP_ARCH_AARCH64, { SCMP_ARCH_ARM } },
  { SCMP_ARCH_MIPS64, { SCMP_ARCH_MIPS, SCMP_ARCH_MIPS64N32 } },
  { SCMP_ARCH_MIPS64N32, { SCMP_ARCH_MIPS, SCMP_ARCH_MIPS64 } },
  { SCMP_ARCH_MIPSEL64, { SCMP_ARCH_MIPSEL, SCMP_ARCH_MIPSEL64N32 } },
  { SCMP_ARCH_MIPSEL64N32, { SCMP_ARCH_MIPSEL, SCMP_ARCH_MIPSEL64 } },
  { SCMP_ARCH_S390X, { SCMP_ARCH_S390 } },
};

const struct rt_sc_profile rt_sc_default_profile = {
  .default_action = SCMP_ACT_ERRNO (ENOSYS),
  .archmap = archmap,
  .n_archmap = sizeof archmap / sizeof archmap[0],
  .rules = rules,
  .n_rules = sizeof rules / sizeof rules[0],
};
