/* imgtool rm [-f] CONTAINER...: remove containers (-f kills a running one
 * first); their cgroups and directories go with them. */
#include "cmd/command.h"
#include "cmd/containers.h"
#include "lib/err.h"
#include "runtime/container.h"
#include "runtime/lifecycle.h"

#include <getopt.h>
#include <signal.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

static const char usage_text[] = "imgtool rm [-f] CONTAINER...";

struct rm_opts
{
  bool force;
  const char *root;
};

static int
remove_one (struct rt_containers *cs, struct rt_record *rec, void *data,
            struct err **err)
{
  const struct rm_opts *o = data;
  if (rec->state.status == RT_RUNNING)
    {
      if (!o->force)
        return err_set (err, 0, "container is running: stop the container "
                        "before removing or force remove");
      if (rt_record_stop (cs, rec, SIGKILL, 0, err) < 0)
        return -1;
    }
  else
    {
      /* A foreground run may still be writing the exit: wait for it. */
      rt_record_wait_monitor (cs, rec->id);
      /* and a --rm one removes itself meanwhile (docker: no such one) */
      if (rec->auto_remove
          && faccessat (cs->fd, rec->id, F_OK, AT_SYMLINK_NOFOLLOW) < 0)
        return err_set (err, 0, "no such container");
    }
  /* the monitor that would have released them may have been killed */
  containers_net_release (o->root, rec);
  if (rt_cleanup (rec->id, rec->plan.cgroup_parent, err) < 0)
    return -1;
  return rt_record_remove (cs, rec, false, err);
}

COMMAND (rm)
{
  static const struct option opts[] = {
    { "force", no_argument, NULL, 'f' },
    { "help", no_argument, NULL, 'H' },
    { 0 },
  };
  struct rm_opts o = { .root = g->root };
  int c;

  while ((c = command_getopt (argc, argv, "f", opts)) != -1)
    switch (c)
      {
      case 'f':
        o.force = true;
        break;
      case 'H':
        printf ("usage: %s\n", usage_text);
        return 0;
      default:
        return command_bad_option (err);
      }
  if (optind >= argc)
    return command_usage_error (usage_text, err);
  return containers_each (g->root, "rm", argv + optind, remove_one, &o);
}
