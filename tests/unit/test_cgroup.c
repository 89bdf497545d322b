/* Unit tests for runtime/cgroup*.c: limit validation, the v1 and v2 file
 * settings, writing them under fake roots, layout detection, and a real
 * private cgroup2 mount (no controllers on this machine) when root. */
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/xalloc.h"
#include "runtime/cgroup.h"
#include "runtime/devices.h"
#include "tests/unit/test.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *
find (struct rt_cgroup_setting *s, size_t n, const char *file)
{
  for (size_t i = 0; i < n; i++)
    if (!strcmp (s[i].file, file))
      return s[i].value;
  return NULL;
}

static char *
slurp (const char *dir, const char *file)
{
  _cleanup_free_ char *p = xasprintf ("%s/%s", dir, file);
  char *buf = NULL;
  struct err *e = NULL;
  if (fs_read_file (AT_FDCWD, p, 4096, &buf, NULL, &e) < 0)
    err_free (e);
  return buf;
}

static void
touch (const char *dir, const char *file)
{
  _cleanup_free_ char *p = xasprintf ("%s/%s", dir, file);
  int fd = open (p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd >= 0)
    close (fd);
}

static void
test_settings (void)
{
  struct rt_cgroup_setting s[RT_CGROUP_MAX_SETTINGS];
  size_t n;
  struct err *e = NULL;
  struct rt_limits l = { 0 };

  CHECK (rt_cgroup_settings (RT_CGROUP_V1, &l, s, &n, &e) == 0, "v1 defaults");
  CHECK_STR (find (s, n, "pids.max"), "2048", "v1 default pids limit");
  CHECK (find (s, n, "memory.limit_in_bytes") == NULL, "v1 no memory limit");
  CHECK (find (s, n, "devices.deny") == NULL,
         "v1 devices are not limits (rt_device_rules)");
  CHECK (rt_cgroup_settings (RT_CGROUP_V2, &l, s, &n, &e) == 0 && n == 1
             && s[0].optional,
         "v2 defaults: an optional pids.max only");

  l.memory = 64 << 20;
  l.cpu_quota = 50000;
  l.cpu_shares = 1024;
  l.pids = 100;
  rt_cgroup_settings (RT_CGROUP_V1, &l, s, &n, &e);
  CHECK_STR (find (s, n, "memory.limit_in_bytes"), "67108864", "v1 memory");
  CHECK_STR (find (s, n, "memory.memsw.limit_in_bytes"), "134217728",
             "v1 memory+swap defaults to twice the memory");
  CHECK_STR (find (s, n, "cpu.cfs_period_us"), "100000", "v1 default period");
  CHECK_STR (find (s, n, "cpu.cfs_quota_us"), "50000", "v1 quota");
  CHECK_STR (find (s, n, "cpu.shares"), "1024", "v1 shares");
  CHECK_STR (find (s, n, "pids.max"), "100", "v1 pids");
  rt_cgroup_settings (RT_CGROUP_V2, &l, s, &n, &e);
  CHECK_STR (find (s, n, "memory.max"), "67108864", "v2 memory.max");
  CHECK_STR (find (s, n, "memory.swap.max"), "67108864",
             "v2 swap.max defaults to the memory limit");
  CHECK_STR (find (s, n, "cpu.max"), "50000 100000", "v2 cpu.max");
  CHECK_STR (find (s, n, "cpu.weight"), "100", "v2 weight of 1024 shares");
  CHECK_STR (find (s, n, "pids.max"), "100", "v2 pids.max");

  l.memory_swap = 100 << 20;
  l.pids = -1;
  l.cpu_quota = 0;
  l.cpu_period = 50000;
  rt_cgroup_settings (RT_CGROUP_V2, &l, s, &n, &e);
  CHECK_STR (find (s, n, "memory.swap.max"), "37748736",
             "v2 swap.max is memory+swap minus memory");
  CHECK_STR (find (s, n, "pids.max"), "max", "v2 pids unlimited");
  CHECK_STR (find (s, n, "cpu.max"), "max 50000", "v2 period without quota");
  l.memory_swap = -1;
  rt_cgroup_settings (RT_CGROUP_V1, &l, s, &n, &e);
  CHECK_STR (find (s, n, "memory.memsw.limit_in_bytes"), "-1",
             "v1 unlimited swap");
  CHECK_STR (find (s, n, "pids.max"), "max", "v1 pids unlimited");

  CHECK (rt_cgroup_shares_to_weight (2) == 1
             && rt_cgroup_shares_to_weight (262144) == 10000
             && rt_cgroup_shares_to_weight (0) == 0,
         "shares to weight bounds");
  CHECK (rt_cgroup_shares_to_weight (512) < 100
             && rt_cgroup_shares_to_weight (2048) > 100,
         "shares to weight is monotonic around 1024");
  CHECK (e == NULL, "no errors so far");
}

