/* The monitor of a container: the process that starts it, holds its
 * monitor.lock, waits for it and records its exit (service.h). In the
 * foreground that is the `run` command itself; with -d it is a process of
 * its own session (double fork). Both log the container's output
 * (runtime/logfile.h: the foreground's passes through pipes on its way to
 * the user, or is copied from the pty) and run its health checks
 * (health.c); the -d one is where restart policies and rootless
 * networking will live. Both call rt_start on their main thread: the
 * container's parent-death signal fires when the thread that cloned it ends, so
 * a short-lived thread must never start one. */
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "runtime/console.h"
#include "runtime/container.h"
#include "runtime/lifecycle.h"
#include "runtime/logfile.h"
#include "service/health.h"
#include "service/lazy.h"
#include "service/service.h"
#include "service/service_int.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void
close_pair (int p[2])
{
  for (int i = 0; i < 2; i++)
    if (p[i] >= 0)
      close (steal_fd (&p[i]));
}

/* The exit status of a failed start: the error's own (126, 127, ...) or
 * 125 (imgtool failed). */
static int
failed_status (const struct err *e)
{
  return e && e->exit != 1 ? e->exit : 125;
}

/* Another monitor holds the lock: the container runs (or is being
 * started); its record is that monitor's, left as it is. */
static int
busy (const struct rt_record *rec, struct err **err)
{
  err_clear (err);
  err_set (err, 0, "container '%s' is already running", rec->name);
  return err_exit (err, 125);
}

static void spawn_monitor (struct svc *s, struct svc_container *c, int report,
                           int lock, int64_t delay, int64_t backoff);

struct log_sink
{
  struct rt_log *log;
  struct svc_attach_server *att; /* attached clients get it too, or NULL */
};

static void
log_chunk (void *data, int stream, const char *buf, size_t len)
{
  struct log_sink *sink = data;
  rt_log_write (sink->log, stream, buf, len);
  if (sink->att)
    svc_attach_output (sink->att, stream, buf, len);
}

/* The container's log (none with --log-driver none). */
static struct rt_log *
open_log (struct svc *s, const struct rt_record *rec, struct err **err)
{
  _cleanup_free_ char *path = NULL, *attrs = NULL;
  struct rt_log *l;
  if (!rt_log_config_readable (&rec->log))
    return NULL;
  path = rt_record_path (&s->cs, rec->id, "container.log");
  l = rt_log_open (path, &rec->log, err);
  if (l && (attrs = rt_log_attrs (rec)))
    rt_log_set_attrs (l, attrs); /* --log-opt labels, env, tag... */
  return l;
}

int
svc_run_foreground (struct svc *s, struct svc_container *c, bool interactive,
                    struct err **err)
{
  _cleanup_close_ int lock = -1, oomfd = -1;
  struct rt_record *rec = &c->rec;
  struct rt_signals sg = { .fd = -1 };
  struct rt_stdio io = RT_STDIO_INIT;
  struct rt_container ct = { 0 };
  struct log_sink sink = { 0 };
  struct svc_health *health = NULL;
  int out[2] = { -1, -1 }, errp[2] = { -1, -1 };
  int status = 0, ret;
  int64_t began, delay, backoff = 0;
  long oom;

