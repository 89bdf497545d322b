/* Runs real containers through rt_run: a root filesystem made from
 * Debian's busybox-static (/bin/busybox), the real kernel (namespaces,
 * overlay, pivot_root, cgroup v1 here), checked from inside. Needs root;
 * skips otherwise. */
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/strbuf.h"
#include "lib/xalloc.h"
#include "runtime/cgroup.h"
#include "runtime/console.h"
#include "runtime/container.h"
#include "tests/unit/test.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

static char tmp[] = "/tmp/imgtool-rt.XXXXXX";
static char *layer;
static int counter;

static const char *const applets[] = {
  "sh",   "true",  "false", "cat", "echo", "hostname", "id",
  "ls",   "sleep", "touch", "pwd", "grep", "seq",      "head",
  "tr",   "kill",  "stat",  "wc",  "env",  "mkdir",    "readlink",
  "test", "stty",  "tty",   NULL,
};

static void
make_layer (void)
{
  struct err *e = NULL;
  _cleanup_free_ char *bin = NULL, *etc = NULL;
  char buf[1 << 16];
  ssize_t n;
  int in, out;
  layer = xasprintf ("%s/layer", tmp);
  bin = xasprintf ("%s/bin", layer);
  etc = xasprintf ("%s/etc", layer);
  fs_mkdir_p (AT_FDCWD, bin, 0755, &e);
  fs_mkdir_p (AT_FDCWD, etc, 0755, &e);
  in = open ("/bin/busybox", O_RDONLY | O_CLOEXEC);
  {
    _cleanup_free_ char *f = xasprintf ("%s/busybox", bin);
    out = open (f, O_WRONLY | O_CREAT | O_CLOEXEC, 0755);
  }
  while ((n = read (in, buf, sizeof buf)) > 0)
    fs_write_all (out, buf, (size_t)n);
  close (in);
  close (out);
  for (size_t i = 0; applets[i]; i++)
    {
      _cleanup_free_ char *l = xasprintf ("%s/%s", bin, applets[i]);
      CHECK (symlink ("busybox", l) == 0, "link %s", applets[i]);
    }
  /* scripts: a good one, and CVE-2019-5736 attempts */
  {
    static const struct
    {
      const char *name, *text;
    } scripts[] = {
      { "script", "#!/bin/echo  x-y \n" },
      { "evil", "#!/proc/self/exe\n" },
      { "evil2", "#!/bin/selfexe\n" },
    };
    for (size_t i = 0; i < ARRAY_SIZE (scripts); i++)
      {
        _cleanup_free_ char *f = xasprintf ("%s/%s", bin, scripts[i].name);
        int fd = open (f, O_WRONLY | O_CREAT | O_CLOEXEC, 0755);
        fs_write_all (fd, scripts[i].text, strlen (scripts[i].text));
        close (fd);
      }
    {
      _cleanup_free_ char *f = xasprintf ("%s/selfexe", bin);
      CHECK (symlink ("/proc/self/exe", f) == 0, "link selfexe");
    }
  }
  /* a plain file that is not executable, for exit 126 */
  {
    _cleanup_free_ char *f = xasprintf ("%s/notexec", bin);
    close (open (f, O_CREAT | O_WRONLY | O_CLOEXEC, 0644));
  }
  err_free (e);
}

/* A fresh plan for argv, with its own state and upper dirs. */
static void
plan_for (struct rt_plan *p, char **argv)
{
  struct err *e = NULL;
  rt_plan_init (p);
  p->lower_dirs = strv_dup ((char *[]){ layer, NULL });
  p->id = xasprintf ("rttest%dx%d", (int)getpid (), ++counter);
  p->state_dir = xasprintf ("%s/%s", tmp, p->id);
  p->upper_dir = xasprintf ("%s/upper", p->state_dir);
  p->work_dir = xasprintf ("%s/work", p->state_dir);
  fs_mkdir_p (AT_FDCWD, p->upper_dir, 0755, &e);
  fs_mkdir_p (AT_FDCWD, p->work_dir, 0755, &e);
  p->argv = strv_dup (argv);
  p->env = strv_dup ((char *[]){ "PATH=/bin", "HOME=/", NULL });
  err_free (e);
}

