/* The user's side of a container's terminal and stdio: a pty pair, raw
 * mode on the user's terminal (always restored), window size, and the
 * loop that pumps bytes and forwards signals while a container runs.
 * The container's side (the slave as its stdio and controlling terminal)
 * is the runtime core's job (container.h, struct rt_stdio). */
#ifndef IMGTOOL_CONSOLE_H
#define IMGTOOL_CONSOLE_H

#include <stdbool.h>
#include <sys/types.h>

struct err;

struct rt_pty
{
  int master; /* stays with imgtool */
  int slave;  /* given to the container as its stdio */
};

/* A new pty pair; the slave comes from TIOCGPTPEER on the master (no path
 * lookup in any /dev/pts). Both fds are O_CLOEXEC. The window size is
 * copied from the user's terminal on fd when it is one. */
int rt_pty_open (struct rt_pty *p, int winsize_from, struct err **err);
void rt_pty_close (struct rt_pty *p);
/* Copy the window size of from to the pty master. */
void rt_pty_resize (int master, int from);

/* Put the user's terminal on fd in raw mode. The previous mode is put back
 * by rt_term_restore(), and at exit() if the caller forgets. No-op when fd
 * is not a terminal. */
int rt_term_raw (int fd, struct err **err);
void rt_term_restore (void);

/* Signals the pump forwards to the container (SIGWINCH resizes). */
extern const int rt_forwarded_signals[];

/* Block the forwarded signals and return a signalfd for them (O_CLOEXEC).
 * Call before starting the container so none is lost; the runtime core
 * resets the mask in the container. */
int rt_signals_block (struct err **err);
/* Undo rt_signals_block (closes sfd). */
void rt_signals_unblock (int sfd);

/* What the pump connects. Any fd may be -1. */
struct rt_pump
{
  int pidfd;      /* the container's PID 1: the loop ends when it exits
                     and its output is drained; -1: at the output's end */
  int sigfd;      /* from rt_signals_block, or -1 */
  int in;         /* user input (stdin with -i) ... */
  int in_to;      /* ... copied here (pty master, or a pipe) */
  int out_from;   /* container output (pty master, or a pipe) ... */
  int out;        /* ... copied here */
  int err_from;   /* container stderr (a pipe) ... */
  int err;        /* ... copied here */
  int winch_to;   /* pty master to resize on SIGWINCH, or -1 */
  /* Called for each chunk instead of writing to out/err, when set
   * (the -d monitor logs through it); stream is 1 or 2. */
  void (*sink) (void *data, int stream, const char *buf, size_t len);
  void *sink_data;
};

/* Run the loop until the container's PID 1 has exited and its output has
 * been drained. Signals on sigfd go to the container through pidfd. The
 * container is not reaped (the caller's rt_wait does it). */
int rt_pump_run (struct rt_pump *p, struct err **err);

#endif
