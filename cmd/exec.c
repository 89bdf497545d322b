/* imgtool exec [-i] [-t] [-e K=V] [--env-file F] [-w DIR] [-u USER]
 * CONTAINER COMMAND [ARG...]: run a process in a running container. It
 * joins every namespace and the cgroup of the container and gets the same
 * seccomp filter and capabilities (the runtime core's rt_exec). */
#include "cmd/command.h"
#include "cmd/containers.h"
#include "cmd/opttable.h"
#include "lib/err.h"
#include "lib/xalloc.h"
#include "runtime/console.h"
#include "runtime/container.h"
#include "runtime/lifecycle.h"
#include "runtime/runopts.h"
#include "runtime/user.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char usage_text[]
    = "imgtool exec [-i] [-t] [-e K=V] [--env-file FILE] [-w DIR] [-u USER] "
      "CONTAINER COMMAND [ARG...]";

enum
{
  OPT_ENV_FILE = 256,
};

static const struct cmd_opt exec_opts[] = {
  CMD_OPT ("interactive", 'i', NULL, 0, "Keep STDIN open even if not attached",
           "--interactive"),
  CMD_OPT ("tty", 't', NULL, 0, "Allocate a pseudo-TTY", "--tty"),
  CMD_OPT ("env", 'e', "K=V", 0, "Set an environment variable", "--env"),
  CMD_OPT ("env-file", 0, "FILE", OPT_ENV_FILE,
           "Read in a file of environment variables", "--env-file"),
  CMD_OPT ("workdir", 'w', "DIR", 0, "Working directory inside the container",
           "--workdir"),
  CMD_OPT ("user", 'u', "USER[:GROUP]", 0,
           "Username or UID (format: name|uid[:group|gid])", "--user"),
  CMD_OPT_HELP,
  CMD_OPT_END,
};

const struct cmd_spec cmd_exec_spec = {
  .name = "exec",
  .usage = usage_text,
  .opts = exec_opts,
  .posix = true,
};

COMMAND (exec)
{
  struct svc svc = { .cs = { .fd = -1 } };
  struct svc_container ctr = { 0 };
  _cleanup_strv_ char **env = NULL;
  const char *workdir = NULL, *user = NULL;
  bool interactive = false, tty = false;
  struct rt_stdio io = RT_STDIO_INIT;
  struct rt_signals sg = { .fd = -1 };
  struct rt_container proc;
  int c, status = -1;

  while ((c = cmd_getopt (argc, argv, &cmd_exec_spec)) != -1)
    switch (c)
      {
      case 'i':
        interactive = cmd_optbool;
        break;
      case 't':
        tty = cmd_optbool;
        break;
      case 'e':
        if (rt_env_arg (optarg, &env, err) < 0)
          return -1;
        break;
      case OPT_ENV_FILE:
        if (rt_env_file_read (optarg, &env, err) < 0)
          return -1;
        break;
      case 'w':
        workdir = optarg;
        break;
      case 'u':
        user = optarg;
        break;
      case CMD_OPT_HELP_ID:
        return 0;
      default:
        /* docker: 125 for exec's own errors, bad options included */
        command_bad_option (err);
        return err_exit (err, 125);
      }
  if (argc - optind < 2)
    {
      err_set (err, 0, "usage: %s", usage_text);
      return err_exit (err, 125);
    }
  if (workdir && *workdir != '/')
    {
      err_set (err, 0,
               "the working directory '%s' is invalid, it needs to "
               "be an absolute path",
               workdir);
      return err_exit (err, 125);
    }
  if (tty && interactive && !isatty (0))
    {
      err_set (err, 0, "the input device is not a TTY");
      return -1;
    }
  if (containers_load (&svc, g->root, g->config_path, argv[optind], &ctr, err)
      < 0)
    goto out;
  {
    int fd = rt_record_pidfd (&ctr.rec);
    if (fd < 0)
      {
        err_set (err, 0, "container '%s' is not running", argv[optind]);
        goto out;
      }
    close (fd);
  }

  /* The container's process settings, with the exec's overrides. */
  strv_free (ctr.rec.plan.argv);
  ctr.rec.plan.argv = strv_dup (argv + optind + 1);
  for (size_t i = 0; env && env[i]; i++)
    rt_env_set (&ctr.rec.plan.env, env[i]);
  if (workdir)
    {
      free (ctr.rec.plan.cwd);
      ctr.rec.plan.cwd = rt_path_clean (workdir);
    }
  if (user)
    {
      /* The running container's own files, through its root. */
      _cleanup_free_ char *root
          = xasprintf ("/proc/%d/root", (int)ctr.rec.state.pid);
      char *dirs[] = { root, NULL };
      struct rt_user_info ui;
      if (rt_user_resolve (dirs, user, &ui, err) < 0)
        goto out;
      free (ctr.rec.plan.user.groups);
      ctr.rec.plan.user = ui.user;
      ui.user.groups = NULL;
      rt_user_info_release (&ui);
    }
  ctr.rec.plan.tty = tty;
  ctr.rec.plan.stdin_open = interactive;
  /* as run: the compiled seccomp program from the cache (~20 ms less) */
  free (ctr.rec.plan.seccomp_cache_dir);
  ctr.rec.plan.seccomp_cache_dir = xasprintf ("%s/tmp/seccomp", g->root);
  if (!interactive)
    io.in = -1;
  io.winsize_from = rt_user_terminal ();
  fflush (stdout);
  /* as run: signals blocked before the start, forwarded until it exits */
  if (rt_signals_block (&sg, err) < 0
      || rt_exec_start (ctr.rec.state.pid, &ctr.rec.plan, &io, &proc, err) < 0)
    goto out;
  rt_console_attach (&proc, &sg, interactive, err);
  if (rt_wait (&proc, &status, err) < 0 || *err)
    status = -1;
out:
  rt_signals_restore (&sg);
  svc_container_release (&ctr);
  svc_close (&svc);
  return status;
}
