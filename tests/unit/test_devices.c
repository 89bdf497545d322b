/* Unit tests for runtime/devices*.c: device rules (parsing, defaults,
 * v1 text), --device specs, the host /dev walk, and the cgroup v2 device
 * program on this machine's real cgroup2 hierarchy: a forked child in a
 * cgroup with the program attached opens what the rules allow and gets
 * EPERM for the rest. */
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/xalloc.h"
#include "runtime/cgroup.h"
#include "runtime/devices.h"
#include "runtime/runopts.h"
#include "tests/unit/test.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/magic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#define UNIFIED "/sys/fs/cgroup/unified"

static const char *
fmt (const struct rt_device_rule *r)
{
  static char buf[RT_DEVICE_RULE_LEN];
  return rt_device_rule_format (r, buf);
}

static void
test_rules (void)
{
  struct rt_device_rule r;
  struct err *e = NULL;
  static const char *const bad[] = {
    "x 1:3 rwm",        "c 1:3",  "c 1:3 rwx", "c 1:3 rr", "a 1:2 rwm",
    "c 4294967296:1 r", "c1:3 r", "c 1-3 r",   "",         "c :3 r",
  };
  CHECK (rt_device_rule_parse ("c 1:3 rwm", &r, &e) == 0 && r.type == 'c'
             && r.major == 1 && r.minor == 3 && r.access == RT_DEV_RWM,
         "c 1:3 rwm");
  CHECK (rt_device_rule_parse ("b *:* m", &r, &e) == 0 && r.type == 'b'
             && r.major == RT_DEV_ANY && r.minor == RT_DEV_ANY
             && r.access == RT_DEV_MKNOD,
         "b *:* m");
  CHECK_STR (fmt (&r), "b *:* m", "formatted back as devices.allow takes it");
  CHECK (rt_device_rule_parse ("c 136:* wr", &r, &e) == 0
             && r.access == (RT_DEV_READ | RT_DEV_WRITE),
         "access letters in any order");
  CHECK_STR (fmt (&r), "c 136:* rw", "and written as rw");
  CHECK (rt_device_rule_parse ("a", &r, &e) == 0 && r.type == 'a'
             && rt_device_rules_allow_all (&r, 1),
         "a allows everything");
  CHECK_STR (fmt (&r), "a", "a formats as a");
  for (size_t i = 0; i < ARRAY_SIZE (bad); i++)
    {
      CHECK (rt_device_rule_parse (bad[i], &r, &e) < 0 && e
                 && strstr (e->msg, "invalid device rule"),
             "rejects '%s'", bad[i]);
      err_clear (&e);
    }
}

static bool
has_rule (const struct rt_device_rule *r, size_t n, const char *text)
{
  for (size_t i = 0; i < n; i++)
    if (!strcmp (fmt (&r[i]), text))
      return true;
  return false;
}

static void
test_defaults (void)
{
  struct rt_device_rule *r = NULL;
  struct rt_device dev
      = { .type = 'b', .major = 7, .minor = 0, .access = RT_DEV_READ };
  size_t n = rt_device_rules (false, NULL, 0, &r);
  /* doc:device-cgroup-default */
  CHECK (n == 12, "12 default rules (got %zu)", n);
  CHECK (has_rule (r, n, "c *:* m") && has_rule (r, n, "b *:* m"),
         "mknod of anything is allowed");
  CHECK (has_rule (r, n, "c 1:3 rwm") && has_rule (r, n, "c 1:9 rwm")
             && has_rule (r, n, "c 136:* rwm") && has_rule (r, n, "c 5:2 rwm"),
         "null, urandom, ptys and ptmx are allowed");
  CHECK (!has_rule (r, n, "b 7:0 r") && !rt_device_rules_allow_all (r, n),
         "nothing else");
  free (r);
  n = rt_device_rules (false, &dev, 1, &r);
  CHECK (n == 13 && !strcmp (fmt (&r[12]), "b 7:0 r"),
         "a --device adds its rule last");
  free (r);
  n = rt_device_rules (true, &dev, 1, &r);
  CHECK (n == 1 && rt_device_rules_allow_all (r, n),
         "privileged: one rule that allows everything");
  free (r);
}

static void
release_all (struct rt_device *d, size_t n)
{
  for (size_t i = 0; i < n; i++)
    rt_device_release (&d[i]);
  free (d);
}

