/* The cgroup freezer for a container (runtime/container.h: rt_freeze).
 *
 * v2: cgroup.freeze in the container's cgroup, done when cgroup.events
 * says "frozen 1". v1: a container joins only pids, memory, cpu and
 * devices at its start (runtime/cgroup_v1.c: every start pays for each
 * hierarchy), so freezer/<parent>/<id> is made the first time it is
 * frozen: the cgroup is set FROZEN while still empty, then every process
 * of the container's pids cgroup is moved in (each freezes as it lands,
 * so none forks behind our back once moved) until a pass finds none left
 * outside; then freezer.state is read until FROZEN. The processes stay in
 * it when thawed; rt_cleanup removes it with the others. */
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/xalloc.h"
#include "runtime/cgroup.h"
#include "runtime/container.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* How long processes may take to reach the refrigerator (one in
 * uninterruptible sleep waits for its I/O): runc gives up too. */
#define FREEZE_TRIES 2000 /* x 1 ms */

static void
pause_1ms (void)
{
  struct timespec ts = { 0, 1000000 };
  nanosleep (&ts, NULL);
}

/* Is word a line of text? */
static bool
has_line (const char *text, const char *word)
{
  size_t n = strlen (word);
  for (const char *p = text; p; p = strchr (p, '\n'), p = p ? p + 1 : NULL)
    if (!strncmp (p, word, n) && (p[n] == '\n' || p[n] == '\0'))
      return true;
  return false;
}

/* Is word a line of dirfd/file? */
static int
file_has (int dirfd, const char *file, const char *word, struct err **err)
{
  _cleanup_free_ char *buf = NULL;
  if (fs_read_file (dirfd, file, 1 << 16, &buf, NULL, err) < 0)
    return -1;
  return has_line (buf, word);
}

/* Move every process of src/cgroup.procs that dst/cgroup.procs lacks
 * into dst; returns how many were moved, or -1. */
static int
move_procs (int rootfd, const char *src, const char *dst, struct err **err)
{
  _cleanup_free_ char *sf = xasprintf ("%s/cgroup.procs", src);
  _cleanup_free_ char *df = xasprintf ("%s/cgroup.procs", dst);
  _cleanup_free_ char *have = NULL, *want = NULL;
  int moved = 0;
  if (fs_read_file (rootfd, sf, 1 << 20, &want, NULL, err) < 0
      || fs_read_file (rootfd, df, 1 << 20, &have, NULL, err) < 0)
    return -1;
  for (char *line = want, *next; line && *line; line = next)
    {
      struct err *e = NULL;
      if ((next = strchr (line, '\n')))
        *next++ = '\0';
      if (!*line || has_line (have, line))
        continue;
      if (rt_cgroup_write (rootfd, df, line, false, &e) < 0)
        {
          bool gone = e->errnum == ESRCH;
          err_free (e);
          if (!gone)
            return err_set (err, 0, "move process %s into '%s'", line, dst);
          continue; /* it exited meanwhile */
        }
      moved++;
    }
  return moved;
}

static int
freeze_v1 (int rootfd, const char *path, bool freeze, struct err **err)
{
  _cleanup_free_ char *dir = xasprintf ("freezer/%s", path);
  _cleanup_free_ char *state = xasprintf ("%s/freezer.state", dir);
  _cleanup_free_ char *pids = xasprintf ("pids/%s", path);
  struct stat st;
  if (!freeze)
    {
      if (fstatat (rootfd, dir, &st, 0) < 0)
        return 0; /* never frozen */
      return rt_cgroup_write (rootfd, state, "THAWED", false, err);
    }
  if (fstatat (rootfd, "freezer", &st, 0) < 0)
    return err_set (err, 0, "the cgroup v1 freezer is not mounted");
  if (fs_mkdir_p (rootfd, dir, 0755, err) < 0
      || rt_cgroup_write (rootfd, state, "FROZEN", false, err) < 0)
    return -1;
  for (int r; (r = move_procs (rootfd, pids, dir, err)) != 0;)
    if (r < 0)
      return -1;
  for (int i = 0; i < FREEZE_TRIES; i++)
    {
      int r = file_has (rootfd, state, "FROZEN", err);
      if (r != 0)
        return r < 0 ? -1 : 0;
      pause_1ms ();
    }
  return err_set (err, 0, "its processes did not freeze");
}

static int
freeze_v2 (int rootfd, const char *path, bool freeze, struct err **err)
{
  _cleanup_free_ char *f = xasprintf ("%s/cgroup.freeze", path);
  _cleanup_free_ char *ev = xasprintf ("%s/cgroup.events", path);
  if (rt_cgroup_write (rootfd, f, freeze ? "1" : "0", false, err) < 0)
    return -1;
  for (int i = 0; freeze && i < FREEZE_TRIES; i++)
    {
      int r = file_has (rootfd, ev, "frozen 1", err);
      if (r != 0)
        return r < 0 ? -1 : 0;
      pause_1ms ();
    }
  return freeze ? err_set (err, 0, "its processes did not freeze") : 0;
}

/* The cgroup root, its kind and the container's path in it. */
static int
open_cgroup (const char *id, const char *parent, int *rootfd,
             enum rt_cgroup_mode *mode, char **path, struct err **err)
{
  if (rt_cgroup_detect (RT_CGROUP_ROOT, mode, err) < 0)
    return -1;
  if (*mode == RT_CGROUP_NONE)
    return err_set (err, 0, "no cgroup file system to freeze it with");
  *rootfd = open (RT_CGROUP_ROOT, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (*rootfd < 0)
    return err_set (err, errno, "open '%s'", RT_CGROUP_ROOT);
  struct rt_cgroup *cg = rt_cgroup_new (RT_CGROUP_ROOT, *mode, parent, id);
  *path = steal_pointer (&cg->path);
  rt_cgroup_free (cg);
  return 0;
}

int
rt_freeze (const char *id, const char *cgroup_parent, bool freeze,
           struct err **err)
{
  _cleanup_close_ int rootfd = -1;
  _cleanup_free_ char *path = NULL;
  enum rt_cgroup_mode mode;
  int r;
  if (open_cgroup (id, cgroup_parent, &rootfd, &mode, &path, err) < 0)
    return -1;
  r = mode == RT_CGROUP_V1 ? freeze_v1 (rootfd, path, freeze, err)
                           : freeze_v2 (rootfd, path, freeze, err);
  if (r < 0 && freeze)
    {
      /* never leave it half frozen */
      struct err *e = NULL;
      rt_freeze (id, cgroup_parent, false, &e);
      err_free (e);
    }
  return r;
}

int
rt_frozen (const char *id, const char *cgroup_parent, struct err **err)
{
  _cleanup_close_ int rootfd = -1;
  _cleanup_free_ char *path = NULL, *file = NULL;
  enum rt_cgroup_mode mode;
  struct stat st;
  if (open_cgroup (id, cgroup_parent, &rootfd, &mode, &path, err) < 0)
    return -1;
  if (mode == RT_CGROUP_V2)
    {
      file = xasprintf ("%s/cgroup.freeze", path);
      return fstatat (rootfd, file, &st, 0) < 0
                 ? 0
                 : file_has (rootfd, file, "1", err);
    }
  file = xasprintf ("freezer/%s/freezer.state", path);
  if (fstatat (rootfd, file, &st, 0) < 0)
    return 0;
  /* FREEZING counts: it is on its way, and a thaw is what undoes it */
  int r = file_has (rootfd, file, "THAWED", err);
  return r < 0 ? -1 : !r;
}
