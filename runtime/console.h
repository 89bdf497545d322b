/* The user's side of a container's terminal and stdio: raw mode on the
 * user's terminal (always restored), window size, and the loop that pumps
 * bytes and forwards signals while a container runs. The container's
 * side is the runtime core's job: it opens a pty in the container's own
 * devpts, makes the slave the process's stdio, controlling terminal and
 * /dev/console, and hands the master back (struct rt_container.console). */
#ifndef IMGTOOL_CONSOLE_H
#define IMGTOOL_CONSOLE_H

#include <signal.h>
#include <stdbool.h>
#include <sys/types.h>

struct err;

struct rt_pty
{
  int master; /* goes to imgtool */
  int slave;  /* the container's stdio */
};

void rt_pty_close (struct rt_pty *p);
/* Copy the window size of from to the pty master. */
void rt_pty_resize (int master, int from);
/* The user's terminal: 0 or 1 when it is one, else -1. */
int rt_user_terminal (void);

/* Put the user's terminal on fd in raw mode. The previous mode is put back
 * by rt_term_restore(), and at exit() if the caller forgets. No-op when fd
 * is not a terminal. */
int rt_term_raw (int fd, struct err **err);
void rt_term_restore (void);

/* Signals the pump forwards to the container (SIGWINCH resizes). */
extern const int rt_forwarded_signals[];

/* The forwarded signals blocked and read through a signalfd, so none is
 * lost or kills imgtool while a container runs. */
struct rt_signals
{
  int fd;       /* signalfd (O_CLOEXEC, non-blocking), or -1 */
  sigset_t old; /* the mask before */
};
/* Block them (before starting the container: the runtime core resets
 * the mask in the container) and open the signalfd. On failure the mask
 * is unchanged and fd is -1. */
int rt_signals_block (struct rt_signals *s, struct err **err);
/* Drop what is still pending (it was meant for a container that is
 * gone), close the fd and put the old mask back. */
void rt_signals_restore (struct rt_signals *s);

/* What the pump connects. Any fd may be -1. */
struct rt_pump
{
  int pidfd;    /* the container's PID 1: the loop ends when it exits
                   and its output is drained; -1: at the output's end */
  int sigfd;    /* rt_signals.fd, or -1 */
  int in;       /* user input (stdin with -i) ... */
  int in_to;    /* ... copied here (pty master, or a pipe) */
  int out_from; /* container output (pty master, or a pipe) ... */
  int out;      /* ... copied here */
  int err_from; /* container stderr (a pipe) ... */
  int err;      /* ... copied here */
  int winch_to; /* pty master to resize on SIGWINCH, or -1 */
  /* Called for each chunk before it is written to out/err, when set
   * (the monitors log through it); stream is 1 or 2. */
  void (*sink) (void *data, int stream, const char *buf, size_t len);
  void *sink_data;
  /* One more fd to watch while the process runs (the -d monitor's
   * attach clients, behind an epoll fd), or -1: on_extra is called when
   * it is readable. */
  int extra;
  void (*on_extra) (void *data);
  void *extra_data;
};

/* A pump watching pidfd and forwarding the signals of sigfd (or -1),
 * with nothing else connected: the caller sets the fds it uses. */
struct rt_pump rt_pump_for (int pidfd, int sigfd);

/* Run the loop until the container's PID 1 has exited and its output has
 * been drained. Signals on sigfd go to the container through pidfd. The
 * container is not reaped (the caller's rt_wait does it). */
int rt_pump_run (struct rt_pump *p, struct err **err);

/* The foreground of `run` and `exec` once the process started (with the
 * signals blocked before, sg): with a console (c->console), the user's
 * terminal on stdin in raw mode when interactive, stdin (interactive)
 * copied to the console and the console to stdout, SIGWINCH resizing the
 * console like the user's terminal; without one, the process has the
 * user's stdio itself and only signals are forwarded. Returns when the
 * process has exited and its output is drained, the terminal restored;
 * the caller reaps it (rt_wait). On failure the process is killed. */
struct rt_container;
int rt_console_attach (struct rt_container *c, const struct rt_signals *sg,
                       bool interactive, struct err **err);
/* The same with the output also given to sink (the foreground run's log):
 * without a console, the container's stdout and stderr are the pipes
 * out_from and err_from (read ends; closed by the caller) instead of the
 * user's. */
int rt_console_attach_logged (struct rt_container *c,
                              const struct rt_signals *sg, bool interactive,
                              int out_from, int err_from,
                              void (*sink) (void *, int, const char *, size_t),
                              void *sink_data, struct err **err);

#endif
