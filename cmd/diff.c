/* imgtool diff CONTAINER: what changed in a container's file system, as
 * docker diff prints it: "A /path" (added), "C /path" (changed), "D
 * /path" (deleted), from its upper dir against its image's layers
 * (layers/diff.h's walk), in docker's order (depth first, names in byte
 * order). The mount points the runtime itself puts there (/dev, /proc,
 * /sys, /etc/hosts, /etc/hostname, /etc/resolv.conf; docker keeps them in
 * its init layer) and its volumes and bind mounts are left out. Running
 * or stopped containers alike. */
#include "layers/diff.h"
#include "cmd/command.h"
#include "cmd/containers.h"
#include "cmd/opttable.h"
#include "lib/err.h"
#include "lib/xalloc.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char usage_text[] = "imgtool diff CONTAINER";

const struct cmd_spec cmd_diff_spec
    = { .name = "diff", .usage = usage_text, .opts = cmd_opts_help_only };

/* docker's init layer and podman's initInodes (libpod/diff.go): the
 * mount points the runtime makes */
static char *const runtime_made[] = { (char *)"dev",
                                      (char *)"proc",
                                      (char *)"sys",
                                      (char *)"etc/hostname",
                                      (char *)"etc/hosts",
                                      (char *)"etc/resolv.conf",
                                      (char *)"etc/mtab",
                                      (char *)".dockerenv",
                                      (char *)"run/.containerenv",
                                      NULL };

struct change
{
  char kind;
  char *path;
};

struct changes
{
  struct change *v;
  size_t n;
};

static void
add (void *data, char kind, const char *path)
{
  struct changes *c = data;
  c->v = xrealloc (c->v, (c->n + 1) * sizeof *c->v);
  c->v[c->n++] = (struct change){ kind, xstrdup (path) };
}

/* filepath.Walk's order: a directory before what is in it, so '/' sorts
 * before every other byte. */
static int
walk_key (unsigned char c)
{
  return c == '/' ? 1 : c ? c + 1 : 0;
}

static int
by_walk (const void *a, const void *b)
{
  const unsigned char *x = (const void *)((const struct change *)a)->path;
  const unsigned char *y = (const void *)((const struct change *)b)->path;
  for (; *x && *x == *y; x++, y++)
    ;
  return walk_key (*x) - walk_key (*y);
}

/* The differ's skip: the paths listed in ctx (relative, NULL-terminated). */
static bool
listed (void *ctx, int dirfd, const char *name, const char *path,
        const struct stat *st)
{
  (void)dirfd;
  (void)name;
  (void)st;
  for (char **p = ctx; *p; p++)
    if (!strcmp (*p, path))
      return true;
  return false;
}

COMMAND (diff)
{
  struct svc svc = { .cs = { .fd = -1 } };
  struct svc_container ctr = { 0 };
  struct changes ch = { 0 };
  _cleanup_strv_ char **skip = strv_dup (runtime_made);
  int upper = -1, r, ret = -1;

  r = cmd_no_options (argc, argv, &cmd_diff_spec, err);
  if (r != 0)
    return r < 0 ? -1 : 0;
  if (argc - optind != 1)
    return command_usage_error (usage_text, err);
  if (containers_load (&svc, g->root, g->config_path, argv[optind], &ctr, err)
      < 0)
    goto out;
  upper = ctr.rec.plan.upper_dir ? open (ctr.rec.plan.upper_dir,
                                         O_RDONLY | O_DIRECTORY | O_CLOEXEC)
                                 : -1;
  if (upper < 0)
    {
      err_set (err, 0, "container '%s' has no writable layer", argv[optind]);
      goto out;
    }
  /* docker: volumes and bind mounts are not part of it */
  for (size_t i = 0; i < ctr.rec.plan.n_mounts; i++)
    strv_push (&skip, xstrdup (ctr.rec.plan.mounts[i].destination + 1));
  if (layer_changes (upper, ctr.rec.plan.lower_dirs,
                     &(struct layer_diff_skip){ listed, skip }, add, &ch, err)
      < 0)
    goto out;
  if (ch.n)
    qsort (ch.v, ch.n, sizeof *ch.v, by_walk);
  for (size_t i = 0; i < ch.n; i++)
    printf ("%c %s\n", ch.v[i].kind, ch.v[i].path);
  ret = 0;
out:
  for (size_t i = 0; i < ch.n; i++)
    free (ch.v[i].path);
  free (ch.v);
  if (upper >= 0)
    close (upper);
  svc_container_release (&ctr);
  svc_close (&svc);
  return ret;
}
