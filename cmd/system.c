/* The prune commands beyond `prune` (image prune), and docker's
 * management forms:
 *   imgtool container prune [-f]     stopped containers
 *   imgtool system prune [-a] [-f] [--volumes]
 *                                    stopped containers, then images as
 *                                    image prune [-a] does, and the build
 *                                    cache (volumes with --volumes)
 *   imgtool system info              info
 *   imgtool system df [-v] [--format T]
 *                                    the space images, containers, volumes
 *                                    and the build cache take
 * docker asks before it removes anything unless -f; so does this, and
 * without a terminal an empty answer is no. */
#include "cmd/command.h"
#include "cmd/containers.h"
#include "cmd/opttable.h"
#include "layers/image_store.h"
#include "lib/du.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/human.h"
#include "lib/xalloc.h"
#include "runtime/volume.h"
#include "service/service.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

bool
command_confirm (const char *warning)
{
  char line[16] = "";
  printf ("WARNING! %s\nAre you sure you want to continue? [y/N] ", warning);
  fflush (stdout);
  if (!fgets (line, sizeof line, stdin))
    return false;
  return line[0] == 'y' || line[0] == 'Y';
}

static int
remove_one (struct svc *s, struct svc_container *c, void *data,
            struct err **err)
{
  (void)data;
  return svc_remove (s, c, false, err);
}

/* The ids of the containers that do not run. */
static void
stopped_one (struct svc *s, const struct rt_record *rec, void *data)
{
  (void)s;
  if (rec->state.status == RT_EXITED || rec->state.status == RT_CREATED
      || rec->state.status == RT_DEAD)
    strv_push (data, xstrdup (rec->id));
}

static int
stopped_ids (struct global *g, char ***out, struct err **err)
{
  *out = NULL;
  return svc_each_record (g->root, g->config_path, stopped_one, out, err);
}

static int
prune_containers (struct global *g, struct err **err)
{
  _cleanup_strv_ char **ids = NULL;
  int status;
  if (stopped_ids (g, &ids, err) < 0)
    return -1;
  printf ("Deleted Containers:\n");
  fflush (stdout);
  status = ids && *ids ? containers_each (g, "rm", ids, remove_one, NULL) : 0;
  printf ("\n");
  return status;
}

static const struct cmd_opt system_prune_opts[] = {
  CMD_OPT_FORCE,
  CMD_OPT ("all", 'a', NULL, 0,
           "Remove all unused images not just dangling ones", "--all"),
  CMD_OPT ("volumes", 0, NULL, 'V', "Prune anonymous volumes", "--volumes"),
  CMD_OPT_HELP,
  CMD_OPT_END,
};

static const struct cmd_opt container_prune_opts[] = {
  CMD_OPT_FORCE,
  CMD_OPT_HELP,
  CMD_OPT_END,
};

const struct cmd_spec cmd_system_prune_spec = {
  .name = "system prune",
  .usage = "imgtool system prune [-a] [-f] [--volumes]",
  .opts = system_prune_opts,
  .summary = "Remove stopped containers, unused images and the build cache",
};

const struct cmd_spec cmd_container_prune_spec = {
  .name = "container prune",
  .usage = "imgtool container prune [-f]",
  .opts = container_prune_opts,
  .summary = "Remove all stopped containers",
};

/* -f/--force, and the flags each form takes; returns 1 for --help. */
static int
prune_flags (int argc, char **argv, const struct cmd_spec *spec, bool *force,
             bool *all, bool *volumes, struct err **err)
{
  int c;
  while ((c = cmd_getopt (argc, argv, spec)) != -1)
    switch (c)
      {
      case 'f':
        *force = cmd_optbool;
        break;
      case 'a':
        *all = cmd_optbool;
        break;
      case 'V':
        *volumes = cmd_optbool;
        break;
      case CMD_OPT_HELP_ID:
        return 1;
      default:
        return command_bad_option (err);
      }
  if (optind != argc)
    return command_usage_error (spec->usage, err);
  return 0;
}

