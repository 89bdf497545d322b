/* Terminal and stdio plumbing for run and exec (see console.h). */
#include "runtime/console.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/xalloc.h"
#include "runtime/container.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>

const int rt_forwarded_signals[]
    = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH, 0 };

void
rt_pty_close (struct rt_pty *p)
{
  if (p->master >= 0)
    close (p->master);
  if (p->slave >= 0)
    close (p->slave);
  p->master = p->slave = -1;
}

void
rt_pty_resize (int master, int from)
{
  struct winsize ws;
  if (master >= 0 && from >= 0 && ioctl (from, TIOCGWINSZ, &ws) == 0
      && (ws.ws_row || ws.ws_col))
    ioctl (master, TIOCSWINSZ, &ws);
}

int
rt_user_terminal (void)
{
  return isatty (0) ? 0 : isatty (1) ? 1 : -1;
}

/* The user's terminal mode before raw mode, for every exit path. */
static struct termios saved_mode;
static int saved_fd = -1;

void
rt_term_restore (void)
{
  if (saved_fd >= 0)
    {
      tcsetattr (saved_fd, TCSADRAIN, &saved_mode);
      saved_fd = -1;
    }
}

int
rt_term_raw (int fd, struct err **err)
{
  static bool registered;
  struct termios t;
  if (!isatty (fd))
    return 0;
  if (tcgetattr (fd, &saved_mode) < 0)
    return err_set (err, errno, "read the terminal's mode");
  t = saved_mode;
  cfmakeraw (&t);
  /* Keep output post-processing off too: the container's pty does it. */
  if (!registered)
    {
      atexit (rt_term_restore);
      registered = true;
    }
  saved_fd = fd;
  if (tcsetattr (fd, TCSADRAIN, &t) < 0)
    {
      saved_fd = -1;
      return err_set (err, errno, "set the terminal to raw mode");
    }
  return 0;
}