/* Run p, capture stdout+stderr into *out; returns the status, or -1000
 * minus the error's exit status when rt_run failed (*msg then set). */
static int
run (struct rt_plan *p, char **out, char **msg)
{
  struct rt_stdio io = RT_STDIO_INIT;
  struct err *e = NULL;
  int pfd[2], status = -1, r;
  struct strbuf sb = STRBUF_INIT;
  char buf[4096];
  ssize_t n;
  if (pipe2 (pfd, O_CLOEXEC) < 0)
    return -2000;
  io.in = -1;
  io.out = pfd[1];
  io.err = pfd[1];
  r = rt_run (p, &io, &status, &e);
  close (pfd[1]);
  while ((n = read (pfd[0], buf, sizeof buf)) > 0)
    strbuf_add (&sb, buf, (size_t)n);
  close (pfd[0]);
  if (out)
    *out = strbuf_detach (&sb, NULL);
  else
    strbuf_release (&sb);
  if (r < 0)
    {
      if (msg)
        *msg = xstrdup (e ? e->msg : "");
      r = -1000 - (e ? e->exit : 0);
      err_free (e);
      return r;
    }
  return status;
}

static int
run_argv (char **argv, char **out)
{
  struct rt_plan p;
  int r;
  plan_for (&p, argv);
  r = run (&p, out, NULL);
  rt_plan_release (&p);
  return r;
}

static int
count_lines (const char *path)
{
  _cleanup_free_ char *buf = NULL;
  struct err *e = NULL;
  int n = 0;
  if (fs_read_file (AT_FDCWD, path, 1 << 22, &buf, NULL, &e) < 0)
    {
      err_free (e);
      return -1;
    }
  for (char *s = buf; *s; s++)
    n += *s == '\n';
  return n;
}

#define SH(script) ((char *[]){ "sh", "-c", script, NULL })

static void
test_status (void)
{
  _cleanup_free_ char *msg = NULL;
  struct rt_plan p;
  CHECK (run_argv ((char *[]){ "true", NULL }, NULL) == 0, "true exits 0");
  CHECK (run_argv (SH ("exit 3"), NULL) == 3, "exit 3 is propagated");
  {
    struct rt_container c;
    struct err *e = NULL;
    int status = -1;
    plan_for (&p, (char *[]){ "sleep", "100", NULL });
    CHECK (rt_start (&p, NULL, &c, &e) == 0 && rt_kill (&c, SIGKILL, &e) == 0
               && rt_wait (&c, &status, &e) == 0 && status == 128 + 9,
           "killed by SIGKILL is 137 (%d)", status);
    rt_plan_release (&p);
    err_free (e);
  }
  plan_for (&p, (char *[]){ "nosuchcmd", NULL });
  CHECK (run (&p, NULL, &msg) == -1000 - 127,
         "a command missing from the image is 127");
  CHECK (msg && strstr (msg, "exec: 'nosuchcmd': executable file not found"),
         "with a clear message (%s)", msg ? msg : "");
  rt_plan_release (&p);
  free (msg);
  msg = NULL;
  plan_for (&p, (char *[]){ "/bin/notexec", NULL });
  CHECK (run (&p, NULL, &msg) == -1000 - 126, "a non-executable file is 126");
  rt_plan_release (&p);
  {
    _cleanup_free_ char *out = NULL;
    plan_for (&p, (char *[]){ "script", "a1", NULL });
    CHECK (run (&p, &out, NULL) == 0 && out
               && !strcmp (out, "x-y /bin/script a1\n"),
           "a #! script runs with binfmt_script's argv (%s)", out ? out : "");
    rt_plan_release (&p);
  }
  free (msg);
  msg = NULL;
  plan_for (&p, (char *[]){ "evil", NULL });
  CHECK (run (&p, NULL, &msg) == -1000 - 126,
         "#!/proc/self/exe cannot run imgtool in the container (%s)",
         msg ? msg : "");
  rt_plan_release (&p);
  free (msg);
  msg = NULL;
  plan_for (&p, (char *[]){ "evil2", NULL });
  CHECK (run (&p, NULL, &msg) == -1000 - 126,
         "nor through a symlink to it (%s)", msg ? msg : "");
  rt_plan_release (&p);
}

