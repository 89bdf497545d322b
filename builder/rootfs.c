/* A stage's file system as the builder sees it: the snapshots of its
 * layers (overlay lower dirs), a read-only merged view mounted in the
 * builder's private mount namespace, path resolution inside it (COPY's
 * destination, WORKDIR) and user names from its /etc/passwd. */
#include "builder/build_int.h"
#include "layers/image.h"
#include "layers/overlay.h"
#include "layers/snapshot.h"
#include "lib/err.h"
#include "lib/inroot.h"
#include "lib/path.h"
#include "lib/xalloc.h"
#include "runtime/user.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

char *
build_tmpdir (struct build *b, const char *what, struct err **err)
{
  char *p = xasprintf ("%s/%s-%u", b->tmp, what, b->seq++);
  if (mkdir (p, 0700) < 0)
    {
      err_set (err, errno, "create '%s'", p);
      free (p);
      return NULL;
    }
  return p;
}

int
build_lowers (struct build *b, struct build_state *st, char ***out,
              struct err **err)
{
  if (st->lowers)
    {
      *out = st->lowers;
      return 0;
    }
  if (st->n_layers == 0)
    {
      st->lowers = xcalloc (2, sizeof (char *));
      st->lowers[0] = xstrdup (b->empty_dir);
      *out = st->lowers;
      return 0;
    }
  /* the files are needed now: a --cache-from hit's layers come here */
  if (build_remote_fetch (b, st->layers, st->n_layers, err) < 0)
    return -1;
  char **diff_ids = xcalloc (st->n_layers + 1, sizeof (char *));
  for (size_t i = 0; i < st->n_layers; i++)
    diff_ids[i] = st->layers[i].diff_id;
  _cleanup_strv_ char **chain = image_chain_ids (diff_ids);
  free (diff_ids);
  for (size_t i = 0; i < st->n_layers; i++)
    if (snapshot_create_from_blob (b->store, chain[i], st->layers[i].digest,
                                   st->layers[i].diff_id, err)
        < 0)
      return -1;
  char **v = xcalloc (st->n_layers + 1, sizeof (char *));
  for (size_t i = 0; i < st->n_layers; i++)
    v[i] = snapshot_path (b->store, chain[st->n_layers - 1 - i]);
  st->lowers = v;
  *out = v;
  return 0;
}

int
build_view_open (struct build *b, struct build_state *st, struct build_view *v,
                 struct err **err)
{
  char **lowers;
  memset (v, 0, sizeof *v);
  v->fd = -1;
  if (build_lowers (b, st, &lowers, err) < 0)
    return -1;
  if (st->n_layers == 0)
    v->fd = open (b->empty_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  else
    {
      if (!(v->mnt = build_tmpdir (b, "view", err)))
        return -1;
      if (layer_overlay_mount (lowers, NULL, NULL, v->mnt, true, err) < 0)
        {
          rmdir (v->mnt);
          free (v->mnt);
          v->mnt = NULL;
          return err_wrap (err, "mount the stage's layers");
        }
      v->mounted = true;
      v->fd = open (v->mnt, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    }
  if (v->fd < 0)
    {
      err_set (err, errno, "open the stage's root");
      build_view_close (v);
      return -1;
    }
  return 0;
}

void
build_view_close (struct build_view *v)
{
  if (v->fd >= 0)
    close (v->fd);
  v->fd = -1;
  if (v->mounted)
    umount2 (v->mnt, MNT_DETACH);
  if (v->mnt)
    rmdir (v->mnt);
  free (v->mnt);
  v->mnt = NULL;
  v->mounted = false;
}

int
build_resolve (int root_fd, const char *path, char **out, bool *exists,
               bool *is_dir, struct err **err)
{
  struct inroot_view v = inroot_fd_view (&root_fd);
  return inroot_resolve (&v, path, out, exists, is_dir, err);
}

int
build_user_ids (struct build *b, struct build_state *st, const char *spec,
                uint64_t *uid, uint64_t *gid, struct err **err)
{
  /* --chown=1000: the group is the same number (BuildKit, buildah); an
   * id out of range is refused by rt_user_resolve below */
  unsigned id;
  if (rt_user_parse_id (spec, &id))
    {
      *uid = *gid = id;
      return 0;
    }
  char **lowers;
  struct rt_user_info ui;
  if (build_lowers (b, st, &lowers, err) < 0
      || rt_user_resolve (lowers, spec, &ui, err) < 0)
    return -1;
  *uid = ui.user.uid;
  *gid = ui.user.gid;
  rt_user_info_release (&ui);
  return 0;
}
