/* The prune commands beyond `prune` (image prune), and docker's
 * management forms:
 *   imgtool container prune [-f]     stopped containers
 *   imgtool system prune [-a] [-f] [--volumes]
 *                                    stopped containers, then images as
 *                                    image prune [-a] does, and the build
 *                                    cache (volumes with --volumes)
 *   imgtool system info              info
 * docker asks before it removes anything unless -f; so does this, and
 * without a terminal an empty answer is no. */
#include "cmd/command.h"
#include "cmd/containers.h"
#include "lib/err.h"
#include "lib/xalloc.h"
#include "service/service.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

bool
command_confirm (const char *warning)
{
  char line[16] = "";
  fprintf (stderr, "WARNING! %s\nAre you sure you want to continue? [y/N] ",
           warning);
  fflush (stderr);
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
static int
stopped_ids (struct global *g, char ***out, struct err **err)
{
  struct svc svc;
  _cleanup_strv_ char **ids = NULL;
  *out = NULL;
  if (svc_open (&svc, g->root, g->config_path, err) < 0)
    return -1;
  if (rt_record_list (&svc.cs, &ids, err) < 0)
    {
      svc_close (&svc);
      return -1;
    }
  for (char **id = ids; *id; id++)
    {
      struct rt_record rec;
      struct err *e = NULL;
      memset (&rec, 0, sizeof rec);
      if (svc_load_id (&svc, *id, &rec, &e) == 0
          && (rec.state.status == RT_EXITED || rec.state.status == RT_CREATED))
        strv_push (out, xstrdup (*id));
      err_free (e);
      rt_record_release (&rec);
    }
  svc_close (&svc);
  return 0;
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

/* -f/--force, and the flags each form takes; returns 1 for --help. */
static int
prune_flags (int argc, char **argv, const char *usage, bool *force, bool *all,
             bool *volumes, struct err **err)
{
  static const struct option opts[] = {
    { "force", no_argument, NULL, 'f' },
    { "all", no_argument, NULL, 'a' },
    { "volumes", no_argument, NULL, 'V' },
    { "help", no_argument, NULL, 'H' },
    { 0 },
  };
  int c;
  while ((c = command_getopt (argc, argv, "fa", opts)) != -1)
    switch (c)
      {
      case 'f':
        *force = true;
        break;
      case 'a':
      case 'V':
        if (!(c == 'a' ? all : volumes))
          return command_bad_option (err);
        *(c == 'a' ? all : volumes) = true;
        break;
      case 'H':
        printf ("usage: %s\n", usage);
        return 1;
      default:
        return command_bad_option (err);
      }
  if (optind != argc)
    return command_usage_error (usage, err);
  return 0;
}

static int
container_prune (struct global *g, int argc, char **argv, struct err **err)
{
  static const char usage[] = "imgtool container prune [-f]";
  bool force = false;
  int r = prune_flags (argc, argv, usage, &force, NULL, NULL, err);
  if (r)
    return r < 0 ? -1 : 0;
  if (!force && !command_confirm ("This will remove all stopped containers."))
    return 0;
  return prune_containers (g, err);
}

static int
system_prune (struct global *g, int argc, char **argv, struct err **err)
{
  static const char usage[] = "imgtool system prune [-a] [-f] [--volumes]";
  bool force = false, all = false, volumes = false;
  char *prune_argv[] = { (char *)"prune", (char *)"--all", NULL };
  int r = prune_flags (argc, argv, usage, &force, &all, &volumes, err);
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

COMMAND (system)
{
  static const char usage[] = "imgtool system df|info|prune [OPTIONS]";
  if (argc < 2 || !strcmp (argv[1], "--help"))
    {
      if (argc < 2)
        return command_usage_error (usage, err);
      printf ("usage: %s\n", usage);
      return 0;
    }
  if (!strcmp (argv[1], "prune"))
    return system_prune (g, argc - 1, argv + 1, err);
  if (!strcmp (argv[1], "container-prune"))
    return container_prune (g, argc - 1, argv + 1, err);
  if (!strcmp (argv[1], "info"))
    return cmd_info (g, argc - 1, argv + 1, err);
  err_set (err, 0,
           "system: unknown subcommand '%s'; see 'imgtool system --help'",
           argv[1]);
  return err_exit (err, 2);
}