static void
test_parse (const char *tmp)
{
  struct rt_device *d = NULL;
  size_t n = 0;
  struct err *e = NULL;
  _cleanup_free_ char *file = xasprintf ("%s/regular", tmp);
  _cleanup_free_ char *dir = xasprintf ("%s/devdir/sub", tmp);
  _cleanup_free_ char *spec = NULL;
  struct stat st;

  CHECK (rt_device_parse ("/dev/null", &d, &n, &e) == 0 && n == 1
             && !strcmp (d[0].path, "/dev/null") && d[0].type == 'c'
             && d[0].major == 1 && d[0].minor == 3 && d[0].access == RT_DEV_RWM,
         "HOST: the same path, c 1:3, rwm");
  stat ("/dev/null", &st);
  CHECK (d[0].mode == (st.st_mode & 07777) && d[0].uid == st.st_uid,
         "with the host's mode and owner");
  CHECK (rt_device_parse ("/dev/zero:/my//zero/:r", &d, &n, &e) == 0 && n == 2
             && !strcmp (d[1].path, "/my/zero") && d[1].access == RT_DEV_READ
             && d[1].minor == 5,
         "HOST:CONTAINER:PERMS, the path cleaned");
  CHECK (rt_device_parse ("/dev/full:wm", &d, &n, &e) == 0 && n == 3
             && !strcmp (d[2].path, "/dev/full")
             && d[2].access == (RT_DEV_WRITE | RT_DEV_MKNOD),
         "HOST:PERMS when the second part is a mode");
  release_all (d, n);
  d = NULL;
  n = 0;

  struct
  {
    const char *spec, *msg;
  } bad[] = {
    { "/dev/null:rel", "'rel' is not an absolute path" },
    { "/dev/null:/x:rwx", "bad permissions 'rwx'" },
    { "/dev/null:/x:", "bad permissions ''" },
    { "/a:/b:r:x", "expected HOST[:CONTAINER][:PERMISSIONS]" },
    { ":/x", "expected HOST" },
    { "/dev/null:/", "cannot be '/'" },
    { "/nonexistent/dev", "--device '/nonexistent/dev': No such file" },
  };
  for (size_t i = 0; i < ARRAY_SIZE (bad); i++)
    {
      CHECK (rt_device_parse (bad[i].spec, &d, &n, &e) < 0 && e
                 && strstr (e->msg, bad[i].msg) && e->exit == 125 && n == 0,
             "'%s': %s (%s)", bad[i].spec, bad[i].msg, e ? e->msg : "");
      err_clear (&e);
    }
  fs_write_file_atomic (AT_FDCWD, file, "x", 1, 0644, &e);
  CHECK (rt_device_parse (file, &d, &n, &e) < 0 && e
             && strstr (e->msg, "not a device node") && e->exit == 125,
         "a regular file is not a device (%s)", e ? e->msg : "");
  err_clear (&e);

  /* docker: a directory brings the nodes below it */
  fs_mkdir_p (AT_FDCWD, dir, 0755, &e);
  spec = xasprintf ("%s/devdir:/dev/mine", tmp);
  CHECK (rt_device_parse (spec, &d, &n, &e) < 0 && e
             && strstr (e->msg, "no device node"),
         "a directory without nodes is an error");
  err_clear (&e);
  {
    _cleanup_free_ char *node = xasprintf ("%s/n1", dir);
    if (mknod (node, S_IFCHR | 0640, makedev (1, 7)) < 0)
      SKIP ("mknod (needs root)");
    else
      CHECK (rt_device_parse (spec, &d, &n, &e) == 0 && n == 1
                 && !strcmp (d[0].path, "/dev/mine/sub/n1") && d[0].minor == 7
                 && d[0].mode == 0640,
             "a directory's nodes at the container path (%s)",
             n ? d[0].path : "");
  }
  release_all (d, n);
  err_free (e);
}

