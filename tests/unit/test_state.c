/* Unit tests for runtime/state.c (container records, names, lookup) and
 * the container service's rule for containers whose monitor died. */
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/xalloc.h"
#include "runtime/names.h"
#include "runtime/proc.h"
#include "runtime/state.h"
#include "service/service.h"
#include "tests/unit/test.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char tmp[] = "/tmp/test_state.XXXXXX";

static void
new_record (struct rt_record *r, const char *name)
{
  memset (r, 0, sizeof *r);
  rt_plan_init (&r->plan);
  r->name = name ? xstrdup (name) : NULL;
  r->image = xstrdup ("busybox");
  strv_push (&r->command, xstrdup ("sh"));
  strv_push (&r->plan.argv, xstrdup ("sh"));
  r->plan.hostname = xstrdup ("box");
  r->plan.limits.memory = 64 << 20;
  r->plan.cap_add = 1ull << 63;
  r->plan.devices = xcalloc (1, sizeof *r->plan.devices);
  r->plan.devices[0] = (struct rt_device){
    .host = xstrdup ("/dev/loop3"),
    .path = xstrdup ("/dev/xdisk"),
    .type = 'b',
    .major = 7,
    .minor = 3,
    .mode = 0660,
    .uid = 0,
    .gid = 6,
    .access = RT_DEV_READ | RT_DEV_MKNOD,
  };
  r->plan.n_devices = 1;
  r->stop_timeout = -1;
}

