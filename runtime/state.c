/* Containers on disk (see state.h). */
#include "runtime/state.h"
#include "lib/detach.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/human.h"
#include "lib/json.h"
#include "lib/rundir.h"
#include "lib/strbuf.h"
#include "lib/userns.h"
#include "lib/xalloc.h"
#include "runtime/names.h"
#include "runtime/proc.h"
#include "runtime/rootless.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define STATE_MAX (4u << 20)

/* ----------------------------------------------------------- records */

char *
rt_record_path (struct rt_containers *cs, const char *id, const char *file)
{
  return file ? xasprintf ("%s/%s/%s", cs->path, id, file)
              : xasprintf ("%s/%s", cs->path, id);
}

int
rt_containers_open (struct rt_containers *cs, const char *store_root,
                    struct err **err)
{
  cs->path = xasprintf ("%s/containers", store_root);
  cs->fd = -1;
  if (fs_mkdir_p (AT_FDCWD, cs->path, 0700, err) < 0)
    goto fail;
  cs->fd = fs_open_dir (AT_FDCWD, cs->path, err);
  if (cs->fd < 0)
    goto fail;
  if (mkdirat (cs->fd, "names", 0700) < 0 && errno != EEXIST)
    {
      err_set (err, errno, "create '%s/names'", cs->path);
      goto fail;
    }
  return 0;
fail:
  rt_containers_release (cs);
  return -1;
}

void
rt_containers_release (struct rt_containers *cs)
{
  free (cs->path);
  if (cs->fd >= 0)
    close (cs->fd);
  cs->path = NULL;
  cs->fd = -1;
}

/* Whether a record must survive a crash (lib/fs.h's rule). A --rm
 * container's record is removed when the container ends, and after a
 * crash its process is gone too (docker drops such containers when it
 * restarts): no fsync for it, two to six of them per `run --rm`. */
static bool
record_durable (const struct rt_record *r)
{
  return !r->auto_remove;
}

static int
write_json (int dirfd, const char *file, json_t *o, bool durable,
            struct err **err)
{
  _cleanup_free_ char *s = json_dumps (o, JSON_COMPACT | JSON_SORT_KEYS);
  if (!s)
    return err_set (err, ENOMEM, "encode '%s'", file);
  return (durable ? fs_write_file_atomic : fs_write_file_replace) (
      dirfd, file, s, strlen (s), 0600, err);
}

static json_t *
read_json (int dirfd, const char *file, struct err **err)
{
  _cleanup_free_ char *buf = NULL;
  /* why O_NOATIME: ps reads every record; an atime update dirties each
   * inode (a tenth of ps beside 200 containers), and the owner may skip
   * it */
  _cleanup_close_ int fd
      = openat (dirfd, file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOATIME);
  json_error_t je;
  json_t *o;
  size_t len;
  if (fd < 0 && errno == EPERM)
    fd = openat (dirfd, file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0)
    {
      err_set (err, errno, "open '%s'", file);
      return NULL;
    }
  if (fs_read_fd (fd, STATE_MAX, &buf, &len, err) < 0)
    return NULL;
  o = json_loadb (buf, len, 0, &je);
  if (!json_is_object (o))
    {
      json_decref (o);
      err_set (err, 0, "parse '%s': %s", file, je.text);
      return NULL;
    }
  return o;
}

static const char *const status_names[] = {
  [RT_CREATED] = "created", [RT_RUNNING] = "running",
  [RT_PAUSED] = "paused",   [RT_RESTARTING] = "restarting",
  [RT_EXITED] = "exited",   [RT_DEAD] = "dead",
};

