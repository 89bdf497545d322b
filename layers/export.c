/* A container's file system as one tar (see export.h). */
#include "layers/export.h"
#include "layers/ovl.h"
#include "layers/tarfs.h"
#include "lib/err.h"
#include "lib/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct exporter
{
  struct tarfs tf;
  char *const *empty_dirs;
  int *lower_fds; /* each lower dir's root */
  size_t n_lower;
};

/* One directory of the merged tree. */
struct xdir
{
  const char *path; /* "" for the root, else "a/b" */
  int upper_fd;     /* the upper dir's copy, or -1 */
  size_t *lowers;   /* indices of the lower dirs it shows, top first */
  size_t n_lowers;
};

/* A name of the directory and the top-most layer holding it: rank 0 is
 * the upper dir, rank i + 1 the directory's i-th lower. */
struct xname
{
  char *name;
  size_t rank;
};

static int
cmp_xname (const void *a, const void *b)
{
  const struct xname *x = a, *y = b;
  int c = strcmp (x->name, y->name);
  return c ? c : (x->rank > y->rank) - (x->rank < y->rank);
}

static int
add_names (struct xname **v, size_t *n, size_t *alloc, int fd, const char *what,
           size_t rank, struct err **err)
{
  struct ovl_name *names = NULL;
  size_t k = 0;
  if (ovl_read_names (fd, what, &names, &k, err) < 0)
    return -1;
  for (size_t i = 0; i < k; i++)
    {
      *v = xgrow (*v, alloc, *n + 1, sizeof **v);
      if (names[i].key == names[i].name)
        names[i].key = NULL; /* the same string: taken below */
      (*v)[(*n)++] = (struct xname){ steal_pointer (&names[i].name), rank };
    }
  ovl_names_free (names, k);
  return 0;
}

static void
xnames_free (struct xname *v, size_t n)
{
  for (size_t i = 0; i < n; i++)
    free (v[i].name);
  free (v);
}

