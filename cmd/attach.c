/* imgtool attach [--no-stdin] [--sig-proxy[=BOOL]] [--detach-keys KEYS]
 * CONTAINER: docker attach, the user's stdio to a detached container's
 * (service/attach.c). Exits with the container's status, or 0 when the
 * detach keys (default ctrl-p,ctrl-q, with a pty) leave it running. */
#include "cmd/command.h"
#include "cmd/containers.h"
#include "cmd/opttable.h"
#include "lib/err.h"

#include <getopt.h>
#include <stdio.h>

static const char usage_text[]
    = "imgtool attach [--no-stdin] [--sig-proxy[=BOOL]] [--detach-keys KEYS] "
      "CONTAINER";

static const struct cmd_opt attach_opts[] = {
  CMD_OPT ("no-stdin", 0, NULL, 'n', "Do not attach STDIN", "--no-stdin"),
  CMD_OPT ("sig-proxy", 0, NULL, 's',
           "Proxy all received signals to the process (true)", "--sig-proxy"),
  CMD_OPT ("detach-keys", 0, "KEYS", 'k',
           "Override the key sequence for detaching a container",
           "--detach-keys"),
  CMD_OPT_HELP,
  CMD_OPT_END,
};

const struct cmd_spec cmd_attach_spec = {
  .name = "attach",
  .usage = usage_text,
  .opts = attach_opts,
};

COMMAND (attach)
{
  struct svc_attach_opts o = { .sig_proxy = true };
  struct svc s = { .cs = { .fd = -1 } };
  struct svc_container c = { 0 };
  int opt, r;

  while ((opt = cmd_getopt (argc, argv, &cmd_attach_spec)) != -1)
    switch (opt)
      {
      case 'n':
      case 's':
        if (command_parse_bool (optarg, opt == 'n' ? &o.no_stdin : &o.sig_proxy)
            < 0)
          {
            err_set (err, 0, "invalid boolean '%s'", optarg);
            return err_exit (err, 2);
          }
        break;
      case 'k':
        o.detach_keys = optarg;
        break;
      case CMD_OPT_HELP_ID:
        return 0;
      default:
        return command_bad_option (err);
      }
  if (argc - optind != 1)
    return command_usage_error (usage_text, err);
  r = containers_load (&s, g->root, g->config_path, argv[optind], &c, err);
  if (r == 0)
    r = svc_attach (&s, &c, &o, err);
  svc_container_release (&c);
  svc_close (&s);
  return r;
}
