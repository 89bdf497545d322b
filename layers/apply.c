/* Layer apply: blob -> (blob digest) -> inflate -> (diff_id) -> tar reader
 * -> files, in one pass over pushed buffers.
 *
 * Why a tar reader of our own (layers/tar.c) and not libarchive: the bytes
 * are pushed to us (pull feeds them from curl's callbacks), libarchive's
 * reader pulls; and its extraction (archive_write_disk) resolves paths
 * against the process's cwd, where we want every path resolved inside the
 * layer directory by the kernel.
 *
 * Containment: every path is resolved with openat2(RESOLVE_IN_ROOT |
 * RESOLVE_NO_MAGICLINKS) from the layer directory (lib/fs.c
 * fs_open_in_root), so `..` and symlinks, absolute or relative, including
 * ones this layer just made, are clamped to the directory by the kernel.
 * Only parent directories are resolved that way; the last component is
 * created or changed with *at() calls that do not follow it (O_EXCL,
 * O_NOFOLLOW, AT_SYMLINK_NOFOLLOW, linkat without AT_SYMLINK_FOLLOW).
 * Names with a `..` component are refused outright (as moby does) rather
 * than clamped, and absolute names are taken relative to the directory.
 *
 * Whiteouts (image-spec layer.md) only affect lower layers: a whiteout of a
 * name this layer made is ignored (a directory of this layer then becomes
 * opaque, so the lower one does not show through). Directory modes and
 * mtimes are set at the end, after their children were written. */
#include "layers/apply.h"
#include "layers/applyq.h"
#include "layers/decompress.h"
#include "layers/tar.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/log.h"
#include "lib/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#define WH_PREFIX ".wh."
#define WH_OPAQUE ".wh..wh..opq"
#define WH_META ".wh..wh."
/* Files up to this size go to the writer threads (applyq.h); a larger one
 * is written by the reading thread, where its bytes arrive. */
#define QUEUE_FILE_MAX (1u << 20)
#define QUEUE_BYTES (16u << 20)

/* A set of the paths this layer made (whiteouts must not touch them). */
struct pathset
{
  char **slots;
  size_t n, cap; /* cap is a power of two */
};

static uint64_t
hash_str (const char *s)
{
  uint64_t h = 1469598103934665603ull; /* FNV-1a */
  for (; *s; s++)
    h = (h ^ (uint8_t)*s) * 1099511628211ull;
  return h;
}

static bool
pathset_has (const struct pathset *ps, const char *s)
{
  if (!ps->cap)
    return false;
  for (size_t i = hash_str (s) & (ps->cap - 1);; i = (i + 1) & (ps->cap - 1))
    {
      if (!ps->slots[i])
        return false;
      if (!strcmp (ps->slots[i], s))
        return true;
    }
}

static void
pathset_add (struct pathset *ps, const char *s)
{
  if ((ps->n + 1) * 2 > ps->cap)
    {
      struct pathset bigger = { NULL, 0, ps->cap ? ps->cap * 2 : 1024 };
      bigger.slots = xcalloc (bigger.cap, sizeof (char *));
      for (size_t i = 0; i < ps->cap; i++)
        if (ps->slots[i])
          {
            size_t j = hash_str (ps->slots[i]) & (bigger.cap - 1);
            while (bigger.slots[j])
              j = (j + 1) & (bigger.cap - 1);
            bigger.slots[j] = ps->slots[i];
            bigger.n++;
          }
      free (ps->slots);
      *ps = bigger;
    }
  size_t i = hash_str (s) & (ps->cap - 1);
  for (; ps->slots[i]; i = (i + 1) & (ps->cap - 1))
    if (!strcmp (ps->slots[i], s))
      return;
  ps->slots[i] = xstrdup (s);
  ps->n++;
}

static void
pathset_release (struct pathset *ps)
{
  for (size_t i = 0; i < ps->cap; i++)
    free (ps->slots[i]);
  free (ps->slots);
  memset (ps, 0, sizeof *ps);
}

/* A directory whose mode and mtime are set at the end. */
struct dir_fixup
{
  char *path;
  uint32_t mode;
  struct timespec mtime;
};

struct layer_unpacker
{
  int root_fd;
  struct apply_opts o;
  struct digester diff, blob;
  struct layer_decomp *dc;
  struct tar_reader *tr;
  uint64_t tar_size;
  char *failed; /* sticky error message */
  bool finished;
  char blob_digest[DIGEST_STR_LEN + 1];

