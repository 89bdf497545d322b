/* imgtool attach [--no-stdin] [--sig-proxy[=BOOL]] [--detach-keys KEYS]
 * CONTAINER: docker attach, the user's stdio to a detached container's
 * (service/attach.c). Exits with the container's status, or 0 when the
 * detach keys (default ctrl-p,ctrl-q, with a pty) leave it running. */
#include "cmd/command.h"
#include "cmd/containers.h"
#include "lib/err.h"

#include <getopt.h>
#include <stdio.h>

static const char usage_text[]
    = "imgtool attach [--no-stdin] [--sig-proxy[=BOOL]] [--detach-keys KEYS] "
      "CONTAINER";

COMMAND (attach)
{
  static const struct option opts[] = {
    { "no-stdin", optional_argument, NULL, 'n' },
    { "sig-proxy", optional_argument, NULL, 's' },
    { "detach-keys", required_argument, NULL, 'k' },
    { "help", no_argument, NULL, 'H' },
    { 0 },
  };
  struct svc_attach_opts o = { .sig_proxy = true };
  struct svc s = { .cs = { .fd = -1 } };
  struct svc_container c = { 0 };
  int opt, r;

  while ((opt = command_getopt (argc, argv, "", opts)) != -1)
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
      case 'H':
        printf ("usage: %s\n", usage_text);
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
