/* Capabilities: the container's bounding, effective, permitted,
 * inheritable and ambient sets, by capset(2) and prctl(2) directly (no
 * libcap: five syscalls do not earn a dependency). */
#include "runtime/security.h"

#include "lib/err.h"
#include "lib/fs.h"
#include "lib/xalloc.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#define BIT(c) (UINT64_C (1) << (c))

/* Names as the kernel numbers them (linux/capability.h); the index is the
 * capability number. */
static const char *const cap_names[] = {
  "CAP_CHOWN",
  "CAP_DAC_OVERRIDE",
  "CAP_DAC_READ_SEARCH",
  "CAP_FOWNER",
  "CAP_FSETID",
  "CAP_KILL",
  "CAP_SETGID",
  "CAP_SETUID",
  "CAP_SETPCAP",
  "CAP_LINUX_IMMUTABLE",
  "CAP_NET_BIND_SERVICE",
  "CAP_NET_BROADCAST",
  "CAP_NET_ADMIN",
  "CAP_NET_RAW",
  "CAP_IPC_LOCK",
  "CAP_IPC_OWNER",
  "CAP_SYS_MODULE",
  "CAP_SYS_RAWIO",
  "CAP_SYS_CHROOT",
  "CAP_SYS_PTRACE",
  "CAP_SYS_PACCT",
  "CAP_SYS_ADMIN",
  "CAP_SYS_BOOT",
  "CAP_SYS_NICE",
  "CAP_SYS_RESOURCE",
  "CAP_SYS_TIME",
  "CAP_SYS_TTY_CONFIG",
  "CAP_MKNOD",
  "CAP_LEASE",
  "CAP_AUDIT_WRITE",
  "CAP_AUDIT_CONTROL",
  "CAP_SETFCAP",
  "CAP_MAC_OVERRIDE",
  "CAP_MAC_ADMIN",
  "CAP_SYSLOG",
  "CAP_WAKE_ALARM",
  "CAP_BLOCK_SUSPEND",
  "CAP_AUDIT_READ",
  "CAP_PERFMON",
  "CAP_BPF",
  "CAP_CHECKPOINT_RESTORE",
};

uint64_t
rt_caps_default (void)
{
  /* Podman's 11 (containers/common DefaultCapabilities), stricter than
   * docker's 14, which also has:
   *  - MKNOD: the runtime creates every device node the container gets;
   *    a node made inside is only a way around the device cgroup.
   *  - NET_RAW: raw and packet sockets allow spoofing inside the network,
   *    and AF_PACKET was the way in for CVE-2020-14386; ping works
   *    without it through net.ipv4.ping_group_range (runtime-core sets it,
   *    as podman does).
   *  - AUDIT_WRITE: the audit log is the host's, not namespaced; only
   *    login-style daemons (sshd) write to it. */
  return BIT (CAP_CHOWN) | BIT (CAP_DAC_OVERRIDE) | BIT (CAP_FOWNER)
         | BIT (CAP_FSETID) | BIT (CAP_KILL) | BIT (CAP_NET_BIND_SERVICE)
         | BIT (CAP_SETFCAP) | BIT (CAP_SETGID) | BIT (CAP_SETPCAP)
         | BIT (CAP_SETUID) | BIT (CAP_SYS_CHROOT);
}

int
rt_cap_last (void)
{
  static int last = -1;
  if (last >= 0)
    return last;
  char buf[16];
  int fd = open ("/proc/sys/kernel/cap_last_cap", O_RDONLY | O_CLOEXEC);
  ssize_t n = fd >= 0 ? fs_read_full (fd, buf, sizeof buf - 1) : -1;
  if (fd >= 0)
    close (fd);
  last = CAP_LAST_CAP;
  if (n > 0)
    {
      buf[n] = '\0';
      long v = strtol (buf, NULL, 10);
      /* Our masks are 64-bit with bit 63 reserved for ALL. */
      if (v > 0 && v < RT_CAP_ALL_BIT)
        last = (int)v;
    }
  return last;
}

static uint64_t
caps_all (void)
{
  int last = rt_cap_last ();
  return last >= 63 ? ~RT_CAP_ALL : (BIT (last + 1) - 1);
}

