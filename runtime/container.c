/* Container lifecycle: plan -> cgroup -> clone3 -> (child) setup -> exec
 * -> wait. See runtime/container.h.
 *
 * One fork per container: the parent clone3()s straight into new mount,
 * PID, UTS, IPC, network and (v2) cgroup namespaces, and on cgroup v2
 * straight into the container's cgroup (CLONE_INTO_CGROUP); on v1 the
 * child moves itself into it before anything else. The child is
 * the container's PID 1 and execs the image's process itself: no init
 * shim (the image's process reaps orphans as docker's does without
 * --init; the kernel kills the rest of the namespace when it exits).
 *
 * Parent and child talk over a SOCK_SEQPACKET pair. The child builds its
 * root while the parent runs the network hook;
 * the parent then sends one byte ("go"), which the child waits for before
 * it switches user and execs. With a terminal the child first sends "T"
 * with the master of the pty it opened in its own devpts (SCM_RIGHTS).
 * The child either execs (its end is O_CLOEXEC, so the parent reads EOF)
 * or sends "<exit status>\0<message>" and exits. */
#include "runtime/container.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/log.h"
#include "lib/userns.h"
#include "lib/xalloc.h"
#include "runtime/cgroup.h"
#include "runtime/cgroup_deleg.h"
#include "runtime/child.h"
#include "runtime/console.h"
#include "runtime/devices.h"
#include "runtime/join.h"
#include "runtime/rootless.h"
#include "runtime/security.h"
#include "runtime/sysctl.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif

static enum rt_cgroup_mode
cgroup_mode (void)
{
  static int mode = -1;
  if (mode < 0)
    {
      enum rt_cgroup_mode m;
      struct err *e = NULL;
      if (rt_cgroup_detect (RT_CGROUP_ROOT, &m, &e) < 0)
        {
          log_warn ("%s", e->msg);
          err_free (e);
          m = RT_CGROUP_NONE;
        }
      mode = (int)m;
    }
  return (enum rt_cgroup_mode)mode;
}

/* ---- child ---------------------------------------------------------- */

void __attribute__ ((noreturn)) rt_child_fail (int sync, struct err *e)
{
  char msg[1024];
  int status = e && e->exit > 1 ? e->exit : 125;
  int n = snprintf (msg, sizeof msg, "%d", status);
  n += 1
       + snprintf (msg + n + 1, sizeof msg - (size_t)n - 1, "%s",
                   e && e->msg ? e->msg : "container setup failed");
  if ((size_t)n > sizeof msg)
    n = sizeof msg;
  (void)!write (sync, msg, (size_t)n);
  _exit (status);
}

/* Everything in the container's process between clone and exec. */
static void __attribute__ ((noreturn))
child_main (const struct rt_plan *p, const struct rt_seccomp_prog *prog,
            const struct rt_stdio *io, struct rt_cgroup *cg, int sync,
            enum rt_cgroup_mode mode)
{
  struct err *e = NULL;
  _cleanup_free_ char *target = NULL;
  _cleanup_close_ int rootfd = -1;
  struct rt_pty pty = { -1, -1 };
  _cleanup_strv_ char **v1_own = NULL;
  char go;
  const char *host;
  char shortid[13];

