/* imgtool top CONTAINER [ps OPTIONS]: the processes of a running container
 * as `ps -ef` shows them (docker top's default: UID PID PPID C STIME TTY
 * TIME CMD), read from /proc: every process in the container's pid
 * namespace (its init's, exec'd ones too). No ps program is run; the
 * options understood are -e, -f, -A (the default set) and -o FIELD,...
 * (user uid pid ppid c stime tty time etime cmd args comm stat rss vsz).
 * Printed as docker's CLI prints it (columns of at least 20). */
#include "cmd/command.h"
#include "cmd/containers.h"
#include "cmd/opttable.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/strbuf.h"
#include "lib/xalloc.h"

#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char usage_text[]
    = "imgtool top CONTAINER [-ef | -o FIELD[,FIELD...]]";

/* One process, from /proc/<pid>. */
struct proc
{
  pid_t pid, ppid;
  uid_t uid;
  char state;
  unsigned tty_nr;
  unsigned long long utime, stime, start; /* ticks */
  unsigned long long vsize, rss_pages;
  char comm[64];
  char *args;
};

static bool
proc_read (pid_t pid, struct proc *p)
{
  char path[64];
  _cleanup_free_ char *stat = NULL, *status = NULL, *cmdline = NULL;
  struct err *e = NULL;
  size_t len = 0;
  char *rp, *u;
  memset (p, 0, sizeof *p);
  p->pid = pid;
  snprintf (path, sizeof path, "/proc/%d/stat", (int)pid);
  if (fs_read_file (AT_FDCWD, path, 4096, &stat, NULL, &e) < 0)
    return err_free (e), false;
  if (!(rp = strrchr (stat, ')')))
    return false;
  {
    char *lp = strchr (stat, '(');
    snprintf (p->comm, sizeof p->comm, "%.*s", (int)(rp - lp - 1), lp + 1);
  }
  /* fields from 3 on: state ppid pgrp session tty_nr tpgid flags minflt
   * cminflt majflt cmajflt utime stime cutime cstime priority nice
   * num_threads itrealvalue starttime vsize rss */
  if (sscanf (rp + 2,
              "%c %d %*d %*d %u %*d %*u %*u %*u %*u %*u %llu %llu %*d %*d "
              "%*d %*d %*d %*d %llu %llu %llu",
              &p->state, &p->ppid, &p->tty_nr, &p->utime, &p->stime, &p->start,
              &p->vsize, &p->rss_pages)
      != 8)
    return false;
  snprintf (path, sizeof path, "/proc/%d/status", (int)pid);
  if (fs_read_file (AT_FDCWD, path, 65536, &status, NULL, &e) == 0
      && (u = strstr (status, "\nUid:")))
    {
      unsigned ruid, euid;
      if (sscanf (u + 5, "%u %u", &ruid, &euid) == 2)
        p->uid = euid;
    }
  err_clear (&e);
  snprintf (path, sizeof path, "/proc/%d/cmdline", (int)pid);
  if (fs_read_file (AT_FDCWD, path, 1 << 20, &cmdline, &len, &e) == 0 && len)
    {
      for (size_t i = 0; i + 1 < len; i++)
        if (!cmdline[i])
          cmdline[i] = ' ';
      p->args = steal_pointer (&cmdline);
    }
  else
    p->args = xasprintf ("[%s]", p->comm);
  err_free (e);
  return true;
}

