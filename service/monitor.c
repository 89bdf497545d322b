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

struct log_sink
{
  struct rt_log *log;
};

static void
log_chunk (void *data, int stream, const char *buf, size_t len)
{
  rt_log_write (((struct log_sink *)data)->log, stream, buf, len);
}

/* The container's log (none with --log-driver none). */
static struct rt_log *
open_log (struct svc *s, const struct rt_record *rec, struct err **err)
{
  _cleanup_free_ char *path = NULL;
  if (!rt_log_config_readable (&rec->log))
    return NULL;
  path = rt_record_path (&s->cs, rec->id, "container.log");
  return rt_log_open (path, &rec->log, err);
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
  long oom;

  if (rec->plan.tty && interactive && !isatty (0))
    {
      err_set (err, 0, "the input device is not a TTY");
      goto failed;
    }
  lock = rt_record_monitor_lock (&s->cs, rec->id, err);
  if (lock < 0)
    goto failed;
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
  if (rt_signals_block (&sg, err) < 0
      || rt_start (&rec->plan, &io, &ct, err) < 0)
    goto failed;
  log_debug ("run: container started");
  svc_started (s, c, &ct);
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
 * "<exit> <message>" on report, then waits for the container. */
static int
monitor (struct svc *s, struct svc_container *c, int report)
{
  _cleanup_close_ int lock = -1, oomfd = -1;
  struct rt_record *rec = &c->rec;
  struct rt_signals sg = { .fd = -1 };
  struct rt_stdio io = { .in = -1, .out = -1, .err = -1, .winsize_from = -1 };
  int out[2] = { -1, -1 }, errp[2] = { -1, -1 };
  struct rt_container ct = { 0 };
  struct log_sink sink = { 0 };
  struct svc_health *health = NULL;
  struct rt_pump pump;
  struct err *err = NULL;
  int status = 0, ret;
  long oom;

  lock = rt_record_monitor_lock (&s->cs, rec->id, &err);
  if (lock < 0)
    goto failed;
  if (!(sink.log = open_log (s, rec, &err)) && err)
    goto failed;
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
  if (rt_signals_block (&sg, &err) < 0
      || rt_start (&rec->plan, &io, &ct, &err) < 0)
    goto failed;
  if (out[1] >= 0)
    close (steal_fd (&out[1]));
  if (errp[1] >= 0)
    close (steal_fd (&errp[1]));
  log_debug ("run: container started");
  svc_started (s, c, &ct);
  if (rec->plan.limits.memory)
    oomfd = rt_oom_open (ct.cgroup);
  fs_write_all (report, "ok", 2);
  close (report);
  report = -1;

  health = svc_health_start (s, rec, ct.pid);
  pump = rt_pump_for (ct.pidfd, sg.fd);
  pump.sink = sink.log ? log_chunk : NULL;
  pump.sink_data = &sink;
  pump.out_from = rec->plan.tty ? ct.console : out[0];
  pump.err_from = rec->plan.tty ? -1 : errp[0];
  rt_pump_run (&pump, &err);
  svc_health_stop (health);
  rt_log_close (sink.log);
  oom = rt_oom_count (oomfd);
  ret = rt_wait (&ct, &status, &err);
  rt_signals_restore (&sg);
  svc_finished (s, c, false, ret < 0 ? 125 : status, oom > 0,
                err ? err->msg : NULL);
  err_free (err);
  return 0;

failed:
  {
    int code = failed_status (err);
    _cleanup_free_ char *msg
        = xasprintf ("%d %s", code, err ? err->msg : "unknown error");
    rt_log_close (sink.log);
    rt_signals_restore (&sg);
    svc_finished (s, c, false, code, false, err ? err->msg : NULL);
    if (report >= 0)
      fs_write_all (report, msg, strlen (msg));
    err_free (err);
    return 1;
  }
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
  fflush (stdout);
  fflush (stderr);
  pid = fork ();
  if (pid < 0)
    {
      close (sp[0]);
      close (sp[1]);
      return err_set (err, errno, "fork");
    }
  if (pid == 0)
    {
      int null;
      close (sp[0]);
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
      _exit (monitor (s, c, sp[1]));
    }
  close (sp[1]);
  while (waitpid (pid, NULL, 0) < 0 && errno == EINTR)
    ;
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
