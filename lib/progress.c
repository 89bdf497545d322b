/* Progress display: see lib/progress.h. */
#include "lib/progress.h"
#include "lib/human.h"
#include "lib/xalloc.h"

#include <stdarg.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BAR_WIDTH 30
#define REDRAW_NS 100000000LL

struct item
{
  char *label;
  int64_t total, done;
  char *status; /* NULL while running */
  int64_t started_ns, finished_ns;
};

struct progress
{
  FILE *out;
  const char *verb; /* static */
  bool quiet, tty;
  struct item *items;
  size_t n;
  int drawn; /* lines of bars on screen */
  int64_t last_draw_ns;
};

static int64_t
now_ns (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

struct progress *
progress_new (FILE *out, bool quiet, const char *verb)
{
  struct progress *p = xcalloc (1, sizeof *p);
  p->out = out;
  p->verb = verb;
  p->quiet = quiet;
  p->tty = !quiet && isatty (fileno (out)) && getenv ("TERM")
           && strcmp (getenv ("TERM"), "dumb");
  return p;
}

static void
draw_item (struct progress *p, struct item *it)
{
  char done[16], total[16], rate[16];
  double secs = (double)((it->finished_ns ? it->finished_ns : now_ns ())
                         - it->started_ns)
                / 1e9;
  human_size (it->done, done, sizeof done);
  human_size (it->total, total, sizeof total);
  human_size (secs > 0.05 ? (int64_t)((double)it->done / secs) : 0, rate,
              sizeof rate);
  if (it->status)
    {
      fprintf (p->out, "\033[2K%s: %s\n", it->label, it->status);
      return;
    }
  int fill = it->total > 0 ? (int)(it->done * BAR_WIDTH / it->total) : 0;
  char bar[BAR_WIDTH + 1];
  for (int i = 0; i < BAR_WIDTH; i++)
    bar[i] = i < fill ? '=' : i == fill ? '>' : ' ';
  bar[BAR_WIDTH] = '\0';
  fprintf (p->out, "\033[2K%s: %s [%s] %s/%s %s/s\n", it->label, p->verb, bar,
           done, total, rate);
}

static void
redraw (struct progress *p, bool force)
{
  int64_t t = now_ns ();
  if (!p->tty || (!force && t - p->last_draw_ns < REDRAW_NS))
    return;
  p->last_draw_ns = t;
  if (p->drawn)
    fprintf (p->out, "\033[%dA", p->drawn);
  for (size_t i = 0; i < p->n; i++)
    draw_item (p, &p->items[i]);
  p->drawn = (int)p->n;
  fflush (p->out);
}

int
progress_add (struct progress *p, const char *label, int64_t total)
{
  struct item *it;
  p->items = xrealloc (p->items, (p->n + 1) * sizeof *p->items);
  it = &p->items[p->n];
  memset (it, 0, sizeof *it);
  it->label = xstrdup (label);
  it->total = total;
  it->started_ns = now_ns ();
  redraw (p, true);
  return (int)p->n++;
}

void
progress_update (struct progress *p, int id, int64_t done)
{
  if (id < 0 || (size_t)id >= p->n)
    return;
  p->items[id].done = done;
  redraw (p, false);
}

void
progress_done (struct progress *p, int id, const char *status)
{
  struct item *it;
  if (id < 0 || (size_t)id >= p->n)
    return;
  it = &p->items[id];
  free (it->status);
  it->status = xstrdup (status);
  it->finished_ns = now_ns ();
  if (p->tty)
    redraw (p, true);
  else if (!p->quiet)
    {
      char size[16];
      human_size (it->done > 0 ? it->done : it->total, size, sizeof size);
      fprintf (p->out, "%s: %s %s\n", it->label, status, size);
      fflush (p->out);
    }
}

void
progress_line (struct progress *p, const char *fmt, ...)
{
  va_list ap;
  if (p->quiet)
    return;
  if (p->tty && p->drawn)
    {
      /* Print above the bars, then draw them again below. */
      fprintf (p->out, "\033[%dA\033[J", p->drawn);
      p->drawn = 0;
    }
  va_start (ap, fmt);
  vfprintf (p->out, fmt, ap);
  va_end (ap);
  fputc ('\n', p->out);
  redraw (p, true);
  fflush (p->out);
}

void
progress_free (struct progress *p)
{
  if (!p)
    return;
  redraw (p, true);
  for (size_t i = 0; i < p->n; i++)
    {
      free (p->items[i].label);
      free (p->items[i].status);
    }
  free (p->items);
  free (p);
}
