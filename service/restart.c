/* Restart policies, as docker's restart manager applies them (moby
 * daemon/internal/restartmanager), and the stop requests that a monitor
 * reads before it applies one (service.h). */
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/xalloc.h"
#include "runtime/runopts.h"
#include "service/service.h"
#include "service/service_int.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <time.h>
#include <unistd.h>

/* docker: 100 ms, doubled at each restart, at most a minute; back to
 * 100 ms after a run of at least 10 s */
#define BACKOFF_FIRST_MS 100
#define BACKOFF_MAX_MS (60 * 1000)
#define BACKOFF_RESET_MS (10 * 1000)

static const char *const kind_names[] = {
  [SVC_RESTART_NO] = "no",
  [SVC_RESTART_ALWAYS] = "always",
  [SVC_RESTART_UNLESS_STOPPED] = "unless-stopped",
  [SVC_RESTART_ON_FAILURE] = "on-failure",
};

const char *
svc_restart_name (enum svc_restart_kind k)
{
  return (size_t)k < ARRAY_SIZE (kind_names) ? kind_names[k] : "no";
}

int
svc_restart_parse (const char *spec, struct svc_restart_policy *out,
                   struct err **err)
{
  _cleanup_free_ char *name = xstrdup (spec);
  char *colon = strchr (name, ':');
  memset (out, 0, sizeof *out);
  if (colon)
    *colon = '\0';
  /* docker/cli opts/parse.go: "" is "no" */
  if (!*name)
    return 0;
  for (size_t i = 0; i < ARRAY_SIZE (kind_names); i++)
    if (!strcmp (name, kind_names[i]))
      out->kind = (enum svc_restart_kind)i;
  if (out->kind == SVC_RESTART_NO && strcmp (name, "no"))
    return err_set (err, 0,
                    "invalid restart policy: unknown policy '%s'; use one of "
                    "'no', 'always', 'on-failure', or 'unless-stopped'",
                    name);
  if (!colon)
    return 0;
  if (out->kind != SVC_RESTART_ON_FAILURE)
    return err_set (err, 0,
                    "invalid restart policy: maximum retry count can only be "
                    "used with 'on-failure'");
  {
    char *end;
    long n;
    errno = 0;
    n = strtol (colon + 1, &end, 10);
    if (!colon[1] || *end || errno || n > INT_MAX || n < INT_MIN)
      return err_set (err, 0,
                      "invalid restart policy format: maximum retry count "
                      "must be an integer");
    if (n < 0)
      return err_set (err, 0,
                      "invalid restart policy: maximum retry count cannot be "
                      "negative");
    out->max = (int)n;
  }
  return 0;
}

void
svc_restart_of (const struct rt_record *rec, struct svc_restart_policy *out)
{
  struct err *e = NULL;
  if (!rec->restart || svc_restart_parse (rec->restart, out, &e) < 0)
    memset (out, 0, sizeof *out);
  err_free (e);
  if (out->kind == SVC_RESTART_ON_FAILURE)
    out->max = rec->restart_max;
}

bool
svc_restart_should (const struct svc_restart_policy *p, int exit_code,
                    int restart_count, bool manually_stopped)
{
  switch (p->kind)
    {
    case SVC_RESTART_ALWAYS:
      return true;
    case SVC_RESTART_UNLESS_STOPPED:
      return !manually_stopped;
    case SVC_RESTART_ON_FAILURE:
      /* a maximum of 0 is no maximum */
      return exit_code != 0 && (p->max == 0 || restart_count < p->max);
    case SVC_RESTART_NO:
      break;
    }
  return false;
}

int64_t
svc_restart_delay (int64_t last_ms, int64_t ran_ms)
{
  if (ran_ms >= BACKOFF_RESET_MS)
    last_ms = 0;
  if (last_ms <= 0)
    return BACKOFF_FIRST_MS;
  return last_ms >= BACKOFF_MAX_MS / 2 ? BACKOFF_MAX_MS : last_ms * 2;
}

/* ------------------------------------------------------ stop requests */