/* The processes whose pid namespace is the one of pid. */
static struct proc *
container_procs (pid_t pid, size_t *n)
{
  char path[300];
  struct stat ns, other;
  struct proc *v = NULL;
  DIR *d;
  struct dirent *de;
  *n = 0;
  snprintf (path, sizeof path, "/proc/%d/ns/pid", (int)pid);
  if (stat (path, &ns) < 0 || !(d = opendir ("/proc")))
    return NULL;
  while ((de = readdir (d)))
    {
      struct proc p;
      if (!isdigit ((unsigned char)de->d_name[0]))
        continue;
      snprintf (path, sizeof path, "/proc/%s/ns/pid", de->d_name);
      if (stat (path, &other) < 0 || other.st_ino != ns.st_ino
          || other.st_dev != ns.st_dev)
        continue;
      if (!proc_read (atoi (de->d_name), &p))
        continue;
      v = xrealloc (v, (*n + 1) * sizeof *v);
      v[(*n)++] = p;
    }
  closedir (d);
  return v;
}

static int
by_pid (const void *a, const void *b)
{
  const struct proc *x = a, *y = b;
  return (x->pid > y->pid) - (x->pid < y->pid);
}

/* The host's boot time (btime of /proc/stat). */
static time_t
boot_time (void)
{
  _cleanup_free_ char *s = NULL;
  struct err *e = NULL;
  char *b;
  if (fs_read_file (AT_FDCWD, "/proc/stat", 1 << 20, &s, NULL, &e) < 0)
    return err_free (e), 0;
  b = strstr (s, "\nbtime ");
  return b ? (time_t)strtoll (b + 7, NULL, 10) : 0;
}

struct ctx
{
  long hz;
  time_t now, boot;
  long page;
};

static void
fmt_cputime (unsigned long long secs, char *buf, size_t len)
{
  unsigned long long d = secs / 86400, h = secs / 3600 % 24;
  if (d)
    snprintf (buf, len, "%llu-%02llu:%02llu:%02llu", d, h, secs / 60 % 60,
              secs % 60);
  else
    snprintf (buf, len, "%02llu:%02llu:%02llu", h, secs / 60 % 60, secs % 60);
}

/* One column's text for p. */
static void
field (const char *name, const struct proc *p, const struct ctx *c,
       struct strbuf *out)
{
  time_t started = c->boot + (time_t)(p->start / (unsigned long long)c->hz);
  unsigned long long cpu = (p->utime + p->stime) / (unsigned long long)c->hz;
  long elapsed = (long)(c->now - started);
  char buf[64];
  if (!strcmp (name, "user"))
    {
      struct passwd *pw = getpwuid (p->uid);
      if (pw)
        strbuf_addstr (out, pw->pw_name);
      else
        strbuf_addf (out, "%u", (unsigned)p->uid);
    }
  else if (!strcmp (name, "uid"))
    strbuf_addf (out, "%u", (unsigned)p->uid);
  else if (!strcmp (name, "pid"))
    strbuf_addf (out, "%d", (int)p->pid);
  else if (!strcmp (name, "ppid"))
    strbuf_addf (out, "%d", (int)p->ppid);
  else if (!strcmp (name, "c") || !strcmp (name, "pcpu")
           || !strcmp (name, "%cpu"))
    {
      double pct = elapsed > 0 ? (double)(p->utime + p->stime) / (double)c->hz
                                     * 100.0 / (double)elapsed
                               : 0;
      if (name[0] == 'c')
        strbuf_addf (out, "%d", pct > 99 ? 99 : (int)pct);
      else
        strbuf_addf (out, "%.1f", pct);
    }
  else if (!strcmp (name, "stime") || !strcmp (name, "start"))
    {
      struct tm tm, tnow;
      localtime_r (&started, &tm);
      localtime_r (&c->now, &tnow);
      /* procps: the time today, the date this year, else the year */
      strftime (buf, sizeof buf,
                elapsed < 86400              ? "%H:%M"
                : tm.tm_year == tnow.tm_year ? "%b%d"
                                             : "%Y",
                &tm);
      strbuf_addstr (out, buf);
    }
  else if (!strcmp (name, "tty") || !strcmp (name, "tt"))
    {
      unsigned major = (p->tty_nr >> 8) & 0xfff;
      unsigned minor = (p->tty_nr & 0xff) | ((p->tty_nr >> 12) & 0xfff00);
      if (major >= 136 && major <= 143)
        strbuf_addf (out, "pts/%u", minor + (major - 136) * 256);
      else if (major == 4 && minor < 64)
        strbuf_addf (out, "tty%u", minor);
      else if (major == 4)
        strbuf_addf (out, "ttyS%u", minor - 64);
      else
        strbuf_addch (out, '?');
    }
  else if (!strcmp (name, "time"))
    {
      fmt_cputime (cpu, buf, sizeof buf);
      strbuf_addstr (out, buf);
    }
  else if (!strcmp (name, "etime"))
    {
      long d = elapsed / 86400, h = elapsed / 3600 % 24;
      if (d)
        strbuf_addf (out, "%ld-%02ld:%02ld:%02ld", d, h, elapsed / 60 % 60,
                     elapsed % 60);
      else if (h)
        strbuf_addf (out, "%02ld:%02ld:%02ld", h, elapsed / 60 % 60,
                     elapsed % 60);
      else
        strbuf_addf (out, "%02ld:%02ld", elapsed / 60, elapsed % 60);
    }
  else if (!strcmp (name, "comm") || !strcmp (name, "ucomm"))
    strbuf_addstr (out, p->comm);
  else if (!strcmp (name, "stat") || !strcmp (name, "s"))
    strbuf_addch (out, p->state);
  else if (!strcmp (name, "rss"))
    strbuf_addf (out, "%llu",
                 p->rss_pages * (unsigned long long)c->page / 1024);
  else if (!strcmp (name, "vsz"))
    strbuf_addf (out, "%llu", p->vsize / 1024);
  else /* cmd, args, command */
    strbuf_addstr (out, p->args);
}

