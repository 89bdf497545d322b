/* rt-run: run one container through rt_run, the way `imgtool run --rm`
 * will (sealed re-exec, fresh upper dir, state dir removed afterwards).
 * For benchmarks and manual checks until cmd/run.c lands:
 *   rt-run [--no-seal] [--host] LOWER_DIR STATE_BASE CMD [ARG...]
 * Exits with the container's status (125 + a message on setup errors). */
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/xalloc.h"
#include "runtime/container.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int
main (int argc, char **argv)
{
  struct rt_plan p;
  struct err *e = NULL;
  int status = 0, i = 1;
  bool seal = true, host = false;
  for (; i < argc && argv[i][0] == '-'; i++)
    if (!strcmp (argv[i], "--no-seal"))
      seal = false;
    else if (!strcmp (argv[i], "--host"))
      host = true;
  if (argc - i < 3)
    {
      fprintf (stderr, "usage: rt-run [--no-seal] [--host] LOWER STATE_BASE "
                       "CMD [ARG...]\n");
      return 2;
    }
  if (seal && rt_seal_self (argv, &e) < 0)
    goto fail;
  rt_plan_init (&p);
  p.lower_dirs = strv_dup ((char *[]){ argv[i], NULL });
  p.id = xasprintf ("rtrun%d", (int)getpid ());
  p.state_dir = xasprintf ("%s/%s", argv[i + 1], p.id);
  p.upper_dir = xasprintf ("%s/upper", p.state_dir);
  p.seccomp_cache_dir = xasprintf ("%s/.seccomp-cache", argv[i + 1]);
  p.work_dir = xasprintf ("%s/work", p.state_dir);
  p.argv = strv_dup (argv + i + 2);
  p.env = strv_dup ((char *[]){ "PATH=/usr/local/sbin:/usr/local/bin:"
                                "/usr/sbin:/usr/bin:/sbin:/bin",
                                NULL });
  if (host)
    p.network = RT_NET_HOST;
  if (fs_mkdir_p (AT_FDCWD, p.upper_dir, 0755, &e) < 0
      || fs_mkdir_p (AT_FDCWD, p.work_dir, 0755, &e) < 0)
    goto fail;
  if (rt_run (&p, NULL, &status, &e) < 0 && !e)
    status = 125;
  {
    struct err *e2 = NULL;
    fs_rm_rf (AT_FDCWD, p.state_dir, &e2);
    err_free (e2);
  }
  rt_plan_release (&p);
  if (e)
    goto fail;
  return status;
fail:
  fprintf (stderr, "rt-run: %s\n", e->msg);
  return e->exit > 1 ? e->exit : 125;
}
