/* Overlay upper dir -> OCI layer (see diff.h for the rules). */
#include "layers/diff.h"
#include "layers/ovl.h"
#include "lib/err.h"
#include "lib/xalloc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

struct level
{
  int fd;         /* the upper directory */
  char *tar_path; /* "" for the root, else "a/b" */
  char *name;     /* name in the parent level */
  struct stat st;
  bool emitted; /* header written (the root never is) */
  bool opaque_marker;
  char kind;      /* as a change: 'A' new, 'C' changed, 'D' opaque */
  size_t *lowers; /* indices of lower dirs holding this dir, top first */
  size_t n_lowers;
};

struct differ
{
  struct tarfs tf;
  const struct layer_diff_skip *skip;
  /* layer_changes: each change goes here instead of the tar */
  layer_change_fn change;
  void *change_data;
  int *lower_fds;
  size_t n_lower;
  struct level *lv;
  size_t depth, alloc;
};

/* Look name up in the merged lower view of level lv. Returns true and
 * fills *st if it exists there (a whiteout in a higher lower hides it). */
static bool
lower_lookup (struct differ *d, const struct level *lv, const char *name,
              struct stat *st)
{
  _cleanup_free_ char *rel = ovl_join (lv->tar_path, name);
  for (size_t i = 0; i < lv->n_lowers; i++)
    {
      /* Every component of rel was checked to be a directory (not a
         symlink) in this lower when lv->lowers was built, so the lookup
         stays inside the lower dir. */
      if (fstatat (d->lower_fds[lv->lowers[i]], rel, st, AT_SYMLINK_NOFOLLOW)
          < 0)
        continue;
      return !ovl_is_whiteout (st);
    }
  return false;
}

/* The lower dirs that hold directory name of lv, in the merged view:
 * stop at a lower where it is not a directory or is opaque. */
static void
child_lowers (struct differ *d, const struct level *lv, const char *name,
              size_t **out, size_t *n_out)
{
  _cleanup_free_ char *rel = ovl_join (lv->tar_path, name);
  size_t *v = NULL, n = 0;
  for (size_t i = 0; i < lv->n_lowers; i++)
    {
      struct stat st;
      int lfd = d->lower_fds[lv->lowers[i]];
      if (fstatat (lfd, rel, &st, AT_SYMLINK_NOFOLLOW) < 0)
        continue;
      if (!S_ISDIR (st.st_mode))
        break;
      v = xrealloc (v, (n + 1) * sizeof *v);
      v[n++] = lv->lowers[i];
      int flags = 0;
      struct err *ignored = NULL;
      if (ovl_xattrs (lfd, rel, rel, &flags, &ignored) < 0)
        err_free (ignored);
      if (flags & OVL_OPAQUE)
        break;
    }
  *out = v;
  *n_out = n;
}

/* Report one change ("/" + path) to layer_changes' callback. */
static void
report (struct differ *d, char kind, const char *path)
{
  _cleanup_free_ char *abs = xasprintf ("/%s", path);
  d->change (d->change_data, kind, abs);
}

/* Write the headers of the directories above the entry about to be
 * written that were held back as unchanged. */
static int
flush_parents (struct differ *d, struct err **err)
{
  for (size_t i = 1; i < d->depth; i++)
    {
      struct level *lv = &d->lv[i];
      if (lv->emitted)
        continue;
      lv->emitted = true;
      if (d->change)
        {
          report (d, lv->kind, lv->tar_path);
          continue;
        }
      if (tarfs_add (&d->tf, d->lv[i - 1].fd, lv->name, &lv->st, lv->tar_path,
                     NULL, err)
          < 0)
        return -1;
      if (lv->opaque_marker)
        {
          _cleanup_free_ char *wh = ovl_join (lv->tar_path, ".wh..wh..opq");
          if (tarfs_add_whiteout (&d->tf, wh, err) < 0)
            return -1;
        }
    }
  return 0;
}

static int walk (struct differ *d, struct err **err);