static void
test_inside (void)
{
  _cleanup_free_ char *out = NULL, *mi = NULL, *pid = NULL, *net = NULL;
  struct rt_plan p;
  plan_for (&p, SH ("hostname; cat /etc/hostname"));
  free (p.hostname);
  p.hostname = xstrdup ("box");
  CHECK (run (&p, &out, NULL) == 0 && out && !strcmp (out, "box\nbox\n"),
         "hostname and /etc/hostname are the plan's (%s)", out ? out : "");
  rt_plan_release (&p);
  CHECK (run_argv (SH ("echo $$"), &pid) == 0 && !strcmp (pid, "1\n"),
         "the process is PID 1");
  CHECK (run_argv ((char *[]){ "cat", "/proc/self/mountinfo", NULL }, &mi) == 0,
         "read mountinfo inside");
  CHECK (mi && strstr (mi, " / / ") && strstr (mi, "- overlay "),
         "the root is the overlay");
  CHECK (mi && strstr (mi, " /proc rw,nosuid,nodev,noexec"),
         "a fresh /proc, nosuid nodev noexec");
  CHECK (mi && strstr (mi, " /dev/pts ") && strstr (mi, "- devpts"),
         "/dev/pts is a devpts");
  CHECK (mi && strstr (mi, " /sys ro,"), "/sys is read-only");
  CHECK (mi && strstr (mi, "/null /proc/keys "),
         "/proc/keys is masked with /dev/null");
  CHECK (mi && strstr (mi, " /proc/acpi ro,") == NULL
             ? access ("/proc/acpi", F_OK) < 0
             : true,
         "/proc/acpi is masked when it exists");
  CHECK (mi && strstr (mi, " /proc/sys ro,"), "/proc/sys is read-only");
  CHECK (mi && strstr (mi, " /etc/resolv.conf ") && strstr (mi, " /etc/hosts "),
         "/etc/hosts and /etc/resolv.conf are provided");
  CHECK (run_argv ((char *[]){ "ls", "/sys/class/net", NULL }, &net) == 0 && net
             && !strcmp (net, "lo\n"),
         "network none: only lo (%s)", net ? net : "");
  free (out);
  out = NULL;
  CHECK (run_argv (SH ("cat /sys/class/net/lo/operstate; "
                       "stat -c %t:%T /dev/null; readlink /dev/ptmx; "
                       "echo x > /dev/null && echo ok"),
                   &out)
                 == 0
             && out && strstr (out, "1:3\npts/ptmx\nok\n"),
         "/dev has null and the ptmx link (%s)", out ? out : "");
}

static void
test_process (void)
{
  _cleanup_free_ char *out = NULL, *id = NULL, *fds = NULL;
  struct rt_plan p;
  plan_for (&p, SH ("pwd; echo $A"));
  p.cwd = xstrdup ("/work/dir");
  strv_push (&p.env, xstrdup ("A=1"));
  CHECK (run (&p, &out, NULL) == 0 && !strcmp (out, "/work/dir\n1\n"),
         "cwd (created) and env (%s)", out ? out : "");
  rt_plan_release (&p);
  plan_for (&p, SH ("id -u; id -g; id -G"));
  p.user.uid = 1000;
  p.user.gid = 1001;
  p.user.groups = xmalloc (sizeof (gid_t));
  p.user.groups[0] = 2000;
  p.user.n_groups = 1;
  CHECK (run (&p, &id, NULL) == 0 && !strcmp (id, "1000\n1001\n1001 2000\n"),
         "uid, gid and groups (%s)", id ? id : "");
  rt_plan_release (&p);
  /* an fd the caller leaked must not be open inside (CVE-2024-21626) */
  {
    int leak = open ("/", O_RDONLY); /* deliberately without O_CLOEXEC */
    CHECK (run_argv ((char *[]){ "ls", "/proc/self/fd", NULL }, &fds) == 0
               && !strcmp (fds, "0\n1\n2\n3\n"),
           "only 0-2 reach the process (ls's own dir fd is 3: %s)", fds);
    close (leak);
  }
}

