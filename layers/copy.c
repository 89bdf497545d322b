/* COPY/ADD straight into a layer (see copy.h). */
#include "layers/copy.h"
#include "lib/err.h"
#include "lib/path.h"
#include "lib/xalloc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

enum ekind
{
  E_FS,
  E_DATA,
  E_DIR,
};

struct entry
{
  char *path; /* in the layer, no leading "/" */
  enum ekind kind;
  size_t root;  /* E_FS: index in roots */
  char *parent; /* E_FS: parent dir relative to the root ("." = root) */
  char *name;   /* E_FS: name in parent ("." = the root dir itself) */
  bool has_ov;
  struct tarfs_override ov;
  bool implicit; /* excluded dir, written only if something below is */
  char *data;
  size_t len;
  uint32_t mode;
  uint64_t uid, gid;
  int64_t mtime;
  size_t seq;
};

struct layer_copy
{
  const struct layer_opts *o;
  struct entry *v;
  size_t n, alloc;
  int *roots;
  size_t n_roots;
  size_t seq;
  bool has_base;
  size_t base_root;   /* index in roots of the stage's file system */
  int64_t base_mtime; /* for the directories the step adds to */
};

struct layer_copy *
layer_copy_new (const struct layer_opts *o)
{
  struct layer_copy *c = xcalloc (1, sizeof *c);
  c->o = o;
  return c;
}

static void
entry_release (struct entry *e)
{
  free (e->path);
  free (e->parent);
  free (e->name);
  free (e->data);
}

void
layer_copy_free (struct layer_copy *c)
{
  if (!c)
    return;
  for (size_t i = 0; i < c->n; i++)
    entry_release (&c->v[i]);
  free (c->v);
  for (size_t i = 0; i < c->n_roots; i++)
    close (c->roots[i]);
  free (c->roots);
  free (c);
}

/* "/a//b/" -> "a/b"; "/" -> "". */
static char *
layer_path (const char *dest)
{
  char *p = path_clean (dest);
  size_t skip = strspn (p, "/");
  if (!strcmp (p, "."))
    skip = 1;
  memmove (p, p + skip, strlen (p + skip) + 1);
  return p;
}

static struct entry *
push (struct layer_copy *c, const char *dest)
{
  c->v = xgrow (c->v, &c->alloc, c->n + 1, sizeof *c->v);
  struct entry *e = &c->v[c->n++];
  memset (e, 0, sizeof *e);
  e->path = layer_path (dest);
  e->seq = c->seq++;
  return e;
}

void
layer_copy_add_data (struct layer_copy *c, const char *dest, const void *data,
                     size_t len, uint32_t mode, uint64_t uid, uint64_t gid,
                     int64_t mtime)
{
  struct entry *e = push (c, dest);
  e->kind = E_DATA;
  e->data = xmalloc (len ? len : 1);
  memcpy (e->data, data, len);
  e->len = len;
  e->mode = mode;
  e->uid = uid;
  e->gid = gid;
  e->mtime = mtime;
}

void
layer_copy_add_dir (struct layer_copy *c, const char *dest, uint32_t mode,
                    uint64_t uid, uint64_t gid, int64_t mtime)
{
  struct entry *e = push (c, dest);
  e->kind = E_DIR;
  e->mode = mode;
  e->uid = uid;
  e->gid = gid;
  e->mtime = mtime;
}

void
layer_copy_set_base (struct layer_copy *c, int base_fd, int64_t mtime)
{
  c->roots = xrealloc (c->roots, (c->n_roots + 1) * sizeof *c->roots);
  c->roots[c->n_roots] = fcntl (base_fd, F_DUPFD_CLOEXEC, 0);
  c->base_root = c->n_roots++;
  c->has_base = true;
  c->base_mtime = mtime;
}

static struct entry *
push_fs (struct layer_copy *c, const char *dest, size_t root,
         const char *parent, const char *name, const struct tarfs_override *ov)
{
  struct entry *e = push (c, dest);
  e->kind = E_FS;
  e->root = root;
  e->parent = xstrdup (parent);
  e->name = xstrdup (name);
  if (ov)
    {
      e->has_ov = true;
      e->ov = *ov;
    }
  return e;
}

