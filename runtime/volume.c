/* Volumes on disk (volume.h): make, load, list, remove, sweep, and which
 * containers use them. */
#include "runtime/volume.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/json.h"
#include "lib/xalloc.h"
#include "runtime/names.h"
#include "runtime/state.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define META "volume.json"
#define NEW_PREFIX ".new-"
#define REMOVING_PREFIX ".removing-"

int
rt_volumes_open (struct rt_volumes *vs, const char *store_root,
                 struct err **err)
{
  vs->path = xasprintf ("%s/volumes", store_root);
  vs->fd = -1;
  /* why 0701: others may reach a volume's data only through a container,
   * never list the volumes (docker's mode) */
  if (mkdir (vs->path, 0701) < 0 && errno != EEXIST)
    return err_set (err, errno, "create '%s'", vs->path);
  vs->fd = open (vs->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (vs->fd < 0)
    return err_set (err, errno, "open '%s'", vs->path);
  return 0;
}

void
rt_volumes_release (struct rt_volumes *vs)
{
  free (vs->path);
  if (vs->fd >= 0)
    close (vs->fd);
  vs->path = NULL;
  vs->fd = -1;
}

int
rt_volumes_lock (struct rt_volumes *vs, int op, struct err **err)
{
  return fs_lock (vs->fd, "lock", op, err);
}

bool
rt_volume_name_valid (const char *name)
{
  if (!isalnum ((unsigned char)name[0]) || !name[1])
    return false;
  for (const char *p = name + 1; *p; p++)
    if (!isalnum ((unsigned char)*p) && !strchr ("_.-", *p))
      return false;
  return true;
}

json_t *
rt_volume_labels_json (char *const *labels)
{
  json_t *o = json_object ();
  for (size_t i = 0; labels && labels[i]; i++)
    {
      const char *eq = strchr (labels[i], '=');
      _cleanup_free_ char *k
          = eq ? xstrndup (labels[i], (size_t)(eq - labels[i]))
               : xstrdup (labels[i]);
      json_object_set_new (o, k, json_string (eq ? eq + 1 : ""));
    }
  return o;
}

static int
write_meta (int dirfd, const struct rt_volume *v, struct err **err)
{
  json_t *o = json_object ();
  _cleanup_free_ char *text = NULL;
  json_set_time (o, "CreatedAt", v->created);
  json_object_set_new (o, "Labels", rt_volume_labels_json (v->labels));
  text = json_dumps (o, JSON_COMPACT);
  json_decref (o);
  /* fsynced: a volume outlives every command (fs.h's rule) */
  return fs_write_file_atomic (dirfd, META, text, strlen (text), 0600, err);
}

int
rt_volume_load (struct rt_volumes *vs, const char *name, struct rt_volume *out,
                struct err **err)
{
  _cleanup_free_ char *path = NULL, *text = NULL;
  json_t *o, *labels, *val;
  const char *k;
  memset (out, 0, sizeof *out);
  if (!rt_volume_name_valid (name))
    return err_set (err, 0, "no such volume: '%s'", name);
  path = xasprintf ("%s/" META, name);
  if (faccessat (vs->fd, path, F_OK, AT_SYMLINK_NOFOLLOW) < 0
      && (errno == ENOENT || errno == ENOTDIR))
    return err_set (err, 0, "no such volume: '%s'", name);
  if (fs_read_file (vs->fd, path, 1 << 20, &text, NULL, err) < 0)
    return err_wrap (err, "volume '%s'", name);
  o = json_loads (text, 0, NULL);
  if (!o)
    return err_set (err, 0, "volume '%s': damaged %s", name, META);
  out->name = xstrdup (name);
  out->mountpoint = xasprintf ("%s/%s/_data", vs->path, name);
  out->created = json_get_time (o, "CreatedAt");
  labels = json_object_get (o, "Labels");
  json_object_foreach (labels, k, val)
  {
    strv_push (&out->labels,
               xasprintf ("%s=%s", k,
                          json_is_string (val) ? json_string_value (val) : ""));
    if (!strcmp (k, RT_VOLUME_ANON_LABEL))
      out->anonymous = true;
  }
  json_decref (o);
  return 0;
}

int
rt_volume_create (struct rt_volumes *vs, const char *name, char *const *labels,
                  bool anonymous, struct rt_volume *out, bool *made,
                  struct err **err)
{
  _cleanup_free_ char *id = name ? NULL : rt_new_id ();
  _cleanup_free_ char *nonce = rt_new_id ();
  _cleanup_free_ char *tmp = xasprintf (NEW_PREFIX "%.16s", nonce);
  _cleanup_close_ int dir = -1;
  struct rt_volume v = { 0 };
  struct err *e = NULL;

