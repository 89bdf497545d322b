/* imgtool restart [-t SECONDS] CONTAINER...: docker restart, stop (the
 * stop signal, SIGKILL after -t seconds) then start, one container
 * after the other (cmd/containers.h says why). */
#include "cmd/command.h"
#include "cmd/containers.h"
#include "lib/err.h"
#include "runtime/runopts.h"

#include <getopt.h>
#include <stdio.h>

static const char usage_text[] = "imgtool restart [-t SECONDS] CONTAINER...";

static int
restart_one (struct svc *s, struct svc_container *c, void *data,
             struct err **err)
{
  return svc_restart (s, c, (int)*(const int64_t *)data, err);
}

COMMAND (restart)
{
  static const struct option opts[] = {
    { "time", required_argument, NULL, 't' },
    { "timeout", required_argument, NULL, 't' },
    { "help", no_argument, NULL, 'H' },
    { 0 },
  };
  int64_t t = -1;
  int c;

  while ((c = command_getopt (argc, argv, "t:", opts)) != -1)
    switch (c)
      {
      case 't':
        if (rt_parse_int (optarg, "-t", &t, err) < 0)
          return err_exit (err, 1);
        break;
      case 'H':
        printf ("usage: %s\n", usage_text);
        return 0;
      default:
        return command_bad_option (err);
      }
  if (optind >= argc)
    return command_usage_error (usage_text, err);
  if (command_needs_root ("restart", 1, err) < 0)
    return -1;
  return containers_each_serial (g, "restart", argv + optind, restart_one, &t);
}
