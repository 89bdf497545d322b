/* Unit tests for the container service's lifecycle rules: restart
 * policies as docker's restart manager applies them (service/restart.c),
 * the stop requests, the detach keys of attach (service/attach.c), rename
 * (runtime/state.c) and the v2 freezer against the kernel's cgroup2
 * (service/freeze.c). */
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/xalloc.h"
#include "runtime/state.h"
#include "service/service.h"
#include "tests/unit/test.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static void
test_parse (void)
{
  struct svc_restart_policy p;
  struct err *e = NULL;
  CHECK (svc_restart_parse ("on-failure:3", &p, &e) == 0
             && p.kind == SVC_RESTART_ON_FAILURE && p.max == 3,
         "on-failure:3");
  CHECK (svc_restart_parse ("always", &p, &e) == 0
             && p.kind == SVC_RESTART_ALWAYS,
         "always");
  CHECK (svc_restart_parse ("unless-stopped", &p, &e) == 0
             && p.kind == SVC_RESTART_UNLESS_STOPPED,
         "unless-stopped");
  CHECK (svc_restart_parse ("no", &p, &e) == 0 && p.kind == SVC_RESTART_NO,
         "no");
  CHECK (svc_restart_parse ("sometimes", &p, &e) < 0 && e
             && strstr (e->msg, "unknown policy 'sometimes'"),
         "an unknown policy: %s", e ? e->msg : "");
  err_clear (&e);
  CHECK (svc_restart_parse ("always:3", &p, &e) < 0 && e
             && strstr (e->msg, "can only be used with 'on-failure'"),
         "a count without on-failure: %s", e ? e->msg : "");
  err_clear (&e);
  CHECK (svc_restart_parse ("on-failure:-1", &p, &e) < 0 && e
             && strstr (e->msg, "cannot be negative"),
         "a negative count: %s", e ? e->msg : "");
  err_clear (&e);
  CHECK (svc_restart_parse ("on-failure:x", &p, &e) < 0 && e
             && strstr (e->msg, "must be an integer"),
         "a count that is no number: %s", e ? e->msg : "");
  err_clear (&e);
}

static void
test_should (void)
{
  struct svc_restart_policy always = { SVC_RESTART_ALWAYS, 0 },
                            unless = { SVC_RESTART_UNLESS_STOPPED, 0 },
                            fail3 = { SVC_RESTART_ON_FAILURE, 3 },
                            fail = { SVC_RESTART_ON_FAILURE, 0 },
                            no = { SVC_RESTART_NO, 0 };
  CHECK (svc_restart_should (&always, 0, 100, true),
         "always: even after a manual stop (what the boot hook starts)");
  CHECK (svc_restart_should (&unless, 0, 0, false)
             && !svc_restart_should (&unless, 1, 0, true),
         "unless-stopped: unless stopped by the user");
  CHECK (svc_restart_should (&fail3, 1, 2, false)
             && !svc_restart_should (&fail3, 1, 3, false),
         "on-failure:3: three restarts, not a fourth");
  CHECK (!svc_restart_should (&fail3, 0, 0, false),
         "on-failure: not after exit 0");
  CHECK (svc_restart_should (&fail, 1, 1000, false),
         "on-failure without a count has no maximum");
  CHECK (!svc_restart_should (&no, 1, 0, false), "no: never");
}

static void
test_backoff (void)
{
  int64_t d = 0;
  int64_t want[] = { 100,  200,   400,   800,   1600,  3200,
                     6400, 12800, 25600, 51200, 60000, 60000 };
  bool ok = true;
  for (size_t i = 0; i < sizeof want / sizeof *want; i++)
    {
      d = svc_restart_delay (d, 50);
      ok = ok && d == want[i];
    }
  CHECK (ok, "backoff: 100 ms, doubled, at most a minute");
  CHECK (svc_restart_delay (60000, 10000) == 100,
         "back to 100 ms after a run of 10 s");
  CHECK (svc_restart_delay (800, 9999) == 1600, "not after 9.999 s");
}

static void
test_detach_keys (void)
{
  char k[SVC_DETACH_KEYS_MAX], out[64];
  size_t n;
  struct err *e = NULL;
  struct svc_detach d = { 0 };
  bool det;
  CHECK (svc_detach_keys_parse ("ctrl-p,ctrl-q", k, &n, &e) == 0 && n == 2
             && k[0] == 16 && k[1] == 17,
         "ctrl-p,ctrl-q is 16 17");
  CHECK (svc_detach_keys_parse ("a,ctrl-@,ctrl-_,DEL", k, &n, &e) == 0 && n == 4
             && k[0] == 'a' && k[1] == 0 && k[2] == 31 && k[3] == 127,
         "a literal, ctrl-@, ctrl-_, DEL");
  CHECK (svc_detach_keys_parse ("", k, &n, &e) == 0 && n == 0,
         "empty: no detaching");
  CHECK (svc_detach_keys_parse ("ctrl-1", k, &n, &e) < 0 && e
             && strstr (e->msg, "unknown character 'ctrl-1'"),
         "an unknown key: %s", e ? e->msg : "");
  err_clear (&e);

  svc_detach_keys_parse ("ctrl-p,ctrl-q", d.keys, &d.n, &e);
  n = svc_detach_match (&d, "ab\x10", 3, out, &det);
  CHECK (n == 2 && !det && !memcmp (out, "ab", 2),
         "a partial match is held back");
  n = svc_detach_match (&d, "x", 1, out, &det);
  CHECK (n == 2 && !det && !memcmp (out, "\x10x", 2),
         "and passed on when the match breaks");
  n = svc_detach_match (&d, "\x10\x10\x11", 3, out, &det);
  CHECK (det && n == 1 && out[0] == 0x10,
         "a key that breaks a match may start the next one");
}

