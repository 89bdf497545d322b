/* The container process's last steps, shared by rt_start's child and
 * rt_exec's process: session, stdio, working directory, user, capabilities,
 * no_new_privs, seccomp, and the exec itself with docker's 126/127
 * distinction. */
#include "lib/err.h"
#include "lib/xalloc.h"
#include "runtime/child.h"
#include "runtime/container.h"
#include "runtime/plan.h"
#include "runtime/rlimits.h"
#include "runtime/security.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/openat2.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static int
process_stdio (const struct rt_stdio *io, int tty, struct err **err)
{
  int want[3] = { io->in, io->out, io->err }, high[3];
  _cleanup_close_ int null = -1;
  if (tty >= 0)
    want[0] = want[1] = want[2] = tty;
  /* Copy every source above 2 first, so dup2 cannot clobber a source
   * that happens to be 0, 1 or 2 already. */
  for (int i = 0; i < 3; i++)
    {
      if (want[i] < 0)
        {
          if (null < 0)
            null = open ("/dev/null", O_RDWR | O_CLOEXEC);
          if (null < 0)
            return err_set (err, errno, "open '/dev/null'");
        }
      high[i] = fcntl (want[i] < 0 ? null : want[i], F_DUPFD_CLOEXEC, 3);
      if (high[i] < 0)
        return err_set (err, errno, "duplicate stdio fd");
    }
  for (int i = 0; i < 3; i++)
    {
      if (dup2 (high[i], i) < 0)
        return err_set (err, errno, "set up stdio");
      close (high[i]);
    }
  if (tty >= 0 && ioctl (0, TIOCSCTTY, 0) < 0)
    return err_set (err, errno, "set the controlling terminal");
  return 0;
}

