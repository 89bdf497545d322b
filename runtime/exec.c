/* exec into a running container (rt_exec): join every namespace of its
 * PID 1 and its cgroups, then the same process setup as rt_start's child.
 *
 * caller ── fork ──► helper: join cgroups (host paths), setns(pidfd, all)
 *                      └─ clone3(CLONE_PARENT) ──► process: now in the
 *                         container's pid ns, a child of the caller;
 *                         stdio, cwd, user, caps, nnp, seccomp, exec
 * With a terminal the helper, now in the container's mount namespace,
 * opens a pty of the container's devpts; the process gets the slave. The
 * helper sends the process's pid (with the pty master attached) and
 * exits; the caller waits on the process with rt_wait. Errors travel on
 * the same socket as rt_start's. */
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/xalloc.h"
#include "runtime/cgroup.h"
#include "runtime/child.h"
#include "runtime/console.h"
#include "runtime/container.h"
#include "runtime/security.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static void __attribute__ ((noreturn))
exec_process (const struct rt_plan *p, const struct rt_seccomp_prog *prog,
              const struct rt_stdio *io, int tty, int sync)
{
  struct err *e = NULL;
  rt_process_start (p, prog, io, tty, false, sync, &e);
  rt_child_fail (sync, e);
}

/* The namespaces of target that are not ours already. A rootless
 * container lives in its own user namespace, joined first (its owner,
 * this user, holds every capability there); it shares the caller's
 * cgroup namespace (and with --network host the host's), which belong
 * to the initial user namespace: setns on those would be refused. */
static int
ns_flags (pid_t target)
{
  static const struct
  {
    const char *name;
    int flag;
  } ns[] = { { "user", CLONE_NEWUSER },    { "mnt", CLONE_NEWNS },
             { "pid", CLONE_NEWPID },      { "uts", CLONE_NEWUTS },
             { "ipc", CLONE_NEWIPC },      { "net", CLONE_NEWNET },
             { "cgroup", CLONE_NEWCGROUP } };
  int flags = 0;
  for (size_t i = 0; i < ARRAY_SIZE (ns); i++)
    {
      struct stat a, b;
      char path[64], self[64];
      snprintf (path, sizeof path, "/proc/%d/ns/%s", (int)target, ns[i].name);
      snprintf (self, sizeof self, "/proc/self/ns/%s", ns[i].name);
      if (stat (path, &a) < 0 || stat (self, &b) < 0 || a.st_ino != b.st_ino
          || a.st_dev != b.st_dev)
        flags |= ns[i].flag;
    }
  return flags;
}

