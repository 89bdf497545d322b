/* imgtool: global options, the command table, and the one place that
 * prints errors. */
#include "builder/builder.h"
#include "cmd/command.h"
#include "lib/err.h"
#include "lib/log.h"
#include "lib/userns.h"
#include "lib/xalloc.h"
#include "registry/config.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct command
{
  const char *name;
  command_fn fn;
  const char *summary;
};

static const struct command commands[] = {
  { "pull", cmd_pull, "Pull an image from a registry" },
  { "login", cmd_login, "Log in to a registry" },
  { "logout", cmd_logout, "Log out from a registry" },
  { "push", cmd_push, "Push an image to a registry" },
  { "copy", cmd_copy, "Copy an image between registries and OCI layouts" },
  { "sign", cmd_sign, "Sign an image in a registry (cosign's format)" },
  { "verify", cmd_verify, "Verify an image's signatures with a public key" },
  { "save", cmd_save, "Save images to a docker-archive or oci-archive" },
  { "load", cmd_load, "Load images from a docker-archive or oci-archive" },
  { "import", cmd_import, "Make an image from a tarball of a file system" },
  { "export", cmd_export, "Write a container's file system as a tar" },
  { "commit", cmd_commit, "Make an image from a container's changes" },
  { "images", cmd_images, "List images in the store" },
  { "inspect", cmd_inspect, "Show an image's manifest and config as JSON" },
  { "tag", cmd_tag, "Give an image another name" },
  { "build", cmd_build, "Build an image from a Buildfile" },
  { "builder", cmd_builder, "Manage the build cache (builder prune)" },
  { "history", cmd_history, "Show the history of an image" },
  { "rmi", cmd_rmi, "Remove images" },
  { "prune", cmd_prune, "Remove blobs no image uses" },
  { "run", cmd_run, "Run a command in a new container" },
  { "create", cmd_create, "Create a new container without starting it" },
  { "start", cmd_start, "Start created or stopped containers" },
  { "restart", cmd_restart, "Restart containers" },
  { "wait", cmd_wait, "Wait for containers to stop, print their exit codes" },
  { "attach", cmd_attach, "Attach to a detached container's stdio" },
  { "rename", cmd_rename, "Rename a container" },
  { "pause", cmd_pause, "Pause the processes of containers" },
  { "unpause", cmd_unpause, "Unpause the processes of containers" },
  { "ps", cmd_ps, "List containers" },
  { "logs", cmd_logs, "Show the output of a container" },
  { "exec", cmd_exec, "Run a command in a running container" },
  { "stop", cmd_stop, "Stop running containers" },
  { "kill", cmd_kill, "Send a signal to running containers" },
  { "rm", cmd_rm, "Remove containers" },
  { "top", cmd_top, "Show the processes of a running container" },
  { "stats", cmd_stats, "Show containers' resource use" },
  { "port", cmd_port, "Show a container's published ports" },
  { "diff", cmd_diff, "Show what changed in a container's files" },
  { "cp", cmd_cp, "Copy files into or out of a container" },
  { "network", cmd_network, "Manage networks: create, ls, inspect, rm, prune" },
  { "volume", cmd_volume, "Manage volumes" },
  { "version", cmd_version, "Show the version" },
  { "info", cmd_info, "Show the store, registries, cgroups and host" },
  { "help", cmd_help, "Show the commands, or a command's options" },
  { "completion", cmd_completion, "Print a shell completion script" },
  { "system", cmd_system, "Prune containers, images and the build cache" },
};

/* docker's management commands: `image ls` is images, `container rm` is
 * rm, ... (docker's own list; a form names a command of the table). */
static const struct
{
  const char *group, *sub;
  const char *const argv[3]; /* what it runs: a command and its first words */
} management[] = {
  { "image", "ls", { "images" } },
  { "image", "list", { "images" } },
  { "image", "rm", { "rmi" } },
  { "image", "remove", { "rmi" } },
  { "image", "prune", { "prune" } },
  { "image", "inspect", { "inspect" } },
  { "image", "history", { "history" } },
  { "image", "tag", { "tag" } },
  { "image", "pull", { "pull" } },
  { "image", "push", { "push" } },
  { "image", "save", { "save" } },
  { "image", "load", { "load" } },
  { "image", "import", { "import" } },
  { "image", "build", { "build" } },
  { "container", "ls", { "ps" } },
  { "container", "list", { "ps" } },
  { "container", "ps", { "ps" } },
  { "container", "remove", { "rm" } },
  { "container", "prune", { "system", "container-prune" } },
  { "system", "info", { "info" } },
};