static void
test_security (void)
{
  _cleanup_free_ char *out = NULL;
  /* doc:no-new-privs */
  CHECK (run_argv (SH ("grep -E '^(Seccomp|NoNewPrivs|CapBnd):' "
                       "/proc/self/status | tr -d ' \\t'; "
                       "mkdir /m; mount -t tmpfs t /m 2>/dev/null || echo "
                       "mount-denied"),
                   &out)
                 == 0
             && out && strstr (out, "NoNewPrivs:1\nSeccomp:2\n")
             && !strstr (out, "CapBnd:000001ffffffffff")
             && strstr (out, "mount-denied"),
         "seccomp filter, no_new_privs and a cut bounding set inside, mount "
         "denied (%s)",
         out ? out : "");
}

static void
test_mounts (void)
{
  _cleanup_free_ char *vol = xasprintf ("%s/vol", tmp);
  _cleanup_free_ char *ro = xasprintf ("%s/ro", tmp);
  _cleanup_free_ char *out = NULL, *out2 = NULL, *seen = NULL;
  struct rt_plan p;
  struct err *e = NULL;
  struct stat st;
  plan_for (&p, SH ("echo hi > /data/f && touch /ro/x; echo $?; "
                    "touch /scratch/y && echo tmpfs-ok"));
  p.mounts = xcalloc (3, sizeof *p.mounts);
  p.n_mounts = 3;
  p.mounts[0] = (struct rt_mount){ .kind = RT_MOUNT_BIND,
                                   .source = xstrdup (vol),
                                   .destination = xstrdup ("/data") };
  p.mounts[1] = (struct rt_mount){ .kind = RT_MOUNT_BIND,
                                   .source = xstrdup (ro),
                                   .destination = xstrdup ("/ro"),
                                   .readonly = true };
  p.mounts[2] = (struct rt_mount){ .kind = RT_MOUNT_TMPFS,
                                   .destination = xstrdup ("/scratch"),
                                   .options = xstrdup ("size=1m") };
  CHECK (run (&p, &out, NULL) == 0 && out && strstr (out, "1\ntmpfs-ok"),
         "a ro bind is read-only, tmpfs works (%s)", out ? out : "");
  CHECK (stat (vol, &st) == 0 && S_ISDIR (st.st_mode),
         "a missing bind source is created");
  {
    _cleanup_free_ char *f = xasprintf ("%s/f", vol);
    fs_read_file (AT_FDCWD, f, 100, &seen, NULL, &e);
  }
  CHECK (seen && !strcmp (seen, "hi\n"), "a rw bind writes to the host");
  rt_plan_release (&p);
  plan_for (&p, SH ("touch /x; echo $?; touch /dev/shm/y && echo shm-ok"));
  p.readonly_rootfs = true;
  CHECK (run (&p, &out2, NULL) == 0 && out2 && strstr (out2, "1\nshm-ok"),
         "--read-only root: / is not writable, /dev/shm is (%s)",
         out2 ? out2 : "");
  rt_plan_release (&p);
  err_free (e);
}

