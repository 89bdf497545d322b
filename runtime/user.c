/* -u / User resolution from the image's own /etc/passwd and /etc/group,
 * read through the layer stack; never through NSS (see user.h). */
#include "runtime/user.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/inroot.h"
#include "lib/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

/* /etc/passwd and /etc/group bigger than this are not plausible. */
#define ID_FILE_MAX (16u << 20)

static bool
is_whiteout (const struct stat *st)
{
  return S_ISCHR (st->st_mode) && st->st_rdev == makedev (0, 0);
}

static bool
is_opaque (int dirfd)
{
  char v[2];
  ssize_t n = fgetxattr (dirfd, "trusted.overlay.opaque", v, sizeof v);
  if (n != 1)
    n = fgetxattr (dirfd, "user.overlay.opaque", v, sizeof v);
  return n == 1 && v[0] == 'y';
}

/* lstat rel in one layer. Returns 1 with *st when found, 0 when this
 * layer says nothing about it, 2 when this layer hides it and every layer
 * below (a whiteout, a non-directory on the way, an opaque directory on
 * the way without it), -1 with errno on other failures. *parent gets the
 * directory that holds it (when found and parent is not NULL). */
static int
layer_lstat (const char *dir, const char *rel, struct stat *st, int *parent)
{
  _cleanup_close_ int cur = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  _cleanup_free_ char *p = xstrdup (rel);
  char *save = NULL, *comp, *next;
  bool opaque = false;
  if (cur < 0)
    return -1;
  for (comp = strtok_r (p, "/", &save); comp; comp = next)
    {
      next = strtok_r (NULL, "/", &save);
      if (fstatat (cur, comp, st, AT_SYMLINK_NOFOLLOW) < 0)
        {
          if (errno != ENOENT)
            return -1;
          return opaque ? 2 : 0;
        }
      if (is_whiteout (st))
        return 2;
      if (!next)
        {
          if (parent)
            *parent = steal_fd (&cur);
          return 1;
        }
      /* the resolver saw a directory here in an upper layer: anything
       * else in this one is hidden by it, with all below */
      if (!S_ISDIR (st->st_mode))
        return 2;
      {
        int d = openat (cur, comp,
                        O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (d < 0)
          return -1;
        close (cur);
        cur = d;
      }
      opaque |= is_opaque (cur);
    }
  errno = ENOENT;
  return -1;
}

/* lstat rel in the overlay of dirs (top first); *parent as layer_lstat's. */
static int
stack_lstat_at (char *const *dirs, const char *rel, struct stat *st,
                int *parent)
{
  for (size_t i = 0; dirs && dirs[i]; i++)
    {
      int r = layer_lstat (dirs[i], rel, st, parent);
      if (r < 0)
        return -1;
      if (r == 1)
        return 0;
      if (r == 2)
        break;
    }
  errno = ENOENT;
  return -1;
}

/* The stack as an inroot_view (data: the dirs). */
static int
stack_lstat (void *data, const char *rel, struct stat *st)
{
  return stack_lstat_at (data, rel, st, NULL);
}

static ssize_t
stack_readlink (void *data, const char *rel, char *buf, size_t size)
{
  struct stat st;
  _cleanup_close_ int parent = -1;
  const char *slash = strrchr (rel, '/');
  if (stack_lstat_at (data, rel, &st, &parent) < 0)
    return -1;
  return readlinkat (parent, slash ? slash + 1 : rel, buf, size);
}

/* After a failed resolution: when a layer directory itself cannot be
 * opened (a --rootfs path too long, gone, not a directory), say so
 * instead of blaming the file looked up in it. Only on the error path, so
 * a start pays nothing. Returns -1. */
static int
stack_blame_dir (char *const *dirs, struct err **err)
{
  for (char *const *d = dirs; *d; d++)
    {
      _cleanup_close_ int fd = open (*d, O_PATH | O_DIRECTORY | O_CLOEXEC);
      if (fd < 0)
        {
          err_clear (err);
          return err_set (err, errno, "open '%s'", *d);
        }
    }
  return -1;
}

int
rt_stack_open (char *const *dirs, const char *path, struct err **err)
{
  struct inroot_view v = { stack_lstat, stack_readlink, (void *)dirs };
  _cleanup_free_ char *abs = xasprintf ("/%s", path), *res = NULL;
  _cleanup_close_ int parent = -1;
  struct stat st;
  bool exists, is_dir;
  int fd;
  if (inroot_resolve (&v, abs, &res, &exists, &is_dir, err) < 0)
    {
      /* a non-directory on the way: the file is not there */
      if ((*err)->errnum != ENOTDIR)
        return stack_blame_dir (dirs, err);
      err_clear (err);
      exists = false;
    }
  if (!exists)
    {
      errno = ENOENT;
      return -1;
    }
  if (is_dir || stack_lstat_at (dirs, res + 1, &st, &parent) < 0)
    return err_set (err, is_dir ? EISDIR : errno, "open '%s' of the image",
                    abs);
  if (!S_ISREG (st.st_mode))
    return err_set (err, 0, "open '%s' of the image: not a regular file", abs);
  fd = openat (parent, strrchr (res, '/') + 1,
               O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return err_set (err, errno, "open '%s' of the image", abs);
  return fd;
}

/* Read a whole id file from the stack; *buf = NULL when it is not there. */
static int
read_id_file (char *const *dirs, const char *path, char **buf, struct err **err)
{
  _cleanup_close_ int fd = rt_stack_open (dirs, path, err);
  *buf = NULL;
  if (fd < 0)
    return errno == ENOENT && !*err ? 0 : -1;
  return fs_read_fd (fd, ID_FILE_MAX, buf, NULL, err) < 0
             ? err_wrap (err, "read '/%s' of the image", path)
             : 0;
}

bool
rt_user_parse_id (const char *s, unsigned *out)
{
  unsigned long v = 0;
  if (!*s)
    return false;
  for (const char *c = s; *c; c++)
    {
      if (*c < '0' || *c > '9')
        return false;
      v = v * 10 + (unsigned long)(*c - '0');
      if (v > RT_ID_MAX)
        return false;
    }
  *out = (unsigned)v;
  return true;
}

static bool
all_digits (const char *s)
{
  if (!*s)
    return false;
  for (; *s; s++)
    if (*s < '0' || *s > '9')
      return false;
  return true;
}

/* Split one colon-separated line into at most max fields (in place). */
static size_t
split_fields (char *line, char **f, size_t max)
{
  size_t n = 0;
  f[n++] = line;
  for (char *c = line; *c && n < max; c++)
    if (*c == ':')
      {
        *c = '\0';
        f[n++] = c + 1;
      }
  return n;
}

/* Iterate the lines of buf (modified in place). */
static char *
next_line (char **cursor)
{
  char *s = *cursor, *nl;
  if (!s || !*s)
    return NULL;
  nl = strchr (s, '\n');
  if (nl)
    {
      *nl = '\0';
      *cursor = nl + 1;
    }
  else
    *cursor = s + strlen (s);
  return s;
}

struct pw_entry
{
  char *name;
  unsigned uid, gid;
  char *home;
};

/* First passwd entry matching name_or_uid (by name, or by uid string as
 * runc does). Returns 1 found, 0 not. */
static int
find_passwd (char *buf, const char *want, struct pw_entry *out)
{
  char *cur = buf, *line;
  while ((line = next_line (&cur)))
    {
      char *f[7];
      unsigned uid, gid;
      if (!*line || *line == '#')
        continue;
      if (split_fields (line, f, 7) < 7)
        continue;
      if (!rt_user_parse_id (f[2], &uid) || !rt_user_parse_id (f[3], &gid))
        continue;
      if (strcmp (f[0], want) && strcmp (f[2], want))
        continue;
      out->name = xstrdup (f[0]);
      out->uid = uid;
      out->gid = gid;
      out->home = xstrdup (*f[5] ? f[5] : "/");
      return 1;
    }
  return 0;
}

/* gid of the first group matching want by name or gid string. */
static int
find_group (const char *buf, const char *want, unsigned *gid)
{
  _cleanup_free_ char *copy = xstrdup (buf);
  char *cur = copy, *line;
  while ((line = next_line (&cur)))
    {
      char *f[4];
      unsigned g;
      if (!*line || *line == '#')
        continue;
      if (split_fields (line, f, 4) < 3 || !rt_user_parse_id (f[2], &g))
        continue;
      if (!strcmp (f[0], want) || !strcmp (f[2], want))
        {
          *gid = g;
          return 1;
        }
    }
  return 0;
}

/* Groups that list user as a member, without duplicates. */
static void
member_groups (const char *buf, const char *user, struct rt_user *u)
{
  _cleanup_free_ char *copy = xstrdup (buf);
  char *cur = copy, *line;
  size_t alloc = u->n_groups;
  while ((line = next_line (&cur)))
    {
      char *f[4], *save = NULL, *m;
      unsigned g;
      bool dup = false;
      if (!*line || *line == '#')
        continue;
      if (split_fields (line, f, 4) < 4 || !rt_user_parse_id (f[2], &g))
        continue;
      for (m = strtok_r (f[3], ",", &save); m; m = strtok_r (NULL, ",", &save))
        if (!strcmp (m, user))
          break;
      if (!m)
        continue;
      for (size_t i = 0; i < u->n_groups; i++)
        dup |= u->groups[i] == g;
      if (dup)
        continue;
      u->groups = xgrow (u->groups, &alloc, u->n_groups + 1, sizeof (gid_t));
      u->groups[u->n_groups++] = g;
    }
}

int
rt_user_resolve (char *const *dirs, const char *spec, struct rt_user_info *out,
                 struct err **err)
{
  _cleanup_free_ char *user = xstrdup (spec ? spec : "");
  _cleanup_free_ char *passwd = NULL, *group = NULL;
  char *grp = strchr (user, ':');
  struct pw_entry pw = { 0 };
  unsigned id;
  bool found = false;

  memset (out, 0, sizeof *out);
  if (grp)
    *grp++ = '\0';
  if (!*user && grp)
    {
      err_set (err, 0, "invalid user '%s': the user part is empty", spec);
      return err_exit (err, 125);
    }
  if (!*user)
    user = (free (user), xstrdup ("0"));
  if (grp && !*grp)
    {
      err_set (err, 0, "invalid user '%s': the group part is empty", spec);
      return err_exit (err, 125);
    }
  if ((all_digits (user) && !rt_user_parse_id (user, &id))
      || (grp && all_digits (grp) && !rt_user_parse_id (grp, &id)))
    {
      err_set (err, 0,
               "invalid user '%s': uids and gids must be in range "
               "0-%u",
               spec, RT_ID_MAX);
      return err_exit (err, 125);
    }

  if (read_id_file (dirs, "etc/passwd", &passwd, err) < 0
      || read_id_file (dirs, "etc/group", &group, err) < 0)
    return err_exit (err, 125);

  if (passwd)
    found = find_passwd (passwd, user, &pw);
  if (found)
    {
      out->user.uid = pw.uid;
      out->user.gid = pw.gid;
      out->name = pw.name;
      out->home = pw.home;
    }
  else if (rt_user_parse_id (user, &id))
    {
      out->user.uid = id;
      out->user.gid = 0;
      out->home = xstrdup ("/");
    }
  else
    {
      err_set (err, 0,
               "unable to find user %s: no matching entries in "
               "passwd file",
               user);
      return err_exit (err, 125);
    }

  if (grp)
    {
      unsigned g;
      if (group && find_group (group, grp, &g))
        out->user.gid = g;
      else if (rt_user_parse_id (grp, &g))
        out->user.gid = g;
      else
        {
          rt_user_info_release (out);
          err_set (err, 0,
                   "unable to find group %s: no matching entries in "
                   "group file",
                   grp);
          return err_exit (err, 125);
        }
    }
  /* why: the primary group is a supplementary one too (docker since
   * CVE-2022-36109, containerd since CVE-2023-25173), else a setgid
   * program could drop it and step around a file's group "deny" bits */
  out->user.groups = xcalloc (1, sizeof (gid_t));
  out->user.groups[0] = out->user.gid;
  out->user.n_groups = 1;
  /* runc's rule: /etc/group's members only for a passwd entry and no
   * explicit group */
  if (!grp && group && out->name)
    member_groups (group, out->name, &out->user);
  return 0;
}

void
rt_user_info_release (struct rt_user_info *u)
{
  free (u->user.groups);
  free (u->name);
  free (u->home);
  memset (u, 0, sizeof *u);
}

int
rt_user_add_groups (char *const *dirs, char *const *names, struct rt_user *u,
                    struct err **err)
{
  _cleanup_free_ char *group = NULL;
  size_t alloc = u->n_groups;
  if (!names || !*names)
    return 0;
  if (read_id_file (dirs, "etc/group", &group, err) < 0)
    return err_exit (err, 125);
  for (char *const *n = names; *n; n++)
    {
      unsigned g;
      bool dup = false;
      if (!(group && find_group (group, *n, &g)) && !rt_user_parse_id (*n, &g))
        {
          err_set (err, 0,
                   "unable to find group %s: no matching entries in group "
                   "file",
                   *n);
          return err_exit (err, 125);
        }
      for (size_t i = 0; i < u->n_groups; i++)
        dup |= u->groups[i] == g;
      if (dup)
        continue;
      u->groups = xgrow (u->groups, &alloc, u->n_groups + 1, sizeof (gid_t));
      u->groups[u->n_groups++] = g;
    }
  return 0;
}
