/* imgtool prune: remove blobs that no reference reaches and no container's
 * image (named or not, cmd/containers.h) uses, and stale temp files,
 * the build cache records whose layers no image keeps (those steps run
 * again next time, as after `docker builder prune`), and the unpacked
 * layers (snapshots) that neither an image nor a container uses. */
#include "builder/builder.h"
#include "cmd/command.h"
#include "cmd/containers.h"
#include "cmd/opttable.h"
#include "layers/filecache.h"
#include "layers/image_store.h"
#include "layers/snapshot.h"
#include "lib/err.h"
#include "lib/human.h"
#include "lib/xalloc.h"
#include "runtime/state.h"

#include <stdio.h>
#include <string.h>

static const char usage_text[]
    = "imgtool prune [-a] [-f]  (imgtool image prune)";

/* The chain IDs of every image manifest in the store that a reference
 * reaches (any platform), appended to *keep. */
static int
keep_image_snapshots (struct store *s, char ***keep, struct err **err)
{
  _cleanup_strv_ char **blobs = NULL;
  struct store_ref *refs;
  size_t n;
  if (store_ref_list (s, &refs, &n, err) < 0)
    return -1;
  for (size_t i = 0; i < n; i++)
    if (image_reachable_blobs (s, refs[i].digest, &blobs, err) < 0)
      {
        store_refs_free (refs, n);
        return -1;
      }
  store_refs_free (refs, n);
  for (char **b = blobs; b && *b; b++)
    {
      struct image img;
      struct err *not_a_manifest = NULL;
      if (image_load (s, *b, NULL, NULL, &img, &not_a_manifest) < 0)
        {
          err_free (not_a_manifest);
          continue;
        }
      char **chain = image_chain_ids (img.config.diff_ids);
      for (char **c = chain; *c; c++)
        strv_push (keep, steal_pointer (c));
      free (chain);
      image_release (&img);
    }
  return 0;
}

/* -a: every name of an image no container was made from goes (docker's
 * image prune -a); the gc below then removes what they held. */
static int
untag_unused (struct store *s, const struct container_use *u, size_t n_uses,
              struct err **err)
{
  struct store_ref *refs;
  size_t n;
  if (store_ref_list (s, &refs, &n, err) < 0)
    return -1;
  for (size_t i = 0; i < n; i++)
    {
      struct image img;
      struct err *e = NULL;
      bool used = false;
      if (image_load_ref (s, &refs[i], NULL, &img, &e) == 0)
        {
          for (size_t k = 0; k < n_uses && !used; k++)
            used = u[k].image_id
                   && !strcmp (u[k].image_id, img.manifest.config.digest);
          image_release (&img);
        }
      err_free (e);
      if (used)
        continue;
      if (store_ref_remove (s, refs[i].name, err) < 0)
        {
          store_refs_free (refs, n);
          return -1;
        }
      printf ("untagged: %s\n", refs[i].name);
    }
  store_refs_free (refs, n);
  return 0;
}

/* What `run --rm` removers killed midway left (rt_records_sweep). */
static void
sweep_removed_containers (const char *root)
{
  struct rt_containers cs = { .fd = -1 };
  struct err *e = NULL;
  if (rt_containers_open (&cs, root, &e) == 0)
    rt_records_sweep (&cs);
  err_free (e);
  rt_containers_release (&cs);
}

static const struct cmd_opt prune_opts[] = {
  CMD_OPT ("all", 'a', NULL, 0,
           "Remove all unused images, not just dangling ones", "--all"),
  CMD_OPT_FORCE,
  CMD_OPT_HELP,
  CMD_OPT_END,
};

const struct cmd_spec cmd_prune_spec = {
  .name = "prune",
  .usage = usage_text,
  .opts = prune_opts,
};

COMMAND (prune)
{
  struct store s;
  uint64_t freed_bytes;
  size_t freed_blobs, cache_records = 0, snapshots = 0;
  _cleanup_strv_ char **keep = NULL;
  struct container_use *uses = NULL;
  size_t n_uses = 0;
  char size[32];
  bool all = false;
  int ret, c;
  while ((c = cmd_getopt (argc, argv, &cmd_prune_spec)) != -1)
    switch (c)
      {
      case 'a':
        all = cmd_optbool;
        break;
      case 'f': /* docker asks first; imgtool's prune never did */
        break;
      case CMD_OPT_HELP_ID:
        return 0;
      default:
        return command_bad_option (err);
      }
  if (optind != argc)
    return command_usage_error (usage_text, err);
  if (command_rootless ("prune", 1, err) < 0)
    return -1;
  if (store_open (&s, g->root, err) < 0)
    return -1;
  sweep_removed_containers (g->root);
  ret = build_cache_prune (&s, &cache_records, err);
  if (ret == 0)
    ret = containers_uses (g->root, &uses, &n_uses, err);
  if (ret == 0 && all)
    ret = untag_unused (&s, uses, n_uses, err);
  if (ret == 0)
    ret = containers_store_gc (&s, uses, n_uses, &freed_bytes, &freed_blobs,
                               err);
  /* the snapshots of the images, and those the containers run on */
  for (size_t i = 0; ret == 0 && i < n_uses; i++)
    for (char **snap = uses[i].snapshots; snap && *snap; snap++)
      strv_push (&keep, xstrdup (*snap));
  if (ret == 0
      && (keep_image_snapshots (&s, &keep, err) < 0
          || snapshot_remove_unused (&s, keep, &snapshots, err) < 0
          || filecache_prune (&s, NULL, err) < 0))
    ret = -1;
  containers_uses_free (uses, n_uses);
  if (ret == 0)
    {
      if (snapshots)
        printf ("Deleted %zu unpacked layers\n", snapshots);
      if (cache_records)
        printf ("Deleted %zu build cache records\n", cache_records);
      human_size ((int64_t)freed_bytes, size, sizeof size);
      printf ("Deleted %zu blobs, reclaimed %s\n", freed_blobs, size);
      printf ("Total reclaimed space: %s\n", size);
    }
  store_release (&s);
  return ret;
}