  /* the entry being written */
  const struct tar_entry *cur;
  struct tar_entry owned; /* cur with o.uid/o.gid (o.set_owner) */
  char *cur_path;         /* cleaned */
  int file_fd;
  int tmp_dir;    /* o.atomic_files: the file's parent, its name below */
  char *tmp_name; /* the temporary name, or NULL */
  char *tmp_base; /* the name it gets once whole */
  struct applyq_job *job; /* or the file goes to a writer thread */
  bool skip_data;

  /* the last parent directory resolved (entries come grouped by dir) */
  char *cache_path;
  struct applyq_dir *cache_dir;
  struct applyq *q; /* writer threads, or NULL */

  struct pathset made;
  struct dir_fixup *dirs;
  size_t n_dirs, alloc_dirs;
};

/* --- paths ------------------------------------------------------------ */

/* Clean a name from the archive: leading '/' dropped (absolute names are
 * relative to the layer), "." and empty components dropped, ".." refused.
 * "" is the layer's root. */
static int
clean_path (const char *raw, char **out, struct err **err)
{
  size_t n = strlen (raw);
  char *o = xmalloc (n + 1), *w = o;
  const char *p = raw;
  while (*p)
    {
      const char *slash = strchr (p, '/');
      size_t len = slash ? (size_t)(slash - p) : strlen (p);
      if (len == 2 && p[0] == '.' && p[1] == '.')
        {
          free (o);
          /* why: a `..` name is only ever an attempt to write outside */
          return err_set (err, 0, "'%s': path leaves the layer directory", raw);
        }
      if (len && !(len == 1 && p[0] == '.'))
        {
          if (w != o)
            *w++ = '/';
          memcpy (w, p, len);
          w += len;
        }
      p += len + (slash != NULL);
    }
  *w = '\0';
  *out = o;
  return 0;
}

/* Split "a/b/c" into "a/b" (written into parent, caller frees) and "c". */
static const char *
split_path (const char *path, char **parent)
{
  const char *slash = strrchr (path, '/');
  if (!slash)
    {
      *parent = xstrdup ("");
      return path;
    }
  *parent = xstrndup (path, (size_t)(slash - path));
  return slash + 1;
}

static void
cache_drop (struct layer_unpacker *u)
{
  applyq_dir_put (u->cache_dir); /* queued files may still hold it */
  u->cache_dir = NULL;
  free (u->cache_path);
  u->cache_path = NULL;
}

/* Something at path was removed: a cached directory under it is stale. */
static void
cache_forget_under (struct layer_unpacker *u, const char *path)
{
  size_t n = strlen (path);
  if (u->cache_path && !strncmp (u->cache_path, path, n)
      && (u->cache_path[n] == '/' || u->cache_path[n] == '\0'))
    cache_drop (u);
}

/* Create the missing directories of path (inside the root) with 0755, as
 * docker does for parents a layer does not list. */
static int
mkdir_in_root (struct layer_unpacker *u, const char *path, struct err **err)
{
  _cleanup_free_ char *p = xstrdup (path);
  for (char *s = p;; s++)
    {
      if (*s != '/' && *s != '\0')
        continue;
      char c = *s;
      *s = '\0';
      int fd = fs_open_in_root (u->root_fd, p, O_PATH | O_DIRECTORY, 0);
      if (fd < 0 && errno == ENOENT)
        {
          _cleanup_free_ char *parent = NULL;
          const char *base = split_path (p, &parent);
          _cleanup_close_ int pfd
              = fs_open_in_root (u->root_fd, parent, O_PATH | O_DIRECTORY, 0);
          if (pfd < 0 || (mkdirat (pfd, base, 0755) < 0 && errno != EEXIST))
            return err_set (err, errno, "create directory '%s'", p);
          pathset_add (&u->made, p);
          fd = fs_open_in_root (u->root_fd, p, O_PATH | O_DIRECTORY, 0);
        }
      if (fd < 0)
        return err_set (err, errno, "open directory '%s'", p);
      close (fd);
      if (c == '\0')
        return 0;
      *s = c;
    }
}

/* An O_PATH fd of directory path inside the root, created if missing. The
 * fd belongs to the cache: do not close it. */
static int
parent_fd (struct layer_unpacker *u, const char *path, struct err **err)
{
  int fd;
  if (!*path)
    return u->root_fd;
  if (u->cache_path && !strcmp (u->cache_path, path))
    return applyq_dir_fd (u->cache_dir);
  cache_drop (u);
  fd = fs_open_in_root (u->root_fd, path, O_PATH | O_DIRECTORY, 0);
  if (fd < 0 && errno == ENOENT)
    {
      if (mkdir_in_root (u, path, err) < 0)
        return -1;
      fd = fs_open_in_root (u->root_fd, path, O_PATH | O_DIRECTORY, 0);
    }
  if (fd < 0)
    return err_set (err, errno, "open directory '%s'", path);
  u->cache_dir = applyq_dir_new (fd);
  u->cache_path = xstrdup (path);
  return fd;
}

