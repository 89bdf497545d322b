/* bench helper: diff an upper dir into a layer file with layers/diff.c.
 *   layerdiff UPPER OUT [gzip|zstd|none[:LEVEL]] [LOWER...]
 * Prints "digest diff_id size". Built by bench/diff.sh. */
#include "layers/diff.h"
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
  int ofd = open (argv[2], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (ufd < 0 || ofd < 0)
    {
      perror ("open");
      return 1;
    }
  struct layer_sink sink = { layer_sink_fd_write, &ofd, false };
  struct layer_result res;
  if (layer_diff_to_sink (ufd, argc > 4 ? argv + 4 : NULL, &o, &sink, &res,
                          &err)
      < 0)
    goto fail;
  printf ("%s %s %lld\n", res.digest, res.diff_id, (long long)res.size);
  return 0;
fail:
  fprintf (stderr, "layerdiff: %s\n", err->msg);
  return 1;
}
