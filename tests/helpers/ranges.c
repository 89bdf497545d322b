/* Test helper (not part of the product): fetch ranges of a blob with
 * registry/ranges.c and print each one's digest, for comparison with the
 * same bytes cut from the whole blob.
 *
 *   ranges HOST[:PORT] REPO DIGEST OFF:LEN...
 *
 * Prints "OFF LEN sha256:<hex>" per range; exit 0, 3 when the registry
 * ignores Range, 1 on an error (its message on stderr). The host is
 * reached with --tls-verify=false semantics (plain HTTP allowed). */
#include "registry/ranges.h"
#include "layers/digest.h"
#include "lib/err.h"
#include "lib/xalloc.h"
#include "registry/session.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

struct out
{
  struct digester *d;
};

static int
on_range (void *ctx, size_t i, uint64_t off, const void *data, size_t len,
          struct err **err)
{
  struct out *o = ctx;
  digester_update (&o->d[i], data, len);
  return 0;
}

int
main (int argc, char **argv)
{
  struct reg_client_opts co = { .no_tls_verify = true };
  struct reg_client c;
  struct reg_repo r;
  struct err *err = NULL;
  size_t n = argc > 4 ? (size_t)argc - 4 : 0;
  struct byterange *rs = xcalloc (n + 1, sizeof *rs);
  struct out o = { xcalloc (n + 1, sizeof *o.d) };
  int rc;
  if (argc < 5)
    {
      fprintf (stderr, "usage: ranges HOST REPO DIGEST OFF:LEN...\n");
      return 2;
    }
  for (size_t i = 0; i < n; i++)
    {
      unsigned long long off, len;
      if (sscanf (argv[4 + i], "%llu:%llu", &off, &len) != 2 || !len)
        return 2;
      rs[i] = (struct byterange){ off, len };
      digester_init (&o.d[i]);
    }
  if (reg_client_init (&c, &co, &err) < 0
      || reg_repo_init (&r, &c, argv[1], argv[1], argv[2], "pull", &err) < 0)
    {
      fprintf (stderr, "ranges: %s\n", err->msg);
      return 1;
    }
  rc = reg_blob_ranges (&r, argv[3], rs, n, on_range, &o, &err);
  if (rc < 0)
    fprintf (stderr, "ranges: %s\n", err->msg);
  else if (rc == 0)
    for (size_t i = 0; i < n; i++)
      {
        char hex[DIGEST_STR_LEN + 1];
        digester_final (&o.d[i], hex);
        printf ("%" PRIu64 " %" PRIu64 " %s\n", rs[i].off, rs[i].len, hex);
      }
  for (size_t i = 0; i < n; i++)
    digester_release (&o.d[i]);
  free (o.d);
  free (rs);
  err_free (err);
  reg_repo_release (&r);
  reg_client_release (&c);
  return rc < 0 ? 1 : rc == 1 ? 3 : 0;
}