static int
container_prune (struct global *g, int argc, char **argv, struct err **err)
{
  bool force = false;
  int r = prune_flags (argc, argv, &cmd_container_prune_spec, &force, NULL,
                       NULL, err);
  if (r)
    return r < 0 ? -1 : 0;
  if (!force && !command_confirm ("This will remove all stopped containers."))
    return 0;
  return prune_containers (g, err);
}

static int
system_prune (struct global *g, int argc, char **argv, struct err **err)
{
  bool force = false, all = false, volumes = false;
  char *prune_argv[] = { (char *)"prune", (char *)"--all", NULL };
  int r = prune_flags (argc, argv, &cmd_system_prune_spec, &force, &all,
                       &volumes, err);
  if (r)
    return r < 0 ? -1 : 0;
  if (!force
      && !command_confirm (
          all ? "This will remove:\n  - all stopped containers\n"
                "  - all images without at least one container "
                "associated to them\n  - all build cache"
              : "This will remove:\n  - all stopped containers\n"
                "  - all dangling images\n  - all build cache"))
    return 0;
  if (prune_containers (g, err) < 0)
    return -1;
  optind = 0;
  r = cmd_prune (g, all ? 2 : 1, prune_argv, err);
  if (r == 0 && volumes)
    {
      char *vargv[] = { (char *)"volume", (char *)"prune", (char *)"-f", NULL };
      optind = 0;
      r = command_run ("volume", g, 3, vargv, err);
    }
  return r;
}

/* One line of system df: docker's fields (TotalCount, Active, Size,
 * Reclaimable). */
struct df_row
{
  const char *type;
  int64_t total, active, size, reclaimable;
};

static json_t *
df_json (const struct df_row *r)
{
  char size[32], rec[64], hs[32];
  human_size (r->size, size, sizeof size);
  human_size (r->reclaimable, hs, sizeof hs);
  if (r->size > 0)
    snprintf (rec, sizeof rec, "%s (%d%%)", hs,
              (int)(r->reclaimable * 100 / r->size));
  else
    snprintf (rec, sizeof rec, "%s", hs);
  return json_pack ("{s:s, s:I, s:I, s:s, s:s}", "Type", r->type, "TotalCount",
                    (json_int_t)r->total, "Active", (json_int_t)r->active,
                    "Size", size, "Reclaimable", rec);
}

/* Images: distinct image IDs; active when a container was made from it;
 * sizes compressed, as images shows them. */
static void
df_images (struct global *g, const struct container_use *u, size_t n_uses,
           struct df_row *r, json_t *verbose)
{
  struct store s;
  struct store_ref *refs = NULL;
  size_t n = 0;
  struct err *e = NULL;
  json_t *seen = json_object ();
  if (store_open (&s, g->root, &e) == 0
      && store_ref_list (&s, &refs, &n, &e) == 0)
    for (size_t i = 0; i < n; i++)
      {
        struct image img;
        bool used = false;
        int64_t size;
        if (image_load_ref (&s, &refs[i], NULL, &img, &e) < 0)
          {
            err_clear (&e);
            continue;
          }
        if (!json_object_get (seen, img.manifest.config.digest))
          {
            json_object_set_new (seen, img.manifest.config.digest,
                                 json_true ());
            for (size_t k = 0; k < n_uses && !used; k++)
              used = u[k].image_id
                     && !strcmp (u[k].image_id, img.manifest.config.digest);
            size = image_size (&img);
            r->total++;
            r->active += used;
            r->size += size;
            r->reclaimable += used ? 0 : size;
          }
        if (verbose)
          json_array_append_new (verbose,
                                 json_pack ("{s:s, s:s, s:I}", "Type", "image",
                                            "Name", refs[i].name, "Size",
                                            (json_int_t)image_size (&img)));
        image_release (&img);
      }
  store_refs_free (refs, n);
  store_release (&s);
  err_free (e);
  json_decref (seen);
}

