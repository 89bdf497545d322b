/* Filesystem objects into a layer tar (see tarfs.h). */
#include "layers/tarfs.h"
#include "lib/err.h"
#include "lib/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

struct tarfs_link
{
  dev_t dev;
  ino_t ino;
  char *path; /* NULL = empty slot */
};

void
tarfs_init (struct tarfs *t, struct tar_writer *tw, const struct layer_opts *o)
{
  memset (t, 0, sizeof *t);
  t->tw = tw;
  t->opts = o;
}

void
tarfs_release (struct tarfs *t)
{
  for (size_t i = 0; i < t->cap_links; i++)
    free (t->links[i].path);
  free (t->links);
  t->links = NULL;
  t->n_links = t->cap_links = 0;
}

int64_t
tarfs_mtime (const struct tarfs *t, int64_t sec)
{
  if (t->opts->clamp_mtime && sec > t->opts->source_date_epoch)
    return t->opts->source_date_epoch;
  return sec;
}

static size_t
link_hash (dev_t dev, ino_t ino, size_t cap)
{
  uint64_t h = ((uint64_t)dev * 0x9e3779b97f4a7c15ULL) ^ (uint64_t)ino;
  h ^= h >> 29;
  h *= 0xbf58476d1ce4e5b9ULL;
  h ^= h >> 32;
  return (size_t)(h & (cap - 1));
}

/* The first path seen for dev+ino, or NULL after recording path as it. */
static const char *
link_lookup_or_add (struct tarfs *t, dev_t dev, ino_t ino, const char *path)
{
  if ((t->n_links + 1) * 2 > t->cap_links)
    {
      size_t ncap = t->cap_links ? t->cap_links * 2 : 64;
      struct tarfs_link *n = xcalloc (ncap, sizeof *n);
      for (size_t i = 0; i < t->cap_links; i++)
        if (t->links[i].path)
          {
            size_t j = link_hash (t->links[i].dev, t->links[i].ino, ncap);
            while (n[j].path)
              j = (j + 1) & (ncap - 1);
            n[j] = t->links[i];
          }
      free (t->links);
      t->links = n;
      t->cap_links = ncap;
    }
  size_t j = link_hash (dev, ino, t->cap_links);
  while (t->links[j].path)
    {
      if (t->links[j].dev == dev && t->links[j].ino == ino)
        return t->links[j].path;
      j = (j + 1) & (t->cap_links - 1);
    }
  t->links[j] = (struct tarfs_link){ dev, ino, xstrdup (path) };
  t->n_links++;
  return NULL;
}

bool
tarfs_xattr_skipped (const char *name)
{
  /* overlay's bookkeeping describes the upper dir, not the image. */
  if (!strncmp (name, "trusted.overlay.", 16)
      || !strncmp (name, "user.overlay.", 13))
    return true;
  /* The SELinux label belongs to the host's policy (umoci#49). */
  if (!strcmp (name, "security.selinux"))
    return true;
  return false;
}

static int
cmp_xattr (const void *a, const void *b)
{
  return strcmp (((const struct tar_xattr *)a)->name,
                 ((const struct tar_xattr *)b)->name);
}

static void
xattrs_free (struct tar_xattr *x, size_t n)
{
  for (size_t i = 0; i < n; i++)
    {
      free (x[i].name);
      free (x[i].value);
    }
  free (x);
}

/* Read the xattrs of dirfd/name without following it, filtered and sorted
 * by name so their order in the tar is fixed. fd, when >= 0, is the file
 * opened: asked directly, without a path walk through /proc. */
static int
read_xattrs (int dirfd, const char *name, int fd, const char *tar_path,
             struct tar_xattr **out, size_t *n_out, struct err **err)
{
  char proc[64 + PATH_MAX];
  _cleanup_free_ char *list = NULL;
  ssize_t len;
  struct tar_xattr *x = NULL;
  size_t n = 0;

  *out = NULL;
  *n_out = 0;
  snprintf (proc, sizeof proc, "/proc/self/fd/%d/%s", dirfd, name);
  for (;;)
    {
      len = fd >= 0 ? flistxattr (fd, NULL, 0) : llistxattr (proc, NULL, 0);
      if (len < 0 && (errno == ENOTSUP || errno == ENODATA))
        return 0;
      if (len < 0)
        return err_set (err, errno, "list xattrs of '%s'", tar_path);
      if (len == 0)
        return 0;
      free (list);
      list = xmalloc ((size_t)len);
      ssize_t got = fd >= 0 ? flistxattr (fd, list, (size_t)len)
                            : llistxattr (proc, list, (size_t)len);
      if (got < 0 && errno == ERANGE)
        continue; /* grew meanwhile */
      if (got < 0)
        return err_set (err, errno, "list xattrs of '%s'", tar_path);
      len = got;
      break;
    }
  for (char *k = list; k < list + len; k += strlen (k) + 1)
    {
      if (tarfs_xattr_skipped (k))
        continue;
      ssize_t vl
          = fd >= 0 ? fgetxattr (fd, k, NULL, 0) : lgetxattr (proc, k, NULL, 0);
      if (vl < 0 && errno == ENODATA)
        continue;
      char *v = xmalloc (vl > 0 ? (size_t)vl : 1);
      if (vl >= 0)
        vl = fd >= 0 ? fgetxattr (fd, k, v, (size_t)vl)
                     : lgetxattr (proc, k, v, (size_t)vl);
      if (vl < 0)
        {
          int e = errno;
          free (v);
          xattrs_free (x, n);
          return err_set (err, e, "read xattr '%s' of '%s'", k, tar_path);
        }
      x = xrealloc (x, (n + 1) * sizeof *x);
      x[n++] = (struct tar_xattr){ xstrdup (k), v, (size_t)vl };
    }
  if (n)
    qsort (x, n, sizeof *x, cmp_xattr);
  *out = x;
  *n_out = n;
  return 0;
}