/* docker's container subcommands that are imgtool commands of the same
 * name. */
static const char *const container_subs[]
    = { "attach", "commit",  "cp",      "create", "diff",  "exec",
        "export", "inspect", "kill",    "logs",   "pause", "port",
        "rename", "restart", "rm",      "run",    "start", "stats",
        "stop",   "top",     "unpause", "wait" };

/* argv (argv[0] the command word) in a management form -> the command's
 * argv in *out (allocated; its strings are argv's or static). Returns its
 * argc, or -1 after printing why. */
static int
management_form (int argc, char **argv, char ***out)
{
  bool group = !strcmp (argv[0], "image") || !strcmp (argv[0], "container");
  *out = xcalloc ((size_t)argc + 2, sizeof **out);
  memcpy (*out, argv, (size_t)argc * sizeof *argv);
  if (!group)
    return argc;
  if (argc < 2 || !strcmp (argv[1], "--help"))
    {
      fprintf (argc < 2 ? stderr : stdout,
               "usage: imgtool %s COMMAND [ARGS]\n\ncommands:\n", argv[0]);
      for (size_t i = 0; i < ARRAY_SIZE (management); i++)
        if (!strcmp (management[i].group, argv[0]))
          fprintf (argc < 2 ? stderr : stdout, "  %-10s imgtool %s\n",
                   management[i].sub, management[i].argv[0]);
      if (!strcmp (argv[0], "container"))
        for (size_t i = 0; i < ARRAY_SIZE (container_subs); i++)
          fprintf (argc < 2 ? stderr : stdout, "  %-10s imgtool %s\n",
                   container_subs[i], container_subs[i]);
      if (argc < 2)
        return -1;
      exit (0);
    }
  for (size_t i = 0; i < ARRAY_SIZE (management); i++)
    if (!strcmp (management[i].group, argv[0])
        && !strcmp (management[i].sub, argv[1]))
      {
        size_t k = 0;
        for (; k < 3 && management[i].argv[k]; k++)
          (*out)[k] = (char *)management[i].argv[k];
        memcpy (*out + k, argv + 2, (size_t)(argc - 2) * sizeof *argv);
        (*out)[k + (size_t)argc - 2] = NULL;
        return (int)k + argc - 2;
      }
  if (!strcmp (argv[0], "container"))
    for (size_t i = 0; i < ARRAY_SIZE (container_subs); i++)
      if (!strcmp (container_subs[i], argv[1]))
        {
          memcpy (*out, argv + 1, (size_t)(argc - 1) * sizeof *argv);
          (*out)[argc - 1] = NULL;
          return argc - 1;
        }
  command_print_error ("unknown command '%s %s'; see 'imgtool %s --help'",
                       argv[0], argv[1], argv[0]);
  return -1;
}

int
command_run (const char *name, struct global *g, int argc, char **argv,
             struct err **err)
{
  for (size_t i = 0; i < ARRAY_SIZE (commands); i++)
    if (!strcmp (name, commands[i].name))
      return commands[i].fn (g, argc, argv, err);
  err_set (err, 0, "unknown command '%s'; see 'imgtool --help'", name);
  return err_exit (err, 2);
}

void
command_each (void (*fn) (const char *name, const char *summary, void *data),
              void *data)
{
  for (size_t i = 0; i < ARRAY_SIZE (commands); i++)
    fn (commands[i].name, commands[i].summary, data);
}

void
command_usage (FILE *out)
{
  fprintf (out, "usage: imgtool [--root DIR] [--config FILE] [-q] [-v|--debug] "
                "COMMAND [ARGS]\n\ncommands:\n");
  for (size_t i = 0; i < ARRAY_SIZE (commands); i++)
    fprintf (out, "  %-10s %s\n", commands[i].name, commands[i].summary);
  fprintf (out,
           "\nmanagement forms, as docker's: imgtool image ls|rm|prune|..., "
           "imgtool container ls|rm|prune|...\n");
  fprintf (out, "\nRun 'imgtool COMMAND --help' for a command's options.\n");
}