/* state.json and config.json's own members (the plan is plan_json.c's) */
#define F(st, type, member) JSON_FIELD (type, struct st, member, #member)
static const struct json_field state_fields[] = {
  F (rt_state, JF_PID, pid),         F (rt_state, JF_U64, pid_start),
  F (rt_state, JF_INT, exit_code),   F (rt_state, JF_BOOL, oom_killed),
  F (rt_state, JF_TIME, started),    F (rt_state, JF_TIME, finished),
  F (rt_state, JF_STR, error),       F (rt_state, JF_STR, ip),
  F (rt_state, JF_STR, ports),       F (rt_state, JF_INT, restart_count),
}, config_fields[] = {
  F (rt_record, JF_STR, name),       F (rt_record, JF_STR, image),
  F (rt_record, JF_STR, image_ref),  F (rt_record, JF_STR, image_id),
  F (rt_record, JF_STRV, command),   F (rt_record, JF_TIME, created),
  F (rt_record, JF_BOOL, auto_remove), F (rt_record, JF_BOOL, detach),
  F (rt_record, JF_INT, stop_timeout), F (rt_record, JF_INT, created_ns),
  F (rt_record, JF_STRV, labels),    F (rt_record, JF_STRV, exposed),
  F (rt_record, JF_STR, restart),    F (rt_record, JF_INT, restart_max),
  F (rt_record, JF_STRV, publish),
  JSON_FIELD (JF_STR, struct rt_record, log.driver, "log_driver"),
  JSON_FIELD (JF_I64, struct rt_record, log.max_size, "log_max_size"),
  JSON_FIELD (JF_INT, struct rt_record, log.max_file, "log_max_file"),
  JSON_FIELD (JF_BOOL, struct rt_record, log.compress, "log_compress"),
  JSON_FIELD (JF_STR, struct rt_record, log.labels, "log_labels"),
  JSON_FIELD (JF_STR, struct rt_record, log.labels_regex, "log_labels_regex"),
  JSON_FIELD (JF_STR, struct rt_record, log.env, "log_env"),
  JSON_FIELD (JF_STR, struct rt_record, log.env_regex, "log_env_regex"),
  JSON_FIELD (JF_STR, struct rt_record, log.tag, "log_tag"),
  JSON_FIELD (JF_STRV, struct rt_record, health.test, "health_test"),
  JSON_FIELD (JF_STRV, struct rt_record, health.shell, "health_shell"),
  JSON_FIELD (JF_I64, struct rt_record, health.interval, "health_interval"),
  JSON_FIELD (JF_I64, struct rt_record, health.timeout, "health_timeout"),
  JSON_FIELD (JF_I64, struct rt_record, health.start_period,
              "health_start_period"),
  JSON_FIELD (JF_I64, struct rt_record, health.start_interval,
              "health_start_interval"),
  JSON_FIELD (JF_INT, struct rt_record, health.retries, "health_retries"),
};
#undef F

const char *
rt_status_name (enum rt_status s)
{
  return (size_t)s < ARRAY_SIZE (status_names) ? status_names[s] : "unknown";
}

static json_t *
state_json (const struct rt_state *s)
{
  json_t *o = json_object ();
  json_set_str (o, "status", rt_status_name (s->status));
  json_fields_to (o, s, state_fields, ARRAY_SIZE (state_fields));
  return o;
}

static void
state_from_json (json_t *o, struct rt_state *s)
{
  const char *st = json_peek_str (o, "status");
  s->status = RT_CREATED;
  for (size_t i = 0; st && i < ARRAY_SIZE (status_names); i++)
    if (!strcmp (st, status_names[i]))
      s->status = (enum rt_status)i;
  json_fields_from (o, s, state_fields, ARRAY_SIZE (state_fields));
}

/* What ps shows of the plan: these members of its JSON are also kept in
 * state.json's summary (record_state_json). */
static const char *const summary_plan_keys[]
    = { "network", "mounts", "net_name" };

/* state.json: the state, and a summary of config.json (its own members
 * and the plan's that ps shows), so that a listing reads one small file
 * per container and never decodes the whole plan (rt_record_load_summary:
 * a third of ps beside 500 containers). config.json stays the truth;
 * every state write renews the summary from the full record. */
static json_t *
record_state_json (const struct rt_record *r)
{
  json_t *o = state_json (&r->state), *sum = json_object ();
  json_t *plan = rt_plan_to_json (&r->plan), *p = json_object ();
  json_fields_to (sum, r, config_fields, ARRAY_SIZE (config_fields));
  for (size_t i = 0; i < ARRAY_SIZE (summary_plan_keys); i++)
    {
      json_t *v = json_object_get (plan, summary_plan_keys[i]);
      if (v)
        json_object_set (p, summary_plan_keys[i], v);
    }
  json_object_set_new (sum, "plan", p);
  json_object_set_new (o, "summary", sum);
  json_decref (plan);
  return o;
}