  if (rec->plan.tty && interactive && !isatty (0))
    {
      err_set (err, 0, "the input device is not a TTY");
      goto failed;
    }
  lock = rt_record_monitor_lock (&s->cs, rec->id, err);
  if (lock < 0)
    return busy (rec, err);
  if (!interactive)
    io.in = -1; /* docker: without -i the container reads EOF */
  io.winsize_from = rt_user_terminal ();
  if (!(sink.log = open_log (s, rec, err)) && *err)
    goto failed;
  if (sink.log && !rec->plan.tty)
    {
      /* its output passes through here on the way to ours, to be logged */
      if (pipe2 (out, O_CLOEXEC) < 0 || pipe2 (errp, O_CLOEXEC) < 0)
        {
          err_set (err, errno, "pipe");
          goto failed;
        }
      io.out = out[1];
      io.err = errp[1];
      /* a reader of ours that leaves is the container's EPIPE, not our
       * death (the container's signals are reset to default) */
      signal (SIGPIPE, SIG_IGN);
    }
  fflush (stdout);
  /* blocked before the start: a Ctrl-C from now on goes to the container,
   * never kills imgtool while it runs unwatched (the core unblocks them
   * in the container) */
  if (rt_signals_block (&sg, err) < 0 || svc_join_open (s, &rec->plan, err) < 0
      || svc_lazy_rt_start (s, &rec->plan, &io, &ct, err) < 0)
    {
      svc_join_close (&rec->plan);
      goto failed;
    }
  svc_join_close (&rec->plan);
  log_debug ("run: container started");
  svc_started (s, c, &ct);
  began = svc_clock_ms ();
  if (out[1] >= 0)
    {
      close (steal_fd (&out[1]));
      close (steal_fd (&errp[1]));
    }
  if (rec->plan.limits.memory)
    oomfd = rt_oom_open (ct.cgroup);
  health = svc_health_start (s, rec, ct.pid);
  rt_console_attach_logged (&ct, &sg, interactive, out[0], errp[0],
                            sink.log ? log_chunk : NULL, &sink, err);
  svc_health_stop (health);
  rt_log_close (steal_pointer (&sink.log));
  close_pair (out);
  close_pair (errp);
  oom = rt_oom_count (oomfd);
  ret = rt_wait (&ct, &status, err);
  log_debug ("run: container ended");
  rt_signals_restore (&sg);
  /* a restart policy: the exit status is the caller's, as with docker's
   * client, and a monitor of its own goes on restarting it */
  if (ret == 0 && !*err
      && (delay
          = svc_restart_next (s, c, status, svc_clock_ms () - began, &backoff))
             >= 0)
    {
      svc_restarting (s, c, status, oom > 0);
      spawn_monitor (s, c, -1, steal_fd (&lock), delay, backoff);
      return status;
    }
  svc_finished (s, c, true, ret < 0 ? 125 : status, oom > 0,
                *err ? (*err)->msg : NULL);
  close (steal_fd (&lock));
  if (ret < 0 || *err)
    return err_exit (err, 125);
  return status;

failed:
  rt_log_close (sink.log);
  close_pair (out);
  close_pair (errp);
  rt_signals_restore (&sg);
  svc_finished (s, c, true, failed_status (*err), false,
                *err ? (*err)->msg : NULL);
  return *err && (*err)->exit != 1 ? -1 : err_exit (err, 125);
}

/* The detached monitor (a grandchild, setsid). Reports "ok" or
 * "<exit> <message>" on report (-1: none), then waits for the container,
 * and starts it again as long as its restart policy says so. lock: the
 * monitor.lock it inherits, or -1 to take it. delay >= 0: the container
 * waits to be restarted (a foreground run's exit handed over), after
 * backoff ms of backoff. */