const char *
global_default_root (void)
{
  static char buf[4096];
  const char *xdg, *home;
  if (!userns_rootless ())
    return "/var/lib/imgtool";
  xdg = getenv ("XDG_DATA_HOME");
  if (xdg && *xdg)
    snprintf (buf, sizeof buf, "%s/imgtool", xdg);
  else if ((home = getenv ("HOME")) && *home)
    snprintf (buf, sizeof buf, "%s/.local/share/imgtool", home);
  else
    return "/var/lib/imgtool";
  return buf;
}

void
command_print_error (const char *fmt, ...)
{
  va_list ap;
  char *text, *line;
  va_start (ap, fmt);
  if (vasprintf (&text, fmt, ap) < 0)
    abort ();
  va_end (ap);
  line = err_line (text);
  fflush (stdout);
  fprintf (stderr, "imgtool: %s\n", line);
  free (line);
  free (text);
}

int
command_usage_error (const char *usage_text, struct err **err)
{
  err_set (err, 0, "usage: %s", usage_text);
  return err_exit (err, 2);
}

int
main (int argc, char **argv)
{
  static const struct option opts[] = {
    { "root", required_argument, NULL, 'r' },
    { "config", required_argument, NULL, 'c' },
    { "quiet", no_argument, NULL, 'q' },
    { "verbose", no_argument, NULL, 'v' },
    { "debug", no_argument, NULL, 'D' },
    { "help", no_argument, NULL, 'h' },
    { "version", no_argument, NULL, 'V' },
    { 0 },
  };
  struct global g = { 0 };
  struct err *err = NULL;
  int c, status;
  const char *env;

  log_start_clock ();
  g.root = getenv ("IMGTOOL_ROOT");
  g.config_path = getenv ("IMGTOOL_CONFIG");
  if ((env = getenv ("IMGTOOL_DEBUG")) && *env && strcmp (env, "0"))
    log_level = LOG_DEBUG;

  /* '+': stop at the command name; its options are its own. */
  while ((c = command_getopt (argc, argv, "+qvh", opts)) != -1)
    switch (c)
      {
      case 'r':
        g.root = optarg;
        break;
      case 'c':
        g.config_path = optarg;
        break;
      case 'q':
        g.quiet = true;
        break;
      case 'v':
        log_level = LOG_INFO;
        break;
      case 'D':
        log_level = LOG_DEBUG;
        break;
      case 'h':
        command_usage (stdout);
        return 0;
      case 'V':
        {
          /* docker --version's one line: "version X, build COMMIT" */
          char *v[] = { (char *)"version", (char *)"--format",
                        (char *)"imgtool version {{.Version}}, build "
                                "{{.GitCommit}}",
                        NULL };
          optind = 0; /* a full reset for the command's own getopt */
          return cmd_version (&g, 3, v, &err);
        }
      default:
        command_bad_option (&err);
        command_print_error ("%s", err->msg);
        err_free (err);
        return 2;
      }
  if (!g.root || !*g.root)
    g.root = global_default_root ();
  /* One file for every reader (registry and network settings alike). */
  _cleanup_free_ char *default_config = NULL;
  if (!g.config_path || !*g.config_path)
    g.config_path = default_config = reg_config_default_path ();
  if (optind >= argc)
    {
      command_usage (stderr);
      return 2;
    }

  _cleanup_free_ char **cmd_argv = NULL;
  int cmd_argc = management_form (argc - optind, argv + optind, &cmd_argv);
  if (cmd_argc < 0)
    return 2;
  for (size_t i = 0; i < ARRAY_SIZE (commands); i++)
    {
      if (strcmp (cmd_argv[0], commands[i].name))
        continue;
      optind = 0; /* glibc: a full reset for the command's own getopt */
      build_gc (g.root);
      status = commands[i].fn (&g, cmd_argc, cmd_argv, &err);
      if (status < 0 || err)
        {
          command_print_error ("%s", err ? err->msg : "unknown error");
          status = err ? err->exit : 1;
          err_free (err);
        }
      return status;
    }
  command_print_error ("unknown command '%s'; see 'imgtool --help'",
                       cmd_argv[0]);
  return 2;
}