static int
save_config (int dirfd, const struct rt_record *r, struct err **err)
{
  json_t *o = json_object ();
  int ret;
  json_set_str (o, "id", r->id);
  json_fields_to (o, r, config_fields, ARRAY_SIZE (config_fields));
  json_object_set_new (o, "plan", rt_plan_to_json (&r->plan));
  ret = write_json (dirfd, "config.json", o, record_durable (r), err);
  json_decref (o);
  return ret;
}

/* docker's name rule. */
static int
check_name (const char *name, struct err **err)
{
  if (rt_name_valid (name))
    return 0;
  err_set (err, 0,
           "invalid container name '%s': only "
           "[a-zA-Z0-9][a-zA-Z0-9_.-] are allowed",
           name);
  return err_exit (err, 125);
}

/* With the containers lock held: name is not another container's (a
 * name left by a container whose directory is gone is free again). */
static int
name_free (struct rt_containers *cs, const char *name, struct err **err)
{
  _cleanup_free_ char *link = xasprintf ("names/%s", name);
  char target[RT_ID_HEX + 1];
  ssize_t n = readlinkat (cs->fd, link, target, sizeof target - 1);
  if (n <= 0)
    return 0;
  target[n] = '\0';
  if (faccessat (cs->fd, target, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
    {
      err_set (err, 0,
               "the container name \"/%s\" is already in use "
               "by container \"%s\": remove (or rename) that container "
               "to be able to reuse that name",
               name, target);
      return err_exit (err, 125);
    }
  unlinkat (cs->fd, link, 0);
  return 0;
}

int
rt_record_create (struct rt_containers *cs, struct rt_record *rec,
                  struct err **err)
{
  _cleanup_close_ int lock = -1, dir = -1;
  _cleanup_free_ char *path = NULL;
  struct timespec now;
  json_t *st;
  int r;

  if (rec->name && check_name (rec->name, err) < 0)
    return -1;
  lock = fs_lock (cs->fd, "lock", LOCK_EX, err);
  if (lock < 0)
    return -1;
  if (!rec->id)
    rec->id = rt_new_id ();
  if (!rec->name)
    {
      /* Two tries at a free random name, then one with a suffix. */
      for (int i = 0; i < 3 && !rec->name; i++)
        {
          char *n = rt_random_name ();
          if (i == 2)
            {
              char *s = xasprintf ("%s_%.6s", n, rec->id);
              free (n);
              n = s;
            }
          if (faccessat (cs->fd, n, F_OK, AT_SYMLINK_NOFOLLOW) < 0)
            {
              _cleanup_free_ char *link = xasprintf ("names/%s", n);
              if (faccessat (cs->fd, link, F_OK, AT_SYMLINK_NOFOLLOW) < 0)
                {
                  rec->name = n;
                  break;
                }
            }
          free (n);
        }
    }
  {
    _cleanup_free_ char *link = xasprintf ("names/%s", rec->name);
    if (name_free (cs, rec->name, err) < 0)
      return -1;
    if (mkdirat (cs->fd, rec->id, 0700) < 0)
      return err_set (err, errno, "create container directory '%s'", rec->id);
    if (symlinkat (rec->id, cs->fd, link) < 0)
      {
        err_set (err, errno, "reserve the name '%s'", rec->name);
        unlinkat (cs->fd, rec->id, AT_REMOVEDIR);
        return -1;
      }
  }
  dir = fs_open_dir (cs->fd, rec->id, err);
  if (dir < 0)
    goto undo;
  if (mkdirat (dir, "upper", 0755) < 0 || mkdirat (dir, "work", 0700) < 0)
    {
      err_set (err, errno, "create the container's upper and work dirs");
      goto undo;
    }
  path = rt_record_path (cs, rec->id, NULL);
  free (rec->plan.id);
  rec->plan.id = xstrdup (rec->id);
  free (rec->plan.name);
  rec->plan.name = xstrdup (rec->name);
  free (rec->plan.state_dir);
  rec->plan.state_dir = xstrdup (path);
  free (rec->plan.upper_dir);
  rec->plan.upper_dir = xasprintf ("%s/upper", path);
  free (rec->plan.work_dir);
  rec->plan.work_dir = xasprintf ("%s/work", path);
  /* the record's own clock, with its nanoseconds: ps -l and --filter
   * before/since order containers made within one second */
  clock_gettime (CLOCK_REALTIME, &now);
  rec->created = now.tv_sec;
  rec->created_ns = (int)now.tv_nsec;
  rec->state.status = RT_CREATED;
  if (save_config (dir, rec, err) < 0)
    goto undo;
  st = record_state_json (rec);
  r = write_json (dir, "state.json", st, record_durable (rec), err);
  json_decref (st);
  if (r < 0)
    goto undo;
  return 0;
undo:
  {
    _cleanup_free_ char *link = xasprintf ("names/%s", rec->name);
    struct err *e2 = NULL;
    unlinkat (cs->fd, link, 0);
    fs_rm_rf (cs->fd, rec->id, &e2);
    err_free (e2);
  }
  return -1;
}

int
rt_record_rename (struct rt_containers *cs, struct rt_record *rec,
                  const char *name, struct err **err)
{
  _cleanup_close_ int lock = -1, dir = -1;
  _cleanup_free_ char *link = xasprintf ("names/%s", name);
  _cleanup_free_ char *old
      = rec->name ? xasprintf ("names/%s", rec->name) : NULL;
  if (check_name (name, err) < 0)
    return err_exit (err, 1);
  lock = fs_lock (cs->fd, "lock", LOCK_EX, err);
  if (lock < 0 || name_free (cs, name, err) < 0)
    return err_exit (err, 1);
  dir = fs_open_dir (cs->fd, rec->id, err);
  if (dir < 0)
    return -1;
  if (symlinkat (rec->id, cs->fd, link) < 0)
    return err_set (err, errno, "reserve the name '%s'", name);
  free (rec->name);
  rec->name = xstrdup (name);
  free (rec->plan.name);
  rec->plan.name = xstrdup (name);
  if (save_config (dir, rec, err) < 0)
    {
      unlinkat (cs->fd, link, 0);
      return -1;
    }
  /* the old name last: a crash before leaves both names on this one,
   * the next rename or create of the old name frees it */
  if (old)
    unlinkat (cs->fd, old, 0);
  return 0;
}

static bool
is_hex_id (const char *s)
{
  size_t n = strlen (s);
  if (n != RT_ID_HEX)
    return false;
  for (; *s; s++)
    if (!isxdigit ((unsigned char)*s) || isupper ((unsigned char)*s))
      return false;
  return true;
}

int
rt_record_list (struct rt_containers *cs, char ***ids, struct err **err)
{
  int fd = openat (cs->fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  _cleanup_closedir_ DIR *d = fd >= 0 ? fdopendir (fd) : NULL;
  struct dirent *e;
  *ids = xcalloc (1, sizeof **ids);
  if (!d)
    {
      if (fd >= 0)
        close (fd);
      return err_set (err, errno, "list '%s'", cs->path);
    }
  while ((e = readdir (d)))
    if (is_hex_id (e->d_name))
      strv_push (ids, xstrdup (e->d_name));
  return 0;
}

int
rt_record_lookup (struct rt_containers *cs, const char *key, char **id,
                  struct err **err)
{
  char target[RT_ID_HEX + 1];
  _cleanup_free_ char *link = NULL;
  _cleanup_strv_ char **ids = NULL;
  const char *found = NULL;
  size_t klen = strlen (key);
  ssize_t n;

  if (is_hex_id (key) && faccessat (cs->fd, key, F_OK, 0) == 0)
    {
      *id = xstrdup (key);
      return 0;
    }
  const char *k = key[0] == '/' ? key + 1 : key;
  if (*k && !strchr (k, '/') && k[0] != '.')
    {
      link = xasprintf ("names/%s", k);
      n = readlinkat (cs->fd, link, target, sizeof target - 1);
      if (n == RT_ID_HEX)
        {
          target[n] = '\0';
          if (faccessat (cs->fd, target, F_OK, 0) == 0)
            {
              *id = xstrdup (target);
              return 0;
            }
        }
    }
  if (klen && klen < RT_ID_HEX && rt_record_list (cs, &ids, err) == 0)
    for (size_t i = 0; ids[i]; i++)
      if (!strncmp (ids[i], key, klen))
        {
          if (found)
            {
              err_set (err, 0, "more than one container starts with '%s'", key);
              return -1;
            }
          found = ids[i];
        }
  if (*err)
    return -1;
  if (!found)
    return err_set (err, 0, "no such container: '%s'", key);
  *id = xstrdup (found);
  return 0;
}

int
rt_record_pidfd (const struct rt_record *rec)
{
  int fd;
  if (rec->state.status != RT_RUNNING || rec->state.pid <= 0)
    {
      errno = ESRCH;
      return -1;
    }
  fd = (int)syscall (SYS_pidfd_open, rec->state.pid, 0);
  if (fd < 0)
    return -1;
  /* Checked after the pidfd is held: the pid cannot be reused now. */
  if (!rt_proc_same (rec->state.pid, rec->state.pid_start))
    {
      close (fd);
      errno = ESRCH;
      return -1;
    }
  return fd;
}

int
rt_record_monitor_lock (struct rt_containers *cs, const char *id,
                        struct err **err)
{
  _cleanup_free_ char *path = xasprintf ("%s/monitor.lock", id);
  /* relative to the containers dir: ps probes every running one */
  int fd = rundir_open (cs->fd, path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
                        0600, err);
  if (fd < 0)
    return err_wrap (err, "'%s'", cs->path);
  if (flock (fd, LOCK_EX | LOCK_NB) < 0)
    {
      err_set (err, errno, "lock '%s'", path);
      close (fd);
      return -1;
    }
  return fd;
}

int
rt_record_save_state (struct rt_containers *cs, const struct rt_record *rec,
                      struct err **err)
{
  _cleanup_close_ int dir = fs_open_dir (cs->fd, rec->id, err);
  json_t *o;
  int r;
  if (dir < 0)
    return -1;
  o = record_state_json (rec);
  r = write_json (dir, "state.json", o, record_durable (rec), err);
  json_decref (o);
  return r;
}

int
rt_record_load (struct rt_containers *cs, const char *id, struct rt_record *out,
                struct err **err)
{
  _cleanup_close_ int dir = -1;
  json_t *c = NULL, *s = NULL;

  memset (out, 0, sizeof *out);
  rt_plan_init (&out->plan);
  dir = fs_open_dir (cs->fd, id, err);
  if (dir < 0)
    return err_wrap (err, "container '%s'", id);
  if (!(c = read_json (dir, "config.json", err))
      || !(s = read_json (dir, "state.json", err)))
    {
      json_decref (c);
      return err_wrap (err, "container '%s'", id);
    }
  out->id = xstrdup (id);
  json_fields_from (c, out, config_fields, ARRAY_SIZE (config_fields));
  rt_plan_release (&out->plan);
  rt_plan_from_json (json_object_get (c, "plan"), &out->plan);
  state_from_json (s, &out->state);
  json_decref (c);
  json_decref (s);

  return 0;
}

int
rt_record_load_summary (struct rt_containers *cs, const char *id,
                        struct rt_record *out, struct err **err)
{
  _cleanup_free_ char *file = xasprintf ("%s/state.json", id);
  json_t *s, *sum;

  memset (out, 0, sizeof *out);
  rt_plan_init (&out->plan);
  /* one open, relative to the containers dir */
  if (!(s = read_json (cs->fd, file, err)))
    return err_wrap (err, "container '%s'", id);
  sum = json_object_get (s, "summary");
  if (!json_is_object (sum))
    {
      /* a record written before state.json had a summary */
      json_decref (s);
      return rt_record_load (cs, id, out, err);
    }
  out->id = xstrdup (id);
  json_fields_from (sum, out, config_fields, ARRAY_SIZE (config_fields));
  rt_plan_release (&out->plan);
  rt_plan_from_json (json_object_get (sum, "plan"), &out->plan);
  /* what rt_record_create derives from the id */
  out->plan.id = xstrdup (id);
  out->plan.name = out->name ? xstrdup (out->name) : NULL;
  out->plan.state_dir = rt_record_path (cs, id, NULL);
  out->plan.upper_dir = rt_record_path (cs, id, "upper");
  out->plan.work_dir = rt_record_path (cs, id, "work");
  state_from_json (s, &out->state);
  json_decref (s);
  return 0;
}

#define REMOVING_PREFIX ".removing-"

/* Delete dirfd/name in a child of its own session, stdio on /dev/null,
 * and return at once. why: deleting a container's ~20 files costs 1-3 ms
 * on ext4, most of what `run --rm` does after the process exits; the
 * record is already gone for every reader (renamed), so the caller need
 * not wait. A remover killed midway leaves a .removing- directory that
 * rt_records_sweep (prune) deletes. */
static int
remove_detached (int dirfd, const char *name)
{
  pid_t pid = fork ();
  if (pid != 0)
    return pid < 0 ? -1 : 0;
  if (detach_self (dirfd) == 3)
    {
      struct err *e = NULL;
      /* rootless: files of subordinate owners go only from the user
       * namespace (runtime/rootless.h) */
      if (rt_rootless_enter (&e) == 0)
        fs_rm_rf (3, name, &e);
      err_free (e);
    }
  _exit (0);
}

/* a rootless container's files in the runtime directory */
static void
remove_run_files (struct rt_containers *cs, const char *id)
{
  static const char *const files[] = { "monitor.lock", "attach.sock" };
  for (size_t i = 0; i < sizeof files / sizeof *files; i++)
    {
      _cleanup_free_ char *path = xasprintf ("%s/%s", id, files[i]);
      rundir_unlink (cs->fd, path);
    }
}

int
rt_record_remove (struct rt_containers *cs, const struct rt_record *rec,
                  bool detach, struct err **err)
{
  _cleanup_close_ int lock = fs_lock (cs->fd, "lock", LOCK_EX, err);
  char target[RT_ID_HEX + 1];
  _cleanup_free_ char *link = NULL;
  _cleanup_free_ char *trash = xasprintf (REMOVING_PREFIX "%s", rec->id);
  ssize_t n;
  if (lock < 0)
    return -1;
  if (rec->name)
    {
      link = xasprintf ("names/%s", rec->name);
      n = readlinkat (cs->fd, link, target, sizeof target - 1);
      if (n == RT_ID_HEX && !memcmp (target, rec->id, RT_ID_HEX))
        unlinkat (cs->fd, link, 0);
    }
  remove_run_files (cs, rec->id);
  /* out of every reader's sight first: the id is free once this returns */
  if (renameat (cs->fd, rec->id, cs->fd, trash) < 0)
    return errno == ENOENT
               ? 0
               : err_set (err, errno, "remove container '%.12s'", rec->id);
  close (steal_fd (&lock));
  /* an ordinary user outside the user namespace (rm, stop) cannot
   * delete what subordinate ids own: the detached remover enters it */
  detach = detach || geteuid () != 0;
  if (detach && remove_detached (cs->fd, trash) == 0)
    return 0;
  if (fs_rm_rf (cs->fd, trash, err) < 0)
    return err_wrap (err, "remove container '%.12s'", rec->id);
  return 0;
}

size_t
rt_records_sweep (struct rt_containers *cs)
{
  DIR *d;
  struct dirent *e;
  size_t n = 0;
  int fd = dup (cs->fd);
  if (fd < 0 || !(d = fdopendir (fd)))
    {
      if (fd >= 0)
        close (fd);
      return 0;
    }
  while ((e = readdir (d)))
    if (!strncmp (e->d_name, REMOVING_PREFIX, strlen (REMOVING_PREFIX)))
      {
        struct err *err = NULL;
        if (fs_rm_rf (cs->fd, e->d_name, &err) == 0)
          n++;
        err_free (err);
      }
  closedir (d);
  return n;
}

void
rt_record_release (struct rt_record *rec)
{
  free (rec->id);
  free (rec->name);
  free (rec->image);
  free (rec->image_ref);
  free (rec->image_id);
  strv_free (rec->command);
  strv_free (rec->labels);
  strv_free (rec->exposed);
  rt_log_config_release (&rec->log);
  strv_free (rec->health.test);
  strv_free (rec->health.shell);
  rt_plan_release (&rec->plan);
  free (rec->state.error);
  free (rec->state.ip);
  free (rec->state.ports);
  free (rec->restart);
  strv_free (rec->publish);
  memset (rec, 0, sizeof *rec);
}
