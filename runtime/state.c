/* Containers on disk (see state.h). */
#include "runtime/state.h"
#include "lib/jsonstrv.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/human.h"
#include "lib/strbuf.h"
#include "lib/xalloc.h"

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
/* Exit status recorded when a container died with nobody watching it
 * (docker shows 255 for a container whose exit it could not learn). */
#define EXIT_UNKNOWN 255

/* ------------------------------------------------------------ helpers */

static char *
json_str (json_t *o, const char *key)
{
  json_t *x = json_object_get (o, key);
  return json_is_string (x) ? xstrdup (json_string_value (x)) : NULL;
}

static int64_t
json_int (json_t *o, const char *key)
{
  json_t *x = json_object_get (o, key);
  return json_is_integer (x) ? (int64_t) json_integer_value (x) : 0;
}

static bool
json_bool (json_t *o, const char *key)
{
  return json_is_true (json_object_get (o, key));
}

static void
set_str (json_t *o, const char *key, const char *v)
{
  if (v)
    json_object_set_new (o, key, json_string (v));
}

static void
set_time (json_t *o, const char *key, time_t t)
{
  char buf[64];
  if (!t)
    return;
  rfc3339_format (t, buf, sizeof buf);
  json_object_set_new (o, key, json_string (buf));
}

static time_t
get_time (json_t *o, const char *key)
{
  json_t *x = json_object_get (o, key);
  time_t t = 0;
  if (json_is_string (x))
    rfc3339_parse (json_string_value (x), &t);
  return t;
}

/* ------------------------------------------------------ plan <-> json */

static json_t *
devices_to_json (const struct rt_plan *p)
{
  json_t *a = json_array ();
  for (size_t i = 0; i < p->n_devices; i++)
    {
      const struct rt_device *d = &p->devices[i];
      char type[2] = { d->type, '\0' };
      json_t *j = json_object ();
      set_str (j, "host", d->host);
      set_str (j, "path", d->path);
      set_str (j, "type", type);
      json_object_set_new (j, "major", json_integer (d->major));
      json_object_set_new (j, "minor", json_integer (d->minor));
      json_object_set_new (j, "mode", json_integer (d->mode));
      json_object_set_new (j, "uid", json_integer (d->uid));
      json_object_set_new (j, "gid", json_integer (d->gid));
      json_object_set_new (j, "access", json_integer (d->access));
      json_array_append_new (a, j);
    }
  return a;
}

static json_t *
plan_json (const struct rt_plan *p)
{
  json_t *o = json_object (), *m = json_array (), *l = json_object ();
  json_t *u = json_object (), *g = json_array ();
  json_object_set_new (o, "lower_dirs", strv_to_json (p->lower_dirs));
  set_str (o, "upper_dir", p->upper_dir);
  set_str (o, "work_dir", p->work_dir);
  json_object_set_new (o, "readonly_rootfs", json_boolean (p->readonly_rootfs));
  json_object_set_new (o, "volatile_upper", json_boolean (p->volatile_upper));
  json_object_set_new (o, "argv", strv_to_json (p->argv));
  json_object_set_new (o, "env", strv_to_json (p->env));
  set_str (o, "cwd", p->cwd);
  json_object_set_new (u, "uid", json_integer (p->user.uid));
  json_object_set_new (u, "gid", json_integer (p->user.gid));
  for (size_t i = 0; i < p->user.n_groups; i++)
    json_array_append_new (g, json_integer (p->user.groups[i]));
  json_object_set_new (u, "groups", g);
  json_object_set_new (o, "user", u);
  json_object_set_new (o, "tty", json_boolean (p->tty));
  json_object_set_new (o, "stdin_open", json_boolean (p->stdin_open));
  set_str (o, "id", p->id);
  set_str (o, "name", p->name);
  set_str (o, "hostname", p->hostname);
  set_str (o, "state_dir", p->state_dir);
  for (size_t i = 0; i < p->n_mounts; i++)
    {
      const struct rt_mount *x = &p->mounts[i];
      json_t *j = json_object ();
      set_str (j, "kind", x->kind == RT_MOUNT_TMPFS ? "tmpfs" : "bind");
      set_str (j, "source", x->source);
      set_str (j, "destination", x->destination);
      json_object_set_new (j, "readonly", json_boolean (x->readonly));
      set_str (j, "options", x->options);
      json_array_append_new (m, j);
    }
  json_object_set_new (o, "mounts", m);
  set_str (o, "network", p->network == RT_NET_HOST     ? "host"
                         : p->network == RT_NET_BRIDGE ? "bridge"
                                                       : "none");
  json_object_set_new (l, "memory", json_integer (p->limits.memory));
  json_object_set_new (l, "memory_swap", json_integer (p->limits.memory_swap));
  json_object_set_new (l, "cpu_quota", json_integer (p->limits.cpu_quota));
  json_object_set_new (l, "cpu_period", json_integer (p->limits.cpu_period));
  json_object_set_new (l, "cpu_shares", json_integer (p->limits.cpu_shares));
  json_object_set_new (l, "pids", json_integer (p->limits.pids));
  json_object_set_new (o, "limits", l);
  set_str (o, "cgroup_parent", p->cgroup_parent);
  /* Bitmasks as strings: json integers are signed 64-bit. */
  {
    char buf[32];
    snprintf (buf, sizeof buf, "%#llx", (unsigned long long) p->cap_add);
    set_str (o, "cap_add", buf);
    snprintf (buf, sizeof buf, "%#llx", (unsigned long long) p->cap_drop);
    set_str (o, "cap_drop", buf);
  }
  json_object_set_new (o, "privileged", json_boolean (p->privileged));
  json_object_set_new (o, "devices", devices_to_json (p));
  json_object_set_new (o, "no_new_privs", json_boolean (p->no_new_privs));
  set_str (o, "seccomp_profile", p->seccomp_profile);
  set_str (o, "stop_signal", p->stop_signal);
  return o;
}