/* Containers: their writable layers (docker's SizeRw); active = running. */
struct df_containers_acc
{
  struct df_row *r;
  json_t *verbose;
};

static void
df_container (struct svc *s, const struct rt_record *rec, void *data)
{
  struct df_containers_acc *a = data;
  bool up
      = rec->state.status == RT_RUNNING || rec->state.status == RT_RESTARTING;
  int64_t size
      = rec->plan.upper_dir ? fs_tree_size (AT_FDCWD, rec->plan.upper_dir) : 0;
  (void)s;
  a->r->total++;
  a->r->active += up;
  a->r->size += size;
  a->r->reclaimable += up ? 0 : size;
  if (a->verbose)
    json_array_append_new (a->verbose,
                           json_pack ("{s:s, s:s, s:I}", "Type", "container",
                                      "Name", rec->name ? rec->name : rec->id,
                                      "Size", (json_int_t)size));
}

static void
df_containers (struct global *g, struct df_row *r, json_t *verbose)
{
  struct df_containers_acc a = { r, verbose };
  struct err *e = NULL;
  svc_each_record (g->root, g->config_path, df_container, &a, &e);
  err_free (e);
}

/* Local volumes: active when a container (running or not) uses one. */
static void
df_volumes (struct global *g, struct df_row *r, json_t *verbose)
{
  struct rt_volumes vs = { .fd = -1 };
  struct rt_containers cs = { .fd = -1 };
  struct rt_volume_users users = { 0 };
  _cleanup_strv_ char **names = NULL;
  struct err *e = NULL;
  if (rt_volumes_open (&vs, g->root, &e) == 0
      && rt_containers_open (&cs, g->root, &e) == 0
      && rt_volume_users_scan (&cs, &users, &e) == 0
      && rt_volume_list (&vs, &names, &e) == 0)
    for (char **n = names; *n; n++)
      {
        struct rt_volume v;
        _cleanup_free_ char *by = rt_volume_users_of (&users, *n);
        int64_t size;
        if (rt_volume_load (&vs, *n, &v, &e) < 0)
          {
            err_clear (&e);
            continue;
          }
        size = fs_tree_size (AT_FDCWD, v.mountpoint);
        r->total++;
        r->active += *by != '\0';
        r->size += size;
        r->reclaimable += *by ? 0 : size;
        if (verbose)
          json_array_append_new (verbose, json_pack ("{s:s, s:s, s:I}", "Type",
                                                     "volume", "Name", *n,
                                                     "Size", (json_int_t)size));
        rt_volume_release (&v);
      }
  err_free (e);
  rt_volume_users_release (&users);
  rt_containers_release (&cs);
  rt_volumes_release (&vs);
}

static int
count_entry (void *ctx, int dirfd, const char *name, struct err **err)
{
  (void)dirfd;
  (void)name;
  (void)err;
  ++*(int64_t *)ctx;
  return 0;
}

/* The build cache: its records and cache mounts, all reclaimable. */
static void
df_build_cache (struct global *g, struct df_row *r)
{
  _cleanup_free_ char *records = xasprintf ("%s/cache/build", g->root);
  _cleanup_free_ char *cache = xasprintf ("%s/cache", g->root);
  struct err *e = NULL;
  if (fs_dir_each (AT_FDCWD, records, count_entry, &r->total, &e) < 0)
    err_free (e);
  r->size = r->reclaimable = fs_tree_size (AT_FDCWD, cache);
}

static const struct cmd_opt system_df_opts[] = {
  CMD_OPT ("verbose", 'v', NULL, 0, "Show detailed information on space usage",
           "--verbose"),
  CMD_OPT ("format", 'f', "FORMAT", 0,
           "Format output using a Go template, or json", "--format"),
  CMD_OPT_HELP,
  CMD_OPT_END,
};