static void
test_walk (void)
{
  struct rt_device *d = NULL;
  size_t n = 0;
  struct err *e = NULL;
  bool null = false, special = false;
  CHECK (rt_device_walk ("/dev", "/dev", true, RT_DEV_RWM, &d, &n, &e) == 0,
         "walk the host's /dev");
  for (size_t i = 0; i < n; i++)
    {
      if (!strcmp (d[i].path, "/dev/null") && d[i].major == 1)
        null = true;
      if (!strncmp (d[i].path, "/dev/pts/", 9)
          || !strcmp (d[i].path, "/dev/console"))
        special = true;
    }
  CHECK (null, "finds /dev/null (%zu nodes)", n);
  CHECK (!special, "skips /dev/pts and the console, as docker");
  release_all (d, n);
  err_free (e);
}

static void
test_bad_program (void)
{
  /* r0 = *(u32 *)(r1 + 12): past the end of bpf_cgroup_dev_ctx */
  struct bpf_insn p[] = {
    { .code = BPF_LDX | BPF_W | BPF_MEM,
      .dst_reg = 0,
      .src_reg = 1,
      .off = 12 },
    { .code = BPF_JMP | BPF_EXIT },
  };
  struct err *e = NULL;
  int fd;
  if (geteuid () != 0)
    {
      SKIP ("loading a bpf program needs root");
      return;
    }
  fd = rt_device_bpf_load (p, ARRAY_SIZE (p), &e);
  CHECK (fd < 0 && e && strstr (e->msg, "load the device cgroup program")
             && strstr (e->msg, "(verifier: invalid bpf_context access"),
         "a program the verifier refuses is an error with its words (%s)",
         e ? e->msg : "");
  if (fd >= 0)
    close (fd);
  err_free (e);
}

/* A block device of the host this process can open (the sandbox may
 * refuse some, e.g. its root disk), in *st; its path or NULL. */
static char *
openable_block (struct stat *st)
{
  DIR *d = opendir ("/dev");
  struct dirent *x;
  char *found = NULL;
  while (d && !found && (x = readdir (d)))
    {
      _cleanup_free_ char *p = xasprintf ("/dev/%s", x->d_name);
      int fd;
      if (lstat (p, st) < 0 || !S_ISBLK (st->st_mode))
        continue;
      fd = open (p, O_RDONLY | O_CLOEXEC);
      if (fd >= 0)
        {
          close (fd);
          found = steal_pointer (&p);
        }
    }
  if (d)
    closedir (d);
  return found;
}

/* What the child found, one bit per check. */
enum
{
  NULL_OK = 1,       /* open /dev/null read-write */
  BLOCK_EPERM = 2,   /* open the host's block device: EPERM */
  MKNOD_OK = 4,      /* mknod a block node */
  MKNODED_EPERM = 8, /* and open it: EPERM */
  ZERO_R_OK = 16,    /* open /dev/zero read-only */
  ZERO_W_EPERM = 32, /* open /dev/zero write-only: EPERM */
};

static int
child_checks (const char *block, dev_t rdev, const char *node)
{
  int r = 0, fd;
  if ((fd = open ("/dev/null", O_RDWR | O_CLOEXEC)) >= 0)
    r |= NULL_OK, close (fd);
  if (block && open (block, O_RDONLY | O_CLOEXEC) < 0 && errno == EPERM)
    r |= BLOCK_EPERM;
  if (mknod (node, S_IFBLK | 0600, rdev) == 0)
    {
      r |= MKNOD_OK;
      if (open (node, O_RDONLY | O_CLOEXEC) < 0 && errno == EPERM)
        r |= MKNODED_EPERM;
      unlink (node);
    }
  if ((fd = open ("/dev/zero", O_RDONLY | O_CLOEXEC)) >= 0)
    r |= ZERO_R_OK, close (fd);
  if (open ("/dev/zero", O_WRONLY | O_CLOEXEC) < 0 && errno == EPERM)
    r |= ZERO_W_EPERM;
  return r;
}

static int cgroups_left;

/* Make UNIFIED/<name>, attach the rules' program, run child_checks in a
 * child moved into it; the child's bits, or -1. */