static void
test_rename (void)
{
  char tmp[] = "/tmp/test_lifecycle.XXXXXX";
  struct rt_containers cs;
  struct rt_record a = { 0 }, b = { 0 }, l;
  _cleanup_free_ char *id = NULL;
  struct err *e = NULL;
  CHECK (mkdtemp (tmp) != NULL, "temp dir");
  CHECK (rt_containers_open (&cs, tmp, &e) == 0, "open the records");
  rt_plan_init (&a.plan);
  rt_plan_init (&b.plan);
  a.name = xstrdup ("one");
  b.name = xstrdup ("two");
  CHECK (rt_record_create (&cs, &a, &e) == 0
             && rt_record_create (&cs, &b, &e) == 0,
         "two containers");
  CHECK (rt_record_rename (&cs, &a, "two", &e) < 0 && e
             && strstr (e->msg, "is already in use"),
         "a name in use is refused: %s", e ? e->msg : "");
  err_clear (&e);
  CHECK (rt_record_rename (&cs, &a, "-x", &e) < 0 && e
             && strstr (e->msg, "invalid container name"),
         "docker's name rule");
  err_clear (&e);
  CHECK (rt_record_rename (&cs, &a, "uno", &e) == 0, "rename one to uno");
  CHECK (rt_record_lookup (&cs, "uno", &id, &e) == 0 && !strcmp (id, a.id),
         "the new name finds it");
  CHECK (rt_record_lookup (&cs, "one", &id, &e) < 0, "the old one does not");
  err_clear (&e);
  CHECK (rt_record_load (&cs, a.id, &l, &e) == 0 && !strcmp (l.name, "uno")
             && !strcmp (l.plan.name, "uno"),
         "config.json has it");
  rt_record_release (&l);
  CHECK (rt_record_rename (&cs, &b, "one", &e) == 0,
         "the old name is free again");
  rt_record_release (&a);
  rt_record_release (&b);
  rt_containers_release (&cs);
  fs_rm_rf (AT_FDCWD, tmp, &e);
  err_free (e);
}

/* The v2 freezer against the kernel: a private cgroup2 mount (root only),
 * a child in a cgroup of its own, frozen and thawed. */
static void
test_freezer_v2 (void)
{
  char mnt[] = "/tmp/test_freeze.XXXXXX";
  _cleanup_free_ char *dir = NULL, *procs = NULL, *status = NULL;
  struct err *e = NULL;
  pid_t pid;
  int fd;
  /* a mount namespace of its own: nothing stays mounted on the host */
  if (geteuid () != 0 || unshare (CLONE_NEWNS) < 0
      || mount (NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0
      || !mkdtemp (mnt) || mount ("cgroup2", mnt, "cgroup2", 0, NULL) < 0)
    {
      SKIP ("no cgroup2 mount here (not root?)");
      SKIP ("no cgroup2 mount here");
      SKIP ("no cgroup2 mount here");
      return;
    }
  dir = xasprintf ("%s/imgtool-test-freeze-%d", mnt, (int)getpid ());
  procs = xasprintf ("%s/cgroup.procs", dir);
  mkdir (dir, 0755);
  pid = fork ();
  if (pid == 0)
    {
      for (;;)
        pause ();
    }
  fd = open (procs, O_WRONLY | O_CLOEXEC);
  {
    char buf[32];
    int n = snprintf (buf, sizeof buf, "%d", (int)pid);
    CHECK (fd >= 0 && write (fd, buf, (size_t)n) == n, "a child in a cgroup");
    if (fd >= 0)
      close (fd);
  }
  CHECK (svc_freezer_set (dir, true, &e) == 0 && svc_freezer_get (dir) == 1,
         "frozen (cgroup.events says frozen 1): %s", e ? e->msg : "");
  err_clear (&e);
  CHECK (svc_freezer_set (dir, false, &e) == 0 && svc_freezer_get (dir) == 0,
         "thawed: %s", e ? e->msg : "");
  err_clear (&e);
  kill (pid, SIGKILL);
  waitpid (pid, NULL, 0);
  rmdir (dir);
  umount (mnt);
  rmdir (mnt);
}

int
main (void)
{
  test_parse ();
  test_should ();
  test_backoff ();
  test_detach_keys ();
  test_rename ();
  test_freezer_v2 ();
  return test_done ();
}