const struct cmd_spec cmd_system_df_spec = {
  .name = "system df",
  .usage = "imgtool system df [-v] [--format TEMPLATE]",
  .opts = system_df_opts,
  .summary = "Show the disk space used by images, containers, volumes and "
             "the build cache",
};

static int
system_df (struct global *g, int argc, char **argv, struct err **err)
{
  struct df_row rows[4] = { { .type = "Images" },
                            { .type = "Containers" },
                            { .type = "Local Volumes" },
                            { .type = "Build Cache" } };
  struct container_use *uses = NULL;
  size_t n_uses = 0;
  const char *format = NULL;
  bool verbose = false;
  json_t *list, *items, *header;
  int c, r;
  while ((c = cmd_getopt (argc, argv, &cmd_system_df_spec)) != -1)
    switch (c)
      {
      case 'v':
        verbose = cmd_optbool;
        break;
      case 'f':
        format = optarg;
        break;
      case CMD_OPT_HELP_ID:
        return 0;
      default:
        return command_bad_option (err);
      }
  if (optind != argc)
    return command_usage_error (cmd_system_df_spec.usage, err);
  items = verbose ? json_array () : NULL;
  if (containers_uses (g->root, &uses, &n_uses, err) < 0)
    return -1;
  df_images (g, uses, n_uses, &rows[0], items);
  containers_uses_free (uses, n_uses);
  df_containers (g, &rows[1], items);
  df_volumes (g, &rows[2], items);
  df_build_cache (g, &rows[3]);
  list = json_array ();
  for (size_t i = 0; i < 4; i++)
    json_array_append_new (list, df_json (&rows[i]));
  header = json_pack ("{s:s, s:s, s:s, s:s, s:s}", "Type", "TYPE", "TotalCount",
                      "TOTAL", "Active", "ACTIVE", "Size", "SIZE",
                      "Reclaimable", "RECLAIMABLE");
  r = command_print_format (format,
                            "table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t"
                            "{{.Size}}\t{{.Reclaimable}}",
                            header, list, err);
  json_decref (header);
  json_decref (list);
  if (r == 0 && items)
    {
      size_t i;
      json_t *it;
      printf ("\nSpace used by each:\n");
      json_array_foreach (items, i, it)
      {
        char size[32];
        human_size (json_integer_value (json_object_get (it, "Size")), size,
                    sizeof size);
        printf ("%-10s %-40s %s\n",
                json_string_value (json_object_get (it, "Type")),
                json_string_value (json_object_get (it, "Name")), size);
      }
    }
  json_decref (items);
  return r;
}

static const struct cmd_spec *const system_subs[]
    = { &cmd_system_df_spec, &cmd_system_prune_spec, NULL };

const struct cmd_spec cmd_system_spec = {
  .name = "system",
  .usage = "imgtool system df|info|prune [OPTIONS]",
  .opts = cmd_opts_help_only,
  .subs = system_subs,
};

COMMAND (system)
{
  if (argc < 2 || !strcmp (argv[1], "--help"))
    {
      if (argc < 2)
        return command_usage_error (cmd_system_spec.usage, err);
      cmd_help_print (&cmd_system_spec, stdout);
      return 0;
    }
  if (!strcmp (argv[1], "prune"))
    return system_prune (g, argc - 1, argv + 1, err);
  if (!strcmp (argv[1], "container-prune"))
    return container_prune (g, argc - 1, argv + 1, err);
  if (!strcmp (argv[1], "info"))
    return cmd_info (g, argc - 1, argv + 1, err);
  if (!strcmp (argv[1], "df"))
    return system_df (g, argc - 1, argv + 1, err);
  err_set (err, 0,
           "system: unknown subcommand '%s'; see 'imgtool system --help'",
           argv[1]);
  return err_exit (err, 2);
}
