/* bench helper: diff an upper dir into a layer with layers/diff.c.
 *   layerdiff UPPER OUT [gzip|zstd|none[:LEVEL]] [LOWER...]
 * OUT is a file, or store:DIR for a blob in the store at DIR, as a build
 * step makes it (layer_diff: O_DIRECT, fsync, rename). Prints "digest
 * diff_id size". Built by bench/diff.sh. */
#include "layers/diff.h"
#include "layers/store.h"
#include "lib/err.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int
main (int argc, char **argv)
{
  struct err *err = NULL;
  struct layer_opts o = { .compression = LAYER_GZIP };
  if (argc < 3)
    {
      fprintf (
          stderr,
          "usage: layerdiff UPPER OUT [gzip|zstd|none[:LEVEL]] [LOWER...]\n");
      return 2;
    }
  if (argc > 3)
    {
      char *colon = strchr (argv[3], ':'); /* "zstd:19", "gzip:3" */
      if (colon)
        {
          *colon = '\0';
          o.level = atoi (colon + 1);
        }
      if (layer_compression_parse (argv[3], &o.compression, &err) < 0)
        goto fail;
    }
  int ufd = open (argv[1], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  struct layer_result res;
  if (!strncmp (argv[2], "store:", 6))
    {
      struct store st;
      if (ufd < 0)
        {
          perror ("open");
          return 1;
        }
      if (store_open (&st, argv[2] + 6, &err) < 0
          || layer_diff (ufd, argc > 4 ? argv + 4 : NULL, &o, NULL, &st, &res,
                         &err)
                 < 0)
        goto fail;
      store_release (&st);
      printf ("%s %s %lld\n", res.digest, res.diff_id, (long long)res.size);
      return 0;
    }
  int ofd = open (argv[2], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (ufd < 0 || ofd < 0)
    {
      perror ("open");
      return 1;
    }
  struct layer_sink sink = { layer_sink_fd_write, &ofd, false };
  if (layer_diff_to_sink (ufd, argc > 4 ? argv + 4 : NULL, &o, NULL, &sink,
                          &res, &err)
      < 0)
    goto fail;
  printf ("%s %s %lld\n", res.digest, res.diff_id, (long long)res.size);
  return 0;
fail:
  fprintf (stderr, "layerdiff: %s\n", err->msg);
  return 1;
}
