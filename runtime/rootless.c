/* Going rootless (runtime/rootless.h).
 *
 *   imgtool ── fork ──► helper: waits for "go"
 *      unshare(CLONE_NEWUSER) ──"go"──► newgidmap PID 0 GID 1 1 SUBGID N
 *                                       newuidmap PID 0 UID 1 1 SUBUID N
 *      ◄── exit status ─────────────────┘
 *      setresuid(0), unshare(CLONE_NEWNS), / private
 *
 * The helper runs in the parent user namespace (the maps must be written
 * from there); newuidmap/newgidmap are the setuid helpers of Debian's
 * uidmap, the one kind of program imgtool starts on its own (DESIGN.md).
 * With no ranges or no helper the process writes "0 UID 1" itself, as
 * podman and containers/storage fall back. */
#include "runtime/rootless.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/log.h"
#include "lib/rundir.h"
#include "lib/userns.h"
#include "lib/xalloc.h"
#include "runtime/idmap.h"
#include "runtime/plan.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

void
rt_rootless_warn_once (const char *key, const char *fmt, ...)
{
  struct err *e = NULL;
  const char *dir = rundir_path (&e);
  _cleanup_free_ char *marker = NULL, *msg = NULL;
  va_list ap;
  int fd;
  err_free (e);
  if (dir)
    {
      marker = xasprintf ("%s/warned-%s", dir, key);
      fd = open (marker, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
      if (fd < 0)
        return; /* said before (or the directory is unusable: say it) */
      close (fd);
    }
  va_start (ap, fmt);
  if (vasprintf (&msg, fmt, ap) < 0)
    msg = NULL;
  va_end (ap);
  if (msg)
    log_warn ("%s", msg);
}

/* ---- the user namespace --------------------------------------------- */

static char *
find_helper (const char *name)
{
  const char *path = getenv ("PATH");
  _cleanup_free_ char *copy
      = xstrdup (path && *path ? path : "/usr/bin:/bin:/usr/sbin:/sbin");
  char *save = NULL;
  for (char *d = strtok_r (copy, ":", &save); d;
       d = strtok_r (NULL, ":", &save))
    {
      char *p = xasprintf ("%s/%s", d, name);
      if (*d == '/' && access (p, X_OK) == 0)
        return p;
      free (p);
    }
  return NULL;
}

static int
read_knob (const char *path, long *v)
{
  _cleanup_free_ char *buf = NULL;
  struct err *e = NULL;
  if (fs_read_file (AT_FDCWD, path, 64, &buf, NULL, &e) < 0)
    {
      err_free (e);
      return -1;
    }
  *v = strtol (buf, NULL, 10);
  return 0;
}

/* unshare(CLONE_NEWUSER) failed with errno e: name the knob that says why */
static int
userns_refused (int e, struct err **err)
{
  long v;
  if (e == EPERM
      && read_knob ("/proc/sys/kernel/unprivileged_userns_clone", &v) == 0
      && v == 0)
    return err_set (err, 0,
                    "user namespaces are disabled "
                    "(kernel.unprivileged_userns_clone = 0): as root, run "
                    "'sysctl -w kernel.unprivileged_userns_clone=1'");
  if (e == EPERM
      && read_knob ("/proc/sys/kernel/apparmor_restrict_unprivileged_userns",
                    &v)
             == 0
      && v == 1)
    return err_set (err, 0,
                    "user namespaces are restricted by AppArmor "
                    "(kernel.apparmor_restrict_unprivileged_userns = 1): "
                    "as root, allow userns for imgtool in an AppArmor "
                    "profile");
  if (e == ENOSPC && read_knob ("/proc/sys/user/max_user_namespaces", &v) == 0)
    return err_set (err, 0,
                    v == 0 ? "user namespaces are disabled "
                             "(user.max_user_namespaces = 0): as root, run "
                             "'sysctl -w user.max_user_namespaces=28633'"
                           : "too many user namespaces "
                             "(user.max_user_namespaces = %ld): as root, "
                             "raise it with sysctl",
                    v);
  return err_set (err, e, "create a user namespace");
}

/* A helper forked before unshare (so that it stays in the parent user
 * namespace, where the setuid bit means something): waits for "go",
 * then execs argv (newuidmap or newgidmap) with its stderr on errfd. */
static pid_t
spawn_waiting (const int go[2], int errfd, char **argv)
{
  char c;
  int null;
  pid_t pid = fork ();
  if (pid != 0)
    return pid;
  close (go[1]); /* so that the parent's close is our EOF */
  if (read (go[0], &c, 1) != 1)
    _exit (1);
  null = open ("/dev/null", O_RDWR | O_CLOEXEC);
  if (null >= 0)
    dup2 (null, 0), dup2 (null, 1);
  dup2 (errfd, 2);
  execv (argv[0], argv);
  dprintf (2, "exec '%s': %s\n", argv[0], strerror (errno));
  _exit (127);
}

static bool
reaped_ok (pid_t pid)
{
  int status;
  while (waitpid (pid, &status, 0) < 0)
    if (errno != EINTR)
      return false;
  return WIFEXITED (status) && WEXITSTATUS (status) == 0;
}

static int
write_proc (const char *file, const char *text, struct err **err)
{
  _cleanup_close_ int fd = open (file, O_WRONLY | O_CLOEXEC);
  if (fd < 0 || fs_write_all (fd, text, strlen (text)) < 0)
    return err_set (err, errno, "write '%s'", file);
  return 0;
}

/* The first line newuidmap printed, for the error. */
static char *
helper_message (int fd)
{
  char buf[512];
  ssize_t n = read (fd, buf, sizeof buf - 1);
  buf[n > 0 ? n : 0] = '\0';
  buf[strcspn (buf, "\n")] = '\0';
  return xstrdup (*buf ? buf : "failed");
}

static int
map_with_helpers (const char *uidmap, const char *gidmap, uid_t uid, gid_t gid,
                  const struct rt_idrange *ur, size_t nu,
                  const struct rt_idrange *gr, size_t ng, struct err **err)
{
  int go[2] = { -1, -1 }, errp[2] = { -1, -1 };
  char **uv = rt_idmap_argv (uidmap, (int)getpid (), uid, ur, nu);
  char **gv = rt_idmap_argv (gidmap, (int)getpid (), gid, gr, ng);
  pid_t pids[2] = { -1, -1 };
  bool ok = true;
  int r = -1;
  if (pipe2 (go, O_CLOEXEC) < 0 || pipe2 (errp, O_CLOEXEC | O_NONBLOCK) < 0)
    {
      err_set (err, errno, "pipe");
      goto out;
    }
  /* both at once: each writes its own map (two setuid execs, the main
   * cost of going rootless) */
  if ((pids[0] = spawn_waiting (go, errp[1], gv)) < 0
      || (pids[1] = spawn_waiting (go, errp[1], uv)) < 0)
    {
      err_set (err, errno, "fork");
      goto out;
    }
  if (unshare (CLONE_NEWUSER) < 0)
    userns_refused (errno, err);
  else if (write (go[1], "gg", 2) != 2)
    err_set (err, errno, "start newuidmap");
  /* on a failure above the helpers read EOF and exit */
  close (go[1]);
  go[1] = -1;
  for (int i = 0; i < 2; i++)
    ok = reaped_ok (pids[i]) && ok;
  pids[0] = pids[1] = -1;
  if (*err)
    goto out;
  if (!ok)
    {
      _cleanup_free_ char *msg = helper_message (errp[0]);
      /* why: with ranges configured, a failing helper is a broken setup
       * to fix, not a reason to run single-id (podman does the same) */
      err_set (err, 0, "map the subordinate ids with '%s': %s", uidmap, msg);
      goto out;
    }
  r = 0;
out:
  for (int i = 0; i < 2; i++)
    {
      if (pids[i] > 0)
        {
          kill (pids[i], SIGKILL);
          reaped_ok (pids[i]);
        }
      if (go[i] >= 0)
        close (go[i]);
      if (errp[i] >= 0)
        close (errp[i]);
    }
  strv_free (uv);
  strv_free (gv);
  return r;
}

static int
map_single (uid_t uid, gid_t gid, struct err **err)
{
  char map[64];
  if (unshare (CLONE_NEWUSER) < 0)
    return userns_refused (errno, err);
  /* an unprivileged writer may map only its own id, after "deny" */
  if (write_proc ("/proc/self/setgroups", "deny", err) < 0)
    return -1;
  snprintf (map, sizeof map, "0 %u 1", (unsigned)uid);
  if (write_proc ("/proc/self/uid_map", map, err) < 0)
    return -1;
  snprintf (map, sizeof map, "0 %u 1", (unsigned)gid);
  return write_proc ("/proc/self/gid_map", map, err);
}

int
rt_rootless_enter (struct err **err)
{
  uid_t uid = geteuid ();
  gid_t gid = getegid ();
  struct passwd *pw;
  _cleanup_free_ struct rt_idrange *ur = NULL, *gr = NULL;
  _cleanup_free_ char *uidmap = NULL, *gidmap = NULL, *why = NULL;
  int nu = 0, ng = 0, r;
  /* root, of the initial namespace or of one entered before, has what
   * it needs; any other user (even inside a user namespace) goes on */
  if (uid == 0)
    return 0;
  /* found (and checked) while this is still the user's own uid */
  if (!rundir_path (err))
    return -1;
  pw = getpwuid (uid);
  if ((nu = rt_subid_ranges ("/etc/subuid", pw ? pw->pw_name : NULL, uid, &ur,
                             err))
          < 0
      || (ng = rt_subid_ranges ("/etc/subgid", pw ? pw->pw_name : NULL, gid,
                                &gr, err))
             < 0)
    return -1;
  uidmap = find_helper ("newuidmap");
  gidmap = find_helper ("newgidmap");
  if (nu > 0 && ng > 0 && uidmap && gidmap)
    r = map_with_helpers (uidmap, gidmap, uid, gid, ur, (size_t)nu, gr,
                          (size_t)ng, err);
  else
    {
      r = map_single (uid, gid, err);
      why = !uidmap || !gidmap
                ? xstrdup ("newuidmap/newgidmap not found")
                : xasprintf ("no subordinate ids for '%s' in /etc/subuid "
                             "and /etc/subgid",
                             pw ? pw->pw_name : "you");
      /* podman's ignore_chown: owners the map lacks become root's */
      if (r == 0)
        rt_rootless_warn_once ("single-id",
                               "rootless: %s: a single-id user namespace; "
                               "files of other owners in images belong to "
                               "root in containers (docs/rootless.md)",
                               why);
    }
  if (r < 0)
    return err_wrap (err, "rootless");
  if (setresgid (0, 0, 0) < 0 || setresuid (0, 0, 0) < 0)
    return err_set (err, errno, "rootless: become root of the user namespace");
  /* why: the mounts of a run or a build (overlay, /proc) must stay in this
   * process's own view */
  if (unshare (CLONE_NEWNS) < 0)
    return err_set (err, errno, "rootless: mount namespace");
  if (mount (NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
    return err_set (err, errno, "rootless: make mounts private");
  return 0;
}
