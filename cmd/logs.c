/* imgtool logs [-f] [-t] [-n N] [--since T] [--until T] [--details]
 * CONTAINER: a container's output from its log (runtime/logfile.h), the
 * rotated files oldest first; stdout to stdout, stderr to stderr. -f goes
 * on until the container is no longer running (or --until passes). */
#include "cmd/command.h"
#include "cmd/containers.h"
#include "cmd/opttable.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/human.h"
#include "lib/strbuf.h"
#include "lib/xalloc.h"
#include "runtime/logfile.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char usage_text[]
    = "imgtool logs [-f] [-t] [-n N|all] [--since TIME] [--until TIME] "
      "[--details] CONTAINER";

enum
{
  OPT_SINCE = 256,
  OPT_UNTIL,
  OPT_DETAILS,
};

struct printer
{
  bool timestamps, details;
  bool line_start[3];   /* per stream: at the start of a line */
  int64_t since, until; /* ns; 0 = no bound */
  struct strbuf text;
  /* --tail: the last lines (ring), before they are printed */
  long tail; /* -1 = all */
  char **ring;
  size_t ring_next, ring_used;
};

static void
print_line (struct printer *p, const char *line, size_t len)
{
  struct rt_log_entry e;
  FILE *out;
  if (!rt_log_entry_parse (line, len, &e, &p->text))
    return;
  if ((p->since && e.time_ns < p->since) || (p->until && e.time_ns > p->until))
    return;
  out = e.stream == 2 ? stderr : stdout;
  if (p->line_start[e.stream])
    {
      if (p->timestamps)
        {
          char t[48];
          rt_log_time_format (e.time_ns, true, t, sizeof t);
          fprintf (out, "%s ", t);
        }
      if (p->details)
        fputc (' ', out); /* docker's attributes (none here), then a space */
    }
  fwrite (e.text, 1, e.len, out);
  p->line_start[e.stream] = e.len && e.text[e.len - 1] == '\n';
  fflush (out);
}

static void
take_line (struct printer *p, const char *line, size_t len)
{
  if (p->tail < 0)
    {
      print_line (p, line, len);
      return;
    }
  if (!p->tail)
    return;
  free (p->ring[p->ring_next]);
  p->ring[p->ring_next] = xstrndup (line, len);
  p->ring_next = (p->ring_next + 1) % (size_t)p->tail;
  if (p->ring_used < (size_t)p->tail)
    p->ring_used++;
}

/* Print the lines --tail kept, and print every line from now on. */
static void
flush_tail (struct printer *p)
{
  if (p->tail > 0)
    {
      size_t first
          = (p->ring_next + (size_t)p->tail - p->ring_used) % (size_t)p->tail;
      for (size_t i = 0; i < p->ring_used; i++)
        {
          char *l = p->ring[(first + i) % (size_t)p->tail];
          print_line (p, l, strlen (l));
        }
      for (long i = 0; i < p->tail; i++)
        free (p->ring[i]);
    }
  free (p->ring);
  p->ring = NULL;
  p->tail = -1;
}

/* Hand every whole line read from fd so far to take_line; an incomplete
 * one waits in pending (the writer is mid-entry). */
static void
drain (struct printer *p, int fd, struct strbuf *pending)
{
  char buf[65536];
  ssize_t n;
  while ((n = read (fd, buf, sizeof buf)) > 0)
    {
      size_t used = 0;
      char *nl;
      strbuf_add (pending, buf, (size_t)n);
      while ((nl = memchr (pending->buf + used, '\n', pending->len - used)))
        {
          take_line (p, pending->buf + used,
                     (size_t)(nl - (pending->buf + used)));
          used = (size_t)(nl - pending->buf) + 1;
        }
      memmove (pending->buf, pending->buf + used, pending->len - used);
      strbuf_setlen (pending, pending->len - used);
    }
}