static void
devices_from_json (json_t *a, struct rt_plan *p)
{
  json_t *x;
  size_t i;
  if (!json_is_array (a) || !json_array_size (a))
    return;
  p->devices = xcalloc (json_array_size (a), sizeof *p->devices);
  json_array_foreach (a, i, x)
    {
      struct rt_device *d = &p->devices[p->n_devices];
      const char *t = json_string_value (json_object_get (x, "type"));
      d->host = json_str (x, "host");
      d->path = json_str (x, "path");
      d->type = t && !strcmp (t, "b") ? 'b' : 'c';
      d->major = (uint32_t) json_int (x, "major");
      d->minor = (uint32_t) json_int (x, "minor");
      d->mode = (uint32_t) json_int (x, "mode");
      d->uid = (uid_t) json_int (x, "uid");
      d->gid = (gid_t) json_int (x, "gid");
      d->access = (unsigned) json_int (x, "access") & RT_DEV_RWM;
      if (!d->path || *d->path != '/')
        rt_device_release (d); /* a damaged entry: left out */
      else
        p->n_devices++;
    }
}

static void
plan_from_json (json_t *o, struct rt_plan *p)
{
  json_t *u = json_object_get (o, "user"), *l = json_object_get (o, "limits");
  json_t *m = json_object_get (o, "mounts"), *x;
  const char *net = json_string_value (json_object_get (o, "network"));
  size_t i;
  char *s;

  rt_plan_init (p);
  p->lower_dirs = json_to_strv (json_object_get (o, "lower_dirs"));
  p->upper_dir = json_str (o, "upper_dir");
  p->work_dir = json_str (o, "work_dir");
  p->readonly_rootfs = json_bool (o, "readonly_rootfs");
  p->volatile_upper = json_bool (o, "volatile_upper");
  p->argv = json_to_strv (json_object_get (o, "argv"));
  p->env = json_to_strv (json_object_get (o, "env"));
  p->cwd = json_str (o, "cwd");
  p->user.uid = (uid_t) json_int (u, "uid");
  p->user.gid = (gid_t) json_int (u, "gid");
  x = json_object_get (u, "groups");
  if (json_is_array (x) && json_array_size (x))
    {
      json_t *g;
      p->user.groups = xcalloc (json_array_size (x), sizeof (gid_t));
      json_array_foreach (x, i, g)
        p->user.groups[p->user.n_groups++] = (gid_t) json_integer_value (g);
    }
  p->tty = json_bool (o, "tty");
  p->stdin_open = json_bool (o, "stdin_open");
  p->id = json_str (o, "id");
  p->name = json_str (o, "name");
  p->hostname = json_str (o, "hostname");
  p->state_dir = json_str (o, "state_dir");
  if (json_is_array (m) && json_array_size (m))
    {
      p->mounts = xcalloc (json_array_size (m), sizeof *p->mounts);
      json_array_foreach (m, i, x)
        {
          struct rt_mount *d = &p->mounts[p->n_mounts++];
          const char *k = json_string_value (json_object_get (x, "kind"));
          d->kind = k && !strcmp (k, "tmpfs") ? RT_MOUNT_TMPFS : RT_MOUNT_BIND;
          d->source = json_str (x, "source");
          d->destination = json_str (x, "destination");
          d->readonly = json_bool (x, "readonly");
          d->options = json_str (x, "options");
        }
    }
  p->network = net && !strcmp (net, "host")     ? RT_NET_HOST
               : net && !strcmp (net, "bridge") ? RT_NET_BRIDGE
                                                : RT_NET_NONE;
  p->limits.memory = json_int (l, "memory");
  p->limits.memory_swap = json_int (l, "memory_swap");
  p->limits.cpu_quota = json_int (l, "cpu_quota");
  p->limits.cpu_period = json_int (l, "cpu_period");
  p->limits.cpu_shares = json_int (l, "cpu_shares");
  p->limits.pids = json_int (l, "pids");
  p->cgroup_parent = json_str (o, "cgroup_parent");
  if ((s = json_str (o, "cap_add")))
    p->cap_add = strtoull (s, NULL, 0), free (s);
  if ((s = json_str (o, "cap_drop")))
    p->cap_drop = strtoull (s, NULL, 0), free (s);
  p->privileged = json_bool (o, "privileged");
  devices_from_json (json_object_get (o, "devices"), p);
  p->no_new_privs = json_bool (o, "no_new_privs");
  p->seccomp_profile = json_str (o, "seccomp_profile");
  p->stop_signal = json_str (o, "stop_signal");
}

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

