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

COMMAND (stop)
{
  static const struct option opts[] = {
    { "time", required_argument, NULL, 't' },
    { "timeout", required_argument, NULL, 't' },
    { "help", no_argument, NULL, 'H' },
    { 0 },
  };
  struct rt_containers cs = { .fd = -1 };
  int64_t t = -1;
  int c, status = 0;

  while ((c = command_getopt (argc, argv, "t:", opts)) != -1)
    switch (c)
      {
      case 't':
        if (rt_parse_int (optarg, "-t", &t, err) < 0)
          return -1;
        break;
      case 'H':
        printf ("usage: %s\n", usage_text);
        return 0;
      default:
        return command_bad_option (err);
      }
  if (optind >= argc)
    return command_usage_error (usage_text, err);
  for (int i = optind; i < argc; i++)
    {
      struct rt_record rec;
      struct err *e = NULL;
      int sig = SIGTERM;
      int timeout;
      if (containers_load (&cs, g->root, argv[i], &rec, &e) == 0)
        {
          if (rec.plan.stop_signal
              && rt_signal_parse (rec.plan.stop_signal, &sig, &e) < 0)
            sig = SIGTERM, err_clear (&e);
          timeout = t >= 0 ? (int) t
                    : rec.stop_timeout >= 0 ? rec.stop_timeout : 10;
          if (rt_record_stop (&cs, &rec, sig, timeout, &e) == 0)
            printf ("%s\n", argv[i]);
        }
      rt_record_release (&rec);
      if (e)
        {
          /* One line per failed container; the rest go on (docker). */
          fflush (stdout);
          fprintf (stderr, "imgtool: stop '%s': %s\n", argv[i], e->msg);
          err_free (e);
          status = 1;
        }
    }
  rt_containers_release (&cs);
  return status;
}