static int
parse_time (const char *opt, const char *v, int64_t *out, struct err **err)
{
  struct timespec ts;
  clock_gettime (CLOCK_REALTIME, &ts);
  if (human_time_parse (v, (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec, out)
      == 0)
    return 0;
  err_set (err, 0,
           "invalid value for --%s '%s': not a time, a duration or a Unix "
           "timestamp",
           opt, v);
  return err_exit (err, 2);
}

/* Whether fd is still the file at path (no rotation since). */
static bool
same_file (int fd, const char *path)
{
  struct stat a, b;
  return fstat (fd, &a) == 0 && stat (path, &b) == 0 && a.st_ino == b.st_ino
         && a.st_dev == b.st_dev;
}

/* -f: new entries until the container is no longer running, or past
 * --until. Woken by writes and renames in its directory and by
 * state.json being replaced. */
static int
follow (struct printer *p, struct svc *svc, const char *id, const char *path,
        int fd, struct strbuf *pending, struct err **err)
{
  _cleanup_free_ char *dir = rt_record_path (&svc->cs, id, NULL);
  _cleanup_close_ int in = inotify_init1 (IN_CLOEXEC);
  int ret = 0;
  if (in < 0
      || inotify_add_watch (
             in, dir, IN_MODIFY | IN_MOVED_TO | IN_CREATE | IN_DELETE_SELF)
             < 0)
    return err_set (err, errno, "watch '%s'", dir);
  for (;;)
    {
      char ev[4096];
      struct rt_record now;
      struct err *e = NULL;
      struct pollfd pf = { .fd = in, .events = POLLIN };
      int timeout = -1;
      bool done;
      if (fd < 0)
        fd = open (path, O_RDONLY | O_CLOEXEC);
      if (fd >= 0)
        {
          drain (p, fd, pending);
          if (!same_file (fd, path))
            {
              /* rotated: the rest of the old file, then the new one */
              drain (p, fd, pending);
              close (fd);
              strbuf_reset (pending);
              fd = open (path, O_RDONLY | O_CLOEXEC);
              continue;
            }
        }
      if (svc_load_id (svc, id, &now, &e) < 0)
        done = true, err_free (e);
      else
        done = now.state.status != RT_RUNNING && now.state.status != RT_PAUSED;
      rt_record_release (&now);
      if (done)
        {
          if (fd >= 0)
            drain (p, fd, pending);
          break;
        }
      if (p->until)
        {
          struct timespec ts;
          int64_t left;
          clock_gettime (CLOCK_REALTIME, &ts);
          left = p->until - ((int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec);
          if (left <= 0)
            break;
          timeout = left / 1000000 > 60000 ? 60000 : (int)(left / 1000000) + 1;
        }
      if (poll (&pf, 1, timeout) > 0 && read (in, ev, sizeof ev) < 0
          && errno != EINTR)
        break;
    }
  if (fd >= 0)
    close (fd);
  return ret;
}

static const struct cmd_opt logs_opts[] = {
  CMD_OPT ("follow", 'f', NULL, 0, "Follow log output", "--follow"),
  CMD_OPT ("timestamps", 't', NULL, 0, "Show timestamps", "--timestamps"),
  CMD_OPT ("tail", 'n', "N", 0,
           "Number of lines to show from the end of the logs", "--tail"),
  CMD_OPT ("since", 0, "TIME", OPT_SINCE,
           "Show logs since a timestamp or relative time (42m)", "--since"),
  CMD_OPT ("until", 0, "TIME", OPT_UNTIL,
           "Show logs before a timestamp or relative time (42m)", "--until"),
  CMD_OPT ("details", 0, NULL, OPT_DETAILS,
           "Show extra details provided to logs", "--details"),
  CMD_OPT_HELP,
  CMD_OPT_END,
};

const struct cmd_spec cmd_logs_spec = {
  .name = "logs",
  .usage = usage_text,
  .opts = logs_opts,
};

COMMAND (logs)
{
  struct svc svc = { .cs = { .fd = -1 } };
  struct svc_container ctr = { 0 };
  struct printer p = { .line_start = { true, true, true }, .tail = -1 };
  struct strbuf pending = STRBUF_INIT;
  _cleanup_free_ char *path = NULL;
  _cleanup_strv_ char **files = NULL;
  bool follow_on = false;
  int c, ret = -1, fd = -1;

  while ((c = cmd_getopt (argc, argv, &cmd_logs_spec)) != -1)
    switch (c)
      {
      case 'f':
        follow_on = cmd_optbool;
        break;
      case 't':
        p.timestamps = cmd_optbool;
        break;
      case 'n':
        {
          /* docker: "all", or anything that is not a count, is all */
          char *end;
          long n = strtol (optarg, &end, 10);
          p.tail = *optarg && !*end && n >= 0 ? n : -1;
        }
        break;
      case OPT_SINCE:
      case OPT_UNTIL:
        if (parse_time (c == OPT_SINCE ? "since" : "until", optarg,
                        c == OPT_SINCE ? &p.since : &p.until, err)
            < 0)
          return -1;
        break;
      case OPT_DETAILS:
        p.details = cmd_optbool;
        break;
      case CMD_OPT_HELP_ID:
        return 0;
      default:
        return command_bad_option (err);
      }
  if (optind != argc - 1)
    return command_usage_error (usage_text, err);
  strbuf_init (&p.text, 0);
  if (p.tail > 0)
    p.ring = xcalloc ((size_t)p.tail, sizeof *p.ring);
  if (containers_load (&svc, g->root, g->config_path, argv[optind], &ctr, err)
      < 0)
    goto out;
  if (!rt_log_config_readable (&ctr.rec.log))
    {
      err_set (err, 0,
               "container '%s': its log driver (%s) keeps no log to read",
               argv[optind], ctr.rec.log.driver);
      goto out;
    }
  path = rt_record_path (&svc.cs, ctr.rec.id, "container.log");
  files = rt_log_files (path);
  for (size_t i = 0; files[i]; i++)
    {
      bool current = !strcmp (files[i], path);
      struct err *e = NULL;
      int f = rt_log_open_read (files[i], &e); /* .gz ones decompressed */
      err_free (e);
      if (f < 0)
        continue; /* rotated away meanwhile */
      strbuf_reset (&pending);
      drain (&p, f, &pending);
      if (current)
        fd = f;
      else
        close (f);
    }
  flush_tail (&p);
  if (follow_on
      && (ctr.rec.state.status == RT_RUNNING
          || ctr.rec.state.status == RT_PAUSED))
    {
      ret = follow (&p, &svc, ctr.rec.id, path, fd, &pending, err);
      fd = -1;
      if (ret < 0)
        goto out;
    }
  ret = 0;
out:
  if (fd >= 0)
    close (fd);
  flush_tail (&p);
  strbuf_release (&pending);
  strbuf_release (&p.text);
  svc_container_release (&ctr);
  svc_close (&svc);
  return ret;
}