static void
test_exec (void)
{
  struct rt_plan p, x;
  struct rt_container c;
  struct err *e = NULL;
  struct rt_stdio io = RT_STDIO_INIT;
  int status = -1, pfd[2];
  char buf[4096] = "";
  ssize_t n;
  plan_for (&p, (char *[]){ "sleep", "100", NULL });
  free (p.hostname);
  p.hostname = xstrdup ("exbox");
  if (rt_start (&p, NULL, &c, &e) < 0)
    {
      CHECK (0, "start a container to exec into: %s", e->msg);
      err_free (e);
      rt_plan_release (&p);
      return;
    }
  plan_for (&x, SH ("hostname; tr '\\0' ' ' < /proc/1/cmdline; echo; grep pids "
                    "/proc/self/cgroup; id -u; pwd"));
  x.user.uid = 123;
  x.cwd = xstrdup ("/tmp");
  if (pipe2 (pfd, O_CLOEXEC) == 0)
    {
      io.in = -1;
      io.out = io.err = pfd[1];
      CHECK (rt_exec (c.pid, &x, &io, &status, &e) == 0 && status == 0,
             "exec runs in the container (%s)", e ? e->msg : "");
      close (pfd[1]);
      n = read (pfd[0], buf, sizeof buf - 1);
      buf[n > 0 ? n : 0] = '\0';
      close (pfd[0]);
    }
  CHECK (!strncmp (buf, "exbox\nsleep 100", 15),
         "exec joins its UTS, mount and pid namespaces (%s)", buf);
  CHECK (strstr (buf, "pids:/\n123\n/tmp\n") != NULL,
         "exec joins its cgroup, with the plan's user and cwd (%s)", buf);
  rt_plan_release (&x);
  err_clear (&e);
  plan_for (&x, (char *[]){ "nosuch", NULL });
  CHECK (rt_exec (c.pid, &x, NULL, &status, &e) < 0 && e && e->exit == 127,
         "exec of a missing command is 127 (%s)", e ? e->msg : "");
  rt_plan_release (&x);
  err_clear (&e);
  /* sleep as PID 1 has no handler, so SIGTERM is ignored (as in docker);
   * SIGKILL from outside the namespace is not */
  rt_kill (&c, SIGKILL, &e);
  status = -1;
  CHECK (rt_wait (&c, &status, &e) == 0 && status == 128 + 9,
         "rt_kill then rt_wait gives 137 (%d %s)", status, e ? e->msg : "");
  rt_plan_release (&p);
  err_free (e);
}

