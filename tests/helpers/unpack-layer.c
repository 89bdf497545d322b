/* Test helper (not part of the product): apply layer blobs to a directory
 * with layers/apply.c, printing each one's diff_id and blob digest.
 *
 *   unpack-layer [--delete] [--no-owner] [--chunk N] DIR BLOB...
 *
 * --delete applies whiteouts by deleting (layers stacked in one DIR, as
 * `umoci raw unpack` does); the default makes overlay whiteouts. --chunk N
 * pushes the blob through layer_unpacker_feed() N bytes at a time instead
 * of layer_apply_fd(). */
#include "layers/apply.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/xalloc.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int
apply_pushed (int dir_fd, int in_fd, const struct apply_opts *o, size_t chunk,
              char *diff_id, char *blob, struct err **err)
{
  struct apply_opts opts = *o;
  opts.blob_digest = true;
  struct layer_unpacker *u = layer_unpacker_new (dir_fd, &opts, err);
  _cleanup_free_ char *buf = xmalloc (chunk);
  int rc = -1;
  ssize_t n;
  if (!u)
    return -1;
  while ((n = fs_read_full (in_fd, buf, chunk)) > 0)
    if (layer_unpacker_feed (u, buf, (size_t)n, err) < 0)
      goto out;
  if (n < 0)
    {
      err_set (err, 0, "read failed");
      goto out;
    }
  if (layer_unpacker_finish (u, diff_id, err) < 0)
    goto out;
  layer_unpacker_blob_digest (u, blob);
  rc = 0;
out:
  layer_unpacker_free (u);
  return rc;
}

int
main (int argc, char **argv)
{
  struct apply_opts o = APPLY_OPTS_SNAPSHOT;
  size_t chunk = 0;
  int i = 1;
  for (; i < argc && argv[i][0] == '-'; i++)
    if (!strcmp (argv[i], "--delete"))
      o.whiteouts = APPLY_WHITEOUT_DELETE;
    else if (!strcmp (argv[i], "--no-owner"))
      o.keep_owner = false;
    else if (!strcmp (argv[i], "--chunk") && i + 1 < argc)
      chunk = strtoul (argv[++i], NULL, 10);
    else if (!strcmp (argv[i], "--writers") && i + 1 < argc)
      o.writers = (unsigned)strtoul (argv[++i], NULL, 10);
    else
      break;
  if (argc - i < 2)
    {
      fprintf (stderr, "usage: unpack-layer [--delete] [--no-owner] "
                       "[--chunk N] [--writers N] DIR BLOB...\n");
      return 2;
    }
  int dir_fd = open (argv[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd < 0)
    {
      perror (argv[i]);
      return 1;
    }
  for (i++; i < argc; i++)
    {
      struct err *err = NULL;
      char diff_id[DIGEST_STR_LEN + 1], blob[DIGEST_STR_LEN + 1];
      int in_fd = open (argv[i], O_RDONLY | O_CLOEXEC);
      int rc;
      if (in_fd < 0)
        {
          perror (argv[i]);
          return 1;
        }
      rc = chunk ? apply_pushed (dir_fd, in_fd, &o, chunk, diff_id, blob, &err)
                 : layer_apply_fd (dir_fd, in_fd, &o, diff_id, blob, &err);
      close (in_fd);
      if (rc < 0)
        {
          fprintf (stderr, "unpack-layer: '%s': %s\n", argv[i], err->msg);
          err_free (err);
          return 1;
        }
      printf ("%s %s\n", diff_id, blob);
    }
  return 0;
}
