/* HEALTHCHECK run by the container's monitor (health.h). */
#include "service/health.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/json.h"
#include "lib/log.h"
#include "lib/strbuf.h"
#include "lib/xalloc.h"
#include "runtime/container.h"
#include "runtime/logfile.h"
#include "runtime/state.h"
#include "service/service.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define HEALTH_FILE "health.json"

static const char *const status_names[] = {
  [SVC_HEALTH_STARTING] = "starting",
  [SVC_HEALTH_HEALTHY] = "healthy",
  [SVC_HEALTH_UNHEALTHY] = "unhealthy",
};

const char *
svc_health_status_name (enum svc_health_status s)
{
  return status_names[s];
}

bool
svc_health_enabled (const struct rt_healthcheck *hc)
{
  return hc->test && hc->test[0]
         && (!strcmp (hc->test[0], "CMD") || !strcmp (hc->test[0], "CMD-SHELL"))
         && hc->test[1];
}

static int64_t
or_default (int64_t v, int64_t def)
{
  return v > 0 ? v : def;
}

void
svc_health_result (struct svc_health_state *st, const struct rt_healthcheck *hc,
                   int exit_code, bool in_start_period)
{
  if (exit_code == 0)
    {
      st->failing_streak = 0;
      st->status = SVC_HEALTH_HEALTHY;
      return;
    }
  /* docker: while starting, failures inside the start period do not
   * count */
  if (st->status == SVC_HEALTH_STARTING && in_start_period)
    return;
  st->failing_streak++;
  if (st->failing_streak
      >= (hc->retries > 0 ? hc->retries : SVC_HEALTH_RETRIES))
    st->status = SVC_HEALTH_UNHEALTHY;
}

int64_t
svc_health_wait (const struct rt_healthcheck *hc,
                 const struct svc_health_state *st, bool in_start_period)
{
  if (st->status == SVC_HEALTH_STARTING && in_start_period)
    return or_default (hc->start_interval, SVC_HEALTH_START_INTERVAL);
  return or_default (hc->interval, SVC_HEALTH_INTERVAL);
}

/* ------------------------------------------------------------ monitor */

struct svc_health
{
  const struct rt_record *rec;
  pid_t pid;
  int dir;         /* the container's directory */
  int stop[2];     /* a byte (or the close) on stop[1] ends the thread */
  int64_t started; /* CLOCK_MONOTONIC ns */
  struct svc_health_state st;
  json_t *log; /* the last results, oldest first */
  pthread_t thread;
};