static void
test_invalid (void)
{
  struct rt_cgroup_setting s[RT_CGROUP_MAX_SETTINGS];
  size_t n;
  struct
  {
    struct rt_limits l;
    const char *msg;
  } bad[] = {
    { { .memory = -5 }, "invalid memory limit -5" },
    { { .memory = 4096 }, "minimum memory limit allowed is 6MB" },
    { { .memory_swap = 100 << 20 },
      "a memory+swap limit needs a memory limit" },
    { { .memory = 64 << 20, .memory_swap = 32 << 20 },
      "memory+swap limit must be at least the memory limit" },
    { { .cpu_quota = 10 }, "cpu quota must be at least 1000 microseconds" },
    { { .cpu_period = 5 },
      "cpu period must be between 1000 and 1000000 microseconds" },
    { { .pids = -2 }, "invalid pids limit -2" },
  };
  for (size_t i = 0; i < ARRAY_SIZE (bad); i++)
    {
      struct err *e = NULL;
      CHECK (rt_cgroup_settings (RT_CGROUP_V2, &bad[i].l, s, &n, &e) < 0,
             "rejects: %s", bad[i].msg);
      CHECK_STR (e ? e->msg : NULL, bad[i].msg, "message: %s", bad[i].msg);
      err_free (e);
    }
}

static void
test_fake_v2 (const char *tmp)
{
  _cleanup_free_ char *root = xasprintf ("%s/v2", tmp);
  _cleanup_free_ char *mid = xasprintf ("%s/imgtool", root);
  _cleanup_free_ char *leaf = xasprintf ("%s/c1", mid);
  _cleanup_free_ char *a = NULL, *b = NULL, *c = NULL, *d = NULL, *f = NULL;
  struct rt_limits l = { .memory = 64 << 20, .cpu_quota = 25000, .pids = 50 };
  struct rt_device_rule all = { 'a', RT_DEV_ANY, RT_DEV_ANY, RT_DEV_RWM };
  struct err *e = NULL;
  struct rt_cgroup *cg;
  fs_mkdir_p (AT_FDCWD, leaf, 0755, &e);
  {
    _cleanup_free_ char *p = xasprintf ("%s/cgroup.controllers", root);
    fs_write_file_atomic (AT_FDCWD, p, "cpuset cpu io memory pids\n", 26, 0644,
                          &e);
  }
  touch (root, "cgroup.subtree_control");
  touch (mid, "cgroup.subtree_control");
  touch (leaf, "memory.max");
  touch (leaf, "memory.swap.max");
  touch (leaf, "cpu.max");
  touch (leaf, "pids.max");
  cg = rt_cgroup_new (root, RT_CGROUP_V2, NULL, "c1");
  /* allow-all rules: a fake root takes no device program */
  CHECK (rt_cgroup_create (cg, &l, &all, 1, &e) == 0,
         "v2 create under a fake root %s", e ? e->msg : "");
  CHECK_STR ((a = slurp (root, "cgroup.subtree_control")), "+cpu +memory +pids",
             "v2 root enables the controllers the limits need");
  CHECK_STR ((b = slurp (mid, "cgroup.subtree_control")), "+cpu +memory +pids",
             "v2 parent enables them too");
  CHECK_STR ((c = slurp (leaf, "memory.max")), "67108864", "v2 memory.max");
  CHECK_STR ((d = slurp (leaf, "cpu.max")), "25000 100000", "v2 cpu.max");
  CHECK_STR ((f = slurp (leaf, "pids.max")), "50", "v2 pids.max");
  CHECK (cg->fd >= 0, "v2 keeps the leaf's fd for CLONE_INTO_CGROUP");
  rt_cgroup_free (cg);
  err_free (e);
}

static void
test_fake_v1 (const char *tmp)
{
  _cleanup_free_ char *root = xasprintf ("%s/v1", tmp);
  _cleanup_free_ char *mem = xasprintf ("%s/memory/box/c2", root);
  _cleanup_free_ char *pids = xasprintf ("%s/pids/box/c2", root);
  _cleanup_free_ char *dev = xasprintf ("%s/devices/box/c2", root);
  _cleanup_free_ char *a = NULL, *b = NULL, *c = NULL, *d = NULL, *g = NULL;
  _cleanup_free_ struct rt_device_rule *rules = NULL;
  size_t n;
  struct rt_limits l = { .memory = 32 << 20 };
  struct err *e = NULL;
  struct rt_cgroup *cg;
  fs_mkdir_p (AT_FDCWD, mem, 0755, &e);
  fs_mkdir_p (AT_FDCWD, pids, 0755, &e);
  fs_mkdir_p (AT_FDCWD, dev, 0755, &e);
  touch (mem, "memory.limit_in_bytes");
  touch (pids, "pids.max");
  touch (dev, "devices.deny");
  touch (dev, "devices.allow");
  cg = rt_cgroup_new (root, RT_CGROUP_V1, "box", "c2");
  n = rt_device_rules (false, NULL, 0, &rules);
  CHECK (rt_cgroup_create (cg, &l, rules, n, &e) == 0,
         "v1 create under a fake root (no cpu hierarchy, no memsw) %s",
         e ? e->msg : "");
  CHECK_STR ((a = slurp (mem, "memory.limit_in_bytes")), "33554432",
             "v1 memory limit written under <root>/memory/<parent>/<id>");
  CHECK_STR ((b = slurp (pids, "pids.max")), "2048", "v1 default pids.max");
  CHECK_STR ((c = slurp (dev, "devices.deny")), "a", "v1 devices denied");
  CHECK_STR ((g = slurp (dev, "devices.allow")), "c 10:200 rwm",
             "then the rules allowed, the last one last");
  d = slurp (root, "cpu");
  CHECK (d == NULL, "v1 leaves out a hierarchy that is not there");
  rt_cgroup_free (cg);
  err_clear (&e);
  l.cpu_quota = 20000;
  cg = rt_cgroup_new (root, RT_CGROUP_V1, "box", "c3");
  CHECK (rt_cgroup_create (cg, &l, rules, n, &e) < 0 && e
             && strstr (e->msg, "controller 'cpu' is not mounted"),
         "v1 cpu limit without a cpu hierarchy fails (%s)", e ? e->msg : "");
  rt_cgroup_free (cg);
  err_free (e);
}

