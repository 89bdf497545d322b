/* imgtool stop [-t SECONDS] CONTAINER...: the stop signal (the image's
 * StopSignal, else SIGTERM), then SIGKILL after -t seconds (default 10). */
#include "cmd/command.h"
#include "cmd/containers.h"
#include "lib/err.h"
#include "runtime/lifecycle.h"
#include "runtime/runopts.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>

static const char usage_text[] = "imgtool stop [-t SECONDS] CONTAINER...";

struct stop_opts
{
  int64_t t;
  const char *root;
};

static int
stop_one (struct rt_containers *cs, struct rt_record *rec, void *data,
          struct err **err)
{
  const struct stop_opts *o = data;
  int sig = SIGTERM;
  struct err *e = NULL;
  if (rec->plan.stop_signal
      && rt_signal_parse (rec->plan.stop_signal, &sig, &e) < 0)
    sig = SIGTERM, err_free (e);
  if (rt_record_stop (cs, rec, sig,
                      o->t >= 0                 ? (int) o->t
                      : rec->stop_timeout >= 0 ? rec->stop_timeout
                                               : 10,
                      err)
      < 0)
    return -1;
  /* its monitor released the network, unless it was killed */
  containers_net_release (o->root, rec);
  return 0;
}

COMMAND (stop)
{
  static const struct option opts[] = {
    { "time", required_argument, NULL, 't' },
    { "timeout", required_argument, NULL, 't' },
    { "help", no_argument, NULL, 'H' },
    { 0 },
  };
  struct stop_opts o = { .t = -1, .root = g->root };
  int c;

  while ((c = command_getopt (argc, argv, "t:", opts)) != -1)
    switch (c)
      {
      case 't':
        if (rt_parse_int (optarg, "-t", &o.t, err) < 0)
          return err_exit (err, 1); /* 125 is for run/exec (as kill) */
        break;
      case 'H':
        printf ("usage: %s\n", usage_text);
        return 0;
      default:
        return command_bad_option (err);
      }
  if (optind >= argc)
    return command_usage_error (usage_text, err);
  return containers_each (g->root, "stop", argv + optind, stop_one, &o);
}