static int
visit (struct differ *d, const char *name, struct err **err)
{
  struct level *lv = &d->lv[d->depth - 1];
  struct stat st, lst;
  _cleanup_free_ char *path = ovl_join (lv->tar_path, name);

  if (fstatat (lv->fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return err_set (err, errno, "stat '%s'", path);

  if (ovl_is_whiteout (&st))
    {
      if (!lower_lookup (d, lv, name, &lst))
        return 0; /* made and deleted in this step: nothing to hide */
      _cleanup_free_ char *whname = xasprintf (".wh.%s", name);
      _cleanup_free_ char *wh = ovl_join (lv->tar_path, whname);
      if (flush_parents (d, err) < 0)
        return -1;
      if (d->change)
        return report (d, 'D', path), 0;
      return tarfs_add_whiteout (&d->tf, wh, err);
    }

  if (d->skip && d->skip->fn (d->skip->ctx, lv->fd, name, path, &st))
    return 0;
  int flags = 0;
  if (ovl_xattrs (lv->fd, name, path, &flags, err) < 0)
    return -1;
  if (flags & OVL_REDIRECT)
    return err_set (err, 0,
                    "'%s' has an overlay redirect (mount the step with "
                    "redirect_dir=off)",
                    path);
  if (flags & OVL_METACOPY)
    return err_set (err, 0,
                    "'%s' is a metadata-only copy-up (mount the step "
                    "without metacopy=on)",
                    path);

  if (!S_ISDIR (st.st_mode))
    {
      if (d->change)
        {
          /* docker's rule: a changed file does not bring its held-back
           * parents along, a new one does */
          char kind = lower_lookup (d, lv, name, &lst) ? 'C' : 'A';
          if (kind == 'A' && flush_parents (d, err) < 0)
            return -1;
          return report (d, kind, path), 0;
        }
      if (flush_parents (d, err) < 0)
        return -1;
      return tarfs_add (&d->tf, lv->fd, name, &st, path, NULL, err);
    }

  bool below = lower_lookup (d, lv, name, &lst) && S_ISDIR (lst.st_mode);
  bool opaque = (flags & OVL_OPAQUE) != 0;
  int fd
      = openat (lv->fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return err_set (err, errno, "open '%s'", path);

  d->lv = xgrow (d->lv, &d->alloc, d->depth + 1, sizeof *d->lv);
  lv = &d->lv[d->depth - 1];
  struct level *c = &d->lv[d->depth++];
  *c = (struct level){ .fd = fd,
                       .tar_path = steal_pointer (&path),
                       .name = xstrdup (name),
                       .st = st,
                       .opaque_marker = below && opaque,
                       .kind = !below   ? 'A'
                               : opaque ? 'D'
                                        : 'C' };
  if (below && !opaque)
    child_lowers (d, lv, name, &c->lowers, &c->n_lowers);

  int r = 0;
  /* A directory that is new, opaque, or whose mode or owner changed is a
     change by itself; one overlay only copied up is held back until an
     entry below it is written. */
  if (!below || opaque || st.st_mode != lst.st_mode || st.st_uid != lst.st_uid
      || st.st_gid != lst.st_gid)
    r = flush_parents (d, err);
  if (r == 0)
    r = walk (d, err);

  c = &d->lv[--d->depth];
  close (c->fd);
  free (c->tar_path);
  free (c->name);
  free (c->lowers);
  return r;
}

static int
walk (struct differ *d, struct err **err)
{
  struct level *lv = &d->lv[d->depth - 1];
  struct ovl_name *names = NULL;
  size_t n = 0;
  int r = 0;
  if (ovl_read_names (lv->fd, *lv->tar_path ? lv->tar_path : "/", &names, &n,
                      err)
      < 0)
    return -1;
  for (size_t i = 0; i < n && r == 0; i++)
    r = visit (d, names[i].name, err);
  ovl_names_free (names, n);
  return r;
}

/* The differ's lower dirs and its root level. */
static int
differ_init (struct differ *d, int upper_fd, char *const *lower_dirs,
             struct err **err)
{
  if (ovl_open_dirs (lower_dirs, &d->lower_fds, &d->n_lower, err) < 0)
    return -1;
  d->lv = xgrow (NULL, &d->alloc, 8, sizeof *d->lv);
  d->depth = 1;
  d->lv[0] = (struct level){ .fd = upper_fd,
                             .tar_path = (char *)"",
                             .emitted = true };
  d->lv[0].lowers = xcalloc (d->n_lower + 1, sizeof *d->lv[0].lowers);
  for (size_t i = 0; i < d->n_lower; i++)
    d->lv[0].lowers[d->lv[0].n_lowers++] = i;
  return 0;
}

static void
differ_release (struct differ *d)
{
  if (d->lv)
    free (d->lv[0].lowers);
  free (d->lv);
  if (d->lower_fds)
    ovl_close_dirs (d->lower_fds, d->n_lower);
}

int
layer_diff_to_sink (int upper_fd, char *const *lower_dirs,
                    const struct layer_opts *o,
                    const struct layer_diff_skip *skip,
                    const struct layer_sink *sink, struct layer_result *out,
                    struct err **err)
{
  struct differ d = { .skip = skip };
  struct tar_writer *tw = NULL;
  int r = -1;

  if (differ_init (&d, upper_fd, lower_dirs, err) < 0)
    goto out;
  tw = tarw_new (o->compression, o->level, sink, err);
  if (!tw)
    goto out;
  tarfs_init (&d.tf, tw, o);
  if (walk (&d, err) < 0 || tarw_finish (tw, out, err) < 0)
    {
      err_wrap (err, "diff upper dir");
      goto out;
    }
  r = 0;
out:
  tarfs_release (&d.tf);
  tarw_free (tw);
  differ_release (&d);
  return r;
}

int
layer_changes (int upper_fd, char *const *lower_dirs,
               const struct layer_diff_skip *skip, layer_change_fn fn,
               void *data, struct err **err)
{
  struct differ d = { .change = fn, .change_data = data, .skip = skip };
  int r = differ_init (&d, upper_fd, lower_dirs, err);
  if (r == 0 && (r = walk (&d, err)) < 0)
    err_wrap (err, "diff upper dir");
  differ_release (&d);
  return r;
}

int
layer_diff (int upper_fd, char *const *lower_dirs, const struct layer_opts *o,
            const struct layer_diff_skip *skip, struct store *s,
            struct layer_result *out, struct err **err)
{
  struct layer_store_out lo;
  if (layer_store_begin (s, &lo, err) < 0)
    return -1;
  if (layer_diff_to_sink (upper_fd, lower_dirs, o, skip, &lo.sink, out, err)
      < 0)
    {
      layer_store_abort (&lo);
      return -1;
    }
  return layer_store_commit (&lo, out, err);
}