static void
test_detect (const char *tmp)
{
  enum rt_cgroup_mode m = RT_CGROUP_V2;
  struct err *e = NULL;
  CHECK (rt_cgroup_detect (tmp, &m, &e) == 0 && m == RT_CGROUP_NONE,
         "a plain directory is no cgroup root");
  CHECK (rt_cgroup_detect ("/nonexistent/cg", &m, &e) == 0
             && m == RT_CGROUP_NONE,
         "a missing root is none");
  err_free (e);
}

/* A real cgroup2 mount in a private mount namespace: the v2 create, add,
 * destroy path against the kernel (no controllers here). */
static void
test_real_v2 (const char *tmp)
{
  _cleanup_free_ char *mnt = xasprintf ("%s/cg2", tmp);
  _cleanup_free_ char *leaf = NULL, *procs = NULL;
  _cleanup_free_ struct rt_device_rule *rules = NULL;
  size_t n;
  enum rt_cgroup_mode m;
  struct rt_limits l = { 0 };
  struct err *e = NULL;
  struct rt_cgroup *cg;
  struct stat st;
  if (geteuid () != 0 || unshare (CLONE_NEWNS) < 0
      || mount (NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0
      || mkdir (mnt, 0755) < 0
      || mount ("cgroup2", mnt, "cgroup2", 0, NULL) < 0)
    {
      SKIP ("private cgroup2 mount (needs root)");
      return;
    }
  CHECK (rt_cgroup_detect (mnt, &m, &e) == 0 && m == RT_CGROUP_V2,
         "a cgroup2 mount is detected as v2");
  n = rt_device_rules (false, NULL, 0, &rules);
  cg = rt_cgroup_new (mnt, RT_CGROUP_V2, "imgtool-test", "c4");
  CHECK (rt_cgroup_create (cg, &l, rules, n, &e) == 0,
         "v2 create with the default limits and device program when pids "
         "is missing (%s)",
         e ? e->msg : "");
  leaf = xasprintf ("%s/imgtool-test/c4", mnt);
  CHECK (stat (leaf, &st) == 0 && S_ISDIR (st.st_mode), "the cgroup exists");
  rt_cgroup_destroy (cg, &e);
  CHECK (stat (leaf, &st) < 0 && errno == ENOENT, "and is removed (%s)",
         e ? e->msg : "");
  rt_cgroup_free (cg);
  err_clear (&e);
  l.memory = 64 << 20;
  cg = rt_cgroup_new (mnt, RT_CGROUP_V2, "imgtool-test", "c5");
  CHECK (rt_cgroup_create (cg, &l, rules, n, &e) < 0 && e
             && strstr (e->msg, "controller 'memory' is not available"),
         "a memory limit without the controller is an error (%s)",
         e ? e->msg : "");
  procs = xasprintf ("%s/imgtool-test/c5", mnt);
  CHECK (stat (procs, &st) < 0, "and leaves no cgroup behind");
  rt_cgroup_free (cg);
  err_free (e);
  {
    _cleanup_free_ char *d = xasprintf ("%s/imgtool-test", mnt);
    rmdir (d);
  }
  umount2 (mnt, MNT_DETACH);
}

int
main (void)
{
  char tmp[] = "/tmp/imgtool-cg.XXXXXX";
  struct err *e = NULL;
  if (!mkdtemp (tmp))
    return 1;
  test_settings ();
  test_invalid ();
  test_fake_v2 (tmp);
  test_fake_v1 (tmp);
  test_detect (tmp);
  test_real_v2 (tmp);
  fs_rm_rf (AT_FDCWD, tmp, &e);
  err_free (e);
  return test_done ();
}