/* procps' headers */
static const struct
{
  const char *name, *title;
} known[] = {
  { "user", "USER" },       { "uid", "UID" },      { "pid", "PID" },
  { "ppid", "PPID" },       { "c", "C" },          { "pcpu", "%CPU" },
  { "%cpu", "%CPU" },       { "stime", "STIME" },  { "start", "STARTED" },
  { "tty", "TT" },          { "tt", "TT" },        { "time", "TIME" },
  { "etime", "ELAPSED" },   { "cmd", "CMD" },      { "args", "COMMAND" },
  { "command", "COMMAND" }, { "comm", "COMMAND" }, { "ucomm", "COMMAND" },
  { "stat", "STAT" },       { "s", "S" },          { "rss", "RSS" },
  { "vsz", "VSZ" },
};

/* The columns the ps options ask for: names and titles. */
static int
columns (char **args, char ***names, char ***titles, struct err **err)
{
  static const char *const ef[]
      = { "user", "pid", "ppid", "c", "stime", "tty", "time", "cmd" };
  static const char *const ef_titles[]
      = { "UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD" };
  *names = xcalloc (1, sizeof **names);
  *titles = xcalloc (1, sizeof **titles);
  for (size_t i = 0; args[i]; i++)
    {
      const char *a = args[i];
      if (!strcmp (a, "-o") && args[i + 1])
        {
          _cleanup_free_ char *list = xstrdup (args[++i]);
          char *save = NULL;
          for (char *f = strtok_r (list, ",", &save); f;
               f = strtok_r (NULL, ",", &save))
            {
              size_t k = 0;
              char *eq = strchr (f, '=');
              if (eq)
                *eq = '\0'; /* a header of the caller's: field=TITLE */
              while (k < ARRAY_SIZE (known) && strcmp (known[k].name, f))
                k++;
              if (k == ARRAY_SIZE (known))
                return err_set (err, 0, "unknown ps field '%s'", f);
              strv_push (names, xstrdup (f));
              strv_push (titles, xstrdup (eq ? eq + 1 : known[k].title));
            }
        }
      else if (strspn (a, "-efA") != strlen (a) || a[0] != '-')
        return err_set (err, 0,
                        "unsupported ps options '%s': use -ef or -o "
                        "FIELD[,FIELD...]",
                        a);
    }
  if (!**names)
    for (size_t i = 0; i < ARRAY_SIZE (ef); i++)
      {
        strv_push (names, xstrdup (ef[i]));
        strv_push (titles, xstrdup (ef_titles[i]));
      }
  return 0;
}

