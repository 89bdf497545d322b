/* Signal names, OOM counts and the log file. */
#include "runtime/lifecycle.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/strbuf.h"
#include "lib/xalloc.h"
#include "runtime/cgroup.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/syscall.h>
#include <unistd.h>

int
rt_signal_parse (const char *s, int *sig, struct err **err)
{
  const char *name = s;
  char *end;
  long n;
  if (!strncasecmp (name, "SIG", 3))
    name += 3;
  n = strtol (s, &end, 10);
  if (*s && !*end)
    {
      if (n > 0 && n < NSIG)
        {
          *sig = (int)n;
          return 0;
        }
    }
  else
    for (int i = 1; i < NSIG; i++)
      {
        const char *abbrev = sigabbrev_np (i);
        if (abbrev && !strcasecmp (abbrev, name))
          {
            *sig = i;
            return 0;
          }
      }
  err_set (err, 0, "invalid signal '%s'", s);
  return err_exit (err, 125);
}

int
rt_oom_open (const struct rt_cgroup *cg)
{
  _cleanup_free_ char *dir = NULL;
  if (!cg || !cg->path)
    return -1;
  if (cg->mode == RT_CGROUP_V1)
    dir = xasprintf ("%s/memory/%s", cg->root, cg->path);
  else if (cg->mode == RT_CGROUP_V2)
    dir = xasprintf ("%s/%s", cg->root, cg->path);
  else
    return -1;
  return open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

long
rt_oom_count (int cgroup_fd)
{
  static const char *const files[] = { "memory.oom_control", "memory.events" };
  if (cgroup_fd < 0)
    return -1;
  for (size_t i = 0; i < ARRAY_SIZE (files); i++)
    {
      _cleanup_free_ char *buf = NULL;
      struct err *e = NULL;
      char *p;
      if (fs_read_file (cgroup_fd, files[i], 65536, &buf, NULL, &e) < 0)
        {
          err_free (e);
          continue;
        }
      if ((p = strstr (buf, "oom_kill ")))
        return strtol (p + 9, NULL, 10);
    }
  return -1;
}

/* ---------------------------------------------------------------- log */

#define LOG_LINE_MAX 16384

struct rt_log
{
  int fd;
  struct strbuf part[2]; /* unterminated line of stdout, stderr */
};

struct rt_log *
rt_log_open (const char *path, struct err **err)
{
  struct rt_log *l;
  int fd = open (path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0)
    {
      err_set (err, errno, "open log '%s'", path);
      return NULL;
    }
  l = xcalloc (1, sizeof *l);
  l->fd = fd;
  strbuf_init (&l->part[0], 0);
  strbuf_init (&l->part[1], 0);
  return l;
}

static void
log_record (struct rt_log *l, int stream, bool partial, const char *text,
            size_t len)
{
  struct strbuf sb = STRBUF_INIT;
  struct timespec ts;
  struct tm tm;
  char when[40];
  clock_gettime (CLOCK_REALTIME, &ts);
  gmtime_r (&ts.tv_sec, &tm);
  strftime (when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
  strbuf_addf (&sb, "%s.%09ldZ %s %c ", when, ts.tv_nsec,
               stream == 2 ? "stderr" : "stdout", partial ? 'P' : 'F');
  strbuf_add (&sb, text, len);
  strbuf_addch (&sb, '\n');
  fs_write_all (l->fd, sb.buf, sb.len);
  strbuf_release (&sb);
}

void
rt_log_write (struct rt_log *l, int stream, const char *buf, size_t len)
{
  struct strbuf *part = &l->part[stream == 2];
  while (len)
    {
      const char *nl = memchr (buf, '\n', len);
      size_t n = nl ? (size_t)(nl - buf) : len;
      strbuf_add (part, buf, n);
      if (nl)
        {
          log_record (l, stream, false, part->buf, part->len);
          strbuf_reset (part);
          n++;
        }
      else if (part->len >= LOG_LINE_MAX)
        {
          log_record (l, stream, true, part->buf, part->len);
          strbuf_reset (part);
        }
      buf += n;
      len -= n;
    }
}

void
rt_log_close (struct rt_log *l)
{
  if (!l)
    return;
  for (int i = 0; i < 2; i++)
    {
      if (l->part[i].len)
        log_record (l, i + 1, true, l->part[i].buf, l->part[i].len);
      strbuf_release (&l->part[i]);
    }
  close (l->fd);
  free (l);
}

bool
rt_log_parse (char *line, const char **time, int *stream, bool *partial,
              const char **text, size_t *len)
{
  char *sp1 = strchr (line, ' '), *sp2, *sp3;
  if (!sp1 || !(sp2 = strchr (sp1 + 1, ' ')) || sp2[1] == '\0'
      || (sp3 = sp2 + 2, *sp3 != ' '))
    return false;
  *sp1 = '\0';
  *sp2 = '\0';
  *time = line;
  if (!strcmp (sp1 + 1, "stdout"))
    *stream = 1;
  else if (!strcmp (sp1 + 1, "stderr"))
    *stream = 2;
  else
    return false;
  if (sp2[1] != 'P' && sp2[1] != 'F')
    return false;
  *partial = sp2[1] == 'P';
  *text = sp3 + 1;
  *len = strlen (sp3 + 1);
  return true;
}