static void __attribute__ ((noreturn))
helper (pid_t target, int tpidfd, const struct rt_plan *p,
        const struct rt_seccomp_prog *prog, const struct rt_stdio *io, int sync)
{
  struct err *e = NULL;
  struct clone_args args;
  struct rt_pty pty = { -1, -1 };
  char msg[32];
  pid_t pid;
  /* why: CVE-2019-5736, processes already in the container must not open
   * /proc/<pid>/exe of an imgtool process that joined it */
  prctl (PR_SET_DUMPABLE, 0, 0, 0, 0);
  prctl (PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  if (rt_cgroup_join_pid (RT_CGROUP_ROOT, target, &e) < 0)
    rt_child_fail (sync, e);
  if (setns (tpidfd, ns_flags (target)) < 0)
    {
      err_set (&e, errno, "join the namespaces of pid %d", (int)target);
      rt_child_fail (sync, e);
    }
  if (p->tty)
    {
      /* setns put our root at the container's */
      _cleanup_close_ int root = open ("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
      if (root < 0)
        {
          err_set (&e, errno, "open the container's root");
          rt_child_fail (sync, e);
        }
      if (rt_pty_open_in (root, &pty, &e) < 0)
        rt_child_fail (sync, e);
      rt_pty_resize (pty.master, io->winsize_from);
    }
  memset (&args, 0, sizeof args);
  /* the caller, not this helper, is the process's parent and reaps it */
  args.flags = CLONE_PARENT;
  pid = (pid_t)syscall (SYS_clone3, &args, sizeof args);
  if (pid < 0)
    {
      err_set (&e, errno, "clone");
      rt_child_fail (sync, e);
    }
  if (pid == 0)
    exec_process (p, prog, io, pty.slave, sync);
  snprintf (msg, sizeof msg, "P%d", (int)pid);
  (void)!fs_send_fd (sync, msg, strlen (msg), pty.master);
  _exit (0);
}

int
rt_exec_start (pid_t target, const struct rt_plan *p, const struct rt_stdio *io,
               struct rt_container *out, struct err **err)
{
  struct rt_stdio def = RT_STDIO_INIT;
  struct rt_seccomp_prog prog = { 0 };
  int sv[2] = { -1, -1 }, tpidfd, pidfd = -1, console = -1, fd, r = -1;
  pid_t hpid, pid = -1;
  char msg[1024];
  ssize_t n;
  memset (out, 0, sizeof *out);
  out->pidfd = out->console = -1;
  if (!io)
    io = &def;
  if (!p->argv || !p->argv[0] || !*p->argv[0])
    return err_set (err, 0, "no command to run"), err_exit (err, 125);
  /* compiled (or read from the cache) here, once, not in the process */
  if (rt_seccomp_prepare (p, p->seccomp_cache_dir, &prog, err) < 0)
    return err_exit (err, 125);
  tpidfd = pidfd_open (target, 0);
  if (tpidfd < 0)
    return err_set (err, errno, "container process %d", (int)target),
           err_exit (err, 125);
  if (rt_sync_pair (sv, err) < 0)
    goto out;
  hpid = fork ();
  if (hpid < 0)
    {
      err_set (err, errno, "fork");
      goto out;
    }
  if (hpid == 0)
    {
      close (sv[0]);
      helper (target, tpidfd, p, &prog, io, sv[1]);
    }
  close (sv[1]);
  sv[1] = -1;
  while (waitpid (hpid, NULL, 0) < 0 && errno == EINTR)
    ;
  /* first message: "P<pid>" from the helper (with the pty master), or an
   * error; then the process's verdict: EOF once it exec'd */
  n = rt_sync_read (sv[0], msg, sizeof msg, &fd, err);
  if (n > 1 && msg[0] == 'P')
    {
      pid = atoi (msg + 1);
      pidfd = pidfd_open (pid, 0);
      console = fd;
      n = rt_sync_read (sv[0], msg, sizeof msg, &fd, err);
    }
  if (n != 0)
    {
      if (n > 0)
        {
          if (fd >= 0)
            close (fd);
          err_set (err, 0, "unexpected message from the exec helper");
        }
      if (!err || !*err || (*err)->exit <= 1)
        err_exit (err, 125);
      /* a process that failed at once may report before the helper said
       * who it is: the helper is gone, so its "P<pid>" waits behind the
       * report. Reap it, or it stays a zombie in the container's pid
       * namespace, whose end then waits for it forever. */
      while (pid <= 0 && (n = fs_recv_fd (sv[0], msg, sizeof msg - 1, &fd)) > 0)
        {
          msg[n] = '\0';
          if (fd >= 0)
            close (fd);
          if (msg[0] == 'P')
            pid = atoi (msg + 1);
        }
      if (pid > 0)
        while (waitpid (pid, NULL, 0) < 0 && errno == EINTR)
          ;
      goto out;
    }
  if (pid <= 0 || pidfd < 0 || (p->tty && console < 0))
    {
      err_set (err, pid > 0 && pidfd < 0 ? errno : 0,
               "exec into the container failed");
      err_exit (err, 125);
      goto out;
    }
  out->pid = pid;
  out->pidfd = steal_fd (&pidfd);
  out->console = steal_fd (&console);
  r = 0;
out:
  rt_seccomp_prog_release (&prog);
  if (pidfd >= 0)
    close (pidfd);
  if (console >= 0)
    close (console);
  if (sv[0] >= 0)
    close (sv[0]);
  if (sv[1] >= 0)
    close (sv[1]);
  close (tpidfd);
  return r;
}

int
rt_exec (pid_t target, const struct rt_plan *p, const struct rt_stdio *io,
         int *status, struct err **err)
{
  struct rt_container c;
  if (rt_exec_start (target, p, io, &c, err) < 0)
    return -1;
  return rt_wait (&c, status, err);
}