#define STOP_FILE "stopped"

static const char *const request_words[] = {
  [SVC_STOP_NONE] = "",
  [SVC_STOP_SIGNAL] = "signal",
  [SVC_STOP_CANCEL] = "stop",
  [SVC_STOP_RESTART] = "restart",
};

void
svc_stop_request_set (struct svc *s, const char *id, enum svc_stop_request r)
{
  _cleanup_close_ int dir = -1;
  struct err *e = NULL;
  const char *w = request_words[r];
  dir = fs_open_dir (s->cs.fd, id, &e);
  if (dir < 0)
    {
      err_free (e);
      return;
    }
  /* a signal that keeps the policy never weakens a stop asked before */
  if (r == SVC_STOP_SIGNAL
      && faccessat (dir, STOP_FILE, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
    return;
  /* durable: unless-stopped must stay down after a reboot */
  if (fs_write_file_atomic (dir, STOP_FILE, w, strlen (w), 0600, &e) < 0)
    err_free (e);
}

enum svc_stop_request
svc_stop_request_get (struct svc *s, const char *id)
{
  _cleanup_free_ char *path = xasprintf ("%s/" STOP_FILE, id);
  _cleanup_free_ char *text = NULL;
  struct err *e = NULL;
  if (fs_read_file (s->cs.fd, path, 64, &text, NULL, &e) < 0)
    {
      err_free (e);
      return SVC_STOP_NONE;
    }
  for (size_t i = 1; i < ARRAY_SIZE (request_words); i++)
    if (!strcmp (text, request_words[i]))
      return (enum svc_stop_request)i;
  return SVC_STOP_CANCEL; /* damaged: the safe reading */
}

void
svc_stop_request_clear (struct svc *s, const char *id)
{
  _cleanup_free_ char *path = xasprintf ("%s/" STOP_FILE, id);
  unlinkat (s->cs.fd, path, 0);
}

/* ------------------------------------------------------ the monitor's */

static int64_t
now_ms (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
svc_restart_next (struct svc *s, struct svc_container *c, int status,
                  int64_t ran_ms, int64_t *backoff_ms)
{
  struct svc_restart_policy p;
  enum svc_stop_request r = svc_stop_request_get (s, c->rec.id);
  /* computed even when no restart follows (docker) */
  *backoff_ms = svc_restart_delay (*backoff_ms, ran_ms);
  if (r == SVC_STOP_CANCEL || r == SVC_STOP_RESTART)
    return -1;
  svc_restart_of (&c->rec, &p);
  if (!svc_restart_should (&p, status, c->rec.state.restart_count,
                           r == SVC_STOP_SIGNAL))
    return -1;
  return *backoff_ms;
}

bool
svc_restart_wait (struct svc *s, const char *id, int64_t delay_ms)
{
  _cleanup_free_ char *dir = rt_record_path (&s->cs, id, NULL);
  _cleanup_close_ int in = inotify_init1 (IN_CLOEXEC | IN_NONBLOCK);
  int64_t until = now_ms () + delay_ms;
  enum svc_stop_request r;
  /* woken by a stop request (a new file in the container's directory) */
  if (in >= 0)
    inotify_add_watch (in, dir, IN_MOVED_TO | IN_CREATE | IN_CLOSE_WRITE);
  for (;;)
    {
      int64_t left = until - now_ms ();
      struct pollfd p = { .fd = in, .events = POLLIN };
      char buf[4096];
      r = svc_stop_request_get (s, id);
      if (r == SVC_STOP_CANCEL || r == SVC_STOP_RESTART || left <= 0)
        break;
      /* without inotify, a stop is seen within a second */
      if (in < 0 && left > 1000)
        left = 1000;
      poll (&p, in >= 0 ? 1 : 0, (int)left);
      while (in >= 0 && read (in, buf, sizeof buf) > 0)
        ;
    }
  return r != SVC_STOP_CANCEL && r != SVC_STOP_RESTART;
}

int64_t
svc_clock_ms (void)
{
  return now_ms ();
}
