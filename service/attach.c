/* attach: a detached container's stdio, through its monitor (service.h).
 *
 * The monitor listens on <id>/attach.sock (SOCK_SEQPACKET, reached
 * through /proc/self/fd/N/ so that a long store path never overflows
 * sun_path), as conmon does. One record per packet, its first byte the
 * kind:
 *   monitor -> client  1 stdout data, 2 stderr data, 3 the exit status
 *                      (decimal), sent when the container ends
 *   client -> monitor  0 stdin data, 1 "ROWS COLS" (the window, with a pty)
 * The client (imgtool attach) does the user's side: raw mode with a pty,
 * the detach keys (docker's: held back while they match, forwarded when
 * the match breaks), SIGWINCH, and with --sig-proxy the signals, sent to
 * the container's process itself. */
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/rundir.h"
#include "lib/xalloc.h"
#include "runtime/console.h"
#include "service/service.h"
#include "service/service_int.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#define SOCK_FILE "attach.sock"
#define PACKET_MAX 32768

enum
{
  PKT_STDIN = 0,
  PKT_RESIZE = 1,
  PKT_STDOUT = 1,
  PKT_STDERR = 2,
  PKT_EXIT = 3,
};

/* "/proc/self/fd/N/attach.sock" for the container's directory dirfd (or
 * its name in the runtime directory N, rootless: lib/rundir.h) */
static int
sock_addr (int dirfd, struct sockaddr_un *a, struct err **err)
{
  int at;
  _cleanup_free_ char *name = rundir_at (dirfd, SOCK_FILE, &at, err);
  if (!name)
    return -1;
  memset (a, 0, sizeof *a);
  a->sun_family = AF_UNIX;
  snprintf (a->sun_path, sizeof a->sun_path, "/proc/self/fd/%d/%s", at, name);
  return 0;
}

/* ------------------------------------------------------------ server */

