/* imgtool: global options, the command table, and the one place that
 * prints errors. */
#include "builder/builder.h"
#include "cmd/command.h"
#include "lib/err.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "registry/config.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef IMGTOOL_VERSION
#define IMGTOOL_VERSION "0.1.0"
#endif

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
  { "save", cmd_save, "Save images to a docker-archive or oci-archive" },
  { "load", cmd_load, "Load images from a docker-archive or oci-archive" },
  { "import", cmd_import, "Make an image from a tarball of a file system" },
  { "images", cmd_images, "List images in the store" },
  { "inspect", cmd_inspect, "Show an image's manifest and config as JSON" },
  { "tag", cmd_tag, "Give an image another name" },
  { "build", cmd_build, "Build an image from a Buildfile" },
  { "builder", cmd_builder, "Manage the build cache (builder prune)" },
  { "history", cmd_history, "Show the history of an image" },
  { "rmi", cmd_rmi, "Remove images" },
  { "prune", cmd_prune, "Remove blobs no image uses" },
  { "run", cmd_run, "Run a command in a new container" },
  { "ps", cmd_ps, "List containers" },
  { "logs", cmd_logs, "Show the output of a detached container" },
  { "exec", cmd_exec, "Run a command in a running container" },
  { "stop", cmd_stop, "Stop running containers" },
  { "kill", cmd_kill, "Send a signal to running containers" },
  { "rm", cmd_rm, "Remove containers" },
  { "network", cmd_network, "List and inspect container networks" },
  { "version", cmd_version, "Show the version" },
};

static void
usage (FILE *out)
{
  fprintf (out, "usage: imgtool [--root DIR] [--config FILE] [-q] [-v|--debug] "
                "COMMAND [ARGS]\n\ncommands:\n");
  for (size_t i = 0; i < ARRAY_SIZE (commands); i++)
    fprintf (out, "  %-10s %s\n", commands[i].name, commands[i].summary);
  fprintf (out, "\nRun 'imgtool COMMAND --help' for a command's options.\n");
}

const char *
global_default_root (void)
{
  static char buf[4096];
  const char *xdg, *home;
  if (geteuid () == 0)
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

COMMAND (version)
{
  int r;
  (void)g;
  if ((r = command_no_options (argc, argv, "imgtool version", err)) != 0)
    return r < 0 ? -1 : 0;
  if (optind != argc)
    return command_usage_error ("imgtool version", err);
  printf ("imgtool version %s\n", IMGTOOL_VERSION);
  return 0;
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
        usage (stdout);
        return 0;
      case 'V':
        {
          char **v = argv + optind - 1;
          v[0] = (char *)"version";
          optind = 0; /* a full reset for the command's own getopt */
          return cmd_version (&g, 1, v, &err);
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
      usage (stderr);
      return 2;
    }

  for (size_t i = 0; i < ARRAY_SIZE (commands); i++)
    {
      int first = optind;
      if (strcmp (argv[first], commands[i].name))
        continue;
      optind = 0; /* glibc: a full reset for the command's own getopt */
      build_gc (g.root);
      status = commands[i].fn (&g, argc - first, argv + first, &err);
      if (status < 0 || err)
        {
          command_print_error ("%s", err ? err->msg : "unknown error");
          status = err ? err->exit : 1;
          err_free (err);
        }
      return status;
    }
  command_print_error ("unknown command '%s'; see 'imgtool --help'",
                       argv[optind]);
  return 2;
}
