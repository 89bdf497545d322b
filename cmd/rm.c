/* imgtool rm [-f] CONTAINER...: remove containers (-f kills a running one
 * first); their cgroups and directories go with them. */
#include "cmd/command.h"
#include "cmd/containers.h"
#include "lib/err.h"
#include "runtime/container.h"
#include "runtime/lifecycle.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>

static const char usage_text[] = "imgtool rm [-f] CONTAINER...";

static int
remove_one (struct rt_containers *cs, struct rt_record *rec, const char *key,
            bool force, struct err **err)
{
  if (rec->state.status == RT_RUNNING)
    {
      if (!force)
        return err_set (err, 0, "cannot remove container \"%s\": container "
                        "is running: stop the container before removing or "
                        "force remove", key);
      if (rt_record_stop (cs, rec, SIGKILL, 0, err) < 0)
        return -1;
    }
  else
    /* A foreground run may still be writing the exit: wait for it. */
    rt_record_wait_monitor (cs, rec->id);
  if (rt_cleanup (rec->id, rec->plan.cgroup_parent, err) < 0)
    return -1;
  return rt_record_remove (cs, rec, err);
}

COMMAND (rm)
{
  static const struct option opts[] = {
    { "force", no_argument, NULL, 'f' },
    { "help", no_argument, NULL, 'H' },
    { 0 },
  };
  struct rt_containers cs = { .fd = -1 };
  bool force = false;
  int c, status = 0;

  while ((c = command_getopt (argc, argv, "f", opts)) != -1)
    switch (c)
      {
      case 'f':
        force = true;
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
          && remove_one (&cs, &rec, argv[i], force, &e) == 0)
        printf ("%s\n", argv[i]);
      rt_record_release (&rec);
      if (e)
        {
          fflush (stdout);
          fprintf (stderr, "imgtool: rm: %s\n", e->msg);
          err_free (e);
          status = 1;
        }
    }
  rt_containers_release (&cs);
  return status;
}
