/* A container's files for cp (service.h, svc_files_open): the running
 * container's own view, or the overlay of a stopped one mounted where
 * only this process sees it. */
#include "layers/overlay.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/xalloc.h"
#include "service/service.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* The running container's root: /proc/<pid>/root, its overlay with its
 * volumes, as its processes see it. */
static int
running_root (const struct rt_record *rec, struct err **err)
{
  _cleanup_close_ int pidfd = rt_record_pidfd (rec);
  char path[64];
  int fd;
  if (pidfd < 0)
    return -1;
  snprintf (path, sizeof path, "/proc/%d/root", (int)rec->state.pid);
  fd = open (path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return err_set (err, errno, "open the root of container '%s'", rec->name);
  /* the pid held by pidfd, checked to be the container's: still alive,
   * so /proc/<pid> was not reused meanwhile */
  if (syscall (SYS_pidfd_send_signal, pidfd, 0, NULL, 0) < 0)
    {
      close (fd);
      errno = ESRCH;
      return -1;
    }
  return fd;
}

/* Bind its bind mounts in the mounted root, as it has them running. */
static int
bind_mounts (int root, const struct rt_plan *p, struct err **err)
{
  for (size_t i = 0; i < p->n_mounts; i++)
    {
      const struct rt_mount *m = &p->mounts[i];
      _cleanup_close_ int at = -1;
      char target[64];
      if (m->kind != RT_MOUNT_BIND || !m->source)
        continue;
      at = fs_open_in_root (root, m->destination, O_PATH, 0);
      if (at < 0)
        continue; /* no mount point: nothing was ever there */
      snprintf (target, sizeof target, "/proc/self/fd/%d", at);
      if (mount (m->source, target, NULL, MS_BIND | MS_REC, NULL) < 0)
        return err_set (err, errno, "mount '%s' on '%s'", m->source,
                        m->destination);
      if (m->readonly
          && mount (NULL, target, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY, NULL)
                 < 0)
        return err_set (err, errno, "make '%s' read-only", m->destination);
    }
  return 0;
}

/* A stopped container's overlay (and bind mounts), mounted in a private
 * mount namespace of this process. */
static int
stopped_root (struct svc *s, const struct rt_record *rec, char **mounted,
              struct err **err)
{
  const struct rt_plan *p = &rec->plan;
  /* in the container's directory, one at a time (the caller holds its
   * monitor.lock): a cp killed midway leaves an empty directory that the
   * next one uses and rm deletes */
  _cleanup_free_ char *dir = rt_record_path (&s->cs, rec->id, "cp-root");
  int fd = -1;
  if (!p->upper_dir || !p->work_dir)
    return err_set (err, 0, "container '%s' has no writable layer", rec->name);
  if (unshare (CLONE_NEWNS) < 0)
    return err_set (err, errno, "a private mount namespace");
  /* why: nothing mounted here may propagate back to the host */
  if (mount (NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
    return err_set (err, errno, "make mounts private");
  if (mkdir (dir, 0700) < 0 && errno != EEXIST)
    return err_set (err, errno, "create '%s'", dir);
  if (layer_overlay_mount (p->lower_dirs, p->upper_dir, p->work_dir, dir, 0,
                           err)
      == 0)
    {
      fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (fd < 0)
        err_set (err, errno, "open '%s'", dir);
      else if (bind_mounts (fd, p, err) < 0)
        {
          close (fd);
          fd = -1;
        }
      /* mounted until svc_files_close (a lazy unmount now would cut the
       * bind mounts off the tree the fd holds) */
      if (fd >= 0)
        {
          *mounted = steal_pointer (&dir);
          return fd;
        }
      umount2 (dir, MNT_DETACH);
    }
  rmdir (dir);
  return fd;
}

int
svc_files_open (struct svc *s, struct svc_container *c, struct svc_files *f,
                struct err **err)
{
  struct rt_record *rec = &c->rec;
  f->root = f->lock = -1;
  f->mounted = NULL;
  f->running = rec->state.status == RT_RUNNING;
  if (f->running)
    {
      f->root = running_root (rec, err);
      if (f->root >= 0 || *err)
        return f->root < 0 ? -1 : 0;
      f->running = false; /* it ended meanwhile */
    }
  /* a container that does not run must not start while its overlay is
   * mounted here too: its monitor's lock is held meanwhile */
  f->lock = rt_record_monitor_lock (&s->cs, rec->id, err);
  if (f->lock < 0)
    {
      err_clear (err);
      return err_set (err, 0, "container '%s' is starting: try again",
                      rec->name);
    }
  f->root = stopped_root (s, rec, &f->mounted, err);
  if (f->root < 0)
    {
      svc_files_close (f);
      return -1;
    }
  return 0;
}

void
svc_files_close (struct svc_files *f)
{
  if (f->root >= 0)
    close (f->root);
  if (f->mounted)
    {
      /* the mount dies with this process's namespace anyway; the empty
       * directory would stay */
      umount2 (f->mounted, MNT_DETACH);
      rmdir (f->mounted);
      free (f->mounted);
      f->mounted = NULL;
    }
  if (f->lock >= 0)
    close (f->lock);
  f->root = f->lock = -1;
}