static int
monitor (struct svc *s, struct svc_container *c, int report, int lock,
         int64_t delay, int64_t backoff)
{
  _cleanup_close_ int oomfd = -1;
  struct rt_record *rec = &c->rec;
  struct rt_signals sg = { .fd = -1 };
  struct rt_stdio io = { .in = -1, .out = -1, .err = -1, .winsize_from = -1 };
  int out[2] = { -1, -1 }, errp[2] = { -1, -1 }, inp[2] = { -1, -1 };
  struct rt_container ct = { 0 };
  struct svc_attach_server att = {
    .listen = -1, .epoll = -1, .in_to = -1, .winch_to = -1, .status = -1
  };
  struct log_sink sink = { .att = &att };
  struct svc_health *health = NULL;
  struct rt_pump pump;
  struct err *err = NULL;
  int status = 0, ret;
  int64_t began;
  bool again = delay >= 0;
  long oom;

  if (lock < 0 && (lock = rt_record_monitor_lock (&s->cs, rec->id, &err)) < 0)
    {
      busy (rec, &err);
      if (report >= 0)
        fs_write_all (report, "125 ", 4);
      if (report >= 0)
        fs_write_all (report, err->msg, strlen (err->msg));
      err_free (err);
      return 1;
    }
  if (!(sink.log = open_log (s, rec, &err)) && err)
    goto failed;
  /* attach is a convenience: the container runs without it */
  if (svc_attach_listen (s, rec->id, &att, &err) < 0)
    err_clear (&err);
restart:
  if (again && !svc_restart_wait (s, rec->id, delay))
    {
      /* stopped while it waited: its last exit stands */
      rt_log_close (sink.log);
      svc_finished (s, c, false, rec->state.exit_code, rec->state.oom_killed,
                    NULL);
      att.status = rec->state.exit_code;
      svc_attach_close (&att);
      close (lock);
      return 0;
    }
  if (!rec->plan.tty)
    {
      if (pipe2 (out, O_CLOEXEC) < 0 || pipe2 (errp, O_CLOEXEC) < 0)
        {
          err_set (&err, errno, "pipe");
          goto failed;
        }
      io.out = out[1];
      io.err = errp[1];
    }
  /* -i without a pty: a stdin pipe held open for attach (docker keeps
   * the stdin of a detached -i container open) */
  if (rec->plan.stdin_open && !rec->plan.tty)
    {
      if (pipe2 (inp, O_CLOEXEC) < 0)
        {
          err_set (&err, errno, "pipe");
          goto failed;
        }
      io.in = inp[0];
    }
  if (rt_signals_block (&sg, &err) < 0
      || svc_join_open (s, &rec->plan, &err) < 0
      || svc_lazy_rt_start (s, &rec->plan, &io, &ct, &err) < 0)
    {
      svc_join_close (&rec->plan);
      goto failed;
    }
  svc_join_close (&rec->plan);
  if (out[1] >= 0)
    close (steal_fd (&out[1]));
  if (errp[1] >= 0)
    close (steal_fd (&errp[1]));
  if (inp[0] >= 0)
    close (steal_fd (&inp[0]));
  att.in_to = rec->plan.tty ? ct.console : inp[1];
  att.winch_to = rec->plan.tty ? ct.console : -1;
  log_debug ("run: container started");
  svc_started (s, c, &ct);
  began = svc_clock_ms ();
  if (rec->plan.limits.memory)
    oomfd = rt_oom_open (ct.cgroup);
  if (report >= 0)
    {
      fs_write_all (report, "ok", 2);
      close (report);
      report = -1;
    }
  /* a stop that came while it was started again (svc_stop reads the
   * record after its request: one of the two sees the other) */
  if (again && svc_stop_request_get (s, rec->id) >= SVC_STOP_CANCEL)
    rt_kill (&ct, SIGKILL, NULL);

  health = svc_health_start (s, rec, ct.pid);
  pump = rt_pump_for (ct.pidfd, sg.fd);
  pump.sink = sink.log ? log_chunk : NULL;
  pump.sink_data = &sink;
  pump.out_from = rec->plan.tty ? ct.console : out[0];
  pump.err_from = rec->plan.tty ? -1 : errp[0];
  pump.extra = att.epoll;
  pump.on_extra = svc_attach_ready;
  pump.extra_data = &att;
  rt_pump_run (&pump, &err);
  /* the log goes on across restarts; the health checks are this run's */
  svc_health_stop (health);
  health = NULL;
  oom = rt_oom_count (oomfd);
  ret = rt_wait (&ct, &status, &err);
  rt_signals_restore (&sg);
  if (oomfd >= 0)
    close (steal_fd (&oomfd));
  for (int *fd = &out[0]; fd <= &out[1]; fd++)
    if (*fd >= 0)
      close (steal_fd (fd));
  for (int *fd = &errp[0]; fd <= &errp[1]; fd++)
    if (*fd >= 0)
      close (steal_fd (fd));
  if (inp[1] >= 0)
    close (steal_fd (&inp[1]));
  att.in_to = att.winch_to = -1;
  /* docker attach ends with the run (restarts or not), once the record
   * says how it ended */
  att.status = ret < 0 ? 125 : status;
  if (ret == 0 && !err
      && (delay
          = svc_restart_next (s, c, status, svc_clock_ms () - began, &backoff))
             >= 0)
    {
      svc_restarting (s, c, status, oom > 0);
      svc_attach_exit (&att, status);
      again = true;
      goto restart;
    }
  rt_log_close (sink.log);
  svc_finished (s, c, false, ret < 0 ? 125 : status, oom > 0,
                err ? err->msg : NULL);
  svc_attach_close (&att);
  err_free (err);
  close (lock);
  return 0;

failed:
  {
    int code = failed_status (err);
    _cleanup_free_ char *msg
        = xasprintf ("%d %s", code, err ? err->msg : "unknown error");
    rt_log_close (sink.log);
    svc_attach_close (&att);
    rt_signals_restore (&sg);
    svc_finished (s, c, false, code, false, err ? err->msg : NULL);
    if (report >= 0)
      fs_write_all (report, msg, strlen (msg));
    err_free (err);
    close (lock);
    return 1;
  }
}