/* docker's CLI: tabwriter with a minimum width of 20 and padding 3. */
static void
print_table (char **titles, char ***rows, size_t n)
{
  size_t ncol = strv_len (titles);
  size_t *w = xcalloc (ncol, sizeof *w);
  for (size_t c = 0; c < ncol; c++)
    {
      w[c] = strlen (titles[c]);
      for (size_t r = 0; r < n; r++)
        if (strlen (rows[r][c]) > w[c])
          w[c] = strlen (rows[r][c]);
      w[c] = w[c] + 3 > 20 ? w[c] + 3 : 20;
    }
  for (size_t r = 0; r <= n; r++)
    {
      char **cells = r ? rows[r - 1] : titles;
      for (size_t c = 0; c < ncol; c++)
        if (c + 1 < ncol)
          printf ("%-*s", (int)w[c], cells[c]);
        else
          printf ("%s\n", cells[c]);
    }
  free (w);
}

static const struct cmd_opt top_opts[] = {
  CMD_OPT_HELP,
  CMD_OPT_END,
};

const struct cmd_spec cmd_top_spec = {
  .name = "top",
  .usage = usage_text,
  .opts = top_opts,
  .posix = true,
};

COMMAND (top)
{
  struct svc svc = { .cs = { .fd = -1 } };
  struct svc_container ctr = { 0 };
  _cleanup_strv_ char **names = NULL, **titles = NULL;
  struct proc *procs = NULL;
  char ***rows = NULL;
  struct ctx cx = { .hz = sysconf (_SC_CLK_TCK),
                    .now = time (NULL),
                    .boot = boot_time (),
                    .page = sysconf (_SC_PAGESIZE) };
  size_t n = 0;
  int ret = -1;

  const char *key;
  int c;
  /* options stop at CONTAINER: what follows is ps's, as docker passes
   * it on */
  c = cmd_getopt (argc, argv, &cmd_top_spec);
  if (c == CMD_OPT_HELP_ID)
    return 0;
  if (c != -1)
    return command_bad_option (err);
  if (optind >= argc)
    return command_usage_error (usage_text, err);
  key = argv[optind];
  if (columns (argv + optind + 1, &names, &titles, err) < 0)
    return err_exit (err, 1);
  if (containers_load (&svc, g->root, g->config_path, key, &ctr, err) < 0)
    goto out;
  if (ctr.rec.state.status != RT_RUNNING || ctr.rec.state.pid <= 0)
    {
      err_set (err, 0, "container '%s' is not running", key);
      goto out;
    }
  procs = container_procs (ctr.rec.state.pid, &n);
  if (!n)
    {
      err_set (err, 0, "container '%s' is not running", key);
      goto out;
    }
  qsort (procs, n, sizeof *procs, by_pid);
  rows = xcalloc (n, sizeof *rows);
  for (size_t i = 0; i < n; i++)
    {
      rows[i] = xcalloc (1, sizeof *rows[i]);
      for (size_t k = 0; names[k]; k++)
        {
          struct strbuf sb = STRBUF_INIT;
          field (names[k], &procs[i], &cx, &sb);
          strv_push (&rows[i], strbuf_detach (&sb, NULL));
        }
    }
  print_table (titles, rows, n);
  ret = 0;
out:
  for (size_t i = 0; i < n; i++)
    {
      free (procs[i].args);
      if (rows)
        strv_free (rows[i]);
    }
  free (procs);
  free (rows);
  svc_container_release (&ctr);
  svc_close (&svc);
  return ret;
}
