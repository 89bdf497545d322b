/* bench helper: time layer_overlay_mount + umount of a stack of N
 * snapshot-like lower dirs (64-hex names under one parent, as
 * <store>/snapshots/<chainid>), with an upper and work dir as `run` has.
 *   overlaymount DIR N [ROUNDS [sync]]
 * Makes DIR/snapshots/<hex> x N (one small file each) if missing, then
 * in a private mount namespace mounts and unmounts the stack ROUNDS times
 * (default 200) and prints "N median_ms min_ms p90_ms". The mount is
 * volatile, as `run --rm`'s, unless "sync" is given (a kept container's). Built
 * and driven by bench/overlay.sh. Needs root. */
#include "layers/overlay.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static double
now_ms (void)
{
  struct timespec t;
  clock_gettime (CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static int
cmp_double (const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

int
main (int argc, char **argv)
{
  struct err *err = NULL;
  int n, rounds;
  unsigned flags = LAYER_OVERLAY_VOLATILE;
  char **lowers;
  double *t;
  _cleanup_free_ char *upper = NULL, *work = NULL, *target = NULL;

  if (argc < 3)
    {
      fprintf (stderr, "usage: overlaymount DIR N [ROUNDS]\n");
      return 2;
    }
  n = atoi (argv[2]);
  rounds = argc > 3 ? atoi (argv[3]) : 200;
  if (argc > 4 && !strcmp (argv[4], "sync"))
    flags = 0;
  if (n < 1 || n > 500 || rounds < 1)
    {
      fprintf (stderr, "overlaymount: N must be 1..500, ROUNDS >= 1\n");
      return 2;
    }
  lowers = xcalloc ((size_t)n + 1, sizeof *lowers);
  for (int i = 0; i < n; i++)
    {
      _cleanup_free_ char *f = NULL;
      char hex[65];
      int fd;
      /* a chain-ID-like name: 64 hex digits, distinct per layer */
      snprintf (hex, sizeof hex, "%064x", 0x1000 + i);
      lowers[i] = xasprintf ("%s/snapshots/%s", argv[1], hex);
      if (fs_mkdir_p (AT_FDCWD, lowers[i], 0755, &err) < 0)
        goto fail;
      f = xasprintf ("%s/f%d", lowers[i], i);
      fd = open (f, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
      if (fd >= 0)
        close (fd);
    }
  upper = xasprintf ("%s/upper", argv[1]);
  work = xasprintf ("%s/work", argv[1]);
  target = xasprintf ("%s/rootfs", argv[1]);
  if (fs_mkdir_p (AT_FDCWD, upper, 0755, &err) < 0
      || fs_mkdir_p (AT_FDCWD, work, 0755, &err) < 0
      || fs_mkdir_p (AT_FDCWD, target, 0755, &err) < 0)
    goto fail;
  /* as the container's child: its own mount namespace, nothing shared */
  if (unshare (CLONE_NEWNS) < 0
      || mount (NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
    {
      perror ("overlaymount: private mount namespace");
      return 1;
    }
  t = xcalloc ((size_t)rounds, sizeof *t);
  for (int r = 0; r < rounds; r++)
    {
      double t0 = now_ms ();
      if (layer_overlay_mount (lowers, upper, work, target, flags, &err) < 0)
        goto fail;
      if (umount2 (target, 0) < 0)
        {
          perror ("overlaymount: umount");
          return 1;
        }
      t[r] = now_ms () - t0;
      /* a volatile mount leaves work/work/incompat/volatile, which makes
       * the next mount refuse that work dir (as a fresh container has) */
      {
        _cleanup_free_ char *ww = xasprintf ("%s/work", work);
        if (fs_rm_rf (AT_FDCWD, ww, &err) < 0)
          goto fail;
      }
    }
  qsort (t, (size_t)rounds, sizeof *t, cmp_double);
  printf ("%d %.3f %.3f %.3f\n", n, t[rounds / 2], t[0], t[(rounds * 9) / 10]);
  return 0;
fail:
  fprintf (stderr, "overlaymount: %s\n", err ? err->msg : "failed");
  return 1;
}