char *
rt_new_id (void)
{
  unsigned char b[RT_ID_HEX / 2];
  char *id = xmalloc (RT_ID_HEX + 1);
  for (;;)
    {
      bool digits = true;
      if (getrandom (b, sizeof b, 0) != (ssize_t) sizeof b)
        abort ();
      for (size_t i = 0; i < sizeof b; i++)
        sprintf (id + 2 * i, "%02x", b[i]);
      /* docker: an all-digit short id would read as a number */
      for (int i = 0; i < RT_SHORT_ID; i++)
        digits &= isdigit ((unsigned char) id[i]) != 0;
      if (!digits)
        return id;
    }
}

static const char *const adjectives[]
    = { "admiring", "bold",    "brave",   "busy",     "calm",   "clever",
        "cool",     "eager",   "elegant", "festive",  "gentle", "happy",
        "jolly",    "keen",    "kind",    "lucid",    "modest", "nifty",
        "quirky",   "relaxed", "serene",  "sharp",    "stoic",  "sweet",
        "tender",   "upbeat",  "vibrant", "wizardly", "zealous" };
static const char *const surnames[]
    = { "babbage", "bohr",     "curie",  "darwin",   "dijkstra", "einstein",
        "euler",   "fermi",    "gauss",  "hopper",   "hypatia",  "kepler",
        "knuth",   "lamarr",   "lovelace", "meitner", "newton",  "noether",
        "pascal",  "ritchie",  "shannon", "tesla",   "thompson", "torvalds",
        "turing",  "wozniak" };

static char *
random_name (void)
{
  unsigned r[2];
  if (getrandom (r, sizeof r, 0) != (ssize_t) sizeof r)
    abort ();
  return xasprintf ("%s_%s", adjectives[r[0] % ARRAY_SIZE (adjectives)],
                    surnames[r[1] % ARRAY_SIZE (surnames)]);
}

static bool
name_valid (const char *n)
{
  /* docker: [a-zA-Z0-9][a-zA-Z0-9_.-]+ */
  if (!isalnum ((unsigned char) n[0]) || !n[1] || strlen (n) > 128)
    return false;
  for (const char *c = n + 1; *c; c++)
    if (!isalnum ((unsigned char) *c) && !strchr ("_.-", *c))
      return false;
  return true;
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
  return (durable ? fs_write_file_atomic
                  : fs_write_file_replace) (dirfd, file, s, strlen (s), 0600,
                                            err);
}