/* Every name of dir, once, with the top-most layer that has it. */
static int
merged_names (struct exporter *x, const struct xdir *dir, struct xname **out,
              size_t *n_out, struct err **err)
{
  struct xname *v = NULL;
  size_t n = 0, alloc = 0, w = 0;
  const char *what = *dir->path ? dir->path : "/";
  if (dir->upper_fd >= 0
      && add_names (&v, &n, &alloc, dir->upper_fd, what, 0, err) < 0)
    goto fail;
  for (size_t i = 0; i < dir->n_lowers; i++)
    {
      int lfd = x->lower_fds[dir->lowers[i]];
      _cleanup_close_ int fd
          = *dir->path ? openat (
                lfd, dir->path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                       : fcntl (lfd, F_DUPFD_CLOEXEC, 3);
      if (fd < 0)
        {
          err_set (err, errno, "open '%s' in a layer", what);
          goto fail;
        }
      if (add_names (&v, &n, &alloc, fd, what, i + 1, err) < 0)
        goto fail;
    }
  if (n)
    qsort (v, n, sizeof *v, cmp_xname);
  /* keep the first (top-most) of each name */
  for (size_t i = 0; i < n; i++)
    {
      if (w && !strcmp (v[w - 1].name, v[i].name))
        {
          free (v[i].name);
          continue;
        }
      v[w++] = v[i];
    }
  *out = v;
  *n_out = w;
  return 0;
fail:
  xnames_free (v, n);
  return -1;
}

static bool
listed (char *const *list, const char *s)
{
  for (size_t i = 0; list && list[i]; i++)
    if (!strcmp (list[i], s))
      return true;
  return false;
}

/* A directory the tree lacks, as a container runtime makes it. */
static int
add_made_dir (struct exporter *x, const char *path, struct err **err)
{
  struct tar_entry e = { .path = (char *)path, .type = TAR_DIR, .mode = 0755 };
  return tarw_header (x->tf.tw, &e, err);
}

static int walk (struct exporter *x, const struct xdir *dir, struct err **err);

/* The lower dirs that show directory rel below dir, starting at the
 * one of rank (0: the upper has it, opaque or not), as overlayfs merges
 * them: down to the first where it is not a directory, or is opaque. */
static void
child_lowers (struct exporter *x, const struct xdir *dir, const char *rel,
              size_t rank, bool upper_opaque, size_t **out, size_t *n_out)
{
  size_t *v = xcalloc (dir->n_lowers + 1, sizeof *v), n = 0;
  for (size_t i = rank ? rank - 1 : 0; !upper_opaque && i < dir->n_lowers; i++)
    {
      struct stat st;
      int lfd = x->lower_fds[dir->lowers[i]], flags = 0;
      struct err *e = NULL;
      if (fstatat (lfd, rel, &st, AT_SYMLINK_NOFOLLOW) < 0)
        continue;
      if (!S_ISDIR (st.st_mode))
        break;
      v[n++] = dir->lowers[i];
      if (ovl_xattrs (lfd, rel, rel, &flags, &e) < 0)
        err_free (e);
      if (flags & OVL_OPAQUE)
        break;
    }
  *out = v;
  *n_out = n;
}

static int
visit (struct exporter *x, const struct xdir *dir, const struct xname *xn,
       struct err **err)
{
  _cleanup_free_ char *path = ovl_join (dir->path, xn->name);
  int fd = xn->rank ? x->lower_fds[dir->lowers[xn->rank - 1]] : dir->upper_fd;
  const char *name = xn->rank ? path : xn->name;
  struct stat st;

  if (fstatat (fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    {
      if (errno == ENOENT && !xn->rank)
        return 0; /* deleted meanwhile by the running container */
      return err_set (err, errno, "stat '%s'", path);
    }
  if (ovl_is_whiteout (&st))
    return 0; /* hides the name below */
  if (tarfs_add (&x->tf, fd, name, &st, path, NULL, err) < 0)
    return -1;
  if (!S_ISDIR (st.st_mode) || listed (x->empty_dirs, path))
    return 0;

  struct xdir child = { .path = path, .upper_fd = -1 };
  bool opaque = false;
  if (!xn->rank)
    {
      int flags = 0;
      child.upper_fd
          = openat (fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (child.upper_fd < 0)
        return err_set (err, errno, "open '%s'", path);
      if (ovl_xattrs (fd, name, path, &flags, err) < 0)
        {
          close (child.upper_fd);
          return -1;
        }
      opaque = flags & OVL_OPAQUE;
    }
  child_lowers (x, dir, path, xn->rank, opaque, &child.lowers, &child.n_lowers);
  int r = walk (x, &child, err);
  if (child.upper_fd >= 0)
    close (child.upper_fd);
  free (child.lowers);
  return r;
}

static int
walk (struct exporter *x, const struct xdir *dir, struct err **err)
{
  struct xname *v = NULL;
  size_t n = 0, made = 0;
  int r = 0;
  if (merged_names (x, dir, &v, &n, err) < 0)
    return -1;
  for (size_t i = 0; i <= n && r == 0; i++)
    {
      /* at the root, the directories that must be there, in their place */
      while (!*dir->path && x->empty_dirs && x->empty_dirs[made]
             && (i == n || strcmp (x->empty_dirs[made], v[i].name) <= 0))
        {
          bool have = i < n && !strcmp (x->empty_dirs[made], v[i].name);
          if (!have && (r = add_made_dir (x, x->empty_dirs[made], err)) < 0)
            break;
          made++;
        }
      if (i < n && r == 0)
        r = visit (x, dir, &v[i], err);
    }
  xnames_free (v, n);
  return r;
}

int
layer_export (int upper_fd, char *const *lower_dirs, char *const *empty_dirs,
              const struct layer_sink *sink, struct err **err)
{
  struct exporter x = { .empty_dirs = empty_dirs };
  struct layer_opts o = { .compression = LAYER_UNCOMPRESSED };
  struct tar_writer *tw = NULL;
  struct layer_result res;
  struct xdir root = { .path = "", .upper_fd = upper_fd };
  int r = -1;

  if (ovl_open_dirs (lower_dirs, &x.lower_fds, &x.n_lower, err) < 0)
    return -1;
  root.lowers = xcalloc (x.n_lower + 1, sizeof *root.lowers);
  for (size_t i = 0; i < x.n_lower; i++)
    root.lowers[root.n_lowers++] = i;
  if (!(tw = tarw_new (LAYER_UNCOMPRESSED, 0, sink, err)))
    goto out;
  tarw_no_diff_id (tw);
  tarw_mode_type_bits (tw);
  tarfs_init (&x.tf, tw, &o);
  x.tf.plain_names = true;
  if (walk (&x, &root, err) < 0 || tarw_finish (tw, &res, err) < 0)
    goto out;
  r = 0;
out:
  tarfs_release (&x.tf);
  tarw_free (tw);
  ovl_close_dirs (x.lower_fds, x.n_lower);
  free (root.lowers);
  return r;
}