static int
cmp_str (const void *a, const void *b)
{
  return strcmp (*(char *const *)a, *(char *const *)b);
}

static int
walk (struct layer_copy *c, size_t root, int dfd, const char *rel,
      const char *src_rel, const char *dest, const struct tarfs_override *ov,
      layer_copy_filter_fn filter, void *fctx, struct err **err)
{
  int dup = fcntl (dfd, F_DUPFD_CLOEXEC, 0);
  DIR *d = dup >= 0 ? fdopendir (dup) : NULL;
  if (!d)
    {
      if (dup >= 0)
        close (dup);
      return err_set (err, errno, "open directory '%s'", src_rel);
    }
  char **names = xcalloc (1, sizeof *names);
  struct dirent *de;
  while ((de = readdir (d)))
    if (strcmp (de->d_name, ".") && strcmp (de->d_name, ".."))
      strv_push (&names, xstrdup (de->d_name));
  closedir (d);
  size_t n = strv_len (names);
  qsort (names, n, sizeof *names, cmp_str);
  int r = 0;
  for (size_t i = 0; i < n && r == 0; i++)
    {
      struct stat st;
      _cleanup_free_ char *srcp = *src_rel
                                      ? xasprintf ("%s/%s", src_rel, names[i])
                                      : xstrdup (names[i]);
      _cleanup_free_ char *dst = xasprintf ("%s/%s", dest, names[i]);
      _cleanup_free_ char *relp = strcmp (rel, ".")
                                      ? xasprintf ("%s/%s", rel, names[i])
                                      : xstrdup (names[i]);
      if (fstatat (dfd, names[i], &st, AT_SYMLINK_NOFOLLOW) < 0)
        {
          r = err_set (err, errno, "stat '%s'", srcp);
          break;
        }
      bool dir = S_ISDIR (st.st_mode);
      enum layer_copy_filter f
          = filter ? filter (fctx, srcp, dir) : LAYER_COPY_INCLUDE;
      if (f == LAYER_COPY_EXCLUDE_SUBTREE || (f == LAYER_COPY_EXCLUDE && !dir))
        continue;
      struct entry *e = push_fs (c, dst, root, rel, names[i], ov);
      e->implicit = f == LAYER_COPY_EXCLUDE;
      if (!dir)
        continue;
      int cfd = openat (dfd, names[i],
                        O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (cfd < 0)
        {
          r = err_set (err, errno, "open directory '%s'", srcp);
          break;
        }
      r = walk (c, root, cfd, relp, srcp, dst, ov, filter, fctx, err);
      close (cfd);
    }
  strv_free (names);
  return r;
}

int
layer_copy_add_path (struct layer_copy *c, int src_dirfd, const char *src_path,
                     const char *dest, const struct tarfs_override *ov,
                     layer_copy_filter_fn filter, void *filter_ctx,
                     struct err **err)
{
  /* Resolve the source as if src_dirfd were "/": "..", absolute symlinks
     and absolute paths all stay inside the context. */
  struct open_how how = { .flags = O_PATH | O_CLOEXEC,
                          .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS };
  int pfd = (int)syscall (SYS_openat2, src_dirfd, src_path, &how, sizeof how);
  if (pfd < 0)
    return err_set (err, errno, "copy '%s'", src_path);
  _cleanup_close_ int path_fd = pfd;
  struct stat st;
  if (fstat (path_fd, &st) < 0)
    return err_set (err, errno, "stat '%s'", src_path);
  _cleanup_free_ char *src_rel = path_clean (src_path);
  if (!strcmp (src_rel, "."))
    src_rel[0] = '\0';
  int root_fd;
  const char *name;
  _cleanup_free_ char *real = NULL;
  if (S_ISDIR (st.st_mode))
    {
      root_fd = openat (path_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      name = ".";
    }
  else
    {
      /* The resolved file's real parent directory holds it. */
      char proc[64];
      snprintf (proc, sizeof proc, "/proc/self/fd/%d", path_fd);
      real = xmalloc (PATH_MAX);
      ssize_t n = readlink (proc, real, PATH_MAX - 1);
      if (n <= 0)
        return err_set (err, errno, "resolve '%s'", src_path);
      real[n] = '\0';
      char *slash = strrchr (real, '/');
      *slash = '\0';
      name = slash + 1;
      root_fd = open (*real ? real : "/",
                      O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    }
  if (root_fd < 0)
    return err_set (err, errno, "open '%s'", src_path);
  c->roots = xrealloc (c->roots, (c->n_roots + 1) * sizeof *c->roots);
  size_t root = c->n_roots;
  c->roots[c->n_roots++] = root_fd;

  _cleanup_free_ char *dst = layer_path (dest);
  if (!S_ISDIR (st.st_mode))
    {
      if (!*dst)
        return err_set (err, 0, "copy '%s': destination is '/'", src_path);
      push_fs (c, dst, root, ".", name, ov);
      return 0;
    }
  if (*dst) /* the destination takes the source directory's mode */
    push_fs (c, dst, root, ".", ".", ov);
  return walk (c, root, root_fd, ".", src_rel, *dst ? dst : "", ov, filter,
               filter_ctx, err);
}

/* Depth-first order: "/" sorts before every other byte, so a directory's
 * children come right after it, as in the differ's walk. */
static int
cmp_entry (const void *pa, const void *pb)
{
  const struct entry *a = pa, *b = pb;
  const unsigned char *x = (const unsigned char *)a->path,
                      *y = (const unsigned char *)b->path;
  while (*x && *x == *y)
    x++, y++;
  if (*x != *y)
    {
      int cx = *x == '/' ? 1 : *x ? *x + 1 : 0;
      int cy = *y == '/' ? 1 : *y ? *y + 1 : 0;
      return cx - cy;
    }
  return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static bool
is_below (const char *child, const char *dir)
{
  size_t n = strlen (dir);
  return !strncmp (child, dir, n) && child[n] == '/';
}

static int
open_parent (struct layer_copy *c, const struct entry *e, struct err **err)
{
  if (!strcmp (e->parent, "."))
    return fcntl (c->roots[e->root], F_DUPFD_CLOEXEC, 0);
  struct open_how how = { .flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC,
                          .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS };
  int fd = (int)syscall (SYS_openat2, c->roots[e->root], e->parent, &how,
                         sizeof how);
  if (fd < 0)
    err_set (err, errno, "open '%s'", e->parent);
  return fd;
}

/* Is dir (a layer path) last itself or one of its parents? */
static bool
is_written_dir (const char *dir, size_t n, const char *last)
{
  return !strncmp (last, dir, n) && (last[n] == '/' || !last[n]);
}

/* Write the parents of path not yet written (last: the path written
 * before it) as they are in the base, as BuildKit's differ includes
 * them: a layer without /tmp would make overlay show a 0755 root /tmp
 * over the base's 1777 one. A directory that gets an entry of the layer
 * right inside it was changed by the step, so it takes the step's time
 * (parents: sorted paths of those directories). */
static int
write_parents (struct layer_copy *c, struct tarfs *tf, const char *path,
               const char *last, char **parents, size_t n_parents,
               struct err **err)
{
  for (const char *sl = strchr (path, '/'); sl; sl = strchr (sl + 1, '/'))
    {
      size_t n = (size_t)(sl - path);
      if (is_written_dir (path, n, last))
        continue;
      _cleanup_free_ char *dir = xstrndup (path, n);
      _cleanup_free_ char *pdir = xstrdup (dir);
      char *name = strrchr (pdir, '/');
      if (name)
        *name++ = '\0';
      struct entry e = { .root = c->base_root,
                         .parent = name ? pdir : (char *)".",
                         .name = name ? name : pdir };
      _cleanup_close_ int pfd = open_parent (c, &e, NULL);
      struct stat st;
      if (pfd < 0 || fstatat (pfd, e.name, &st, AT_SYMLINK_NOFOLLOW) < 0
          || !S_ISDIR (st.st_mode))
        continue; /* not in the base: the caller adds what it creates */
      const char *key = dir;
      if (bsearch (&key, parents, n_parents, sizeof *parents, cmp_str))
        st.st_mtim = (struct timespec){ c->base_mtime, 0 };
      if (tarfs_add (tf, pfd, e.name, &st, dir, NULL, err) < 0)
        return -1;
    }
  return 0;
}

/* The sorted parent paths of the kept entries. */
static char **
direct_parents (const struct layer_copy *c, const bool *keep, size_t *n)
{
  char **v = xcalloc (c->n + 1, sizeof *v);
  *n = 0;
  for (size_t i = 0; i < c->n; i++)
    {
      const char *sl = keep[i] ? strrchr (c->v[i].path, '/') : NULL;
      if (sl)
        v[(*n)++] = xstrndup (c->v[i].path, (size_t)(sl - c->v[i].path));
    }
  qsort (v, *n, sizeof *v, cmp_str);
  return v;
}

int
layer_copy_write (struct layer_copy *c, const struct layer_sink *sink,
                  struct layer_result *out, struct err **err)
{
  struct tarfs tf;
  struct tar_writer *tw = tarw_new (c->o->compression, c->o->level, sink, err);
  if (!tw)
    return -1;
  tarfs_init (&tf, tw, c->o);
  if (c->n)
    qsort (c->v, c->n, sizeof *c->v, cmp_entry);

  /* Keep the last add of each path, and excluded dirs with something
     written below them. */
  bool *keep = xcalloc (c->n + 1, sizeof *keep);
  const char *next_kept = NULL;
  for (size_t i = c->n; i-- > 0;)
    {
      struct entry *e = &c->v[i];
      if (i + 1 < c->n && !strcmp (c->v[i + 1].path, e->path))
        continue; /* replaced by a later add */
      if (!*e->path)
        continue;
      if (e->implicit && !(next_kept && is_below (next_kept, e->path)))
        continue;
      keep[i] = true;
      next_kept = e->path;
    }

  int r = 0, pfd = -1;
  size_t pfd_root = 0, n_parents = 0;
  const char *pfd_parent = NULL, *last = "";
  _cleanup_strv_ char **parents
      = c->has_base ? direct_parents (c, keep, &n_parents) : NULL;
  for (size_t i = 0; i < c->n && r == 0; i++)
    {
      struct entry *e = &c->v[i];
      if (!keep[i])
        continue;
      if (c->has_base
          && write_parents (c, &tf, e->path, last, parents, n_parents, err) < 0)
        {
          r = -1;
          break;
        }
      last = e->path;
      if (e->kind == E_DATA || e->kind == E_DIR)
        {
          struct tar_entry te = { .path = e->path,
                                  .type = e->kind == E_DIR ? TAR_DIR : TAR_REG,
                                  .mode = e->mode & 07777,
                                  .uid = e->uid,
                                  .gid = e->gid,
                                  .mtime = tarfs_mtime (&tf, e->mtime),
                                  .size = e->len };
          r = tarw_header (tw, &te, err);
          if (r == 0 && e->kind == E_DATA)
            r = tarw_data (tw, e->data, e->len, err);
          continue;
        }
      if (pfd < 0 || pfd_root != e->root || strcmp (pfd_parent, e->parent))
        {
          if (pfd >= 0)
            close (pfd);
          pfd = open_parent (c, e, err);
          if (pfd < 0)
            {
              r = -1;
              break;
            }
          pfd_root = e->root;
          pfd_parent = e->parent;
        }
      struct stat st;
      if (fstatat (pfd, e->name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        {
          r = err_set (err, errno, "stat '%s'", e->path);
          break;
        }
      r = tarfs_add (&tf, pfd, e->name, &st, e->path, e->has_ov ? &e->ov : NULL,
                     err);
    }
  if (pfd >= 0)
    close (pfd);
  free (keep);
  if (r == 0)
    r = tarw_finish (tw, out, err);
  tarfs_release (&tf);
  tarw_free (tw);
  return r;
}

int
layer_copy_commit (struct layer_copy *c, struct store *s,
                   struct layer_result *out, struct err **err)
{
  struct layer_store_out lo;
  if (layer_store_begin (s, &lo, err) < 0)
    return -1;
  if (layer_copy_write (c, &lo.sink, out, err) < 0)
    {
      layer_store_abort (&lo);
      return -1;
    }
  return layer_store_commit (&lo, out, err);
}