/* Start the detached monitor (monitor's arguments) and wait only for
 * the intermediate child; returns its pid, or -1. */
static pid_t
spawn (struct svc *s, struct svc_container *c, int report, int lock,
       int64_t delay, int64_t backoff)
{
  pid_t pid;
  fflush (stdout);
  fflush (stderr);
  pid = fork ();
  if (pid == 0)
    {
      int null;
      /* why: the monitor must outlive this command and its terminal: its
       * own session, and reparented away from the caller */
      setsid ();
      if (fork () != 0)
        _exit (0);
      null = open ("/dev/null", O_RDWR | O_CLOEXEC);
      if (null >= 0)
        {
          dup2 (null, 0);
          dup2 (null, 1);
          dup2 (null, 2);
          close (null);
        }
      _exit (monitor (s, c, report, lock, delay, backoff));
    }
  if (pid > 0)
    while (waitpid (pid, NULL, 0) < 0 && errno == EINTR)
      ;
  return pid;
}

/* The foreground's exit handed to a detached monitor that restarts the
 * container: the lock goes with it (an flock belongs to the open file,
 * which the child shares), so the container is never unwatched. */
static void
spawn_monitor (struct svc *s, struct svc_container *c, int report, int lock,
               int64_t delay, int64_t backoff)
{
  if (spawn (s, c, report, lock, delay, backoff) < 0)
    svc_finished (s, c, true, c->rec.state.exit_code, c->rec.state.oom_killed,
                  NULL);
  close (lock);
}

int
svc_run_detached (struct svc *s, struct svc_container *c, struct err **err)
{
  int sp[2];
  pid_t pid;
  _cleanup_free_ char *reply = NULL;
  size_t len = 0;

  if (pipe2 (sp, O_CLOEXEC) < 0)
    return err_set (err, errno, "pipe");
  pid = spawn (s, c, sp[1], -1, -1, 0);
  if (pid < 0)
    {
      close (sp[0]);
      close (sp[1]);
      return err_set (err, errno, "fork");
    }
  close (sp[1]);
  {
    struct err *e = NULL;
    fs_read_fd (sp[0], 1 << 20, &reply, &len, &e);
    err_free (e);
    close (sp[0]);
  }
  if (reply && !strcmp (reply, "ok"))
    return 0;
  if (reply && len > 2)
    {
      char *sp1 = strchr (reply, ' ');
      err_set (err, 0, "%s", sp1 ? sp1 + 1 : reply);
      return err_exit (err, atoi (reply));
    }
  err_set (err, 0, "the monitor of container %.12s died before starting it",
           c->rec.id);
  return err_exit (err, 125);
}