/* Everything a pty master gives until the slave side is gone. */
static char *
read_console (int fd)
{
  struct strbuf sb = STRBUF_INIT;
  char buf[4096];
  ssize_t n;
  while ((n = read (fd, buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR))
    if (n > 0)
      strbuf_add (&sb, buf, (size_t)n);
  return strbuf_detach (&sb, NULL);
}

static void
test_tty (void)
{
  struct rt_plan p, x;
  struct rt_container c;
  struct err *e = NULL;
  struct rt_stdio io = RT_STDIO_INIT;
  struct winsize ws = { .ws_row = 33, .ws_col = 77 };
  int status = -1, outer;
  _cleanup_free_ char *out = NULL;
  /* the user's terminal: a pty of the host with a known size */
  outer = posix_openpt (O_RDWR | O_NOCTTY | O_CLOEXEC);
  CHECK (outer >= 0 && ioctl (outer, TIOCSWINSZ, &ws) == 0,
         "a host pty as the user's terminal");
  io.winsize_from = outer;
  plan_for (&p, SH ("tty; stat -c '%t:%T %F' /dev/console; stty size; "
                    "echo ctty > /dev/tty; exit 4"));
  p.tty = true;
  if (rt_start (&p, &io, &c, &e) < 0)
    {
      CHECK (0, "run with a terminal: %s", e->msg);
      err_clear (&e);
    }
  else
    {
      CHECK (c.console >= 0, "rt_start hands back the pty master");
      out = read_console (c.console);
      CHECK (rt_wait (&c, &status, &e) == 0 && status == 4,
             "the status through a terminal (%d)", status);
      CHECK (out && strstr (out, "/dev/pts/0\r\n"),
             "the pty is the container's own /dev/pts/0 (%s)", out);
      CHECK (out && strstr (out, "88:0 character special file"),
             "/dev/console is that pty (136:0) (%s)", out);
      CHECK (out && strstr (out, "33 77\r\n"),
             "with the user's window size (%s)", out);
      CHECK (out && strstr (out, "ctty\r\n"),
             "and it is the controlling terminal (%s)", out);
    }
  rt_plan_release (&p);

  plan_for (&p, (char *[]){ "sleep", "100", NULL });
  if (rt_start (&p, NULL, &c, &e) == 0)
    {
      struct rt_container xc;
      ws.ws_row = 12;
      ioctl (outer, TIOCSWINSZ, &ws);
      plan_for (&x, SH ("tty; stty size; echo ctty > /dev/tty; exit 6"));
      x.tty = true;
      free (out);
      out = NULL;
      if (rt_exec_start (c.pid, &x, &io, &xc, &e) < 0)
        {
          CHECK (0, "exec with a terminal: %s", e->msg);
          err_clear (&e);
        }
      else
        {
          out = read_console (xc.console);
          CHECK (rt_wait (&xc, &status, &e) == 0 && status == 6,
                 "exec's status through a terminal (%d)", status);
          CHECK (out && strstr (out, "/dev/pts/0\r\n12 77\r\nctty\r\n"),
                 "exec gets a pty of the container's devpts, sized, as its "
                 "controlling terminal (%s)",
                 out ? out : "");
        }
      rt_plan_release (&x);
      rt_kill (&c, SIGKILL, NULL);
      rt_wait (&c, &status, &e);
    }
  rt_plan_release (&p);
  close (outer);
  err_free (e);
}

/* The container starts with the default signal state, whatever the
 * caller's mask and ignored signals (imgtool blocks what it forwards
 * before it starts the container). */
static void
test_signal_state (void)
{
  sigset_t set, old;
  struct sigaction ign = { .sa_handler = SIG_IGN }, oldact;
  _cleanup_free_ char *out = NULL, *out2 = NULL;
  char *script = "sh -c 'kill -INT $$; echo survived'; echo $?";
  sigemptyset (&set);
  sigaddset (&set, SIGINT);
  sigprocmask (SIG_BLOCK, &set, &old);
  CHECK (run_argv (SH (script), &out) == 0 && out && !strcmp (out, "130\n"),
         "SIGINT is not blocked in the container (%s)", out ? out : "");
  sigprocmask (SIG_SETMASK, &old, NULL);
  sigaction (SIGINT, &ign, &oldact);
  CHECK (run_argv (SH (script), &out2) == 0 && out2 && !strcmp (out2, "130\n"),
         "nor ignored (%s)", out2 ? out2 : "");
  sigaction (SIGINT, &oldact, NULL);
}

static void
test_cgroups (void)
{
  enum rt_cgroup_mode mode;
  struct err *e = NULL;
  struct rt_plan p;
  _cleanup_free_ char *out = NULL, *cgdir = NULL, *msg = NULL;
  struct stat st;
  rt_cgroup_detect (RT_CGROUP_ROOT, &mode, &e);
  if (mode != RT_CGROUP_V1)
    {
      SKIP ("cgroup v1 limits (this machine is not v1)");
      return;
    }
  plan_for (&p, SH ("x=$(head -c 200000000 /dev/zero | tr '\\0' a); echo "
                    "survived"));
  p.limits.memory = 32 << 20;
  CHECK (run (&p, NULL, NULL) == 137, "a memory hog is OOM-killed (137)");
  cgdir = xasprintf ("%s/memory/imgtool/%s", RT_CGROUP_ROOT, p.id);
  CHECK (stat (cgdir, &st) < 0 && errno == ENOENT,
         "the cgroup is removed afterwards");
  rt_plan_release (&p);
  plan_for (&p, SH ("for i in $(seq 40); do sleep 2 & done; echo no"));
  p.limits.pids = 10;
  /* busybox sh gives up (status 2) when fork fails */
  CHECK (run (&p, &out, NULL) == 2 && out && strstr (out, "can't fork"),
         "the pids limit stops a fork bomb (%s)", out ? out : "");
  rt_plan_release (&p);
  plan_for (&p, (char *[]){ "true", NULL });
  p.limits.memory = 1000;
  CHECK (run (&p, NULL, &msg) == -1000 - 125 && msg
             && strstr (msg, "minimum memory limit"),
         "a bad limit is a setup error, 125 (%s)", msg ? msg : "");
  rt_plan_release (&p);
  err_free (e);
}

/* The mount points made in the upper dir before the overlay is mounted
 * (rootfs.c seed_upper) must give what the mounts code gives through the
 * overlay: an image's symlinked /proc replaced by a real one, a symlinked
 * /etc still followed inside the image, /etc's own mode kept, and nothing
 * followed out of a reused upper dir. */
static void
test_seeded_root (void)
{
  _cleanup_free_ char *top = xasprintf ("%s/top", tmp);
  _cleanup_free_ char *top_etc = xasprintf ("%s/top/etc", tmp);
  _cleanup_free_ char *top2 = xasprintf ("%s/top2", tmp);
  _cleanup_free_ char *top2_etc = xasprintf ("%s/top2/usr/etc", tmp);
  _cleanup_free_ char *hostdir = xasprintf ("%s/hostdir", tmp);
  _cleanup_free_ char *out = NULL, *out2 = NULL, *out3 = NULL, *msg = NULL;
  struct rt_plan p;
  struct err *e = NULL;
  struct stat st;
  char *base[] = { NULL, NULL, NULL };

  /* a top layer: /etc mode 0750, /proc a symlink to / */
  fs_mkdir_p (AT_FDCWD, top_etc, 0755, &e);
  chmod (top_etc, 0750);
  {
    _cleanup_free_ char *l = xasprintf ("%s/proc", top);
    CHECK (symlink ("/", l) == 0, "symlink /proc");
  }
  plan_for (&p, SH ("stat -c %a /etc; hostname; test -L /proc || "
                    "grep -c ^Pid: /proc/self/status"));
  free (p.hostname);
  p.hostname = xstrdup ("seeded");
  base[0] = top;
  base[1] = layer;
  strv_free (p.lower_dirs);
  p.lower_dirs = strv_dup (base);
  CHECK (run (&p, &out, NULL) == 0 && out && !strcmp (out, "750\nseeded\n1\n"),
         "seeded root: /etc keeps the image's mode, a symlinked /proc is a "
         "real procfs (%s)",
         out ? out : "");
  rt_plan_release (&p);

  /* a top layer whose /etc is a symlink to usr/etc: still followed */
  fs_mkdir_p (AT_FDCWD, top2_etc, 0755, &e);
  {
    _cleanup_free_ char *l = xasprintf ("%s/etc", top2);
    CHECK (symlink ("usr/etc", l) == 0, "symlink /etc");
  }
  plan_for (&p, SH ("readlink /etc; cat /usr/etc/hostname"));
  free (p.hostname);
  p.hostname = xstrdup ("viasymlink");
  base[0] = top2;
  strv_free (p.lower_dirs);
  p.lower_dirs = strv_dup (base);
  CHECK (run (&p, &out2, NULL) == 0 && out2
             && !strcmp (out2, "usr/etc\nviasymlink\n"),
         "a symlinked /etc is kept and the files bound through it (%s)",
         out2 ? out2 : "");
  rt_plan_release (&p);

  /* a reused upper whose etc points at the host: nothing lands there */
  fs_mkdir_p (AT_FDCWD, hostdir, 0755, &e);
  plan_for (&p, SH ("cat /etc/hostname"));
  {
    _cleanup_free_ char *l = xasprintf ("%s/etc", p.upper_dir);
    CHECK (symlink (hostdir, l) == 0, "symlink upper/etc");
  }
  free (p.hostname);
  p.hostname = xstrdup ("reused");
  /* (the mounts code refuses the dangling /etc it resolves in the root) */
  run (&p, &out3, &msg);
  {
    _cleanup_free_ char *f = xasprintf ("%s/hostname", hostdir);
    CHECK (lstat (f, &st) < 0 && errno == ENOENT,
           "and nothing is made on the host through it");
  }
  rt_plan_release (&p);
  err_free (e);
}

int
main (int argc, char **argv)
{
  int before, after;
  struct err *se = NULL;
  (void)argc;
  /* re-exec from a sealed copy first, as imgtool run does */
  if (rt_seal_self (argv, &se) < 0)
    printf ("# %s\n", se->msg);
  CHECK (rt_self_sealed (), "running from a sealed memfd copy");
  if (geteuid () != 0)
    {
      SKIP ("runtime tests need root");
      return test_done ();
    }
  if (!mkdtemp (tmp) || access ("/bin/busybox", X_OK) < 0)
    {
      SKIP ("no temp dir or no /bin/busybox (busybox-static)");
      return test_done ();
    }
  make_layer ();
  before = count_lines ("/proc/self/mountinfo");
  test_status ();
  test_inside ();
  test_process ();
  test_mounts ();
  test_seeded_root ();
  test_security ();
  test_exec ();
  test_tty ();
  test_signal_state ();
  test_cgroups ();
  after = count_lines ("/proc/self/mountinfo");
  CHECK (before == after, "no mounts left on the host (%d before, %d after)",
         before, after);
  {
    struct err *e = NULL;
    fs_rm_rf (AT_FDCWD, tmp, &e);
    err_free (e);
  }
  return test_done ();
}