int
svc_attach_listen (struct svc *s, const char *id, struct svc_attach_server *a,
                   struct err **err)
{
  _cleanup_close_ int dir = fs_open_dir (s->cs.fd, id, err);
  struct sockaddr_un addr;
  struct epoll_event ev = { .events = EPOLLIN };
  memset (a, 0, sizeof *a);
  a->listen = a->epoll = a->in_to = a->winch_to = a->status = -1;
  if (dir < 0)
    return -1;
  rundir_unlink (dir, SOCK_FILE);
  if (sock_addr (dir, &addr, err) < 0)
    return -1;
  a->listen
      = socket (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  a->epoll = epoll_create1 (EPOLL_CLOEXEC);
  if (a->listen < 0 || a->epoll < 0
      || bind (a->listen, (struct sockaddr *)&addr, sizeof addr) < 0
      || listen (a->listen, 8) < 0)
    {
      err_set (err, errno, "attach socket of container %.12s", id);
      svc_attach_close (a);
      return -1;
    }
  /* the socket is the container's stdin: only the container's
   * directory (0700) guards it, as every file of the record */
  ev.data.fd = a->listen;
  epoll_ctl (a->epoll, EPOLL_CTL_ADD, a->listen, &ev);
  return 0;
}

static void
drop_client (struct svc_attach_server *a, size_t i)
{
  epoll_ctl (a->epoll, EPOLL_CTL_DEL, a->clients[i], NULL);
  close (a->clients[i]);
  a->clients[i] = a->clients[--a->n];
}

void
svc_attach_output (struct svc_attach_server *a, int stream, const char *buf,
                   size_t len)
{
  char pkt[PACKET_MAX];
  while (len)
    {
      size_t n = len < sizeof pkt - 1 ? len : sizeof pkt - 1;
      pkt[0] = (char)(stream == 2 ? PKT_STDERR : PKT_STDOUT);
      memcpy (pkt + 1, buf, n);
      for (size_t i = 0; i < a->n;)
        /* a client that cannot take it within its send timeout is
         * dropped, never the container held up */
        if (send (a->clients[i], pkt, n + 1, MSG_NOSIGNAL) < 0)
          drop_client (a, i);
        else
          i++;
      buf += n;
      len -= n;
    }
}

static void
client_packet (struct svc_attach_server *a, size_t i)
{
  char pkt[PACKET_MAX + 1];
  ssize_t n = recv (a->clients[i], pkt, sizeof pkt - 1, MSG_DONTWAIT);
  if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
    {
      drop_client (a, i);
      return;
    }
  if (n <= 0)
    return;
  if (pkt[0] == PKT_STDIN && a->in_to >= 0 && n > 1)
    fs_write_all (a->in_to, pkt + 1, (size_t)n - 1);
  else if (pkt[0] == PKT_RESIZE && a->winch_to >= 0)
    {
      struct winsize ws = { 0 };
      unsigned rows, cols;
      pkt[n] = '\0';
      if (sscanf (pkt + 1, "%u %u", &rows, &cols) == 2)
        {
          ws.ws_row = (unsigned short)rows;
          ws.ws_col = (unsigned short)cols;
          ioctl (a->winch_to, TIOCSWINSZ, &ws);
        }
    }
}

void
svc_attach_ready (void *data)
{
  struct svc_attach_server *a = data;
  struct epoll_event ev[8];
  int n = epoll_wait (a->epoll, ev, 8, 0);
  for (int k = 0; k < n; k++)
    {
      int fd = ev[k].data.fd;
      if (fd == a->listen)
        {
          int c = accept4 (a->listen, NULL, NULL, SOCK_CLOEXEC);
          struct timeval tv = { .tv_sec = 5 };
          struct epoll_event e = { .events = EPOLLIN };
          if (c < 0)
            continue;
          if (a->n == ARRAY_SIZE (a->clients))
            {
              close (c);
              continue;
            }
          setsockopt (c, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
          e.data.fd = c;
          epoll_ctl (a->epoll, EPOLL_CTL_ADD, c, &e);
          a->clients[a->n++] = c;
          continue;
        }
      for (size_t i = 0; i < a->n; i++)
        if (a->clients[i] == fd)
          {
            client_packet (a, i);
            break;
          }
    }
}

void
svc_attach_exit (struct svc_attach_server *a, int status)
{
  char pkt[16];
  int n = snprintf (pkt, sizeof pkt, "%c%d", PKT_EXIT, status);
  while (a->n)
    {
      send (a->clients[0], pkt, (size_t)n, MSG_NOSIGNAL);
      drop_client (a, 0);
    }
}

void
svc_attach_close (struct svc_attach_server *a)
{
  svc_attach_exit (a, -1);
  if (a->listen >= 0)
    close (a->listen);
  if (a->epoll >= 0)
    close (a->epoll);
  a->listen = a->epoll = -1;
}

/* ------------------------------------------------------- detach keys */

int
svc_detach_keys_parse (const char *spec, char *out, size_t *n, struct err **err)
{
  _cleanup_free_ char *copy = xstrdup (spec);
  char *save = NULL;
  *n = 0;
  if (!*spec)
    return 0; /* podman: "" turns detaching off */
  for (char *k = strtok_r (copy, ",", &save); k;
       k = strtok_r (NULL, ",", &save))
    {
      if (*n == SVC_DETACH_KEYS_MAX)
        return err_set (err, 0, "detach keys '%s': too many keys", spec);
      if (strlen (k) == 1)
        out[(*n)++] = k[0];
      else if (!strcmp (k, "DEL"))
        out[(*n)++] = 127;
      else if (!strncmp (k, "ctrl-", 5) && strlen (k) == 6
               && ((k[5] >= 'a' && k[5] <= 'z') || strchr ("@[\\]^_", k[5])))
        /* moby/term: ctrl-@ is 0, ctrl-a 1, ... ctrl-_ 31 */
        out[(*n)++]
            = (char)(k[5] >= 'a' && k[5] <= 'z' ? k[5] - 'a' + 1 : k[5] - '@');
      else
        return err_set (err, 0,
                        "invalid detach keys '%s': unknown character "
                        "'%s'",
                        spec, k);
    }
  return 0;
}

size_t
svc_detach_match (struct svc_detach *d, const char *in, size_t len, char *out,
                  bool *detach)
{
  size_t o = 0;
  *detach = false;
  for (size_t i = 0; i < len; i++)
    {
      if (d->n && in[i] == d->keys[d->pos])
        {
          if (++d->pos == d->n)
            {
              *detach = true;
              return o;
            }
          continue;
        }
      /* the match broke: what was held back goes on, then this byte
       * (which may start a new match) */
      memcpy (out + o, d->keys, d->pos);
      o += d->pos;
      d->pos = 0;
      if (d->n && in[i] == d->keys[0])
        d->pos = 1;
      else
        out[o++] = in[i];
    }
  return o;
}

/* ------------------------------------------------------------ client */

static void
send_winsize (int sock, int from)
{
  struct winsize ws;
  char pkt[32];
  int n;
  if (from < 0 || ioctl (from, TIOCGWINSZ, &ws) < 0)
    return;
  n = snprintf (pkt, sizeof pkt, "%c%u %u", PKT_RESIZE, ws.ws_row, ws.ws_col);
  send (sock, pkt, (size_t)n, MSG_NOSIGNAL);
}

static int
connect_to (struct svc *s, const struct rt_record *rec, struct err **err)
{
  _cleanup_close_ int dir = fs_open_dir (s->cs.fd, rec->id, err);
  struct sockaddr_un addr;
  int fd;
  if (dir < 0 || sock_addr (dir, &addr, err) < 0)
    return -1;
  fd = socket (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return err_set (err, errno, "socket");
  if (connect (fd, (struct sockaddr *)&addr, sizeof addr) < 0)
    {
      close (fd);
      if (errno == ENOENT || errno == ECONNREFUSED)
        return err_set (err, 0,
                        "container '%s' runs in the foreground of the "
                        "command that started it: there is nothing to attach "
                        "to",
                        rec->name);
      return err_set (err, errno, "attach to container '%s'", rec->name);
    }
  return fd;
}

int
svc_attach (struct svc *s, struct svc_container *c,
            const struct svc_attach_opts *o, struct err **err)
{
  struct rt_record *rec = &c->rec;
  struct svc_detach d = { 0 };
  struct rt_signals sg = { .fd = -1 };
  _cleanup_close_ int sock = -1, pidfd = -1;
  bool tty = rec->plan.tty;
  int in = !o->no_stdin && rec->plan.stdin_open ? 0 : -1;
  int status = -1;
  char buf[PACKET_MAX + 1];

  if (rec->state.status != RT_RUNNING)
    return err_set (err, 0,
                    "you cannot attach to a stopped container, start "
                    "it first");
  if (rec->state.paused)
    return err_set (err, 0,
                    "you cannot attach to a paused container, "
                    "unpause it first");
  /* docker: the detach keys work with a tty and stdin attached */
  if (tty && in >= 0
      && svc_detach_keys_parse (o->detach_keys ? o->detach_keys
                                               : SVC_DETACH_KEYS_DEFAULT,
                                d.keys, &d.n, err)
             < 0)
    return -1;
  sock = connect_to (s, rec, err);
  if (sock < 0)
    return -1;
  pidfd = rt_record_pidfd (rec);
  if ((tty || o->sig_proxy) && rt_signals_block (&sg, err) < 0)
    return -1;
  if (tty && in >= 0 && isatty (in) && rt_term_raw (in, err) < 0)
    {
      rt_signals_restore (&sg);
      return -1;
    }
  if (tty)
    send_winsize (sock, rt_user_terminal ());
  for (;;)
    {
      struct pollfd p[3] = { { .fd = sock, .events = POLLIN },
                             { .fd = sg.fd, .events = POLLIN },
                             { .fd = in, .events = POLLIN } };
      ssize_t n;
      if (poll (p, 3, -1) < 0)
        {
          if (errno == EINTR)
            continue;
          err_set (err, errno, "poll");
          break;
        }
      if (p[1].revents)
        {
          struct signalfd_siginfo si;
          while (read (sg.fd, &si, sizeof si) == (ssize_t)sizeof si)
            if (si.ssi_signo == SIGWINCH)
              send_winsize (sock, rt_user_terminal ());
            else if (!tty && pidfd >= 0)
              syscall (SYS_pidfd_send_signal, pidfd, si.ssi_signo, NULL, 0);
        }
      if (p[2].revents)
        {
          bool detach;
          n = read (in, buf + 1, sizeof buf - 1);
          if (n <= 0)
            in = -1; /* the user's input ended: the container's stays */
          else
            {
              char fwd[PACKET_MAX];
              size_t m
                  = svc_detach_match (&d, buf + 1, (size_t)n, fwd + 1, &detach);
              fwd[0] = PKT_STDIN;
              if (m)
                send (sock, fwd, m + 1, MSG_NOSIGNAL);
              if (detach)
                {
                  status = 0;
                  rt_term_restore ();
                  fprintf (stderr, "\r\nread escape sequence\r\n");
                  break;
                }
            }
        }
      if (p[0].revents)
        {
          n = recv (sock, buf, sizeof buf, 0);
          if (n <= 0)
            break; /* the monitor went away */
          if (buf[0] == PKT_EXIT)
            {
              buf[n] = '\0';
              status = atoi (buf + 1);
              break;
            }
          fs_write_all (buf[0] == PKT_STDERR ? 2 : 1, buf + 1, (size_t)n - 1);
        }
    }
  rt_term_restore ();
  rt_signals_restore (&sg);
  if (*err)
    return -1;
  if (status < 0)
    {
      /* no status from the monitor: the record has it */
      struct rt_record now;
      svc_wait_monitor (s, rec->id);
      status
          = svc_load_id (s, rec->id, &now, err) == 0 ? now.state.exit_code : 0;
      rt_record_release (&now);
      err_clear (err);
    }
  return status;
}