static json_t *
read_json (int dirfd, const char *file, struct err **err)
{
  _cleanup_free_ char *buf = NULL;
  json_error_t je;
  json_t *o;
  size_t len;
  if (fs_read_file (dirfd, file, STATE_MAX, &buf, &len, err) < 0)
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

static const char *
status_name (enum rt_status s)
{
  return s == RT_RUNNING ? "running" : s == RT_EXITED ? "exited" : "created";
}

static json_t *
state_json (const struct rt_state *s)
{
  json_t *o = json_object ();
  set_str (o, "status", status_name (s->status));
  json_object_set_new (o, "pid", json_integer (s->pid));
  json_object_set_new (o, "pid_start", json_integer ((json_int_t) s->pid_start));
  json_object_set_new (o, "exit_code", json_integer (s->exit_code));
  json_object_set_new (o, "oom_killed", json_boolean (s->oom_killed));
  set_time (o, "started", s->started);
  set_time (o, "finished", s->finished);
  set_str (o, "error", s->error);
  set_str (o, "ip", s->ip);
  set_str (o, "ports", s->ports);
  return o;
}

static void
state_from_json (json_t *o, struct rt_state *s)
{
  const char *st = json_string_value (json_object_get (o, "status"));
  s->status = st && !strcmp (st, "running")  ? RT_RUNNING
              : st && !strcmp (st, "exited") ? RT_EXITED
                                             : RT_CREATED;
  s->pid = (pid_t) json_int (o, "pid");
  s->pid_start = (uint64_t) json_int (o, "pid_start");
  s->exit_code = (int) json_int (o, "exit_code");
  s->oom_killed = json_bool (o, "oom_killed");
  s->started = get_time (o, "started");
  s->finished = get_time (o, "finished");
  s->error = json_str (o, "error");
  s->ip = json_str (o, "ip");
  s->ports = json_str (o, "ports");
}

static int
save_config (int dirfd, const struct rt_record *r, struct err **err)
{
  json_t *o = json_object ();
  int ret;
  set_str (o, "id", r->id);
  set_str (o, "name", r->name);
  set_str (o, "image", r->image);
  set_str (o, "image_ref", r->image_ref);
  set_str (o, "image_id", r->image_id);
  json_object_set_new (o, "command", strv_to_json (r->command));
  set_time (o, "created", r->created);
  json_object_set_new (o, "auto_remove", json_boolean (r->auto_remove));
  json_object_set_new (o, "detach", json_boolean (r->detach));
  json_object_set_new (o, "stop_timeout", json_integer (r->stop_timeout));
  json_object_set_new (o, "plan", plan_json (&r->plan));
  ret = write_json (dirfd, "config.json", o, record_durable (r), err);
  json_decref (o);
  return ret;
}

int
rt_record_create (struct rt_containers *cs, struct rt_record *rec,
                  struct err **err)
{
  _cleanup_close_ int lock = -1, dir = -1;
  _cleanup_free_ char *path = NULL;
  char target[RT_ID_HEX + 1];
  json_t *st;
  int r;

  if (rec->name && !name_valid (rec->name))
    {
      err_set (err, 0, "invalid container name '%s': only "
               "[a-zA-Z0-9][a-zA-Z0-9_.-] are allowed", rec->name);
      return err_exit (err, 125);
    }
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
          char *n = random_name ();
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
    ssize_t n = readlinkat (cs->fd, link, target, sizeof target - 1);
    if (n > 0)
      {
        _cleanup_free_ char *cpath = NULL;
        target[n] = '\0';
        /* A name left by a container whose directory is gone is free. */
        if (faccessat (cs->fd, target, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
          {
            err_set (err, 0, "the container name \"/%s\" is already in use "
                     "by container \"%s\": remove (or rename) that container "
                     "to be able to reuse that name", rec->name, target);
            return err_exit (err, 125);
          }
        unlinkat (cs->fd, link, 0);
      }
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
  if (!rec->created)
    rec->created = time (NULL);
  rec->state.status = RT_CREATED;
  if (save_config (dir, rec, err) < 0)
    goto undo;
  st = state_json (&rec->state);
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

static bool
is_hex_id (const char *s)
{
  size_t n = strlen (s);
  if (n != RT_ID_HEX)
    return false;
  for (; *s; s++)
    if (!isxdigit ((unsigned char) *s) || isupper ((unsigned char) *s))
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
              err_set (err, 0, "more than one container starts with '%s'",
                       key);
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

uint64_t
rt_proc_start (pid_t pid)
{
  char path[64], *buf = NULL, *p;
  struct err *e = NULL;
  unsigned long long start = 0;
  if (pid <= 0)
    return 0;
  snprintf (path, sizeof path, "/proc/%d/stat", (int) pid);
  if (fs_read_file (AT_FDCWD, path, 65536, &buf, NULL, &e) < 0)
    {
      err_free (e);
      return 0;
    }
  /* Field 2 (comm) may hold spaces and ')': skip to the last ')'. */
  p = strrchr (buf, ')');
  /* a zombie is dead for us: its parent (a killed monitor's PID 1) may
   * never reap it */
  if (p && p[1] == ' ' && (p[2] == 'Z' || p[2] == 'X'))
    p = NULL;
  if (p)
    {
      /* fields 3..22: state is 3, starttime is 22 */
      int field = 2;
      for (p++; *p && field < 22; p++)
        if (*p == ' ')
          field++;
      start = strtoull (p, NULL, 10);
    }
  free (buf);
  return start;
}

bool
rt_proc_same (pid_t pid, uint64_t start)
{
  uint64_t now = rt_proc_start (pid);
  return now && now == start;
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
  fd = (int) syscall (SYS_pidfd_open, rec->state.pid, 0);
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
  _cleanup_free_ char *path = rt_record_path (cs, id, "monitor.lock");
  int fd = open (path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0)
    return err_set (err, errno, "open '%s'", path);
  if (flock (fd, LOCK_EX | LOCK_NB) < 0)
    {
      err_set (err, errno, "lock '%s'", path);
      close (fd);
      return -1;
    }
  return fd;
}

/* Is a monitor alive for this container (someone holds monitor.lock)? */
static bool
monitor_alive (int dirfd)
{
  _cleanup_close_ int fd
      = openat (dirfd, "monitor.lock", O_RDWR | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0)
    return false;
  if (flock (fd, LOCK_EX | LOCK_NB) < 0)
    return errno == EWOULDBLOCK;
  return false;
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
  o = state_json (&rec->state);
  r = write_json (dir, "state.json", o, record_durable (rec), err);
  json_decref (o);
  return r;
}

int
rt_record_load (struct rt_containers *cs, const char *id,
                struct rt_record *out, struct err **err)
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
  out->name = json_str (c, "name");
  out->image = json_str (c, "image");
  out->image_ref = json_str (c, "image_ref");
  out->image_id = json_str (c, "image_id");
  out->command = json_to_strv (json_object_get (c, "command"));
  out->created = get_time (c, "created");
  out->auto_remove = json_bool (c, "auto_remove");
  out->detach = json_bool (c, "detach");
  out->stop_timeout = (int) json_int (c, "stop_timeout");
  rt_plan_release (&out->plan);
  plan_from_json (json_object_get (c, "plan"), &out->plan);
  state_from_json (s, &out->state);
  json_decref (c);
  json_decref (s);

  /* A running container whose process is gone and that nobody watches
   * died unseen (a killed monitor, a reboot): record it as exited. */
  if (out->state.status == RT_RUNNING && !monitor_alive (dir)
      && !rt_proc_same (out->state.pid, out->state.pid_start))
    {
      struct err *e = NULL;
      out->state.status = RT_EXITED;
      out->state.exit_code = EXIT_UNKNOWN;
      out->state.finished = time (NULL);
      if (rt_record_save_state (cs, out, &e) < 0)
        err_free (e); /* a read-only view is still right */
    }
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
  int null;
  if (pid != 0)
    return pid < 0 ? -1 : 0;
  setsid ();
  null = open ("/dev/null", O_RDWR);
  if (null >= 0)
    {
      dup2 (null, 0);
      dup2 (null, 1);
      dup2 (null, 2);
    }
  /* nothing of the caller's (a pty, a lock) stays open in the remover */
  if (dup2 (dirfd, 3) == 3)
    {
      struct err *e = NULL;
      syscall (SYS_close_range, 4, ~0U, 0);
      fs_rm_rf (3, name, &e);
    }
  _exit (0);
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
  /* out of every reader's sight first: the id is free once this returns */
  if (renameat (cs->fd, rec->id, cs->fd, trash) < 0)
    return errno == ENOENT ? 0
                           : err_set (err, errno, "remove container '%.12s'",
                                      rec->id);
  close (steal_fd (&lock));
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
  rt_plan_release (&rec->plan);
  free (rec->state.error);
  free (rec->state.ip);
  free (rec->state.ports);
  memset (rec, 0, sizeof *rec);
}

/* ------------------------------------------------------ ps status */

void
rt_record_status_text (const struct rt_record *rec, time_t now, char *buf,
                       size_t len)
{
  char ago[64];
  size_t n;
  switch (rec->state.status)
    {
    case RT_CREATED:
      snprintf (buf, len, "Created");
      return;
    case RT_RUNNING:
      human_ago (rec->state.started, now, ago, sizeof ago);
      n = strlen (ago);
      if (n > 4 && !strcmp (ago + n - 4, " ago"))
        ago[n - 4] = '\0';
      snprintf (buf, len, "Up %s", ago);
      return;
    case RT_EXITED:
      human_ago (rec->state.finished ? rec->state.finished : now, now, ago,
                 sizeof ago);
      snprintf (buf, len, "Exited (%d) %s", rec->state.exit_code, ago);
      return;
    }
}