  /* why: the container dies with its monitor (the process that started
   * it and records its exit; service/service.h), so a record never says
   * running for a container nobody watches. A parent that died before
   * this line is seen below: its end of the sync socket is closed, and
   * the read of "go" fails. */
  prctl (PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  /* why: CVE-2019-5736, no process in the container may open our
   * /proc/<pid>/exe (the host binary) while we still run imgtool code.
   * Rootless, from "go" on: before it, the parent's network hook must
   * reach our netns, and this memory belongs to the initial user
   * namespace, where the parent has no CAP_SYS_PTRACE; no other process
   * is in the container yet. */
  if (!userns_active ())
    prctl (PR_SET_DUMPABLE, 0, 0, 0, 0);
  /* v1: into the cgroup before anything else, so that what the setup
   * below allocates is charged to the container (see cgroup.h) */
  if (rt_cgroup_join_self (cg, &e) < 0)
    rt_child_fail (sync, e);
  rt_cgroup_join_close (cg);
  umask (0);
  if (rt_join_in_child (p, &e) < 0)
    rt_child_fail (sync, e);
  if (p->network != RT_NET_HOST && p->network != RT_NET_CONTAINER
      && rt_net_lo_up (&e) < 0)
    rt_child_fail (sync, e);
  /* through the host's /proc, which shows this process's namespaces */
  if (rt_sysctls_apply (p, &e) < 0)
    rt_child_fail (sync, e);
  /* why: nothing mounted here may propagate back to the host */
  if (mount (NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
    {
      err_set (&e, errno, "make mounts private");
      rt_child_fail (sync, e);
    }
  target = xasprintf ("%s/rootfs", p->state_dir);
  if (mkdir (target, 0755) < 0 && errno != EEXIST)
    {
      err_set (&e, errno, "create '%s'", target);
      rt_child_fail (sync, e);
    }
  if (rt_rootfs_mount (p, target, &e) < 0)
    rt_child_fail (sync, e);
  rootfd = open (target, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0)
    {
      err_set (&e, errno, "open '%s'", target);
      rt_child_fail (sync, e);
    }
  if (rt_dev_setup (rootfd, p, p->tty ? &pty : NULL, &e) < 0)
    rt_child_fail (sync, e);
  if (p->tty)
    {
      rt_pty_resize (pty.master, io->winsize_from);
      if (fs_send_fd (sync, "T", 1, pty.master) < 0)
        _exit (125); /* the parent gave up */
      close (pty.master);
      pty.master = -1;
    }
  if (rt_mounts_setup (rootfd, p, &e) < 0
      || rt_rootfs_pivot (rootfd, p->readonly_rootfs, &e) < 0)
    rt_child_fail (sync, e);
  host = p->hostname;
  if (!host)
    {
      snprintf (shortid, sizeof shortid, "%s", p->id ? p->id : "imgtool");
      host = shortid;
    }
  if (sethostname (host, strlen (host)) < 0)
    {
      err_set (&e, errno, "set hostname '%s'", host);
      rt_child_fail (sync, e);
    }
  /* Setup above overlapped with the parent's network hook; wait for it
   * before anything the network must see. */
  if (read (sync, &go, 1) != 1)
    _exit (125); /* the parent gave up */
  prctl (PR_SET_DUMPABLE, 0, 0, 0, 0);
  if (mode == RT_CGROUP_V1)
    {
      v1_own = rt_cgroup_v1_own (p->id);
      if (unshare (CLONE_NEWCGROUP) < 0)
        {
          err_set (&e, errno, "cgroup namespace");
          rt_child_fail (sync, e);
        }
    }
  if (rt_mount_cgroups ((int)mode, v1_own, p->privileged, &e) < 0)
    rt_child_fail (sync, e);
  /* the container dies with the thread that started it (the build, the
     monitor): none is left running with nobody to wait for it */
  rt_process_start (p, prog, io, pty.slave, true, sync, &e);
  rt_child_fail (sync, e);
}

/* ---- parent --------------------------------------------------------- */

static pid_t
clone_child (uint64_t flags, int cgroup_fd, int *pidfd)
{
  struct clone_args args;
  memset (&args, 0, sizeof args);
  args.flags = flags | CLONE_PIDFD;
  args.pidfd = (uint64_t)(uintptr_t)pidfd;
  args.exit_signal = SIGCHLD;
  if (cgroup_fd >= 0)
    {
      args.flags |= CLONE_INTO_CGROUP;
      args.cgroup = (uint64_t)cgroup_fd;
    }
  return (pid_t)syscall (SYS_clone3, &args, sizeof args);
}

static int
docker_status (const siginfo_t *si)
{
  if (si->si_code == CLD_EXITED)
    return si->si_status;
  return 128 + si->si_status;
}

static void
reap (pid_t pid, int pidfd)
{
  siginfo_t si;
  if (pidfd >= 0)
    pidfd_send_signal (pidfd, SIGKILL, NULL, 0);
  while (waitid (pidfd >= 0 ? P_PIDFD : P_PID, (id_t)(pidfd >= 0 ? pidfd : pid),
                 &si, WEXITED)
             < 0
         && errno == EINTR)
    ;
}

int
rt_sync_pair (int sv[2], struct err **err)
{
  if (socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
    return err_set (err, errno, "socketpair");
  /* keep the sync fds out of 0-2, which the child overwrites */
  for (int i = 0; i < 2; i++)
    if (sv[i] < 3)
      {
        int fd = fcntl (sv[i], F_DUPFD_CLOEXEC, 3);
        close (sv[i]);
        sv[i] = fd;
        if (fd < 0)
          {
            close (sv[!i]);
            sv[0] = sv[1] = -1;
            return err_set (err, errno, "dup the sync socket");
          }
      }
  return 0;
}

ssize_t
rt_sync_read (int sync, char *buf, size_t len, int *fd, struct err **err)
{
  ssize_t n = fs_recv_fd (sync, buf, len - 1, fd);
  int status;
  if (n < 0)
    return err_set (err, errno, "read from the container's init");
  buf[n] = '\0';
  if (n == 0 || !(buf[0] >= '0' && buf[0] <= '9'))
    return n;
  /* a failure report: "<status>\0<message>" */
  if (*fd >= 0)
    close (*fd);
  *fd = -1;
  status = atoi (buf);
  err_set (err, 0, "%s",
           (size_t)n > strlen (buf) + 1 ? buf + strlen (buf) + 1 : "failed");
  return err_exit (err, status > 0 ? status : 125);
}

/* Read what the child sends after "go": the pty master with a terminal,
 * then its verdict (EOF once it exec'd). */
static int
read_child (int sync, bool tty, int *console, struct err **err)
{
  char msg[1024];
  int fd;
  ssize_t n;
  while ((n = rt_sync_read (sync, msg, sizeof msg, &fd, err)) > 0)
    {
      if (tty && msg[0] == 'T' && fd >= 0 && *console < 0)
        *console = fd;
      else
        {
          if (fd >= 0)
            close (fd);
          return err_set (err, 0,
                          "unexpected message from the container's "
                          "init");
        }
    }
  if (n < 0)
    return -1;
  if (tty && *console < 0)
    return err_set (err, 0, "the container's init sent no terminal");
  return 0;
}

static int
check_plan (const struct rt_plan *p, struct err **err)
{
  if (!p->argv || !p->argv[0] || !*p->argv[0])
    return err_set (err, 0, "no command to run");
  if (!p->state_dir)
    return err_set (err, 0, "the plan has no state directory");
  if (!p->id || !*p->id || strchr (p->id, '/') || p->id[0] == '.')
    return err_set (err, 0, "invalid container id '%s'", p->id ? p->id : "");
  return 0;
}

int
rt_start (const struct rt_plan *p, const struct rt_stdio *io,
          struct rt_container *out, struct err **err)
{
  struct rt_stdio def = RT_STDIO_INIT;
  struct rt_cgroup *cg = NULL;
  /* the child's copy of the parent's memory carries it: no global */
  struct rt_seccomp_prog prog = { 0 };
  enum rt_cgroup_mode mode = cgroup_mode ();
  int sv[2] = { -1, -1 }, pidfd = -1, own_pidns = -1;
  uint64_t flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC;
  pid_t pid;
  char go = 'g';

  memset (out, 0, sizeof *out);
  out->pidfd = -1;
  out->console = -1;
  if (!io)
    io = &def;
  if (check_plan (p, err) < 0)
    return err_exit (err, 125);
  if (userns_rootless () && rt_cgroup_rootless_check (&p->limits, err) < 0)
    return err_exit (err, 125);
  if (mode != RT_CGROUP_NONE)
    {
      _cleanup_free_ struct rt_device_rule *rules = NULL;
      size_t n_rules
          = rt_device_rules (p->privileged, p->devices, p->n_devices, &rules);
      cg = rt_cgroup_new (RT_CGROUP_ROOT, mode, p->cgroup_parent, p->id);
      if (rt_cgroup_create (cg, &p->limits, rules, n_rules, err) < 0)
        {
          rt_cgroup_free (cg);
          return err_exit (err, 125);
        }
      if (rt_cgroup_join_open (cg, err) < 0)
        {
          err_exit (err, 125);
          goto fail;
        }
      log_debug ("start: cgroup made");
    }
  if (rt_write_etc_files (p, err) < 0)
    {
      err_exit (err, 125);
      goto fail;
    }
  /* parse and compile the profile while its path is reachable; a bad
   * profile fails here, before the container exists */
  if (rt_seccomp_prepare (p, p->seccomp_cache_dir, &prog, err) < 0)
    {
      err_exit (err, 125);
      goto fail;
    }
  if (p->network != RT_NET_HOST && p->network != RT_NET_CONTAINER)
    flags |= CLONE_NEWNET;
  if (p->pid_mode)
    flags &= ~(uint64_t)CLONE_NEWPID;
  if ((p->ipc_mode && !strcmp (p->ipc_mode, "host"))
      || rt_plan_joins (p->ipc_mode))
    flags &= ~(uint64_t)CLONE_NEWIPC;
  if (mode == RT_CGROUP_V2)
    /* entered at clone time, so the namespace's root is the container's */
    flags |= CLONE_NEWCGROUP;
  if (rt_sync_pair (sv, err) < 0)
    goto fail;
  /* --pid container:ID: the child is born in that pid namespace */
  if (rt_join_pid_before (p, &own_pidns, err) < 0)
    goto fail;
  pid = clone_child (flags, cg && cg->fd >= 0 ? cg->fd : -1, &pidfd);
  rt_join_pid_after (&own_pidns);
  if (pid < 0)
    {
      err_set (err, errno, "clone");
      goto fail;
    }
  if (pid == 0)
    {
      close (sv[0]);
      child_main (p, &prog, io, cg, sv[1], mode);
    }
  close (sv[1]);
  sv[1] = -1;
  log_debug ("start: cloned");
  rt_cgroup_join_close (cg);
  /* the hook's error names the network itself ("network 'bridge': port
   * 8080/tcp is already allocated") */
  if (p->net && p->net->ops->attach (p->net, p, pid, err) < 0)
    goto fail_child;
  if (send (sv[0], &go, 1, MSG_NOSIGNAL) != 1 && errno != EPIPE)
    {
      err_set (err, errno, "start the container");
      goto fail_child;
    }
  if (read_child (sv[0], p->tty, &out->console, err) < 0)
    goto fail_child;
  log_debug ("start: the child is ready");
  rt_seccomp_prog_release (&prog);
  close (sv[0]);
  out->pid = pid;
  out->pidfd = pidfd;
  out->id = xstrdup (p->id);
  out->cgroup = cg;
  return 0;

fail_child:
  reap (pid, pidfd);
  close (pidfd);
  if (out->console >= 0)
    close (out->console);
  out->console = -1;
fail:
  rt_seccomp_prog_release (&prog);
  if (sv[0] >= 0)
    close (sv[0]);
  if (sv[1] >= 0)
    close (sv[1]);
  if (cg)
    {
      struct err *e = NULL;
      if (rt_cgroup_destroy (cg, &e) < 0)
        log_warn ("%s", e->msg);
      err_free (e);
      rt_cgroup_free (cg);
    }
  if (*err && (*err)->exit == 1)
    err_exit (err, 125);
  return -1;
}

void
rt_container_release (struct rt_container *c)
{
  if (c->pidfd >= 0)
    close (c->pidfd);
  c->pidfd = -1;
  if (c->console >= 0)
    close (c->console);
  c->console = -1;
  free (c->id);
  c->id = NULL;
  rt_cgroup_free (c->cgroup);
  c->cgroup = NULL;
}

int
rt_wait (struct rt_container *c, int *status, struct err **err)
{
  int r = 0;
  if (!c->reaped)
    {
      struct rt_signals sg;
      struct rt_pump pump = rt_pump_for (c->pidfd, -1);
      struct pollfd gone = { .fd = c->pidfd, .events = POLLIN };
      siginfo_t si;
      /* forward the caller's signals until PID 1 exits; once it has,
       * a pending signal is the caller's own (a build's interrupt) */
      if (poll (&gone, 1, 0) != 1)
        {
          if (rt_signals_block (&sg, err) < 0)
            err_clear (err); /* wait all the same, without forwarding */
          pump.sigfd = sg.fd;
          r = rt_pump_run (&pump, err);
          rt_signals_restore (&sg);
          if (r < 0)
            goto fail;
        }
      memset (&si, 0, sizeof si);
      while (waitid (P_PIDFD, (id_t)c->pidfd, &si, WEXITED) < 0)
        if (errno != EINTR)
          {
            err_set (err, errno, "wait for pid %d", (int)c->pid);
            goto fail;
          }
      *status = docker_status (&si);
      c->reaped = true;
    }
  /* PID 1 is gone, so the kernel has killed the rest of its namespace;
   * the mount namespace (overlay, /proc, binds) died with it */
  if (c->cgroup && rt_cgroup_destroy (c->cgroup, err) < 0)
    r = -1;
  rt_container_release (c);
  return r;
fail:
  rt_container_release (c);
  return -1;
}

int
rt_run (const struct rt_plan *p, const struct rt_stdio *io, int *status,
        struct err **err)
{
  struct rt_container c;
  if (rt_start (p, io, &c, err) < 0)
    {
      if (*err)
        *status = (*err)->exit;
      return -1;
    }
  return rt_wait (&c, status, err);
}

int
rt_kill (struct rt_container *c, int sig, struct err **err)
{
  if (pidfd_send_signal (c->pidfd, sig, NULL, 0) < 0 && errno != ESRCH)
    return err_set (err, errno, "signal the container");
  return 0;
}

int
rt_cleanup (const char *id, const char *cgroup_parent, struct err **err)
{
  enum rt_cgroup_mode mode = cgroup_mode ();
  struct rt_cgroup *cg;
  int r;
  if (mode == RT_CGROUP_NONE || !id || !*id || strchr (id, '/'))
    return 0;
  cg = rt_cgroup_new (RT_CGROUP_ROOT, mode, cgroup_parent, id);
  r = rt_cgroup_destroy (cg, err);
  rt_cgroup_free (cg);
  return r;
}
