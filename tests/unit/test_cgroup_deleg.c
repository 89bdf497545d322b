/* Unit tests for runtime/cgroup_deleg.c: finding the cgroup2 mount and
 * the caller's cgroup, the delegation check on a fake cgroup v2 tree
 * (a tmpdir laid out like one, owners changed with chown), the limits a
 * delegated cgroup can take, and the files written below it. */
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/xalloc.h"
#include "runtime/cgroup.h"
#include "runtime/cgroup_deleg.h"
#include "runtime/devices.h"
#include "tests/unit/test.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define OTHER 12345 /* a uid that is not ours */

static void
put (const char *dir, const char *file, const char *text)
{
  _cleanup_free_ char *p = xasprintf ("%s/%s", dir, file);
  int fd = open (p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd >= 0)
    {
      if (write (fd, text, strlen (text)) < 0)
        abort ();
      close (fd);
    }
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

/* a cgroup directory as the kernel shows one */
static char *
cgroup_dir (const char *parent, const char *name, const char *controllers)
{
  char *dir = xasprintf ("%s/%s", parent, name);
  mkdir (dir, 0755);
  put (dir, "cgroup.controllers", controllers);
  put (dir, "cgroup.subtree_control", "");
  put (dir, "cgroup.procs", "");
  return dir;
}

static void
chown_cgroup (const char *dir, uid_t uid)
{
  static const char *const files[]
      = { "", "/cgroup.procs", "/cgroup.subtree_control" };
  for (size_t i = 0; i < 3; i++)
    {
      _cleanup_free_ char *p = xasprintf ("%s%s", dir, files[i]);
      if (chown (p, uid, (gid_t)-1) < 0)
        abort ();
    }
}

static void
test_parse (void)
{
  static const char hybrid[]
      = "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw\n"
        "35 31 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n"
        "40 31 0:37 /sub /mnt/bound rw - cgroup2 cgroup2 rw\n"
        "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime shared:9 - cgroup2 "
        "cgroup2 rw\n";
  static const char unified[]
      = "25 23 0:22 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw,nsdelegate\n";
  _cleanup_free_ char *a = rt_cgroup2_mount_parse (hybrid);
  _cleanup_free_ char *b = rt_cgroup2_mount_parse (unified);
  _cleanup_free_ char *c = rt_cgroup2_mount_parse (
      "31 23 0:28 / /sys/fs/cgroup rw - tmpfs tmpfs rw\n");
  _cleanup_free_ char *d
      = rt_cgroup2_self_parse ("4:memory:/x\n0::/user.slice/alice\n");
  _cleanup_free_ char *e = rt_cgroup2_self_parse ("4:memory:/x\n");
  CHECK_STR (a, "/sys/fs/cgroup/unified",
             "hybrid: the cgroup2 mount of its root (a bind mount skipped)");
  CHECK_STR (b, "/sys/fs/cgroup", "unified: /sys/fs/cgroup");
  CHECK (!c, "no cgroup2 mounted: none");
  CHECK_STR (d, "/user.slice/alice", "the 0:: line of /proc/self/cgroup");
  CHECK (!e, "no 0:: line: none");
}

static void
test_find (const char *tmp)
{
  _cleanup_free_ char *mnt = xasprintf ("%s/mnt", tmp);
  _cleanup_free_ char *top = NULL, *user = NULL, *login = NULL;
  _cleanup_free_ char *procs = NULL;
  char *dir = NULL, *why = NULL;
  mkdir (mnt, 0755);
  top = cgroup_dir (mnt, "user.slice", "cpu memory pids");
  user = cgroup_dir (top, "alice", "memory pids");
  login = cgroup_dir (user, "login", "");
  chown_cgroup (top, OTHER);
  /* ours: alice and login (root runs this test: root's files are ours) */
  CHECK (rt_cgroup_delegation_find (mnt, "/user.slice/alice/login", &dir, &why)
                 == 1
             && dir && !strcmp (dir, user),
         "the topmost cgroup we own above ours is the delegation (%s)",
         dir ? dir : why);
  free (dir);
  free (why);
  CHECK (rt_cgroup_delegation_find (mnt, "/user.slice/alice", &dir, &why) == 0
             && why && strstr (why, "holds this process"),
         "our own cgroup is not: it holds processes (%s)", why ? why : "");
  free (dir);
  free (why);
  procs = xasprintf ("%s/cgroup.procs", user);
  if (chown (procs, OTHER, (gid_t)-1) < 0)
    abort ();
  chown_cgroup (login, OTHER);
  CHECK (rt_cgroup_delegation_find (mnt, "/user.slice/alice/login", &dir, &why)
                 == 0
             && why && strstr (why, "is delegated to you"),
         "a cgroup whose cgroup.procs is not ours is not delegated (%s)",
         why ? why : "");
  free (dir);
  free (why);
  CHECK (rt_cgroup_delegation_find (mnt, "/", &dir, &why) == 0,
         "the root cgroup is never the delegation");
  free (dir);
  free (why);
}

static void
test_limits (const char *tmp)
{
  _cleanup_free_ char *d = xasprintf ("%s/deleg", tmp);
  struct rt_limits mem = { .memory = 64 << 20 }, cpus = { .cpu_quota = 50000 },
                   pids = { .pids = 10 }, none = { 0 };
  struct err *e = NULL;
  mkdir (d, 0755);
  put (d, "cgroup.controllers", "memory pids\n");
  CHECK (rt_cgroup_limits_check (d, NULL, &mem, &e) == 0
             && rt_cgroup_limits_check (d, NULL, &pids, &e) == 0,
         "--memory and --pids-limit with their controllers delegated");
  CHECK (rt_cgroup_limits_check (d, NULL, &cpus, &e) < 0 && e
             && strstr (e->msg, "--cpus: the delegated cgroup")
             && strstr (e->msg, "has no 'cpu' controller"),
         "--cpus without the cpu controller: an error naming both (%s)",
         e ? e->msg : "");
  err_clear (&e);
  CHECK (rt_cgroup_limits_check (NULL, "cgroup v1", &mem, &e) < 0 && e
             && !strcmp (e->msg, "--memory: rootless containers get no "
                                 "cgroup here (cgroup v1; a delegated cgroup "
                                 "v2 subtree is needed, docs/rootless.md)"),
         "no delegation: --memory is an error naming the reason (%s)",
         e ? e->msg : "");
  err_clear (&e);
  CHECK (rt_cgroup_limits_check (NULL, "cgroup v1", &none, &e) == 0,
         "no delegation, no limit asked: fine");
}

/* The files the container's limits make below a delegated cgroup (the
 * writing itself is test_cgroup's): it hands the controllers down. */
static void
test_write (const char *tmp)
{
  _cleanup_free_ char *mnt = xasprintf ("%s/w", tmp);
  _cleanup_free_ char *user = NULL, *mid = NULL, *leaf = NULL;
  _cleanup_free_ char *a = NULL, *c = NULL;
  struct rt_limits l = { .memory = 64 << 20 };
  struct rt_device_rule all = { 'a', RT_DEV_ANY, RT_DEV_ANY, RT_DEV_RWM };
  struct err *e = NULL;
  struct rt_cgroup *cg;
  mkdir (mnt, 0755);
  user = cgroup_dir (mnt, "alice", "memory pids\n");
  mid = cgroup_dir (user, "imgtool", "memory pids\n");
  leaf = cgroup_dir (mid, "c1", "memory pids\n");
  put (leaf, "memory.max", "");
  cg = rt_cgroup_new (user, RT_CGROUP_V2, NULL, "c1");
  CHECK (rt_cgroup_create (cg, &l, &all, 1, &e) == 0
             && !strcmp ((a = slurp (user, "cgroup.subtree_control")),
                         "+memory +pids")
             && !strcmp ((c = slurp (leaf, "memory.max")), "67108864"),
         "below the delegated cgroup: controllers enabled from it down, "
         "limits written %s",
         e ? e->msg : "");
  rt_cgroup_free (cg);
  err_free (e);
}

int
main (void)
{
  char tmp[] = "/tmp/imgtool-cgd.XXXXXX";
  struct err *e = NULL;
  if (!mkdtemp (tmp))
    return 1;
  test_parse ();
  if (geteuid () == 0)
    test_find (tmp);
  else
    SKIP ("the delegation check needs root (to chown)");
  test_limits (tmp);
  test_write (tmp);
  fs_rm_rf (AT_FDCWD, tmp, &e);
  err_free (e);
  return test_done ();
}
