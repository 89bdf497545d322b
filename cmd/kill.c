/* imgtool kill [-s SIGNAL] CONTAINER...: send a signal (default KILL). */
#include "cmd/command.h"
#include "cmd/containers.h"
#include "lib/err.h"
#include "runtime/lifecycle.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>

static const char usage_text[] = "imgtool kill [-s SIGNAL] CONTAINER...";

COMMAND (kill)
{
  static const struct option opts[] = {
    { "signal", required_argument, NULL, 's' },
    { "help", no_argument, NULL, 'H' },
    { 0 },
  };
  struct rt_containers cs = { .fd = -1 };
  int c, sig = SIGKILL, status = 0;

  while ((c = command_getopt (argc, argv, "s:", opts)) != -1)
    switch (c)
      {
      case 's':
        if (rt_signal_parse (optarg, &sig, err) < 0)
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
  for (int i = optind; i < argc; i++)
    {
      struct rt_record rec;
      struct err *e = NULL;
      if (containers_load (&cs, g->root, argv[i], &rec, &e) == 0
          && rt_record_signal (&rec, sig, &e) == 0)
        printf ("%s\n", argv[i]);
      rt_record_release (&rec);
      if (e)
        {
          fflush (stdout);
          fprintf (stderr, "imgtool: kill '%s': %s\n", argv[i], e->msg);
          err_free (e);
          status = 1;
        }
    }
  rt_containers_release (&cs);
  return status;
}