int
tarfs_add (struct tarfs *t, int dirfd, const char *name, const struct stat *st,
           const char *tar_path, const struct tarfs_override *ov,
           struct err **err)
{
  struct tar_entry e = { .path = (char *)tar_path };
  struct tar_xattr *xattrs = NULL;
  size_t n_xattrs = 0;
  _cleanup_free_ char *target = NULL;
  _cleanup_close_ int fd = -1;
  int r = -1;

  /* why: a file named ".wh.X" would be read back as a whiteout that
   * deletes X (and one with children as a broken layer) */
  size_t end = strlen (tar_path), start;
  while (end && tar_path[end - 1] == '/')
    end--;
  for (start = end; start && tar_path[start - 1] != '/'; start--)
    ;
  if (!t->plain_names && end - start >= 4
      && !strncmp (tar_path + start, ".wh.", 4))
    return err_set (err, 0,
                    "'%s': a name starting with '.wh.' cannot go "
                    "into a layer (it would be a whiteout)",
                    tar_path);
  e.mode = st->st_mode & 07777;
  e.uid = st->st_uid;
  e.gid = st->st_gid;
  e.mtime = tarfs_mtime (t, st->st_mtim.tv_sec);
  if (ov && ov->chown)
    {
      e.uid = ov->uid;
      e.gid = ov->gid;
    }
  if (ov && ov->chmod && !S_ISLNK (st->st_mode))
    e.mode = ov->mode & 07777;

  switch (st->st_mode & S_IFMT)
    {
    case S_IFSOCK:
      return 0;
    case S_IFDIR:
      e.type = TAR_DIR;
      break;
    case S_IFLNK:
      {
        if (st->st_size < 0 || st->st_size >= PATH_MAX)
          return err_set (err, 0, "symlink '%s' target too long", tar_path);
        target = xmalloc ((size_t)st->st_size + 2);
        ssize_t n = readlinkat (dirfd, name, target, (size_t)st->st_size + 1);
        if (n < 0)
          return err_set (err, errno, "readlink '%s'", tar_path);
        if (n > st->st_size)
          return err_set (err, 0, "symlink '%s' changed while read", tar_path);
        target[n] = '\0';
        e.type = TAR_SYMLINK;
        e.linkpath = target;
        break;
      }
    case S_IFCHR:
    case S_IFBLK:
      e.type = S_ISCHR (st->st_mode) ? TAR_CHR : TAR_BLK;
      e.devmajor = major (st->st_rdev);
      e.devminor = minor (st->st_rdev);
      break;
    case S_IFIFO:
      e.type = TAR_FIFO;
      break;
    case S_IFREG:
      e.type = TAR_REG;
      e.size = (uint64_t)st->st_size;
      break;
    default:
      return err_set (err, 0, "'%s': unsupported file type", tar_path);
    }

  if (e.type != TAR_DIR && st->st_nlink > 1)
    {
      const char *first
          = link_lookup_or_add (t, st->st_dev, st->st_ino, tar_path);
      if (first)
        {
          /* Later names of one inode are links to the first one, which
             carried the data and the attributes. */
          struct tar_entry l = { .path = (char *)tar_path,
                                 .type = TAR_HARDLINK,
                                 .mode = e.mode,
                                 .uid = e.uid,
                                 .gid = e.gid,
                                 .mtime = e.mtime,
                                 .linkpath = (char *)first };
          return tarw_header (t->tw, &l, err);
        }
    }

  if (e.type == TAR_REG)
    {
      fd = openat (dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
      if (fd < 0)
        return err_set (err, errno, "open '%s'", tar_path);
      /* read-ahead matters for large files only: a syscall less for
         each small one */
      if (st->st_size >= (1 << 20))
        posix_fadvise (fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    }
  if (read_xattrs (dirfd, name, fd, tar_path, &xattrs, &n_xattrs, err) < 0)
    return -1;
  e.xattrs = xattrs;
  e.n_xattrs = n_xattrs;
  if (tarw_header (t->tw, &e, err) < 0)
    goto out;
  if (e.type == TAR_REG && tarw_data_fd (t->tw, fd, e.size, tar_path, err) < 0)
    goto out;
  r = 0;
out:
  xattrs_free (xattrs, n_xattrs);
  return r;
}

int
tarfs_add_whiteout (struct tarfs *t, const char *tar_path, struct err **err)
{
  struct tar_entry e = { .path = (char *)tar_path, .type = TAR_REG };
  return tarw_header (t->tw, &e, err);
}
