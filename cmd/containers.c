/* Helpers shared by the commands that act on existing containers. */
#include "cmd/containers.h"
#include "cmd/command.h"
#include "lib/err.h"
#include "lib/xalloc.h"

#include <stdio.h>
#include <string.h>

int
containers_load (struct svc *s, const char *root, const char *config_path,
                 const char *key, struct svc_container *c, struct err **err)
{
  memset (c, 0, sizeof *c);
  if (!s->cs.path && svc_open (s, root, config_path, err) < 0)
    return -1;
  return svc_load (s, key, c, err);
}

int
containers_each (struct global *g, const char *verb, char **names,
                 svc_fn fn, void *data)
{
  size_t n = strv_len (names);
  struct err **errs = xcalloc (n + 1, sizeof *errs);
  struct svc s;
  struct err *e = NULL;
  int status = 0;
  /* leftovers of containers that died unwatched, before acting on these */
  if (svc_open (&s, g->root, g->config_path, &e) == 0)
    {
      svc_net_gc (&s);
      svc_close (&s);
    }
  err_free (e);
  svc_each (g->root, g->config_path, names, fn, data, errs);
  /* in the order given, each failure naming its container */
  for (size_t i = 0; i < n; i++)
    {
      if (!errs[i])
        {
          printf ("%s\n", names[i]);
          continue;
        }
      fflush (stdout);
      fprintf (stderr, "imgtool: %s '%s': %s\n", verb, names[i],
               errs[i]->msg);
      err_free (errs[i]);
      status = 1;
    }
  free (errs);
  return status;
}
