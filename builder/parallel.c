/* Stages that do not depend on each other run at the same time (BuildKit,
 * buildah --jobs), at most --jobs (default: the CPU count) at once.
 *
 * Why processes, not threads: a stage is built by a forked copy of the
 * build (the same code as a sequential one, no shared state to guard),
 * which writes its steps to the build cache. Once a batch is done, the
 * parent builds those stages again, silently: every step is then a cache
 * hit, which gives the parent their states (config, layers, keys) for the
 * stages that come after. A child's output (its STEP lines and its RUN
 * steps' output) goes through a pipe and is printed a line at a time,
 * prefixed with "[stage] ". Sequential builds (one stage ready at a time)
 * are unchanged. */
#include "builder/build_int.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/strbuf.h"
#include "lib/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* The stages idx needs first: FROM, COPY --from, RUN --mount from=. */
void
build_stage_deps (struct build *b, size_t idx, bool *deps)
{
  struct bf_stage *sg = &b->plan->stages[idx];
  struct bf_stage *s = build_from_stage (b, sg->base, idx);
  if (s)
    deps[s->index] = true;
  for (size_t i = 0; i < sg->n_instrs; i++)
    {
      const char *f = bf_flag (&sg->instrs[i], "from");
      _cleanup_strv_ char **froms = xcalloc (1, sizeof (char *));
      if (f && (s = build_from_stage (b, f, idx)))
        deps[s->index] = true;
      build_mounts_froms (&sg->instrs[i], &froms);
      for (size_t j = 0; froms[j]; j++)
        if ((s = build_from_stage (b, froms[j], idx)))
          deps[s->index] = true;
    }
}

static bool
ready (struct build *b, size_t idx)
{
  size_t n = b->plan->n_stages;
  _cleanup_free_ bool *deps = xcalloc (n, sizeof *deps);
  if (!b->needed[idx] || b->stages[idx].done)
    return false;
  build_stage_deps (b, idx, deps);
  for (size_t i = 0; i < n; i++)
    if (deps[i] && !b->stages[i].done)
      return false;
  return true;
}

struct child
{
  size_t idx;
  pid_t pid;
  int out;  /* its output, read end */
  int errp; /* its error message, read end */
  struct strbuf line;
  struct strbuf msg;
};

static char *
stage_label (struct build *b, size_t idx)
{
  const char *n = b->plan->stages[idx].name;
  return n ? xstrdup (n) : xasprintf ("%zu", idx);
}

/* In the child: build one stage, report, never return. */
static void __attribute__ ((noreturn))
child_main (struct build *b, size_t idx, int out, int errp, int step)
{
  struct err *e = NULL;
  fflush (NULL);
  if (dup2 (out, 1) < 0 || dup2 (out, 2) < 0)
    _exit (1);
  close (out);
  b->out = stdout;
  b->step = step;
  /* temp names of its own (build_tmpdir) */
  b->seq = (unsigned)(idx + 1) * 1000000u;
  int r = build_stage (b, idx, &e);
  fflush (NULL);
  if (r < 0 && e)
    {
      fs_write_all (errp, e->msg, strlen (e->msg));
      _exit (e->exit ? e->exit : 1);
    }
  _exit (r < 0 ? 1 : 0);
}

static void
flush_lines (struct build *b, struct child *c, bool all)
{
  char *nl;
  _cleanup_free_ char *label = stage_label (b, c->idx);
  while ((nl = memchr (c->line.buf, '\n', c->line.len)) || (all && c->line.len))
    {
      size_t n = nl ? (size_t)(nl - c->line.buf) : c->line.len;
      fprintf (b->out, "[%s] %.*s\n", label, (int)n, c->line.buf);
      size_t rest = c->line.len - n - (nl ? 1 : 0);
      memmove (c->line.buf, c->line.buf + c->line.len - rest, rest);
      strbuf_setlen (&c->line, rest);
    }
  fflush (b->out);
}

