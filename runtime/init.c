/* --init: a minimal init as the container's PID 1, built into imgtool
 * (docker's docker-init is tini, a separate program). The container's
 * init process, with everything set up (user, capabilities, seccomp),
 * forks: the child goes on to exec the command; the parent stays PID 1,
 * forwards the signals it gets to the command, reaps every orphan that
 * the kernel reparents to it, and exits with the command's status (128+N
 * for signal N) when the command ends; the pid namespace then ends with
 * it, killing what is left.
 *
 * why fork, not exec: the image need not contain anything, and imgtool's
 * own binary (its libraries) is not inside the container's root. The
 * parent runs no code of the image and holds no host fd (they are closed
 * below); its memory, as its /proc/1/cmdline and environ, is imgtool's,
 * so the command line and environment are wiped, and it is not dumpable
 * (container.c), so no process of the container can read or ptrace it. */
#include "runtime/init.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

/* Zero the memory /proc/self/cmdline and environ show (fields 48-51 of
 * /proc/self/stat: arg_start, arg_end, env_start, env_end), and name the
 * process "init". */
static void
wipe_cmdline (void)
{
  char buf[4096], *p;
  unsigned long v[4];
  ssize_t n;
  int fd = open ("/proc/self/stat", O_RDONLY | O_CLOEXEC);
  prctl (PR_SET_NAME, "init", 0, 0, 0);
  if (fd < 0)
    return;
  n = read (fd, buf, sizeof buf - 1);
  close (fd);
  if (n <= 0)
    return;
  buf[n] = '\0';
  /* the fields after the command name, which may hold spaces */
  p = strrchr (buf, ')');
  if (!p)
    return;
  p += 2;
  for (int field = 3; field < 48 && p; field++)
    p = strchr (p, ' ') ? strchr (p, ' ') + 1 : NULL;
  if (!p || sscanf (p, "%lu %lu %lu %lu", &v[0], &v[1], &v[2], &v[3]) != 4)
    return;
  if (v[1] > v[0])
    {
      memset ((void *)v[0], 0, v[1] - v[0]);
      memcpy ((void *)v[0], "init", v[1] - v[0] > 4 ? 5 : v[1] - v[0]);
    }
  if (v[3] > v[2])
    memset ((void *)v[2], 0, v[3] - v[2]);
}

static int
exit_status (int status)
{
  if (WIFEXITED (status))
    return WEXITSTATUS (status);
  if (WIFSIGNALED (status))
    return 128 + WTERMSIG (status);
  return 255;
}

static void __attribute__ ((noreturn)) init_loop (pid_t child)
{
  sigset_t all;
  sigfillset (&all);
  for (;;)
    {
      siginfo_t si;
      int sig = sigwaitinfo (&all, &si);
      if (sig < 0)
        continue;
      if (sig != SIGCHLD)
        {
          kill (child, sig);
          continue;
        }
      for (;;)
        {
          int status;
          pid_t pid = waitpid (-1, &status, WNOHANG);
          if (pid <= 0)
            break;
          if (pid == child)
            _exit (exit_status (status));
        }
    }
}

int
rt_init_fork (void)
{
  sigset_t all, old;
  pid_t child;
  sigfillset (&all);
  /* blocked before the fork: no signal is lost in between, and the
   * command unblocks them (it starts with docker's signal state) */
  sigprocmask (SIG_SETMASK, &all, &old);
  /* before the fork: the command may read /proc/1 at once */
  wipe_cmdline ();
  child = fork ();
  if (child < 0)
    {
      sigprocmask (SIG_SETMASK, &old, NULL);
      return -1;
    }
  if (child == 0)
    {
      /* the command in a process group of its own, in the terminal's
       * foreground: ^C reaches it once, from the terminal, not twice */
      setpgid (0, 0);
      if (isatty (STDIN_FILENO))
        {
          signal (SIGTTOU, SIG_IGN);
          tcsetpgrp (STDIN_FILENO, getpid ());
        }
      return 0;
    }
  /* nothing of the host may stay open in PID 1 (the sync socket among
   * them: the runtime waits for its end to know the command runs) */
  if (close_range (3, ~0U, 0) < 0) /* a profile may refuse it */
    for (int fd = 3; fd < 4096; fd++)
      close (fd);
  init_loop (child);
}