static int
in_cgroup (const char *name, const struct rt_device_rule *rules, size_t n,
           const char *block, dev_t rdev, const char *node)
{
  _cleanup_free_ char *dir = xasprintf ("%s/%s", UNIFIED, name);
  _cleanup_free_ char *procs = xasprintf ("%s/cgroup.procs", dir);
  struct err *e = NULL;
  int fd, go[2], status = -1, r = -1;
  char pid[16];
  pid_t child;
  if (mkdir (dir, 0755) < 0)
    return -1;
  fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0 || rt_device_bpf_attach (fd, rules, n, &e) < 0)
    {
      printf ("# attach: %s\n", e ? e->msg : "open");
      goto out;
    }
  if (pipe2 (go, O_CLOEXEC) < 0)
    goto out;
  child = fork ();
  if (child == 0)
    {
      char c;
      close (go[1]);
      if (read (go[0], &c, 1) != 1)
        _exit (255);
      _exit (child_checks (block, rdev, node));
    }
  close (go[0]);
  snprintf (pid, sizeof pid, "%d", (int)child);
  if (rt_cgroup_write (AT_FDCWD, procs, pid, false, &e) == 0)
    (void)!write (go[1], "g", 1);
  else
    printf ("# move the child: %s\n", e->msg);
  close (go[1]);
  if (waitpid (child, &status, 0) == child && WIFEXITED (status)
      && WEXITSTATUS (status) != 255)
    r = WEXITSTATUS (status);
out:
  if (fd >= 0)
    close (fd);
  err_free (e);
  if (rmdir (dir) < 0)
    cgroups_left++;
  return r;
}

static void
test_real_v2 (const char *tmp)
{
  struct statfs sf;
  struct stat st;
  struct rt_device_rule *rules = NULL;
  struct rt_device_rule few[2];
  _cleanup_free_ char *block = NULL;
  _cleanup_free_ char *node = xasprintf ("%s/blk", tmp);
  char name[64];
  size_t n;
  int r;
  if (geteuid () != 0 || statfs (UNIFIED, &sf) < 0
      || sf.f_type != CGROUP2_SUPER_MAGIC)
    {
      SKIP (UNIFIED " is not a cgroup2 hierarchy we can use");
      return;
    }
  block = openable_block (&st);
  if (!block)
    {
      SKIP ("no block device this process can open");
      return;
    }
  printf ("# block device: %s (%u:%u)\n", block, major (st.st_rdev),
          minor (st.st_rdev));
  n = rt_device_rules (false, NULL, 0, &rules);
  snprintf (name, sizeof name, "imgtool-test-dev-%d", (int)getpid ());
  r = in_cgroup (name, rules, n, block, st.st_rdev, node);
  CHECK (r >= 0, "a child runs in a cgroup with the default rules' program");
  CHECK (r >= 0 && (r & NULL_OK), "it opens /dev/null");
  CHECK (r >= 0 && (r & BLOCK_EPERM), "but not %s (EPERM)", block);
  CHECK (r >= 0 && (r & MKNOD_OK), "it may mknod a block node");
  CHECK (r >= 0 && (r & MKNODED_EPERM), "but not open it (EPERM)");
  CHECK (r >= 0 && (r & ZERO_R_OK), "it opens /dev/zero (c 1:5 rwm)");
  free (rules);

  /* only null: zero is denied; then read access to 1:5 alone */
  rt_device_rule_parse ("c 1:3 rwm", &few[0], NULL);
  rt_device_rule_parse ("c 1:5 r", &few[1], NULL);
  snprintf (name, sizeof name, "imgtool-test-dev-%d-a", (int)getpid ());
  r = in_cgroup (name, few, 1, NULL, st.st_rdev, node);
  CHECK (r >= 0 && (r & NULL_OK) && !(r & ZERO_R_OK) && !(r & MKNOD_OK),
         "without a rule for 1:5, /dev/zero and mknod are denied (%d)", r);
  snprintf (name, sizeof name, "imgtool-test-dev-%d-b", (int)getpid ());
  r = in_cgroup (name, few, 2, NULL, st.st_rdev, node);
  CHECK (r >= 0 && (r & ZERO_R_OK) && (r & ZERO_W_EPERM),
         "with c 1:5 r, /dev/zero opens for reading, not writing (%d)", r);
  CHECK (cgroups_left == 0, "the test cgroups are removed");
}

int
main (void)
{
  char tmp[] = "/tmp/imgtool-dev.XXXXXX";
  struct err *e = NULL;
  if (!mkdtemp (tmp))
    return 1;
  test_rules ();
  test_defaults ();
  test_parse (tmp);
  test_walk ();
  test_bad_program ();
  test_real_v2 (tmp);
  fs_rm_rf (AT_FDCWD, tmp, &e);
  err_free (e);
  return test_done ();
}