/* Remove whatever is at pfd/base (a whole tree for a directory). */
static int
remove_at (struct layer_unpacker *u, int pfd, const char *base,
           const char *path, struct err **err)
{
  struct stat st;
  cache_forget_under (u, path);
  if (fstatat (pfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return errno == ENOENT ? 0 : err_set (err, errno, "stat '%s'", path);
  if (S_ISDIR (st.st_mode))
    return fs_rm_rf (pfd, base, err);
  if (unlinkat (pfd, base, 0) < 0 && errno != ENOENT)
    return err_set (err, errno, "remove '%s'", path);
  return 0;
}

/* --- metadata --------------------------------------------------------- */

static bool
xattr_skipped (const char *name)
{
  /* why: overlay metadata in a layer could forge whiteouts, opaque dirs
   * or redirects and change what the lower layers show */
  return !strncmp (name, "trusted.overlay.", 16)
         || !strncmp (name, "user.overlay.", 13);
}

static int
set_xattrs_fd (int fd, const struct tar_entry *e, const char *path,
               struct err **err)
{
  for (size_t i = 0; i < e->n_xattrs; i++)
    {
      const struct tar_xattr *x = &e->xattrs[i];
      if (xattr_skipped (x->name))
        continue;
      if (fsetxattr (fd, x->name, x->value, x->len, 0) < 0)
        {
          if (errno == EOPNOTSUPP)
            {
              log_debug ("'%s': xattr '%s' not supported here", path, x->name);
              continue;
            }
          return err_set (err, errno, "set xattr '%s' on '%s'", x->name, path);
        }
    }
  return 0;
}

static void
entry_times (const struct tar_entry *e, struct timespec ts[2])
{
  ts[0].tv_sec = ts[1].tv_sec = e->mtime;
  ts[0].tv_nsec = ts[1].tv_nsec = e->mtime_nsec;
}

static int
set_opaque (struct layer_unpacker *u, int dir_fd, const char *path,
            struct err **err)
{
  const char *name
      = u->o.userxattr ? "user.overlay.opaque" : "trusted.overlay.opaque";
  if (fsetxattr (dir_fd, name, "y", 1, 0) < 0)
    return err_set (err, errno, "mark '%s' opaque", path);
  return 0;
}

/* Open directory path (no symlink at its end) for fsetxattr/fchmod. */
static int
open_dir (struct layer_unpacker *u, const char *path)
{
  if (!*path)
    return fcntl (u->root_fd, F_DUPFD_CLOEXEC, 0);
  return fs_open_in_root (u->root_fd, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW,
                          0);
}

/* --- whiteouts -------------------------------------------------------- */

/* Delete mode, opaque dir: remove every child a lower layer put there,
 * descending into directories this layer also has. */
static int
delete_lower_children (struct layer_unpacker *u, const char *path,
                       struct err **err)
{
  _cleanup_closedir_ DIR *d = NULL;
  struct dirent *de;
  int fd = open_dir (u, path);
  if (fd < 0)
    return errno == ENOENT ? 0 : err_set (err, errno, "open '%s'", path);
  if (!(d = fdopendir (fd)))
    {
      close (fd);
      return err_set (err, errno, "open '%s'", path);
    }
  while ((de = readdir (d)))
    {
      _cleanup_free_ char *child = NULL;
      if (!strcmp (de->d_name, ".") || !strcmp (de->d_name, ".."))
        continue;
      child = *path ? xasprintf ("%s/%s", path, de->d_name)
                    : xstrdup (de->d_name);
      if (!pathset_has (&u->made, child))
        {
          if (remove_at (u, dirfd (d), de->d_name, child, err) < 0)
            return -1;
        }
      else if (de->d_type == DT_DIR
               && delete_lower_children (u, child, err) < 0)
        return -1;
    }
  return 0;
}

static int
apply_opaque (struct layer_unpacker *u, const char *dir, struct err **err)
{
  if (u->o.whiteouts == APPLY_WHITEOUT_DELETE)
    return delete_lower_children (u, dir, err);
  if (*dir && parent_fd (u, dir, err) < 0) /* creates it if missing */
    return -1;
  _cleanup_close_ int fd = open_dir (u, dir);
  if (fd < 0)
    return err_set (err, errno, "open directory '%s'", dir);
  return set_opaque (u, fd, dir, err);
}

static int
apply_whiteout (struct layer_unpacker *u, const char *parent, const char *name,
                struct err **err)
{
  _cleanup_free_ char *path = NULL;
  struct stat st;
  int pfd;

  if (!*name || !strcmp (name, ".") || !strcmp (name, ".."))
    return err_set (err, 0, "invalid whiteout name '%s%s'", WH_PREFIX, name);
  path = *parent ? xasprintf ("%s/%s", parent, name) : xstrdup (name);
  if (u->o.whiteouts == APPLY_WHITEOUT_DELETE && !pathset_has (&u->made, path))
    {
      /* nothing to delete under a missing parent: do not create it */
      _cleanup_close_ int dfd
          = fs_open_in_root (u->root_fd, parent, O_PATH | O_DIRECTORY, 0);
      if (dfd < 0)
        return errno == ENOENT || errno == ENOTDIR
                   ? 0
                   : err_set (err, errno, "open directory '%s'", parent);
      return remove_at (u, dfd, name, path, err);
    }
  if ((pfd = parent_fd (u, parent, err)) < 0)
    return -1;
  if (pathset_has (&u->made, path))
    {
      /* only lower layers are whited out; a dir of ours hides theirs */
      if (fstatat (pfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0
          || !S_ISDIR (st.st_mode))
        return 0;
      return apply_opaque (u, path, err);
    }
  if (mknodat (pfd, name, S_IFCHR | 0600, makedev (0, 0)) == 0)
    return 0;
  if (errno != EEXIST)
    return err_set (err, errno, "create whiteout '%s'", path);
  if (fstatat (pfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISCHR (st.st_mode)
      && st.st_rdev == makedev (0, 0))
    return 0;
  if (remove_at (u, pfd, name, path, err) < 0)
    return -1;
  if (mknodat (pfd, name, S_IFCHR | 0600, makedev (0, 0)) < 0)
    return err_set (err, errno, "create whiteout '%s'", path);
  return 0;
}

/* The first directory component of path that is a whiteout name
 * (".wh.foo" of ".wh.foo/bar"), as its length, or 0. A whiteout is a
 * marker, never a directory: an entry under one would both hide "foo" and
 * make ".wh.foo". aufs' own directories (.wh..wh.plnk) are not whiteouts. */
static size_t
whiteout_dir (const char *path)
{
  for (const char *p = path, *slash; (slash = strchr (p, '/')); p = slash + 1)
    if (!strncmp (p, WH_PREFIX, 4)
        && (strncmp (p, WH_META, 8) || !strncmp (p, WH_OPAQUE "/", 13)))
      return (size_t)(slash - path);
  return 0;
}

/* --- entries ---------------------------------------------------------- */

/* Run create(); if the name is taken, remove what is there and retry. */
#define CREATE_OR_REPLACE(call)                                                \
  ({                                                                           \
    int rc_ = (call);                                                          \
    if (rc_ < 0 && errno == EEXIST)                                            \
      {                                                                        \
        if (remove_at (u, pfd, base, path, err) < 0)                           \
          return -1;                                                           \
        rc_ = (call);                                                          \
      }                                                                        \
    rc_;                                                                       \
  })

static int
make_dir (struct layer_unpacker *u, const struct tar_entry *e, int pfd,
          const char *base, const char *path, struct err **err)
{
  bool opaque = false;
  struct stat st;
  if (*path && mkdirat (pfd, base, 0700) < 0)
    {
      if (errno != EEXIST || fstatat (pfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return err_set (err, errno, "create directory '%s'", path);
      if (!S_ISDIR (st.st_mode))
        {
          /* a dir replacing our whiteout must still hide the lower one */
          opaque = u->o.whiteouts == APPLY_WHITEOUT_OVERLAY
                   && S_ISCHR (st.st_mode) && st.st_rdev == makedev (0, 0);
          if (remove_at (u, pfd, base, path, err) < 0)
            return -1;
          if (mkdirat (pfd, base, 0700) < 0)
            return err_set (err, errno, "create directory '%s'", path);
        }
    }
  if (u->o.keep_owner
      && fchownat (*path ? pfd : u->root_fd, *path ? base : "", e->uid, e->gid,
                   AT_SYMLINK_NOFOLLOW | (*path ? 0 : AT_EMPTY_PATH))
             < 0)
    return err_set (err, errno, "chown '%s'", path);
  if (e->n_xattrs || opaque)
    {
      _cleanup_close_ int fd = open_dir (u, path);
      if (fd < 0)
        return err_set (err, errno, "open directory '%s'", path);
      if (set_xattrs_fd (fd, e, path, err) < 0
          || (opaque && set_opaque (u, fd, path, err) < 0))
        return -1;
    }
  u->dirs = xgrow (u->dirs, &u->alloc_dirs, u->n_dirs + 1, sizeof *u->dirs);
  u->dirs[u->n_dirs].path = xstrdup (path);
  u->dirs[u->n_dirs].mode = e->mode;
  u->dirs[u->n_dirs].mtime.tv_sec = e->mtime;
  u->dirs[u->n_dirs].mtime.tv_nsec = e->mtime_nsec;
  u->n_dirs++;
  return 0;
}

static int
make_link (struct layer_unpacker *u, const struct tar_entry *e, int pfd,
           const char *base, const char *path, struct err **err)
{
  _cleanup_free_ char *target = NULL, *tparent = NULL;
  _cleanup_close_ int tfd = -1;
  const char *tbase;
  if (clean_path (e->linkpath, &target, err) < 0)
    return err_wrap (err, "hard link target");
  if (!*target)
    return err_set (err, 0, "hard link to the layer root");
  tbase = split_path (target, &tparent);
  /* the target's directory is resolved inside the root like any path */
  tfd = fs_open_in_root (u->root_fd, tparent, O_PATH | O_DIRECTORY, 0);
  if (tfd < 0)
    return err_set (err, errno, "hard link target '%s'", e->linkpath);
  /* no AT_SYMLINK_FOLLOW: a link to a symlink is a link to the symlink */
  if (CREATE_OR_REPLACE (linkat (tfd, tbase, pfd, base, 0)) < 0)
    return err_set (err, errno, "hard link to '%s'", e->linkpath);
  return 0;
}

static int
make_node (struct layer_unpacker *u, const struct tar_entry *e, int pfd,
           const char *base, const char *path, struct err **err)
{
  struct timespec ts[2];
  mode_t type = e->type == TAR_CHR   ? S_IFCHR
                : e->type == TAR_BLK ? S_IFBLK
                                     : S_IFIFO;
  dev_t dev = makedev (e->devmajor, e->devminor);
  if (CREATE_OR_REPLACE (mknodat (pfd, base, type | 0600, dev)) < 0)
    return err_set (err, errno, "create node '%s'", path);
  if (u->o.keep_owner
      && fchownat (pfd, base, e->uid, e->gid, AT_SYMLINK_NOFOLLOW) < 0)
    return err_set (err, errno, "chown '%s'", path);
  /* after chown, which clears setuid/setgid */
  if (fchmodat (pfd, base, e->mode, AT_SYMLINK_NOFOLLOW) < 0)
    return err_set (err, errno, "chmod '%s'", path);
  entry_times (e, ts);
  if (utimensat (pfd, base, ts, AT_SYMLINK_NOFOLLOW) < 0)
    return err_set (err, errno, "set times of '%s'", path);
  return 0;
}

static int
make_symlink (struct layer_unpacker *u, const struct tar_entry *e, int pfd,
              const char *base, const char *path, struct err **err)
{
  struct timespec ts[2];
  /* the target is stored as written: it is resolved inside the container
   * root at run time, and here never followed */
  if (CREATE_OR_REPLACE (symlinkat (e->linkpath, pfd, base)) < 0)
    return err_set (err, errno, "create symlink '%s'", path);
  if (u->o.keep_owner
      && fchownat (pfd, base, e->uid, e->gid, AT_SYMLINK_NOFOLLOW) < 0)
    return err_set (err, errno, "chown '%s'", path);
  entry_times (e, ts);
  if (utimensat (pfd, base, ts, AT_SYMLINK_NOFOLLOW) < 0)
    return err_set (err, errno, "set times of '%s'", path);
  return 0;
}

/* o.atomic_files: a hidden name beside base, which rename_tmp_file
 * moves over base once the file is whole. */
static int
open_tmp_file (struct layer_unpacker *u, int pfd, const char *base,
               const char *path, struct err **err)
{
  for (unsigned i = 0; i < 100; i++)
    {
      char *name = xasprintf (".imgtool-part-%d-%u", (int)getpid (), i);
      int fd
          = openat (pfd, name,
                    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
      if (fd >= 0)
        {
          u->tmp_dir = fcntl (pfd, F_DUPFD_CLOEXEC, 3);
          u->tmp_name = name;
          u->tmp_base = xstrdup (base);
          u->file_fd = fd;
          return u->tmp_dir < 0 ? err_set (err, errno, "dup") : 0;
        }
      free (name);
      if (errno != EEXIST)
        break;
    }
  return err_set (err, errno, "create '%s'", path);
}

static void
drop_tmp_file (struct layer_unpacker *u)
{
  if (u->tmp_name)
    unlinkat (u->tmp_dir, u->tmp_name, 0);
  if (u->tmp_dir >= 0)
    close (u->tmp_dir);
  u->tmp_dir = -1;
  free (u->tmp_name);
  free (u->tmp_base);
  u->tmp_name = u->tmp_base = NULL;
}

/* The whole file under its own name: rename replaces a file there; a
 * directory there is removed first, as open_file would. */
static int
rename_tmp_file (struct layer_unpacker *u, struct err **err)
{
  int pfd = u->tmp_dir, r;
  const char *base = u->tmp_base, *path = u->cur_path;
  if (!u->tmp_name)
    return 0;
  r = renameat (pfd, u->tmp_name, pfd, base);
  if (r < 0 && (errno == EISDIR || errno == ENOTEMPTY || errno == EEXIST))
    {
      if (remove_at (u, pfd, base, path, err) < 0)
        return -1;
      r = renameat (pfd, u->tmp_name, pfd, base);
    }
  if (r < 0)
    return err_set (err, errno, "rename to '%s'", path);
  free (u->tmp_name);
  u->tmp_name = NULL;
  drop_tmp_file (u);
  return 0;
}

static int
open_file (struct layer_unpacker *u, int pfd, const char *base,
           const char *path, struct err **err)
{
  int fd;
  if (u->o.atomic_files)
    return open_tmp_file (u, pfd, base, path, err);
  /* O_EXCL: never write through whatever was at the name */
  fd = CREATE_OR_REPLACE (openat (
      pfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (fd < 0)
    return err_set (err, errno, "create '%s'", path);
  u->file_fd = fd;
  return 0;
}

/* Whether parent/name is a name this layer made. */
static bool
whites_own (struct layer_unpacker *u, const char *parent, const char *name)
{
  _cleanup_free_ char *p
      = *parent ? xasprintf ("%s/%s", parent, name) : xstrdup (name);
  return pathset_has (&u->made, p);
}

/* A new regular file for the writer threads: its data is gathered here,
 * then queued at the entry's end. The parent is the cached directory. */
static void
queue_file (struct layer_unpacker *u, const struct tar_entry *e,
            const char *base, const char *path)
{
  struct timespec mt = { .tv_sec = e->mtime, .tv_nsec = e->mtime_nsec };
  u->job = applyq_job_new (u->cache_dir, base, path, e->mode, u->o.keep_owner,
                           e->uid, e->gid, mt, e->size);
  for (size_t i = 0; i < e->n_xattrs; i++)
    if (!xattr_skipped (e->xattrs[i].name))
      applyq_job_xattr (u->job, e->xattrs[i].name, e->xattrs[i].value,
                        e->xattrs[i].len);
}

static int
on_entry (void *arg, const struct tar_entry *e, struct err **err)
{
  struct layer_unpacker *u = arg;
  _cleanup_free_ char *parent = NULL;
  const char *base;
  int pfd, rc = 0;

  if (u->o.set_owner)
    {
      u->owned = *e;
      u->owned.uid = u->o.uid;
      u->owned.gid = u->o.gid;
      e = &u->owned;
    }
  u->cur = e;
  u->skip_data = true;
  free (u->cur_path);
  u->cur_path = NULL;
  if (clean_path (e->path, &u->cur_path, err) < 0)
    return -1;
  const char *path = u->cur_path;
  size_t wh = whiteout_dir (path);
  if (wh)
    return err_set (err, 0,
                    "layer entry '%s': '%.*s' is a whiteout, not a "
                    "directory",
                    e->path, (int)wh, path);
  base = split_path (path, &parent);

  /* the writer threads first, where the order matters: a name made
   * twice, a hard link (its target may be queued), a whiteout of one of
   * this layer's own names */
  if (u->q
      && (e->type == TAR_HARDLINK || pathset_has (&u->made, path)
          || (!strncmp (base, WH_PREFIX, 4) && strncmp (base, WH_META, 8)
              && whites_own (u, parent, base + 4)))
      && applyq_drain (u->q, err) < 0)
    return err_wrap (err, "layer entry '%s'", e->path);
  if (!strncmp (base, WH_PREFIX, 4))
    {
      if (!strcmp (base, WH_OPAQUE))
        rc = apply_opaque (u, parent, err);
      else if (!strncmp (base, WH_META, 8))
        rc = 0; /* aufs bookkeeping (.wh..wh.plnk ...): not content */
      else
        rc = apply_whiteout (u, parent, base + 4, err);
      return rc < 0 ? err_wrap (err, "layer entry '%s'", e->path) : 0;
    }
  if (!*path && e->type != TAR_DIR)
    return err_set (err, 0, "layer entry '%s': not a directory", e->path);
  if ((pfd = parent_fd (u, parent, err)) < 0)
    return err_wrap (err, "layer entry '%s'", e->path);

  switch (e->type)
    {
    case TAR_REG:
      if (u->q && *parent && e->size <= QUEUE_FILE_MAX)
        queue_file (u, e, base, path);
      else
        rc = open_file (u, pfd, base, path, err);
      u->skip_data = false;
      break;
    case TAR_DIR:
      rc = make_dir (u, e, pfd, base, path, err);
      break;
    case TAR_SYMLINK:
      rc = make_symlink (u, e, pfd, base, path, err);
      break;
    case TAR_HARDLINK:
      rc = make_link (u, e, pfd, base, path, err);
      break;
    case TAR_CHR:
    case TAR_BLK:
    case TAR_FIFO:
      rc = make_node (u, e, pfd, base, path, err);
      break;
    }
  if (rc < 0)
    return err_wrap (err, "layer entry '%s'", e->path);
  pathset_add (&u->made, path);
  return 0;
}

static int
on_data (void *arg, const uint8_t *buf, size_t len, struct err **err)
{
  struct layer_unpacker *u = arg;
  if (u->skip_data)
    return 0;
  if (u->job)
    {
      applyq_job_data (u->job, buf, len);
      return 0;
    }
  if (fs_write_all (u->file_fd, buf, len) < 0)
    return err_set (err, errno, "write '%s'", u->cur_path);
  return 0;
}

static int
on_entry_end (void *arg, struct err **err)
{
  struct layer_unpacker *u = arg;
  const struct tar_entry *e = u->cur;
  _cleanup_close_ int fd = steal_fd (&u->file_fd);
  struct timespec ts[2];
  if (u->job)
    return applyq_submit (u->q, steal_pointer (&u->job), err);
  if (fd < 0)
    return 0;
  if (u->o.keep_owner && fchown (fd, e->uid, e->gid) < 0)
    return err_set (err, errno, "chown '%s'", u->cur_path);
  /* after chown (which clears setuid/setgid), before xattrs (chown drops
   * security.capability) */
  if (fchmod (fd, e->mode) < 0)
    return err_set (err, errno, "chmod '%s'", u->cur_path);
  if (set_xattrs_fd (fd, e, u->cur_path, err) < 0)
    return -1;
  entry_times (e, ts);
  if (futimens (fd, ts) < 0)
    return err_set (err, errno, "set times of '%s'", u->cur_path);
  return rename_tmp_file (u, err);
}

static const struct tar_callbacks tar_cb = {
  .entry = on_entry,
  .data = on_data,
  .entry_end = on_entry_end,
};

/* --- the stream ------------------------------------------------------- */

static int
on_tar_bytes (void *arg, const uint8_t *buf, size_t len, struct err **err)
{
  struct layer_unpacker *u = arg;
  digester_update (&u->diff, buf, len);
  u->tar_size += len;
  return tar_reader_feed (u->tr, buf, len, err);
}

struct layer_unpacker *
layer_unpacker_new (int dir_fd, const struct apply_opts *o, struct err **err)
{
  struct layer_unpacker *u;
  /* a real fd even if dir_fd is O_PATH: fchmod/fsetxattr need one */
  int fd = fs_open_in_root (dir_fd, ".", O_RDONLY | O_DIRECTORY, 0);
  if (fd < 0)
    {
      err_set (err, errno, "layer directory");
      return NULL;
    }
  u = xcalloc (1, sizeof *u);
  u->root_fd = fd;
  u->o = *o;
  u->file_fd = -1;
  u->tmp_dir = -1;
  /* only into a new directory (a snapshot): where lower layers' files are
   * (delete mode), every name may need the serial path's care */
  if (o->writers && o->whiteouts == APPLY_WHITEOUT_OVERLAY)
    u->q = applyq_new (o->writers, QUEUE_BYTES);
  digester_init (&u->diff);
  if (o->blob_digest)
    digester_init (&u->blob);
  u->dc = layer_decomp_new (on_tar_bytes, u);
  u->tr = tar_reader_new (&tar_cb, u);
  return u;
}

static int
fail (struct layer_unpacker *u, struct err **err)
{
  if (!u->failed)
    {
      if (!*err)
        err_set (err, 0, "unpack layer failed");
      u->failed = xstrdup ((*err)->msg);
    }
  return -1;
}

int
layer_unpacker_feed (struct layer_unpacker *u, const void *buf, size_t len,
                     struct err **err)
{
  if (u->failed || u->finished)
    return err_set (err, 0, "%s",
                    u->failed ? u->failed : "layer already finished");
  if (u->o.blob_digest)
    digester_update (&u->blob, buf, len);
  if (layer_decomp_feed (u->dc, buf, len, err) < 0)
    return fail (u, err);
  return 0;
}

static int
fix_dirs (struct layer_unpacker *u, struct err **err)
{
  for (size_t i = 0; i < u->n_dirs; i++)
    {
      const struct dir_fixup *d = &u->dirs[i];
      struct timespec ts[2] = { d->mtime, d->mtime };
      _cleanup_close_ int fd = open_dir (u, d->path);
      if (fd < 0)
        {
          if (errno == ENOENT || errno == ENOTDIR || errno == ELOOP)
            continue; /* replaced by a later entry */
          return err_set (err, errno, "open directory '%s'", d->path);
        }
      if (fchmod (fd, d->mode) < 0 || futimens (fd, ts) < 0)
        return err_set (err, errno, "set mode and times of '%s'", d->path);
    }
  return 0;
}

int
layer_unpacker_finish (struct layer_unpacker *u,
                       char diff_id[DIGEST_STR_LEN + 1], struct err **err)
{
  if (u->failed || u->finished)
    return err_set (err, 0, "%s",
                    u->failed ? u->failed : "layer already finished");
  if (layer_decomp_finish (u->dc, err) < 0
      || tar_reader_finish (u->tr, err) < 0)
    return fail (u, err);
  if (u->tar_size == 0)
    {
      err_set (err, 0, "empty layer");
      return fail (u, err);
    }
  if (u->q && applyq_drain (u->q, err) < 0)
    return fail (u, err);
  cache_drop (u);
  if (fix_dirs (u, err) < 0)
    return fail (u, err);
  u->finished = true;
  digester_final (&u->diff, diff_id);
  if (u->o.blob_digest)
    digester_final (&u->blob, u->blob_digest);
  return 0;
}

void
layer_unpacker_blob_digest (const struct layer_unpacker *u,
                            char out[DIGEST_STR_LEN + 1])
{
  memcpy (out, u->blob_digest, DIGEST_STR_LEN + 1);
}

void
layer_unpacker_free (struct layer_unpacker *u)
{
  if (!u)
    return;
  drop_tmp_file (u);
  if (u->file_fd >= 0)
    close (u->file_fd);
  applyq_job_free (u->job);
  applyq_free (u->q); /* waits for the writers */
  cache_drop (u);
  close (u->root_fd);
  digester_release (&u->diff);
  if (u->o.blob_digest)
    digester_release (&u->blob);
  layer_decomp_free (u->dc);
  tar_reader_free (u->tr);
  pathset_release (&u->made);
  for (size_t i = 0; i < u->n_dirs; i++)
    free (u->dirs[i].path);
  free (u->dirs);
  free (u->cur_path);
  free (u->failed);
  free (u);
}

int
layer_apply_fd (int dir_fd, int in_fd, const struct apply_opts *o,
                char diff_id[DIGEST_STR_LEN + 1], char *blob_digest,
                struct err **err)
{
  struct apply_opts opts = *o;
  struct layer_unpacker *u;
  _cleanup_free_ uint8_t *buf = xmalloc (1u << 20);
  int rc = -1;
  opts.blob_digest = blob_digest != NULL;
  if (!(u = layer_unpacker_new (dir_fd, &opts, err)))
    return -1;
  for (;;)
    {
      ssize_t n = read (in_fd, buf, 1u << 20);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          err_set (err, errno, "read layer");
          goto out;
        }
      if (n == 0)
        break;
      if (layer_unpacker_feed (u, buf, (size_t)n, err) < 0)
        goto out;
    }
  if (layer_unpacker_finish (u, diff_id, err) < 0)
    goto out;
  if (blob_digest)
    layer_unpacker_blob_digest (u, blob_digest);
  rc = 0;
out:
  layer_unpacker_free (u);
  return rc;
}