static int64_t
mono_ns (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t
real_ns (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static json_t *
time_json (int64_t ns)
{
  char buf[48];
  rt_log_time_format (ns, false, buf, sizeof buf);
  return json_string (buf);
}

/* A duration as Go prints it ("30s", "1m30s", "500ms", "1.5s"). */
static void
go_duration (int64_t ns, char *buf, size_t len)
{
  int64_t h = ns / 3600000000000LL, m = ns / 60000000000LL % 60;
  int64_t s = ns / 1000000000 % 60, frac = ns % 1000000000;
  char f[16] = "";
  size_t n = 0;
  if (ns < 1000000000)
    {
      if (ns % 1000000 == 0)
        snprintf (buf, len, "%lldms", (long long)(ns / 1000000));
      else
        snprintf (buf, len, "%.3fms", (double)ns / 1e6);
      return;
    }
  if (frac)
    {
      snprintf (f, sizeof f, ".%09lld", (long long)frac);
      for (size_t i = strlen (f); i > 1 && f[i - 1] == '0'; i--)
        f[i - 1] = '\0';
    }
  if (h)
    n += (size_t)snprintf (buf + n, len - n, "%lldh", (long long)h);
  if (h || m)
    n += (size_t)snprintf (buf + n, len - n, "%lldm", (long long)m);
  snprintf (buf + n, len - n, "%lld%ss", (long long)s, f);
}

static void
save (struct svc_health *h)
{
  json_t *o = json_pack ("{s:s, s:i, s:O}", "Status",
                         svc_health_status_name (h->st.status), "FailingStreak",
                         h->st.failing_streak, "Log", h->log);
  _cleanup_free_ char *s = json_dumps (o, JSON_COMPACT);
  struct err *e = NULL;
  json_decref (o);
  if (s
      && fs_write_file_replace (h->dir, HEALTH_FILE, s, strlen (s), 0600, &e)
             < 0)
    {
      log_debug ("health: %s", e->msg);
      err_free (e);
    }
}

/* Whether the container is paused now (docker runs no probe then). */
static bool
paused (struct svc_health *h)
{
  _cleanup_free_ char *buf = NULL;
  struct err *e = NULL;
  json_t *o;
  bool p;
  if (fs_read_file (h->dir, "state.json", 1 << 20, &buf, NULL, &e) < 0)
    {
      err_free (e);
      return false;
    }
  o = json_loads (buf, 0, NULL);
  p = !strcmp (json_peek_str (o, "status") ? json_peek_str (o, "status") : "",
               "paused");
  json_decref (o);
  return p;
}

/* The probe's argv (borrowed strings). */
static char **
probe_argv (const struct rt_healthcheck *hc)
{
  static char *sh[] = { (char *)"/bin/sh", (char *)"-c", NULL };
  char **v;
  if (!strcmp (hc->test[0], "CMD"))
    return strv_dup (hc->test + 1);
  v = strv_dup (hc->shell ? hc->shell : sh);
  strv_push (&v, xstrdup (hc->test[1]));
  return v;
}

/* Run one probe; false when stopped meanwhile. */
static bool
probe (struct svc_health *h, int *code, struct strbuf *out)
{
  const struct rt_healthcheck *hc = &h->rec->health;
  int64_t timeout = or_default (hc->timeout, SVC_HEALTH_TIMEOUT);
  int64_t deadline = mono_ns () + timeout;
  struct rt_plan p = h->rec->plan; /* shallow: only argv and stdio differ */
  struct rt_stdio io = { .in = -1, .out = -1, .err = -1, .winsize_from = -1 };
  struct rt_container proc;
  struct err *e = NULL;
  int pipefd[2], status = -1;
  bool eof = false, gone = false, stopped = false, timed_out = false;
  _cleanup_strv_ char **argv = probe_argv (hc);

  p.argv = argv;
  p.tty = false;
  p.stdin_open = false;
  if (pipe2 (pipefd, O_CLOEXEC) < 0)
    {
      *code = -1;
      strbuf_addf (out, "pipe: %s", strerror (errno));
      return true;
    }
  io.out = io.err = pipefd[1];
  if (rt_exec_start (h->pid, &p, &io, &proc, &e) < 0)
    {
      close (pipefd[0]);
      close (pipefd[1]);
      *code = -1;
      strbuf_addstr (out, e ? e->msg : "exec failed");
      err_free (e);
      return true;
    }
  close (pipefd[1]);
  while (!(eof && gone))
    {
      struct pollfd fds[3]
          = { { .fd = h->stop[0], .events = POLLIN },
              { .fd = eof ? -1 : pipefd[0], .events = POLLIN },
              { .fd = gone ? -1 : proc.pidfd, .events = POLLIN } };
      int64_t left = deadline - mono_ns ();
      int r;
      if (left <= 0 && !timed_out)
        {
          timed_out = true;
          syscall (SYS_pidfd_send_signal, proc.pidfd, SIGKILL, NULL, 0);
        }
      r = poll (fds, 3, timed_out ? -1 : (int)(left / 1000000 + 1));
      if (r < 0 && errno != EINTR)
        break;
      if (r <= 0)
        continue;
      if (fds[0].revents && !stopped)
        {
          stopped = true;
          syscall (SYS_pidfd_send_signal, proc.pidfd, SIGKILL, NULL, 0);
        }
      if (fds[1].revents)
        {
          char buf[4096];
          ssize_t n = read (pipefd[0], buf, sizeof buf);
          if (n <= 0)
            eof = n == 0 || errno != EINTR;
          else if (out->len < SVC_HEALTH_OUTPUT_MAX)
            strbuf_add (out, buf,
                        (size_t)n < SVC_HEALTH_OUTPUT_MAX - out->len
                            ? (size_t)n
                            : SVC_HEALTH_OUTPUT_MAX - out->len);
        }
      if (fds[2].revents)
        gone = true;
      /* a process it left behind may hold the pipe: once the probe is
       * gone past its deadline, stop reading */
      if (gone && timed_out)
        eof = true;
    }
  close (pipefd[0]);
  if (rt_wait (&proc, &status, &e) < 0)
    err_free (e);
  if (timed_out)
    {
      char d[32];
      _cleanup_free_ char *partial = xstrdup (out->buf);
      go_duration (timeout, d, sizeof d);
      strbuf_reset (out);
      strbuf_addf (out, "Health check exceeded timeout (%s)", d);
      if (*partial)
        strbuf_addf (out, ": %s", partial);
      status = -1;
    }
  *code = status;
  return !stopped;
}

static void *
run (void *arg)
{
  struct svc_health *h = arg;
  const struct rt_healthcheck *hc = &h->rec->health;
  int64_t start_period = hc->start_period > 0 ? hc->start_period : 0;
  for (;;)
    {
      bool in_sp = mono_ns () - h->started < start_period;
      int64_t wait = svc_health_wait (hc, &h->st, in_sp);
      struct pollfd p = { .fd = h->stop[0], .events = POLLIN };
      struct strbuf out = STRBUF_INIT;
      int64_t t0, t1;
      int code, r;
      r = poll (&p, 1, (int)(wait / 1000000));
      if (r < 0 && errno == EINTR)
        continue;
      if (r != 0)
        return NULL;
      if (paused (h))
        continue;
      t0 = real_ns ();
      in_sp = mono_ns () - h->started < start_period;
      if (!probe (h, &code, &out))
        {
          strbuf_release (&out);
          return NULL;
        }
      t1 = real_ns ();
      svc_health_result (&h->st, hc, code, in_sp);
      json_array_append_new (
          h->log, json_pack ("{s:o, s:o, s:i, s:s%}", "Start", time_json (t0),
                             "End", time_json (t1), "ExitCode", code, "Output",
                             out.buf, out.len));
      while (json_array_size (h->log) > SVC_HEALTH_LOG_MAX)
        json_array_remove (h->log, 0);
      save (h);
      strbuf_release (&out);
    }
}

struct svc_health *
svc_health_start (struct svc *s, const struct rt_record *rec, pid_t pid)
{
  struct svc_health *h;
  _cleanup_free_ char *buf = NULL;
  struct err *e = NULL;
  if (!svc_health_enabled (&rec->health) || !rec->plan.state_dir)
    return NULL;
  h = xcalloc (1, sizeof *h);
  h->rec = rec;
  h->pid = pid;
  h->started = mono_ns ();
  h->stop[0] = h->stop[1] = -1;
  h->dir = open (rec->plan.state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  /* every start begins with starting and no streak; the log stays */
  if (h->dir >= 0
      && fs_read_file (h->dir, HEALTH_FILE, 1 << 20, &buf, NULL, &e) == 0)
    {
      json_t *o = json_loads (buf, 0, NULL);
      json_t *l = json_object_get (o, "Log");
      if (json_is_array (l))
        h->log = json_incref (l);
      json_decref (o);
    }
  err_free (e);
  if (!h->log)
    h->log = json_array ();
  if (h->dir < 0 || pipe2 (h->stop, O_CLOEXEC) < 0)
    goto fail;
  save (h);
  if (pthread_create (&h->thread, NULL, run, h) != 0)
    goto fail;
  return h;
fail:
  log_warn ("container %.12s: its health checks cannot run", rec->id);
  if (h->stop[0] >= 0)
    close (h->stop[0]), close (h->stop[1]);
  if (h->dir >= 0)
    close (h->dir);
  json_decref (h->log);
  free (h);
  return NULL;
}

void
svc_health_stop (struct svc_health *h)
{
  if (!h)
    return;
  close (h->stop[1]); /* the thread sees the hang up */
  pthread_join (h->thread, NULL);
  close (h->stop[0]);
  close (h->dir);
  json_decref (h->log);
  free (h);
}

json_t *
svc_health_json (const struct rt_record *rec)
{
  _cleanup_free_ char *buf = NULL;
  _cleanup_close_ int dir = -1;
  struct err *e = NULL;
  json_t *o = NULL;
  if (!svc_health_enabled (&rec->health))
    return NULL;
  if (rec->plan.state_dir)
    dir = open (rec->plan.state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0 && fs_read_file (dir, HEALTH_FILE, 1 << 20, &buf, NULL, &e) == 0)
    o = json_loads (buf, 0, NULL);
  err_free (e);
  if (!json_is_object (o))
    {
      /* never started: docker sets State.Health at the first start */
      json_decref (o);
      return NULL;
    }
  return o;
}
