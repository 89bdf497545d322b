/* The record of a running build: <root>/builds/build-XXXXXX, flocked by
 * the build for its whole life, naming what a build killed before its
 * end leaves behind: its temp dir <root>/tmp/build-XXXXXX (the same
 * name) and, one line each, the ids of the RUN steps whose cgroups it
 * made. Its mounts need no record: they live in the build's private mount
 * namespace and in its steps', and die with them; the steps themselves die
 * with the build (the runtime's parent-death signal).
 *
 * A record whose lock is free belongs to a dead build: build_gc, which
 * every command runs first, removes its cgroups, its temp dir, then the
 * record. One readdir of a directory that is empty unless a build runs. */
#include "builder/build_int.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "runtime/container.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define RECORD_DIR "builds"
#define RECORD_MAX 65536

int
build_record_open (struct build *b, struct err **err)
{
  _cleanup_free_ char *dir = xasprintf ("%s/" RECORD_DIR, b->o->root);
  if (fs_mkdir_p (AT_FDCWD, dir, 0700, err) < 0)
    return -1;
  for (;;)
    {
      _cleanup_free_ char *path = xasprintf ("%s/build-XXXXXX", dir);
      struct stat st;
      int fd = mkostemp (path, O_CLOEXEC | O_APPEND);
      if (fd < 0)
        return err_set (err, errno, "create '%s'", path);
      while (flock (fd, LOCK_EX) < 0)
        if (errno != EINTR)
          {
            close (fd);
            return err_set (err, errno, "lock '%s'", path);
          }
      /* a build_gc that opened it before our lock took it for a dead
         build's and removed it: take another name */
      if (fstat (fd, &st) < 0 || st.st_nlink == 0)
        {
          close (fd);
          continue;
        }
      b->record_fd = fd;
      b->tmp = xasprintf ("%s/tmp/%s", b->o->root, strrchr (path, '/') + 1);
      if (mkdir (b->tmp, 0700) < 0)
        return err_set (err, errno, "create '%s'", b->tmp);
      return 0;
    }
}

int
build_record_step (struct build *b, const char *id, struct err **err)
{
  _cleanup_free_ char *line = xasprintf ("%s\n", id);
  if (fs_write_all (b->record_fd, line, strlen (line)) < 0)
    return err_set (err, errno, "write the build's record");
  return 0;
}

void
build_record_close (struct build *b)
{
  if (b->record_fd < 0)
    return;
  if (b->tmp)
    {
      _cleanup_free_ char *path = xasprintf ("%s/" RECORD_DIR "/%s", b->o->root,
                                             strrchr (b->tmp, '/') + 1);
      unlink (path);
    }
  close (b->record_fd);
  b->record_fd = -1;
}

/* Clean up after the dead build whose record is fd (locked) named name. */
static void
reclaim (const char *root, int fd, const char *name)
{
  _cleanup_free_ char *text = NULL;
  size_t len;
  struct err *e = NULL;
  if (fs_read_fd (fd, RECORD_MAX, &text, &len, &e) == 0 && text)
    for (char *line = text, *nl;
         (nl = memchr (line, '\n', len - (size_t)(line - text))); line = nl + 1)
      {
        *nl = '\0';
        /* the steps' processes died with the build; their cgroups go
           here (rt_cleanup kills a straggler first) */
        if (strlen (line) == 64 && strspn (line, "0123456789abcdef") == 64
            && rt_cleanup (line, NULL, &e) < 0)
          {
            log_warn ("%s", e->msg);
            err_clear (&e);
          }
      }
  err_clear (&e);
  _cleanup_free_ char *tmp = xasprintf ("%s/tmp/%s", root, name);
  if (fs_rm_rf (AT_FDCWD, tmp, &e) < 0)
    log_warn ("%s", e->msg);
  err_free (e);
}

void
build_gc (const char *root)
{
  _cleanup_free_ char *dir = xasprintf ("%s/" RECORD_DIR, root);
  DIR *d = opendir (dir);
  int dfd = d ? dirfd (d) : -1;
  struct dirent *de;
  while (d && (de = readdir (d)))
    {
      struct stat st;
      if (strncmp (de->d_name, "build-", 6) || strchr (de->d_name, '/'))
        continue;
      _cleanup_close_ int fd
          = openat (dfd, de->d_name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
      /* a live build holds its lock; a record unlinked meanwhile ended */
      if (fd < 0 || flock (fd, LOCK_EX | LOCK_NB) < 0 || fstat (fd, &st) < 0
          || st.st_nlink == 0)
        continue;
      log_debug ("build gc: '%s' belongs to a dead build", de->d_name);
      reclaim (root, fd, de->d_name);
      unlinkat (dfd, de->d_name, 0);
    }
  if (d)
    closedir (d);
}
