/* build --output: the result exported instead of tagged in the store
 * (buildx's exporters, reference/build-mounts.md section 10):
 *
 *   local  the image's file system in a directory (layers applied in
 *          order, whiteouts deleting)
 *   tar    the same file system as one tar stream (a file, or "-")
 *   oci    an OCI layout in a tar (oci-archive), as `save` writes it
 *
 * The layers and cache records stay in the store (the next build hits);
 * no name is set. */
#include "builder/build_int.h"
#include "layers/apply.h"
#include "layers/archive.h"
#include "layers/copy.h"
#include "layers/image.h"
#include "layers/store.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int
build_output_parse (const char *spec, struct build_output *out,
                    struct err **err)
{
  _cleanup_free_ char *copy = xstrdup (spec);
  char *save = NULL;
  memset (out, 0, sizeof *out);
  if (!strchr (spec, '='))
    {
      /* -o DIR is type=local; -o - a tar on stdout (buildx) */
      out->type = strcmp (spec, "-") ? BUILD_OUT_LOCAL : BUILD_OUT_TAR;
      out->dest = xstrdup (spec);
      return 0;
    }
  out->type = BUILD_OUT_NONE;
  for (char *f = strtok_r (copy, ",", &save); f;
       f = strtok_r (NULL, ",", &save))
    {
      char *eq = strchr (f, '=');
      if (!eq)
        goto bad;
      *eq++ = '\0';
      if (!strcmp (f, "type"))
        {
          if (!strcmp (eq, "local"))
            out->type = BUILD_OUT_LOCAL;
          else if (!strcmp (eq, "tar"))
            out->type = BUILD_OUT_TAR;
          else if (!strcmp (eq, "oci"))
            out->type = BUILD_OUT_OCI;
          else
            {
              build_output_release (out);
              return err_set (err, 0,
                              "--output type '%s': use local, tar or oci", eq);
            }
        }
      else if (!strcmp (f, "dest"))
        {
          free (out->dest);
          out->dest = xstrdup (eq);
        }
      else
        goto bad;
    }
  if (out->type == BUILD_OUT_NONE || !out->dest || !*out->dest)
    goto bad;
  if (out->type == BUILD_OUT_LOCAL && !strcmp (out->dest, "-"))
    goto bad;
  return 0;
bad:
  build_output_release (out);
  return err_set (err, 0,
                  "invalid --output '%s': use type=local,dest=DIR, "
                  "type=tar,dest=FILE or type=oci,dest=FILE",
                  spec);
}

void
build_output_release (struct build_output *out)
{
  free (out->dest);
  memset (out, 0, sizeof *out);
}

static int
export_local (struct build *b, struct build_state *st, const char *dest,
              struct err **err)
{
  if (fs_mkdir_p (AT_FDCWD, dest, 0755, err) < 0)
    return err_wrap (err, "--output");
  _cleanup_close_ int dfd = open (dest, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0)
    return err_set (err, errno, "--output '%s'", dest);
  struct apply_opts ao
      = { .whiteouts = APPLY_WHITEOUT_DELETE, .keep_owner = geteuid () == 0 };
  for (size_t i = 0; i < st->n_layers; i++)
    {
      char diff_id[DIGEST_STR_LEN + 1];
      _cleanup_close_ int fd
          = store_blob_open (b->store, st->layers[i].digest, err);
      if (fd < 0 || layer_apply_fd (dfd, fd, &ao, diff_id, NULL, err) < 0)
        return err_wrap (err, "--output '%s'", dest);
    }
  return 0;
}

/* The file to write, or stdout for "-"; *close_it says which. */
static int
open_dest (const char *dest, bool *close_it, struct err **err)
{
  *close_it = strcmp (dest, "-") != 0;
  if (!*close_it)
    return 1;
  int fd = open (dest, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    return err_set (err, errno, "--output '%s'", dest);
  return fd;
}

static int
export_tar (struct build *b, struct build_state *st, const char *dest,
            struct err **err)
{
  struct build_view v;
  struct layer_opts lo = { .compression = LAYER_UNCOMPRESSED };
  struct layer_result res;
  bool close_it;
  int fd, r = -1;
  if (build_view_open (b, st, &v, err) < 0)
    return -1;
  struct layer_copy *c = layer_copy_new (&lo);
  if ((fd = open_dest (dest, &close_it, err)) < 0)
    goto out;
  struct layer_sink sink = { .write = layer_sink_fd_write, .ctx = &fd };
  if (layer_copy_add_path (c, v.fd, "/", "/", NULL, NULL, NULL, err) == 0
      && layer_copy_write (c, &sink, &res, err) == 0)
    r = 0;
  if (close_it)
    close (fd);
  if (r < 0 && close_it)
    unlink (dest);
out:
  layer_copy_free (c);
  build_view_close (&v);
  return r < 0 ? err_wrap (err, "--output '%s'", dest) : 0;
}

static int
export_oci (struct build *b, const struct build_result *res, const char *dest,
            struct err **err)
{
  bool close_it;
  char *names[] = { NULL, NULL };
  struct archive_item it = { .digest = res->manifest_digest,
                             .media_type = (char *)MT_OCI_MANIFEST,
                             .size = res->manifest_size,
                             .names = names };
  if (b->o->tags && b->o->tags[0])
    names[0] = b->o->tags[0];
  int fd = open_dest (dest, &close_it, err);
  if (fd < 0)
    return -1;
  int r = archive_save (b->store, &it, 1, ARCHIVE_OCI, fd, err);
  if (close_it)
    close (fd);
  if (r < 0 && close_it)
    unlink (dest);
  return r < 0 ? err_wrap (err, "--output '%s'", dest) : 0;
}

int
build_export (struct build *b, struct build_state *st,
              const struct build_result *res, struct err **err)
{
  const struct build_output *o = &b->o->output;
  switch (o->type)
    {
    case BUILD_OUT_LOCAL:
      return export_local (b, st, o->dest, err);
    case BUILD_OUT_TAR:
      return export_tar (b, st, o->dest, err);
    case BUILD_OUT_OCI:
      return export_oci (b, res, o->dest, err);
    case BUILD_OUT_NONE:
      break;
    }
  return 0;
}