/* Run the batch's stages in children; 0 when all succeeded. */
static int
run_batch (struct build *b, struct child *cs, size_t n, struct err **err)
{
  int step = b->step, ret = 0;
  size_t open_fds = 0;
  fflush (NULL);
  for (size_t i = 0; i < n; i++)
    {
      int po[2], pe[2];
      if (pipe2 (po, O_CLOEXEC) < 0 || pipe2 (pe, O_CLOEXEC) < 0)
        return err_set (err, errno, "pipe");
      cs[i].pid = fork ();
      if (cs[i].pid < 0)
        return err_set (err, errno, "fork");
      if (cs[i].pid == 0)
        {
          close (po[0]);
          close (pe[0]);
          child_main (b, cs[i].idx, po[1], pe[1], step);
        }
      close (po[1]);
      close (pe[1]);
      cs[i].out = po[0];
      cs[i].errp = pe[0];
      open_fds += 2;
      step += 1 + (int)b->plan->stages[cs[i].idx].n_instrs;
    }
  bool killed = false;
  _cleanup_free_ struct pollfd *pf = xcalloc (2 * n + 1, sizeof *pf);
  while (open_fds > 0)
    {
      for (size_t i = 0; i < n; i++)
        {
          pf[2 * i] = (struct pollfd){ .fd = cs[i].out, .events = POLLIN };
          pf[2 * i + 1] = (struct pollfd){ .fd = cs[i].errp, .events = POLLIN };
        }
      pf[2 * n] = (struct pollfd){ .fd = killed ? -1 : b->interrupt_fd,
                                   .events = POLLIN };
      if (poll (pf, 2 * n + 1, -1) < 0 && errno != EINTR)
        return err_set (err, errno, "poll");
      if (pf[2 * n].revents & POLLIN)
        {
          /* the children have the signal blocked too: pass it on */
          struct err *e = NULL;
          build_check_interrupt (b, &e);
          err_free (e);
          for (size_t i = 0; i < n; i++)
            kill (cs[i].pid, b->interrupted ? b->interrupted : SIGTERM);
          killed = true;
        }
      for (size_t i = 0; i < 2 * n; i++)
        {
          struct child *c = &cs[i / 2];
          int *fd = i % 2 ? &c->errp : &c->out;
          char buf[4096];
          if (*fd < 0 || !(pf[i].revents & (POLLIN | POLLHUP)))
            continue;
          ssize_t got = read (*fd, buf, sizeof buf);
          if (got < 0 && errno == EINTR)
            continue;
          if (got <= 0)
            {
              close (*fd);
              *fd = -1;
              open_fds--;
              if (i % 2 == 0)
                flush_lines (b, c, true);
              continue;
            }
          strbuf_add (i % 2 ? &c->msg : &c->line, buf, (size_t)got);
          if (i % 2 == 0)
            flush_lines (b, c, false);
        }
    }
  for (size_t i = 0; i < n; i++)
    {
      int status;
      while (waitpid (cs[i].pid, &status, 0) < 0 && errno == EINTR)
        ;
      int code = WIFEXITED (status) ? WEXITSTATUS (status) : 1;
      if (code != 0 && ret == 0)
        {
          err_set (err, 0, "%s",
                   cs[i].msg.len ? cs[i].msg.buf : "a stage failed");
          err_exit (err, code);
          ret = -1;
        }
    }
  if (ret == 0 && build_check_interrupt (b, err) < 0)
    return -1;
  return ret;
}

int
build_stages (struct build *b, size_t target, struct err **err)
{
  size_t n = b->plan->n_stages;
  long cpus = sysconf (_SC_NPROCESSORS_ONLN);
  size_t jobs
      = b->o->jobs > 0 ? (size_t)b->o->jobs : (cpus > 0 ? (size_t)cpus : 1);
  _cleanup_free_ size_t *batch = xcalloc (n, sizeof *batch);
  while (!b->stages[target].done)
    {
      size_t k = 0;
      for (size_t i = 0; i <= target && k < jobs; i++)
        if (ready (b, i))
          batch[k++] = i;
      if (k == 0)
        return err_set (err, 0, "no stage can be built (a dependency cycle)");
      if (k == 1)
        {
          if (build_stage (b, batch[0], err) < 0)
            return -1;
          continue;
        }
      struct child *cs = xcalloc (k, sizeof *cs);
      for (size_t i = 0; i < k; i++)
        {
          cs[i] = (struct child){ .idx = batch[i],
                                  .out = -1,
                                  .errp = -1,
                                  .line = STRBUF_INIT,
                                  .msg = STRBUF_INIT };
        }
      int r = run_batch (b, cs, k, err);
      for (size_t i = 0; i < k; i++)
        {
          strbuf_release (&cs[i].line);
          strbuf_release (&cs[i].msg);
        }
      free (cs);
      if (r < 0)
        return -1;
      /* their steps are in the cache now: the same stages again, quietly,
       * give this process their states */
      b->replay = true;
      for (size_t i = 0; i < k && r == 0; i++)
        r = build_stage (b, batch[i], err);
      b->replay = false;
      if (r < 0)
        return -1;
    }
  return 0;
}
