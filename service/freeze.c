/* pause / unpause, and commit's moment of freezing: the cgroup freezer
 * (service.h). v1 writes FROZEN or
 * THAWED to freezer.state and reads it back until FREEZING is over; v2
 * writes 1 or 0 to cgroup.freeze and waits for "frozen 1" (or 0) in
 * cgroup.events, which the kernel notifies (POLLPRI). A container is
 * paused when its freezer says so: nothing else records it, so a record
 * can never disagree with the kernel. */
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/xalloc.h"
#include "runtime/cgroup.h"
#include "service/service.h"
#include "service/service_int.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* how long a freeze may take before it counts as failed */
#define FREEZE_WAIT_MS 30000

/* The container's freezer directory, or NULL without a cgroup fs. */
static char *
freezer_dir (const struct rt_record *rec)
{
  enum rt_cgroup_mode mode;
  struct err *e = NULL;
  struct rt_cgroup *cg;
  char *dir;
  if (rt_cgroup_detect (RT_CGROUP_ROOT, &mode, &e) < 0
      || mode == RT_CGROUP_NONE)
    {
      err_free (e);
      return NULL;
    }
  cg = rt_cgroup_new (RT_CGROUP_ROOT, mode, rec->plan.cgroup_parent, rec->id);
  dir = mode == RT_CGROUP_V2 ? xasprintf ("%s/%s", cg->root, cg->path)
                             : xasprintf ("%s/freezer/%s", cg->root, cg->path);
  rt_cgroup_free (cg);
  return dir;
}

/* dir/file's first line, or "" */
static void
read_line (int dirfd, const char *file, char *buf, size_t len)
{
  _cleanup_close_ int fd = openat (dirfd, file, O_RDONLY | O_CLOEXEC);
  ssize_t n = fd >= 0 ? pread (fd, buf, len - 1, 0) : -1;
  buf[n > 0 ? n : 0] = '\0';
  buf[strcspn (buf, "\n")] = '\0';
}

int
svc_freezer_get (const char *dir)
{
  _cleanup_close_ int d = open (dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  char buf[64];
  if (d < 0)
    return 0;
  read_line (d, "cgroup.freeze", buf, sizeof buf);
  if (*buf)
    return !strcmp (buf, "1");
  read_line (d, "freezer.state", buf, sizeof buf);
  /* FREEZING counts: a pause is under way */
  return *buf && strcmp (buf, "THAWED") != 0;
}

/* v2: cgroup.events says "frozen 1" (or 0); it wakes POLLPRI on a change */
static bool
v2_done (int d, bool frozen)
{
  _cleanup_close_ int fd = openat (d, "cgroup.events", O_RDONLY | O_CLOEXEC);
  char buf[512], *f;
  ssize_t n;
  int64_t until = svc_clock_ms () + FREEZE_WAIT_MS;
  if (fd < 0)
    return false;
  for (;;)
    {
      struct pollfd p = { .fd = fd, .events = POLLPRI };
      n = pread (fd, buf, sizeof buf - 1, 0);
      buf[n > 0 ? n : 0] = '\0';
      f = strstr (buf, "frozen ");
      if (f && (f[7] == '1') == frozen)
        return true;
      if (svc_clock_ms () > until)
        return false;
      poll (&p, 1, 100);
    }
}

/* v1: write the state until it reads back (FREEZING in between; runc
 * writes FROZEN again while it lasts) */
static bool
v1_done (int d, bool frozen, struct err **err)
{
  const char *want = frozen ? "FROZEN" : "THAWED";
  int64_t until = svc_clock_ms () + FREEZE_WAIT_MS;
  char buf[64];
  for (;;)
    {
      if (rt_cgroup_write (d, "freezer.state", want, false, err) < 0)
        return false;
      read_line (d, "freezer.state", buf, sizeof buf);
      if (!strcmp (buf, want))
        return true;
      if (svc_clock_ms () > until)
        return false;
      usleep (1000);
    }
}

int
svc_freezer_set (const char *dir, bool frozen, struct err **err)
{
  _cleanup_close_ int d = open (dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  bool done;
  if (d < 0)
    return err_set (err, errno, "open cgroup '%s'", dir);
  if (faccessat (d, "cgroup.freeze", F_OK, 0) == 0)
    done = rt_cgroup_write (d, "cgroup.freeze", frozen ? "1" : "0", false, err)
               == 0
           && v2_done (d, frozen);
  else if (faccessat (d, "freezer.state", F_OK, 0) == 0)
    done = v1_done (d, frozen, err);
  else
    return err_set (err, 0, "cgroup '%s' has no freezer", dir);
  if (*err)
    return -1;
  if (!done)
    return err_set (err, 0, "cgroup '%s': %s did not complete", dir,
                    frozen ? "freezing" : "thawing");
  return 0;
}

int
svc_frozen (const struct rt_record *rec)
{
  _cleanup_free_ char *dir = freezer_dir (rec);
  return dir ? svc_freezer_get (dir) : 0;
}

void
svc_thaw (const struct rt_record *rec)
{
  _cleanup_free_ char *dir = freezer_dir (rec);
  struct err *e = NULL;
  if (dir && svc_freezer_get (dir) && svc_freezer_set (dir, false, &e) < 0)
    err_free (e);
}

static int
set_paused (struct svc_container *c, bool frozen, struct err **err)
{
  struct rt_record *rec = &c->rec;
  _cleanup_free_ char *dir = NULL;
  if (rec->state.status != RT_RUNNING)
    return err_set (err, 0, "container '%s' is not running", rec->name);
  if (rec->state.paused == frozen)
    return err_set (err, 0,
                    frozen ? "container '%s' is already paused"
                           : "container '%s' is not paused",
                    rec->name);
  dir = freezer_dir (rec);
  if (!dir)
    return err_set (err, 0,
                    "cannot pause container '%s': no cgroup file "
                    "system is mounted",
                    rec->name);
  if (access (dir, F_OK) < 0)
    return err_set (err, 0,
                    geteuid () ? "cannot pause container '%s': rootless "
                                 "without a delegated cgroup (it has no "
                                 "freezer)"
                               : "cannot pause container '%s': it has no "
                                 "freezer cgroup",
                    rec->name);
  if (svc_freezer_set (dir, frozen, err) < 0)
    return err_wrap (err, "%s container '%s'", frozen ? "pause" : "unpause",
                     rec->name);
  rec->state.paused = frozen;
  return 0;
}

int
svc_pause (struct svc *s, struct svc_container *c, struct err **err)
{
  (void)s;
  return set_paused (c, true, err);
}

int
svc_unpause (struct svc *s, struct svc_container *c, struct err **err)
{
  (void)s;
  return set_paused (c, false, err);
}

int
svc_freeze (struct svc *s, struct svc_container *c, struct err **err)
{
  (void)s;
  /* not running, or paused already (left as it is, and not thawed
   * after): nothing to do */
  if (c->rec.state.status != RT_RUNNING || svc_frozen (&c->rec) == 1)
    return 0;
  if (set_paused (c, true, err) < 0)
    return -1;
  c->rec.state.paused = false; /* a moment's freeze, not a pause */
  return 1;
}

int
svc_unfreeze (struct svc *s, struct svc_container *c, struct err **err)
{
  _cleanup_free_ char *dir = freezer_dir (&c->rec);
  (void)s;
  if (dir && svc_freezer_set (dir, false, err) < 0)
    return err_wrap (err, "thaw container '%s'", c->rec.name);
  return 0;
}