uint64_t
rt_caps_for_plan (const struct rt_plan *p)
{
  uint64_t all = caps_all ();
  if (p->privileged)
    return all;
  uint64_t set = rt_caps_default ();
  if (p->cap_drop & RT_CAP_ALL)
    set = 0;
  else
    set &= ~p->cap_drop;
  /* docker: --cap-drop ALL --cap-add X leaves exactly X. */
  if (p->cap_add & RT_CAP_ALL)
    set = all;
  else
    set |= p->cap_add;
  return set & all;
}

const char *
rt_cap_name (int cap)
{
  if (cap < 0 || (size_t)cap >= ARRAY_SIZE (cap_names))
    return NULL;
  return cap_names[cap];
}

int
rt_cap_parse (const char *name, int *cap, struct err **err)
{
  const char *n = name;
  if (!strncasecmp (n, "CAP_", 4))
    n += 4;
  if (!strcasecmp (name, "all"))
    {
      *cap = RT_CAP_ALL_BIT;
      return 0;
    }
  for (size_t i = 0; *n && i < ARRAY_SIZE (cap_names); i++)
    if (!strcasecmp (cap_names[i] + 4, n))
      {
        *cap = (int)i;
        return 0;
      }
  return err_set (err, 0, "unknown capability '%s'", name);
}

static int
capget_now (struct __user_cap_data_struct d[2])
{
  struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
  return (int)syscall (SYS_capget, &h, d);
}

static int
capset_now (uint64_t eff, uint64_t perm, uint64_t inh)
{
  struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
  struct __user_cap_data_struct d[2] = {
    { (uint32_t)eff, (uint32_t)perm, (uint32_t)inh },
    { (uint32_t)(eff >> 32), (uint32_t)(perm >> 32), (uint32_t)(inh >> 32) },
  };
  return (int)syscall (SYS_capset, &h, d);
}

bool
rt_cap_effective (int cap)
{
  struct __user_cap_data_struct d[2];
  if (cap < 0 || cap > 63 || capget_now (d) < 0)
    return false;
  return (d[cap / 32].effective >> (cap % 32)) & 1;
}

int
rt_caps_apply (const struct rt_plan *p, struct err **err)
{
  uint64_t want = rt_caps_for_plan (p);
  int last = rt_cap_last ();

  struct __user_cap_data_struct cur[2];
  if (capget_now (cur) < 0)
    return err_set (err, errno, "read capabilities");
  uint64_t perm = cur[0].permitted | ((uint64_t)cur[1].permitted << 32);

  /* Dropping from the bounding set needs CAP_SETPCAP in the effective
   * set; after setresuid to a non-root uid (with PR_SET_KEEPCAPS) the
   * effective set is empty but the permitted set still holds it. */
  if (capset_now (perm, perm, 0) < 0)
    return err_set (err, errno, "raise effective capabilities");

  /* Bounding set first: it limits what any later execve can gain. */
  for (int c = 0; c <= last; c++)
    {
      if (want & BIT (c))
        continue;
      if (prctl (PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL)
        return err_set (err, errno, "drop %s from the bounding set",
                        rt_cap_name (c) ? rt_cap_name (c) : "capability");
    }

  /* Ambient caps survive execve for non-root: none, as docker and podman. */
  if (prctl (PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0
      && errno != EINVAL)
    return err_set (err, errno, "clear the ambient capabilities");

  /* Non-root processes start with empty effective and permitted sets, and
   * nobody gets inheritable ones: docker's fix for CVE-2022-24769, where
   * inheritable caps let a non-root process regain them through file caps. */
  uint64_t missing = want & ~perm & (p->cap_add & ~RT_CAP_ALL);
  if (missing)
    for (int c = 0; c <= last; c++)
      if (missing & BIT (c))
        return err_set (err, 0,
                        "capability '%s' is not available: imgtool itself "
                        "does not hold it",
                        rt_cap_name (c) ? rt_cap_name (c) : "?");
  /* --privileged and ALL mean all that imgtool holds (root on some hosts
   * lacks a few, e.g. CAP_SYS_RESOURCE in a restricted VM). */
  want &= perm;
  uint64_t eff = geteuid () == 0 ? want : 0;
  if (capset_now (eff, eff, 0) < 0)
    return err_set (err, errno, "set capabilities");
  return 0;
}