int
rt_signals_block (struct rt_signals *s, struct err **err)
{
  sigset_t set;
  s->fd = -1;
  sigemptyset (&set);
  for (const int *sig = rt_forwarded_signals; *sig; sig++)
    sigaddset (&set, *sig);
  if (sigprocmask (SIG_BLOCK, &set, &s->old) < 0)
    return err_set (err, errno, "block signals");
  s->fd = signalfd (-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
  if (s->fd < 0)
    {
      sigprocmask (SIG_SETMASK, &s->old, NULL);
      return err_set (err, errno, "signalfd");
    }
  return 0;
}

void
rt_signals_restore (struct rt_signals *s)
{
  struct signalfd_siginfo si;
  if (s->fd < 0)
    return;
  while (read (s->fd, &si, sizeof si) == (ssize_t)sizeof si)
    ;
  close (s->fd);
  s->fd = -1;
  sigprocmask (SIG_SETMASK, &s->old, NULL);
}

/* Copy what is readable on from; returns bytes read, 0 at EOF (or EIO of a
 * pty master whose slaves are all closed), -1 with EAGAIN when nothing
 * is there. */
static ssize_t
copy_once (struct rt_pump *p, int from, int to, int stream)
{
  char buf[65536];
  ssize_t n;
  do
    n = read (from, buf, sizeof buf);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    return errno == EIO ? 0 : -1;
  if (n == 0)
    return 0;
  if (p->sink)
    p->sink (p->sink_data, stream, buf, (size_t)n);
  if (to >= 0 && fs_write_all (to, buf, (size_t)n) < 0 && errno == EPIPE)
    {
      /* the reader left: the container's next write gets EPIPE (and
       * SIGPIPE) as with the reader's own pipe */
      errno = EPIPE;
      return -2;
    }
  return n;
}

/* Close what fd reads (the container's side then gets EPIPE or a hang
 * up) while fd itself stays open for its owner to close. */
static void
hang_up (int fd)
{
  int null = open ("/dev/null", O_RDONLY | O_CLOEXEC);
  if (null >= 0)
    {
      dup3 (null, fd, O_CLOEXEC);
      close (null);
    }
}

static void
set_nonblock (int fd)
{
  int fl = fcntl (fd, F_GETFL);
  if (fl >= 0)
    fcntl (fd, F_SETFL, fl | O_NONBLOCK);
}

int
rt_pump_run (struct rt_pump *p, struct err **err)
{
  bool exited = false;
  int in = p->in, out_from = p->out_from, err_from = p->err_from;

  if (out_from >= 0)
    set_nonblock (out_from);
  if (err_from >= 0)
    set_nonblock (err_from);
  for (;;)
    {
      struct pollfd fds[6];
      int n = 0, i_pid = -1, i_sig = -1, i_in = -1, i_out = -1, i_err = -1;
      int i_extra = -1;
      if (!exited && p->pidfd >= 0)
        {
          i_pid = n;
          fds[n++] = (struct pollfd){ .fd = p->pidfd, .events = POLLIN };
        }
      if (p->sigfd >= 0 && !exited)
        {
          i_sig = n;
          fds[n++] = (struct pollfd){ .fd = p->sigfd, .events = POLLIN };
        }
      if (in >= 0 && p->in_to >= 0 && !exited)
        {
          i_in = n;
          fds[n++] = (struct pollfd){ .fd = in, .events = POLLIN };
        }
      if (out_from >= 0)
        {
          i_out = n;
          fds[n++] = (struct pollfd){ .fd = out_from, .events = POLLIN };
        }
      if (err_from >= 0)
        {
          i_err = n;
          fds[n++] = (struct pollfd){ .fd = err_from, .events = POLLIN };
        }
      if (p->extra >= 0 && p->on_extra && !exited)
        {
          i_extra = n;
          fds[n++] = (struct pollfd){ .fd = p->extra, .events = POLLIN };
        }
      if ((exited || p->pidfd < 0) && out_from < 0 && err_from < 0)
        return 0;
      /* Once PID 1 is gone, output is drained to its end (EOF, or EIO of
       * the pty): what it wrote last may still be in the tty's buffer. */
      if (poll (fds, (nfds_t)n, -1) < 0)
        {
          if (errno == EINTR)
            continue;
          return err_set (err, errno, "poll");
        }
      /* signals first: a resize (SIGWINCH) that came before the input
       * of the same round reaches the pty before that input does */
      if (i_sig >= 0 && fds[i_sig].revents)
        {
          struct signalfd_siginfo si;
          while (read (p->sigfd, &si, sizeof si) == (ssize_t)sizeof si)
            {
              if (si.ssi_signo == SIGWINCH && p->winch_to >= 0)
                rt_pty_resize (p->winch_to, rt_user_terminal ());
              else
                syscall (SYS_pidfd_send_signal, p->pidfd, si.ssi_signo, NULL,
                         0);
            }
        }
      if (i_out >= 0 && fds[i_out].revents)
        {
          ssize_t r = copy_once (p, out_from, p->out, 1);
          if (r == -2)
            hang_up (out_from);
          if (r == 0 || r == -2)
            out_from = -1;
        }
      if (i_err >= 0 && fds[i_err].revents)
        {
          ssize_t r = copy_once (p, err_from, p->err, 2);
          if (r == -2)
            hang_up (err_from);
          if (r == 0 || r == -2)
            err_from = -1;
        }
      if (i_in >= 0 && fds[i_in].revents)
        {
          char buf[65536];
          ssize_t r = read (in, buf, sizeof buf);
          if (r > 0)
            fs_write_all (p->in_to, buf, (size_t)r);
          else if (r == 0 || errno != EINTR)
            in = -1; /* EOF of the user's input: stop reading it */
        }
      if (i_extra >= 0 && fds[i_extra].revents)
        p->on_extra (p->extra_data);
      if (i_pid >= 0 && fds[i_pid].revents)
        exited = true;
    }
}

struct rt_pump
rt_pump_for (int pidfd, int sigfd)
{
  return (struct rt_pump){ .pidfd = pidfd,
                           .sigfd = sigfd,
                           .in = -1,
                           .in_to = -1,
                           .out_from = -1,
                           .out = -1,
                           .err_from = -1,
                           .err = -1,
                           .winch_to = -1,
                           .extra = -1 };
}

int
rt_console_attach (struct rt_container *c, const struct rt_signals *sg,
                   bool interactive, struct err **err)
{
  return rt_console_attach_logged (c, sg, interactive, -1, -1, NULL, NULL, err);
}

int
rt_console_attach_logged (struct rt_container *c, const struct rt_signals *sg,
                          bool interactive, int out_from, int err_from,
                          void (*sink) (void *, int, const char *, size_t),
                          void *sink_data, struct err **err)
{
  struct rt_pump pump = rt_pump_for (c->pidfd, sg ? sg->fd : -1);
  int r;
  pump.out = 1;
  pump.err = 2;
  pump.out_from = out_from;
  pump.err_from = err_from;
  pump.sink = sink;
  pump.sink_data = sink_data;
  if (c->console >= 0)
    {
      if (interactive && rt_term_raw (0, err) < 0)
        {
          rt_kill (c, SIGKILL, NULL);
          return -1;
        }
      pump.in = interactive ? 0 : -1;
      pump.in_to = c->console;
      pump.out_from = c->console;
      pump.winch_to = c->console;
    }
  r = rt_pump_run (&pump, err);
  rt_term_restore ();
  if (r < 0)
    rt_kill (c, SIGKILL, NULL);
  return r;
}