int
main (void)
{
  struct rt_containers cs;
  struct rt_record a, b, c, l;
  struct err *err = NULL;
  char *id = NULL;
  _cleanup_strv_ char **ids = NULL;

  if (!mkdtemp (tmp))
    return 1;
  CHECK (rt_containers_open (&cs, tmp, &err) == 0, "open containers dir");

  {
    char *x = rt_new_id ();
    CHECK (strlen (x) == 64 && strspn (x, "0123456789abcdef") == 64,
           "ids are 64 lowercase hex digits");
    free (x);
  }

  new_record (&a, "web");
  CHECK (rt_record_create (&cs, &a, &err) == 0, "create a named container");
  CHECK (a.id && strlen (a.id) == 64, "it got an id");
  CHECK (a.plan.upper_dir && strstr (a.plan.upper_dir, a.id),
         "the plan points at its upper dir");
  {
    struct stat st;
    CHECK (stat (a.plan.upper_dir, &st) == 0 && S_ISDIR (st.st_mode)
               && stat (a.plan.work_dir, &st) == 0,
           "upper/ and work/ exist");
  }

  new_record (&b, "web");
  CHECK (rt_record_create (&cs, &b, &err) < 0 && err->exit == 125,
         "a second container named web is refused");
  CHECK (err
             && strstr (err->msg, "the container name \"/web\" is already in "
                                  "use by container"),
         "the clash message is docker's");
  err_clear (&err);
  rt_record_release (&b);

  new_record (&b, NULL);
  CHECK (rt_record_create (&cs, &b, &err) == 0 && b.name
             && strchr (b.name, '_'),
         "an unnamed container gets a random name (%s)", b.name);

  new_record (&c, "bad/name");
  CHECK (rt_record_create (&cs, &c, &err) < 0, "an invalid name is refused");
  err_clear (&err);
  rt_record_release (&c);

  CHECK (rt_record_lookup (&cs, "web", &id, &err) == 0 && !strcmp (id, a.id),
         "lookup by name");
  free (id);
  CHECK (rt_record_lookup (&cs, "/web", &id, &err) == 0 && !strcmp (id, a.id),
         "lookup by /name");
  free (id);
  CHECK (rt_record_lookup (&cs, a.id, &id, &err) == 0 && !strcmp (id, a.id),
         "lookup by full id");
  free (id);
  {
    char prefix[13];
    memcpy (prefix, a.id, 12);
    prefix[12] = '\0';
    CHECK (rt_record_lookup (&cs, prefix, &id, &err) == 0 && !strcmp (id, a.id),
           "lookup by unique prefix");
    free (id);
  }
  CHECK (rt_record_lookup (&cs, "nosuch", &id, &err) < 0, "unknown name");
  CHECK_STR (err ? err->msg : NULL, "no such container: 'nosuch'",
             "unknown container message");
  err_clear (&err);
  if (a.id[0] == b.id[0])
    {
      char p[2] = { a.id[0], 0 };
      CHECK (rt_record_lookup (&cs, p, &id, &err) < 0
                 && strstr (err->msg, "more than one"),
             "an ambiguous prefix is an error");
      err_clear (&err);
    }
  else
    SKIP ("the two ids do not share a first digit");

  CHECK (rt_record_list (&cs, &ids, &err) == 0 && strv_len (ids) == 2,
         "list finds both containers");

  {
    /* a listing's load: state.json alone (its summary of config.json) */
    _cleanup_free_ char *cfg = rt_record_path (&cs, a.id, "config.json");
    _cleanup_free_ char *away = xasprintf ("%s.away", cfg);
    CHECK (rename (cfg, away) == 0, "config.json moved away");
    CHECK (rt_record_load_summary (&cs, a.id, &l, &err) == 0,
           "a summary loads without config.json");
    CHECK_STR (l.name, "web", "summary: the name");
    CHECK_STR (l.image, "busybox", "summary: the image");
    CHECK (l.command && !strcmp (l.command[0], "sh"), "summary: the command");
    CHECK (l.created == a.created && l.created_ns == a.created_ns,
           "summary: the creation, to the nanosecond");
    CHECK (l.plan.network == a.plan.network, "summary: the plan's network");
    CHECK_STR (l.plan.upper_dir, a.plan.upper_dir, "summary: the upper dir");
    CHECK (!l.plan.hostname, "not the rest of the plan");
    rt_record_release (&l);
    CHECK (rename (away, cfg) == 0, "config.json back");
  }
  CHECK (rt_record_load (&cs, a.id, &l, &err) == 0, "load a record");
  CHECK (l.state.status == RT_CREATED, "a new container is created");
  CHECK_STR (l.name, "web", "name kept");
  CHECK_STR (l.plan.hostname, "box", "plan hostname kept");
  CHECK (l.plan.limits.memory == 64 << 20, "plan limits kept");
  CHECK (l.plan.cap_add == 1ull << 63, "64-bit cap masks kept");
  CHECK (l.plan.no_new_privs, "no_new_privs kept");
  CHECK (l.plan.n_devices == 1 && !strcmp (l.plan.devices[0].path, "/dev/xdisk")
             && !strcmp (l.plan.devices[0].host, "/dev/loop3")
             && l.plan.devices[0].type == 'b' && l.plan.devices[0].major == 7
             && l.plan.devices[0].minor == 3 && l.plan.devices[0].mode == 0660
             && l.plan.devices[0].gid == 6
             && l.plan.devices[0].access == (RT_DEV_READ | RT_DEV_MKNOD),
         "--device kept (for exec and inspection)");
  CHECK_STR (l.plan.argv ? l.plan.argv[0] : NULL, "sh", "argv kept");
  rt_record_release (&l);

  /* A running container whose pid is alive. */
  {
    pid_t child = fork ();
    if (child == 0)
      {
        pause ();
        _exit (0);
      }
    a.state.status = RT_RUNNING;
    a.state.pid = child;
    a.state.pid_start = rt_proc_start (child);
    a.state.started = time (NULL);
    CHECK (a.state.pid_start != 0, "a live pid has a start time");
    CHECK (rt_record_save_state (&cs, &a, &err) == 0, "save running state");
    CHECK (rt_record_load (&cs, a.id, &l, &err) == 0
               && l.state.status == RT_RUNNING && l.state.pid == child,
           "a live container stays running");
    {
      int pfd = rt_record_pidfd (&l);
      CHECK (pfd >= 0, "a pidfd for the live container");
      if (pfd >= 0)
        close (pfd);
    }
    rt_record_release (&l);

    /* The same pid with another start time is another process. */
    a.state.pid_start += 1;
    rt_record_save_state (&cs, &a, &err);
    {
      int lock = rt_record_monitor_lock (&cs, a.id, &err);
      CHECK (lock >= 0, "take the monitor lock");
      CHECK (rt_record_load (&cs, a.id, &l, &err) == 0
                 && l.state.status == RT_RUNNING,
             "while a monitor watches, its record is trusted");
      CHECK (rt_record_pidfd (&l) < 0, "but no pidfd for a recycled pid");
      rt_record_release (&l);
      close (lock);
    }
    CHECK (rt_record_load (&cs, a.id, &l, &err) == 0
               && l.state.status == RT_RUNNING,
           "the record store alone reports what is on disk");
    rt_record_release (&l);
    {
      struct svc s;
      CHECK (svc_open (&s, tmp, NULL, &err) == 0, "open the service");
      CHECK (svc_load_id (&s, a.id, &l, &err) == 0
                 && l.state.status == RT_EXITED && l.state.exit_code == 137
                 && l.state.error
                 && strstr (l.state.error, "monitor was killed"),
             "a recycled pid with no monitor: Exited (137), the monitor "
             "was killed");
      rt_record_release (&l);
      CHECK (rt_record_load (&cs, a.id, &l, &err) == 0
                 && l.state.status == RT_EXITED,
             "and that is saved");
      rt_record_release (&l);

      /* The container's process still there, its monitor gone: it dies
       * with its monitor (the rule holds even when the parent-death
       * signal did not fire). */
      a.state.pid_start -= 1;
      a.state.status = RT_RUNNING;
      rt_record_save_state (&cs, &a, &err);
      CHECK (svc_load_summary (&s, a.id, &l, &err) == 0
                 && l.state.status == RT_EXITED && l.state.exit_code == 137,
             "a live container without a monitor: Exited (137), from a "
             "listing's load too");
      CHECK_STR (l.plan.hostname, "box",
                 "the rule works on the whole record, read under the lock");
      rt_record_release (&l);
      {
        int st = 0;
        CHECK (waitpid (child, &st, 0) == child && WIFSIGNALED (st)
                   && WTERMSIG (st) == SIGKILL,
               "and its process was killed");
      }
      svc_close (&s);
    }
  }
  {
    char buf[64];
    a.state.status = RT_EXITED;
    a.state.exit_code = 3;
    a.state.finished = time (NULL) - 5;
    svc_status_text (&a, time (NULL), buf, sizeof buf);
    CHECK_STR (buf, "Exited (3) 5 seconds ago", "exited status text");
    a.state.status = RT_RUNNING;
    a.state.started = time (NULL) - 180;
    svc_status_text (&a, time (NULL), buf, sizeof buf);
    CHECK_STR (buf, "Up 3 minutes", "running status text");
  }

  CHECK (rt_record_remove (&cs, &a, false, &err) == 0, "remove a container");
  CHECK (rt_record_lookup (&cs, "web", &id, &err) < 0, "its name is gone");
  err_clear (&err);
  {
    _cleanup_free_ char *dir = rt_record_path (&cs, a.id, NULL);
    CHECK (access (dir, F_OK) < 0, "its directory is gone");
  }
  rt_record_release (&a);
  new_record (&a, "web");
  CHECK (rt_record_create (&cs, &a, &err) == 0, "the name can be reused");
  {
    /* detached: gone from sight at once, deleted by a child of its own */
    int gone = 0;
    CHECK (rt_record_remove (&cs, &a, true, &err) == 0,
           "remove a container, deleting in the background");
    CHECK (rt_record_lookup (&cs, "web", &id, &err) < 0,
           "its name is gone at once");
    err_clear (&err);
    for (int i = 0; i < 100 && !gone; i++)
      {
        _cleanup_free_ char *t = xasprintf ("%s/.removing-%s", cs.path, a.id);
        gone = access (t, F_OK) < 0;
        if (!gone)
          usleep (20000);
      }
    CHECK (gone, "and the remover deletes its files");
    while (waitpid (-1, NULL, WNOHANG) > 0)
      ;
  }
  rt_record_release (&a);
  rt_record_release (&b);
  rt_containers_release (&cs);
  fs_rm_rf (AT_FDCWD, tmp, &err);
  err_free (err);
  return test_done ();
}
