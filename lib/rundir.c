/* Where pids, sockets and locks live (lib/rundir.h). */
#include "lib/rundir.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/userns.h"
#include "lib/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char *run_path;
static int run_fd = -1;

char *
rundir_for (const char *xdg, uid_t uid, uid_t owner, struct err **err)
{
  struct stat st;
  char *path = xdg && *xdg ? xasprintf ("%s/imgtool", xdg)
                           : xasprintf ("/tmp/imgtool-run-%u", (unsigned)uid);
  bool made = mkdir (path, 0700) == 0;
  if (!made && errno != EEXIST)
    {
      /* a $XDG_RUNTIME_DIR that is gone (logged out, su without a
       * session): /tmp, as containers/storage falls back */
      if (errno == ENOENT && xdg && *xdg)
        {
          free (path);
          return rundir_for (NULL, uid, owner, err);
        }
      err_set (err, errno, "runtime directory '%s'", path);
      free (path);
      return NULL;
    }
  /* why: /tmp is shared; a directory someone else made (or a symlink, or
   * one others may enter) would let them read or replace our pids,
   * sockets and locks */
  if (lstat (path, &st) < 0)
    err_set (err, errno, "runtime directory '%s'", path);
  else if (!S_ISDIR (st.st_mode) || st.st_uid != owner)
    err_set (err, 0,
             "runtime directory '%s' is not a directory owned by you "
             "(uid %u)",
             path, (unsigned)uid);
  else if (!made && (st.st_mode & 077))
    err_set (err, 0,
             "runtime directory '%s' has mode %04o: others may use it "
             "(chmod 0700 it, or remove it)",
             path, (unsigned)(st.st_mode & 07777));
  /* made by us under a umask, or narrower than 0700: ours to fix */
  else if ((st.st_mode & 07777) != 0700 && chmod (path, 0700) < 0)
    err_set (err, errno, "chmod 0700 '%s'", path);
  else
    return path;
  free (path);
  return NULL;
}

/* The user's own uid: ours, or, as root of a user namespace, the one
 * our root is mapped from. */
static uid_t
user_uid (void)
{
  _cleanup_free_ char *map = NULL;
  struct err *e = NULL;
  unsigned long in, out, count;
  if (geteuid () != 0
      || fs_read_file (AT_FDCWD, "/proc/self/uid_map", 1 << 16, &map, NULL, &e)
             < 0)
    {
      err_free (e);
      return geteuid ();
    }
  for (char *p = map; p && sscanf (p, " %lu %lu %lu", &in, &out, &count) == 3;
       p = strchr (p + 1, '\n'))
    if (in == 0)
      return (uid_t)out;
  return geteuid ();
}

const char *
rundir_path (struct err **err)
{
  if (!run_path)
    run_path
        = rundir_for (getenv ("XDG_RUNTIME_DIR"), user_uid (), geteuid (), err);
  return run_path;
}

static int
run_dirfd (struct err **err)
{
  const char *path;
  if (run_fd >= 0)
    return run_fd;
  if (!(path = rundir_path (err)))
    return -1;
  run_fd = open (path, O_PATH | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
  if (run_fd < 0)
    return err_set (err, errno, "open runtime directory '%s'", path);
  return run_fd;
}

char *
rundir_at (int dirfd, const char *name, int *at, struct err **err)
{
  const char *base = strrchr (name, '/');
  _cleanup_close_ int parent = -1;
  struct stat st;
  if (!userns_rootless ())
    {
      *at = dirfd;
      return xstrdup (name);
    }
  if (base)
    {
      _cleanup_free_ char *dir = xstrndup (name, (size_t)(base - name));
      parent = openat (dirfd, dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
      if (parent < 0)
        {
          err_set (err, errno, "open '%s'", dir);
          return NULL;
        }
      base++;
    }
  else
    base = name;
  if (fstat (parent >= 0 ? parent : dirfd, &st) < 0)
    {
      err_set (err, errno, "stat the directory of '%s'", name);
      return NULL;
    }
  if ((*at = run_dirfd (err)) < 0)
    return NULL;
  /* the directory's identity, not its path: the same store through
   * another path (a symlink, another mount namespace) shares it */
  return xasprintf ("%llx-%llx-%s", (unsigned long long)st.st_dev,
                    (unsigned long long)st.st_ino, base);
}

int
rundir_open (int dirfd, const char *name, int flags, mode_t mode,
             struct err **err)
{
  int at, fd;
  _cleanup_free_ char *rel = rundir_at (dirfd, name, &at, err);
  if (!rel)
    return -1;
  fd = openat (at, rel, flags, mode);
  if (fd < 0)
    {
      int e = errno;
      err_set (err, e, "open '%s'", name);
      errno = e;
    }
  return fd;
}

void
rundir_unlink (int dirfd, const char *name)
{
  struct err *e = NULL;
  int at;
  _cleanup_free_ char *rel = rundir_at (dirfd, name, &at, &e);
  err_free (e);
  if (rel)
    unlinkat (at, rel, 0);
}
