/* imgtool logs [-f] [-t] CONTAINER: the output of a detached container.
 * Foreground runs keep no log (docs/commands.md, run): saying so beats
 * printing nothing. */
#include "cmd/command.h"
#include "cmd/containers.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/strbuf.h"
#include "lib/xalloc.h"
#include "runtime/lifecycle.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

static const char usage_text[] = "imgtool logs [-f] [-t] CONTAINER";

struct reader
{
  int fd;
  struct strbuf pending; /* an incomplete record line */
  bool timestamps;
  bool line_start[3]; /* per stream: at the start of a line */
};

/* Print every whole record read so far. */
static void
drain (struct reader *r)
{
  char buf[65536];
  ssize_t n;
  while ((n = read (r->fd, buf, sizeof buf)) > 0)
    {
      char *line, *nl;
      strbuf_add (&r->pending, buf, (size_t)n);
      line = r->pending.buf;
      while ((nl = memchr (line, '\n',
                           r->pending.len - (size_t)(line - r->pending.buf))))
        {
          const char *time, *text;
          int stream;
          bool partial;
          size_t len;
          *nl = '\0';
          if (rt_log_parse (line, &time, &stream, &partial, &text, &len))
            {
              FILE *out = stream == 2 ? stderr : stdout;
              if (r->timestamps && r->line_start[stream])
                fprintf (out, "%s ", time);
              fwrite (text, 1, len, out);
              if (!partial)
                fputc ('\n', out);
              r->line_start[stream] = !partial;
              fflush (out);
            }
          line = nl + 1;
        }
      {
        size_t used = (size_t)(line - r->pending.buf);
        memmove (r->pending.buf, line, r->pending.len - used);
        strbuf_setlen (&r->pending, r->pending.len - used);
      }
    }
}

COMMAND (logs)
{
  static const struct option opts[] = {
    { "follow", no_argument, NULL, 'f' },
    { "timestamps", no_argument, NULL, 't' },
    { "help", no_argument, NULL, 'H' },
    { 0 },
  };
  struct svc svc = { .cs = { .fd = -1 } };
  struct svc_container ctr = { 0 };
  struct reader r = { .fd = -1, .line_start = { true, true, true } };
  _cleanup_free_ char *path = NULL, *dir = NULL;
  bool follow = false;
  int c, ret = -1;

  while ((c = command_getopt (argc, argv, "ft", opts)) != -1)
    switch (c)
      {
      case 'f':
        follow = true;
        break;
      case 't':
        r.timestamps = true;
        break;
      case 'H':
        printf ("usage: %s\n", usage_text);
        return 0;
      default:
        return command_bad_option (err);
      }
  if (optind != argc - 1)
    return command_usage_error (usage_text, err);
  strbuf_init (&r.pending, 0);
  if (containers_load (&svc, g->root, g->config_path, argv[optind], &ctr, err)
      < 0)
    goto out;
  path = rt_record_path (&svc.cs, ctr.rec.id, "container.log");
  /* a detached start (imgtool start) of a created one logs too */
  if (!ctr.rec.detach && access (path, F_OK) < 0)
    {
      err_set (err, 0,
               "container '%s' ran in the foreground: its output "
               "went to the caller and was not kept (run -d keeps it)",
               argv[optind]);
      goto out;
    }
  dir = rt_record_path (&svc.cs, ctr.rec.id, NULL);
  r.fd = open (path, O_RDONLY | O_CLOEXEC);
  if (r.fd < 0 && errno != ENOENT)
    {
      err_set (err, errno, "open '%s'", path);
      goto out;
    }
  if (r.fd >= 0)
    drain (&r);
  if (follow && ctr.rec.state.status == RT_RUNNING)
    {
      /* Woken by writes to the log and by state.json being replaced; ends
       * when the container is no longer running. */
      _cleanup_close_ int in = inotify_init1 (IN_CLOEXEC);
      if (in < 0
          || inotify_add_watch (
                 in, dir, IN_MODIFY | IN_MOVED_TO | IN_CREATE | IN_DELETE_SELF)
                 < 0)
        {
          err_set (err, errno, "watch '%s'", dir);
          goto out;
        }
      for (;;)
        {
          char ev[4096];
          struct rt_record now;
          struct err *e = NULL;
          bool done;
          if (r.fd < 0)
            r.fd = open (path, O_RDONLY | O_CLOEXEC);
          if (r.fd >= 0)
            drain (&r);
          if (svc_load_id (&svc, ctr.rec.id, &now, &e) < 0)
            done = true, err_free (e);
          else
            done = now.state.status != RT_RUNNING;
          rt_record_release (&now);
          if (done)
            {
              if (r.fd >= 0)
                drain (&r);
              break;
            }
          if (read (in, ev, sizeof ev) < 0 && errno != EINTR)
            break;
        }
    }
  ret = 0;
out:
  if (r.fd >= 0)
    close (r.fd);
  strbuf_release (&r.pending);
  svc_container_release (&ctr);
  svc_close (&svc);
  return ret;
}