  *made = false;
  if (!name)
    name = id;
  if (!rt_volume_name_valid (name))
    return err_set (err, 0,
                    "create %s: \"%s\" includes invalid characters for a "
                    "local volume name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are "
                    "allowed. If you intended to pass a host directory, use "
                    "absolute path",
                    name, name);
  if (rt_volume_load (vs, name, out, &e) == 0)
    return 0;
  err_free (e);
  /* made whole under a temp name, then named in one rename */
  if (mkdirat (vs->fd, tmp, 0701) < 0)
    return err_set (err, errno, "create volume '%s'", name);
  dir = openat (vs->fd, tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0 || mkdirat (dir, "_data", 0755) < 0
      || fchmodat (dir, "_data", 0755, 0) < 0)
    {
      err_set (err, errno, "create volume '%s'", name);
      goto fail;
    }
  v.created = time (NULL);
  v.labels = labels ? strv_dup (labels) : xcalloc (1, sizeof (char *));
  if (anonymous)
    strv_push (&v.labels, xstrdup (RT_VOLUME_ANON_LABEL "="));
  if (write_meta (dir, &v, err) < 0)
    {
      strv_free (v.labels);
      goto fail;
    }
  strv_free (v.labels);
  if (renameat (vs->fd, tmp, vs->fd, name) < 0)
    {
      /* made meanwhile by another command: that one it is */
      if (errno != EEXIST && errno != ENOTEMPTY)
        {
          err_set (err, errno, "create volume '%s'", name);
          goto fail;
        }
      fs_rm_rf (vs->fd, tmp, &e);
      err_free (e);
    }
  else
    *made = true;
  return rt_volume_load (vs, name, out, err);
fail:
  fs_rm_rf (vs->fd, tmp, &e);
  err_free (e);
  return -1;
}

static int
by_version (const void *a, const void *b)
{
  return strverscmp (*(char *const *)a, *(char *const *)b);
}

static int
add_name (void *ctx, int dirfd, const char *name, struct err **err)
{
  if (rt_volume_name_valid (name))
    strv_push ((char ***)ctx, xstrdup (name));
  return 0;
}

int
rt_volume_list (struct rt_volumes *vs, char ***names, struct err **err)
{
  *names = xcalloc (1, sizeof **names);
  if (fs_dir_each (vs->fd, ".", add_name, names, err) < 0)
    return err_wrap (err, "list '%s'", vs->path);
  qsort (*names, strv_len (*names), sizeof **names, by_version);
  return 0;
}

/* The space prune reports: the sizes of the regular files below. */
static int
add_bytes (void *ctx, int dirfd, const char *name, struct err **err)
{
  struct stat st;
  if (fstatat (dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return 0;
  if (S_ISDIR (st.st_mode))
    {
      struct err *e = NULL;
      fs_dir_each (dirfd, name, add_bytes, ctx, &e);
      err_free (e);
    }
  else if (S_ISREG (st.st_mode))
    *(uint64_t *)ctx += (uint64_t)st.st_size;
  return 0;
}

int
rt_volume_remove (struct rt_volumes *vs, const char *name, uint64_t *bytes,
                  struct err **err)
{
  _cleanup_free_ char *nonce = rt_new_id ();
  _cleanup_free_ char *trash = xasprintf (REMOVING_PREFIX "%.16s", nonce);
  _cleanup_free_ char *data = xasprintf ("%s/_data", name);
  if (!rt_volume_name_valid (name))
    return err_set (err, 0, "no such volume: '%s'", name);
  if (bytes)
    {
      struct err *e = NULL;
      *bytes = 0;
      fs_dir_each (vs->fd, data, add_bytes, bytes, &e);
      err_free (e);
    }
  /* gone for every reader at once; the deletion may be cut short */
  if (renameat (vs->fd, name, vs->fd, trash) < 0)
    return errno == ENOENT ? err_set (err, 0, "no such volume: '%s'", name)
                           : err_set (err, errno, "remove volume '%s'", name);
  if (fs_rm_rf (vs->fd, trash, err) < 0)
    return err_wrap (err, "remove volume '%s'", name);
  return 0;
}

static int
sweep_one (void *ctx, int dirfd, const char *name, struct err **err)
{
  struct err *e = NULL;
  if (!strncmp (name, NEW_PREFIX, strlen (NEW_PREFIX))
      || !strncmp (name, REMOVING_PREFIX, strlen (REMOVING_PREFIX)))
    fs_rm_rf (dirfd, name, &e);
  err_free (e);
  return 0;
}

void
rt_volumes_sweep (struct rt_volumes *vs)
{
  struct err *e = NULL;
  fs_dir_each (vs->fd, ".", sweep_one, NULL, &e);
  err_free (e);
}

void
rt_volume_release (struct rt_volume *v)
{
  free (v->name);
  free (v->mountpoint);
  strv_free (v->labels);
  memset (v, 0, sizeof *v);
}

int
rt_volume_users_scan (struct rt_containers *cs, struct rt_volume_users *u,
                      struct err **err)
{
  _cleanup_strv_ char **ids = NULL;
  memset (u, 0, sizeof *u);
  u->names = xcalloc (1, sizeof (char *));
  u->ids = xcalloc (1, sizeof (char *));
  if (rt_record_list (cs, &ids, err) < 0)
    return -1;
  for (size_t i = 0; ids[i]; i++)
    {
      struct rt_record rec;
      struct err *e = NULL;
      if (rt_record_load (cs, ids[i], &rec, &e) < 0)
        {
          err_free (e); /* removed meanwhile */
          continue;
        }
      for (size_t k = 0; k < rec.plan.n_mounts; k++)
        if (rec.plan.mounts[k].kind == RT_MOUNT_VOLUME
            && rec.plan.mounts[k].name)
          {
            strv_push (&u->names, xstrdup (rec.plan.mounts[k].name));
            strv_push (&u->ids, xstrdup (rec.id));
          }
      rt_record_release (&rec);
    }
  return 0;
}

char *
rt_volume_users_of (const struct rt_volume_users *u, const char *name)
{
  char *s = xstrdup ("");
  for (size_t i = 0; u->names && u->names[i]; i++)
    if (!strcmp (u->names[i], name) && !strstr (s, u->ids[i]))
      {
        char *t = xasprintf ("%s%s%s", s, *s ? ", " : "", u->ids[i]);
        free (s);
        s = t;
      }
  return s;
}

void
rt_volume_users_release (struct rt_volume_users *u)
{
  strv_free (u->names);
  strv_free (u->ids);
  memset (u, 0, sizeof *u);
}