static int
process_cwd (const struct rt_plan *p, struct err **err)
{
  const char *cwd = p->cwd && *p->cwd ? p->cwd : "/";
  char buf[PATH_MAX];
  if (cwd[0] != '/')
    return err_set (err, 0, "working directory '%s' is not absolute", cwd);
  if (chdir (cwd) < 0)
    {
      _cleanup_close_ int root = -1, fd = -1;
      if (errno != ENOENT)
        return err_set (err, errno, "chdir '%s'", cwd);
      /* docker creates a missing working directory */
      root = open ("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
      if (root < 0)
        return err_set (err, errno, "open '/'");
      fd = rt_open_in_root (root, cwd, true, false, err);
      if (fd < 0)
        return err_wrap (err, "working directory");
      if (chdir (cwd) < 0)
        return err_set (err, errno, "chdir '%s'", cwd);
    }
  /* why: CVE-2024-21626, a cwd reached through a leaked fd lies outside
   * the root and getcwd() then does not start with '/' */
  if (!getcwd (buf, sizeof buf) || buf[0] != '/')
    return err_set (err, 0,
                    "working directory '%s' is outside the "
                    "container",
                    cwd);
  return 0;
}

static int
process_user (const struct rt_plan *p, struct err **err)
{
  const struct rt_user *u = &p->user;
  /* drop the host's supplementary groups even when none are asked for */
  if (setgroups (u->n_groups, u->groups) < 0)
    return err_set (err, errno, "setgroups");
  /* rt_caps_apply sets the final sets after the uid change */
  if (prctl (PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
    return err_set (err, errno, "keep capabilities");
  if (setresgid (u->gid, u->gid, u->gid) < 0)
    return err_set (err, errno, "setresgid %u", (unsigned)u->gid);
  if (setresuid (u->uid, u->uid, u->uid) < 0)
    return err_set (err, errno, "setresuid %u", (unsigned)u->uid);
  return 0;
}

static const char *
env_path (char *const *env)
{
  for (size_t i = 0; env && env[i]; i++)
    if (!strncmp (env[i], "PATH=", 5))
      return env[i] + 5;
  return "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
}

/* execveat the regular file path names, by name from its directory
 * (opened without magic links) and with AT_SYMLINK_NOFOLLOW, if it is the
 * file want describes. Returns only if not, or on failure. */
static void
exec_by_name (const char *path, const struct stat *want, char *const *argv,
              char *const *env)
{
  struct open_how how = { .flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
                          .resolve = RESOLVE_NO_MAGICLINKS };
  const char *slash = strrchr (path, '/');
  const char *name = slash ? slash + 1 : path;
  _cleanup_free_ char *dir = slash == path ? xstrdup ("/")
                             : slash ? xstrndup (path, (size_t)(slash - path))
                                     : xstrdup (".");
  _cleanup_close_ int dfd
      = (int)syscall (SYS_openat2, AT_FDCWD, dir, &how, sizeof how);
  struct stat st;
  if (dfd >= 0 && fstatat (dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0
      && S_ISREG (st.st_mode) && st.st_dev == want->st_dev
      && st.st_ino == want->st_ino)
    syscall (SYS_execveat, dfd, name, argv, env, AT_SYMLINK_NOFOLLOW);
}

/* Exec the ELF file at fd, opened from path without magic links, named
 * (its comm: ps, top, pgrep) as docker's process would be: after the last
 * part of path. Exec by fd names it after the fd's number before Linux
 * 6.14 ("3"), after the file since ("busybox" for /bin/sleep). In order:
 * - alone (no other process can change the container's root: rt_start's
 *   child, before `exec` can join) and path resolves within the root's own
 *   mount (RESOLVE_NO_XDEV: no volume another container could race): exec
 *   path itself, its symlinks followed by the kernel as docker's are;
 * - path's last part is that regular file: exec it by name (see
 *   exec_by_name: a swap to a symlink towards /proc/self/exe then fails);
 * - the file's own name ("busybox"), the same way;
 * - the fd.
 * Returns only on failure, with errno. */
static void
exec_named (int fd, const char *path, bool alone, char *const *argv,
            char *const *env)
{
  struct stat want, st;
  char self[64], real[PATH_MAX];
  ssize_t n;
  if (fstat (fd, &want) < 0)
    return;
  if (alone)
    {
      struct open_how how
          = { .flags = O_PATH | O_CLOEXEC,
              .resolve = RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV };
      _cleanup_close_ int same
          = (int)syscall (SYS_openat2, AT_FDCWD, path, &how, sizeof how);
      if (same >= 0 && fstat (same, &st) == 0 && st.st_dev == want.st_dev
          && st.st_ino == want.st_ino)
        {
          execve (path, argv, env);
          return;
        }
    }
  exec_by_name (path, &want, argv, env);
  snprintf (self, sizeof self, "/proc/self/fd/%d", fd);
  n = readlink (self, real, sizeof real - 1);
  if (n > 0 && real[0] == '/')
    {
      real[n] = '\0';
      exec_by_name (real, &want, argv, env);
    }
  /* ELF only here, so the fd's O_CLOEXEC does not matter */
  syscall (SYS_execveat, fd, "", argv, env, AT_EMPTY_PATH);
}

/* execve(path), but with "#!" scripts handled here rather than by the
 * kernel. why: CVE-2019-5736, the kernel would resolve "#!/proc/self/exe"
 * (or a symlink to it) in this process, which still is imgtool, and run
 * the host binary inside the container. Interpreters are opened with
 * RESOLVE_NO_MAGICLINKS, so no /proc/<pid>/exe or fd link is reachable,
 * and exec'd by fd. Same argv as binfmt_script: interp [arg] path args. */
static void
exec_path (const char *path, bool alone, char *const *argv, char *const *env)
{
  struct open_how how
      = { .flags = O_RDONLY | O_CLOEXEC, .resolve = RESOLVE_NO_MAGICLINKS };
  char line[256], *interp, *arg = NULL, *end;
  char *args[4096];
  const char *script = path;
  int fd = -1;
  for (int depth = 0; depth < 5; depth++)
    {
      ssize_t n;
      size_t argc = 0, i;
      fd = (int)syscall (SYS_openat2, AT_FDCWD, script, &how, sizeof how);
      if (fd < 0)
        {
          if (errno == ELOOP)
            errno = EACCES; /* a magic link: refuse like a non-executable */
          return;
        }
      n = pread (fd, line, sizeof line - 1, 0);
      if (n < 2 || line[0] != '#' || line[1] != '!')
        break; /* not a script: the kernel execs it (ELF, by fd) */
      line[n] = '\0';
      end = strchr (line, '\n');
      if (!end)
        {
          errno = ENOEXEC;
          close (fd);
          return;
        }
      *end = '\0';
      for (interp = line + 2; *interp == ' ' || *interp == '\t'; interp++)
        ;
      while (end > interp && (end[-1] == ' ' || end[-1] == '\t'))
        *--end = '\0';
      if (!*interp)
        {
          errno = ENOEXEC;
          close (fd);
          return;
        }
      arg = interp + strcspn (interp, " \t");
      if (*arg)
        {
          *arg++ = '\0';
          while (*arg == ' ' || *arg == '\t')
            arg++;
        }
      close (fd);
      fd = -1;
      args[argc++] = interp;
      if (*arg)
        args[argc++] = arg;
      args[argc++] = (char *)script;
      for (i = 1; argv[i] && argc < ARRAY_SIZE (args) - 1; i++)
        args[argc++] = argv[i];
      args[argc] = NULL;
      /* the interpreter may itself be a script: loop like the kernel */
      {
        static char keep[5][256];
        memcpy (keep[depth], line, sizeof line);
        for (size_t k = 0; k < argc; k++)
          if (args[k] >= line && args[k] < line + sizeof line)
            args[k] = keep[depth] + (args[k] - line);
        script = args[0];
        static char *keepargv[5][4096];
        memcpy (keepargv[depth], args, (argc + 1) * sizeof *args);
        argv = keepargv[depth];
      }
    }
  if (fd < 0)
    {
      errno = ELOOP;
      return;
    }
  exec_named (fd, script, alone, argv, env);
  close (fd);
}

/* The signal state docker's processes start with. why: exec keeps the
 * mask and ignored signals, and imgtool blocks the signals it forwards
 * before it starts the container (a `run` started in the background of a
 * shell also has SIGINT and SIGQUIT ignored). */
static void
reset_signals (void)
{
  struct sigaction dfl = { .sa_handler = SIG_DFL };
  sigset_t none;
  for (int sig = 1; sig < NSIG; sig++)
    if (sig != SIGKILL && sig != SIGSTOP)
      sigaction (sig, &dfl, NULL); /* glibc's own two: EINVAL, fine */
  sigemptyset (&none);
  sigprocmask (SIG_SETMASK, &none, NULL);
}

static int
process_exec (const struct rt_plan *p, bool alone, struct err **err)
{
  const char *cmd = p->argv[0];
  char *const *env = p->env ? p->env : (char *const[]){ NULL };
  const char *path;
  char buf[PATH_MAX];
  int denied = 0;

  reset_signals ();
  if (strchr (cmd, '/'))
    {
      exec_path (cmd, alone, p->argv, env);
      err_set (err, errno, "exec: '%s'", cmd);
      return err_exit (err, errno == ENOENT || errno == ENOTDIR ? 127 : 126);
    }
  path = env_path (env);
  for (const char *dir = path;; dir++)
    {
      size_t len = strcspn (dir, ":");
      int n = snprintf (buf, sizeof buf, "%.*s%s%s", (int)len, dir,
                        len ? "/" : "", cmd);
      if (n > 0 && (size_t)n < sizeof buf)
        {
          exec_path (buf, alone, p->argv, env);
          if (errno != ENOENT && errno != ENOTDIR)
            {
              /* found but not runnable: remember, like execvp */
              if (!denied)
                denied = errno;
            }
        }
      dir += len;
      if (!*dir)
        break;
    }
  if (denied)
    {
      err_set (err, denied, "exec: '%s'", cmd);
      return err_exit (err, 126);
    }
  err_set (err, 0, "exec: '%s': executable file not found in $PATH", cmd);
  return err_exit (err, 127);
}

/* Set the parent-death signal sig again: changing uid or gid cleared it
 * (prctl(2)). Then make sure the parent did not die before: its end of
 * sync is closed then (getppid() tells a PID 1 nothing). */
static int
process_pdeathsig (int sig, int sync, struct err **err)
{
  struct pollfd pf = { .fd = sync, .events = POLLRDHUP };
  if (!sig)
    return 0;
  if (prctl (PR_SET_PDEATHSIG, sig, 0, 0, 0) < 0)
    return err_set (err, errno, "set the parent-death signal");
  if (poll (&pf, 1, 0) == 1 && (pf.revents & (POLLHUP | POLLRDHUP)))
    _exit (125); /* the parent is gone: nobody to report to */
  return 0;
}

int
rt_process_start (const struct rt_plan *p, const struct rt_seccomp_prog *prog,
                  const struct rt_stdio *io, int tty, bool alone, int sync,
                  struct err **err)
{
  int pdeath = 0;
  prctl (PR_GET_PDEATHSIG, &pdeath, 0, 0, 0);
  /* a session of its own: the caller's terminal signals reach the
   * container through imgtool's forwarding, not straight */
  setsid ();
  if (process_stdio (io, tty, err) < 0)
    return -1;
  if (tty >= 0)
    close (tty);
  umask (022);
  if (process_cwd (p, err) < 0 || rt_rlimits_apply (p, err) < 0)
    return -1;
  /* without no_new_privs, loading a filter needs CAP_SYS_ADMIN in the
   * effective set: seccomp goes before the switch to a non-root uid,
   * which empties that set, and before the capability drop (runc's
   * order) */
  if (!p->no_new_privs && rt_seccomp_install (p, prog, err) < 0)
    return -1;
  if (process_user (p, err) < 0 || rt_caps_apply (p, err) < 0
      || process_pdeathsig (pdeath, sync, err) < 0)
    return -1;
  if (p->no_new_privs && prctl (PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
    return err_set (err, errno, "set no_new_privs");
  /* why: CVE-2024-21626, no host fd may survive into the container */
  if (close_range (3, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
    return err_set (err, errno, "close_range");
  /* with no_new_privs, as late as possible: fewer syscalls to allow */
  if (p->no_new_privs && rt_seccomp_install (p, prog, err) < 0)
    return -1;
  return process_exec (p, alone, err);
}
