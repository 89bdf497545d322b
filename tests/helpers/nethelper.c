/* Drives network/net.h from tests/integration/40-network.sh until `run` is
 * wired: the "containers" are processes the script put in their own netns.
 *
 *   nethelper setup ROOT ID PID [--name N] [--config F] [--etc DIR] [-p
 * SPEC]...
 *       (--etc DIR: DIR/resolv.conf; hosts is the network's shared file)
 *       prints "ip=A.B.C.D veth=NAME" and one "port=PROTO:HOST:CONTAINER"
 *       line per published port
 *   nethelper teardown ROOT ID
 *   nethelper gc ROOT
 *   nethelper bench ROOT N       N x (new netns, setup, exit, teardown),
 *                                prints the median and minimum ms
 *   nethelper run ROOT LOWER ID NAME [-p SPEC]... -- CMD [ARG...]
 *       runs CMD through the real runtime (rt_run) with --network bridge:
 *       a net_bridge as the plan's network, <ROOT>/containers/ID as state
 *       dir; tears the network down after; exits with CMD's status
 *   nethelper inspect ROOT       one line per lease: IP ID NAME alive|dead
 * Errors print "nethelper: MESSAGE" and exit 1. */
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/xalloc.h"
#include "network/net.h"
#include "runtime/container.h"
#include "runtime/plan.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int
fail (struct err *e)
{
  fprintf (stderr, "nethelper: %s\n", e ? e->msg : "failed");
  err_free (e);
  return 1;
}

static int
do_setup (int argc, char **argv)
{
  struct net_request req = { .root = argv[2], .container_id = argv[3] };
  struct port_map *ports = xcalloc ((size_t)argc, sizeof *ports);
  struct net_attachment a;
  struct err *e = NULL;
  const char *etc = NULL;
  pid_t pid = (pid_t)atoi (argv[4]);
  char ip[INET_ADDRSTRLEN];
  for (int i = 5; i < argc; i++)
    {
      if (!strcmp (argv[i], "--name") && i + 1 < argc)
        req.name = argv[++i];
      else if (!strcmp (argv[i], "--config") && i + 1 < argc)
        req.config_path = argv[++i];
      else if (!strcmp (argv[i], "--etc") && i + 1 < argc)
        etc = argv[++i];
      else if (!strcmp (argv[i], "-p") && i + 1 < argc)
        {
          if (net_parse_publish (argv[++i], &ports[req.n_ports], &e) < 0)
            return fail (e);
          req.n_ports++;
        }
      else
        {
          fprintf (stderr, "nethelper: bad argument '%s'\n", argv[i]);
          return 2;
        }
    }
  req.ports = ports;
  if (net_setup (&req, pid, &a, &e) < 0)
    {
      free (ports);
      return fail (e);
    }
  if (etc && net_write_resolv (etc, NULL, &e) < 0)
    return fail (e);
  printf ("ip=%s veth=%s\n", inet_ntop (AF_INET, &a.ip, ip, sizeof ip),
          a.host_veth);
  for (size_t i = 0; i < a.n_ports; i++)
    printf ("port=%s:%u:%u\n", a.ports[i].proto == NET_UDP ? "udp" : "tcp",
            a.ports[i].host_port, a.ports[i].container_port);
  net_attachment_release (&a);
  free (ports);
  return 0;
}

static double
now_ms (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* A "container": a child in a new netns that waits to be killed. */
static pid_t
spawn_netns_child (void)
{
  int p[2];
  char c;
  pid_t pid;
  if (pipe2 (p, O_CLOEXEC) < 0)
    return -1;
  pid = fork ();
  if (pid == 0)
    {
      if (unshare (CLONE_NEWNET) < 0)
        _exit (1);
      if (write (p[1], "x", 1) != 1)
        _exit (1);
      for (;;)
        pause ();
    }
  close (p[1]);
  if (pid < 0 || read (p[0], &c, 1) != 1)
    pid = -1;
  close (p[0]);
  return pid;
}

static int
cmp_double (const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* Start-to-exit as the runtime will do it: a new netns, net_setup, the
 * container exits, net_teardown. Prints the median and the minimum. */
static int
do_bench (char **argv)
{
  int n = atoi (argv[3]);
  double *setup = xcalloc ((size_t)n, sizeof *setup);
  double *teardown = xcalloc ((size_t)n, sizeof *teardown);
  struct err *e = NULL;
  /* NETHELPER_BENCH_NONE=1: the same loop without networking (the
   * --network none baseline for the wall time per start+exit). */
  bool none = getenv ("NETHELPER_BENCH_NONE") != NULL;
  double start;
  if (n < 1)
    return 2;
  start = now_ms ();
  for (int i = 0; i < n; i++)
    {
      char id[65];
      struct net_request req = { .root = argv[2], .container_id = id };
      struct net_attachment a;
      _cleanup_free_ char *cdir = NULL;
      double t0, t1, t2;
      pid_t pid = spawn_netns_child ();
      if (pid < 0)
        {
          perror ("nethelper: spawn");
          return 1;
        }
      /* Ids like the runtime's (random): distinct first digits, so each
       * container gets its own veth name. */
      {
        uint64_t h = 1469598103934665603ull ^ (uint64_t)(i + 1);
        for (int k = 0; k < 8; k++)
          {
            h = (h ^ (uint64_t)getpid ()) * 1099511628211ull;
            snprintf (id + 16 * (k / 2) + 8 * (k % 2), 9, "%08x",
                      (unsigned)(h >> 24));
          }
      }
      cdir = xasprintf ("%s/containers/%s", argv[2], id);
      mkdir (cdir, 0700);
      memset (&a, 0, sizeof a);
      t0 = now_ms ();
      if (!none && net_setup (&req, pid, &a, &e) < 0)
        return fail (e);
      t1 = now_ms ();
      kill (pid, SIGKILL);
      waitpid (pid, NULL, 0);
      t2 = now_ms ();
      if (!none && net_teardown (argv[2], id, &e) < 0)
        return fail (e);
      teardown[i] = now_ms () - t2;
      setup[i] = t1 - t0;
      rmdir (cdir);
      if (getenv ("NETHELPER_PAUSE_MS"))
        usleep ((useconds_t)atoi (getenv ("NETHELPER_PAUSE_MS")) * 1000);
      net_attachment_release (&a);
    }
  start = (now_ms () - start) / n;
  qsort (setup, (size_t)n, sizeof *setup, cmp_double);
  qsort (teardown, (size_t)n, sizeof *teardown, cmp_double);
  printf ("setup_ms median=%.2f min=%.2f teardown_ms median=%.2f min=%.2f "
          "loop_ms mean=%.2f (n=%d)\n",
          setup[n / 2], setup[0], teardown[n / 2], teardown[0], start, n);
  free (setup);
  free (teardown);
  return 0;
}

static int
do_inspect (char **argv)
{
  struct net_info info;
  struct err *e = NULL;
  char ip[INET_ADDRSTRLEN];
  if (net_inspect (argv[2], NULL, NULL, &info, &e) < 0)
    return fail (e);
  for (size_t i = 0; i < info.n_leases; i++)
    printf ("%s %s %s %s\n",
            inet_ntop (AF_INET, &info.leases[i].ip, ip, sizeof ip),
            info.leases[i].container_id,
            info.leases[i].name ? info.leases[i].name : "-",
            info.leases[i].alive ? "alive" : "dead");
  net_info_release (&info);
  return 0;
}

static int
do_run (int argc, char **argv)
{
  struct rt_plan p;
  struct net_bridge h;
  struct net_request req = { 0 };
  struct err *e = NULL;
  struct port_map *ports = xcalloc ((size_t)argc, sizeof *ports);
  int status = 0, i = 6;
  rt_plan_init (&p);
  req.root = argv[2];
  for (; i < argc && strcmp (argv[i], "--"); i++)
    if (!strcmp (argv[i], "-p") && i + 1 < argc)
      {
        if (net_parse_publish (argv[++i], &ports[req.n_ports], &e) < 0)
          return fail (e);
        req.n_ports++;
      }
  if (i + 1 >= argc)
    return 2;
  req.ports = ports;
  if (net_bridge_init (&h, &req, &e) < 0)
    return fail (e);
  p.lower_dirs = strv_dup ((char *[]){ argv[3], NULL });
  p.id = xstrdup (argv[4]);
  p.name = xstrdup (argv[5]);
  p.hostname = xstrdup (argv[5]);
  p.state_dir = xasprintf ("%s/containers/%s", argv[2], p.id);
  p.upper_dir = xasprintf ("%s/upper", p.state_dir);
  p.work_dir = xasprintf ("%s/work", p.state_dir);
  p.argv = strv_dup (argv + i + 1);
  p.env = strv_dup ((char *[]){ "PATH=/bin", NULL });
  p.network = RT_NET_BRIDGE;
  p.net = &h.base;
  if (fs_mkdir_p (AT_FDCWD, p.upper_dir, 0755, &e) < 0
      || fs_mkdir_p (AT_FDCWD, p.work_dir, 0755, &e) < 0)
    return fail (e);
  if (rt_run (&p, NULL, &status, &e) < 0 && !e)
    status = 125;
  if (net_teardown (argv[2], argv[4], e ? NULL : &e) < 0 && !e)
    status = 125;
  net_bridge_release (&h);
  rt_plan_release (&p);
  free (ports);
  if (e)
    return fail (e);
  return status;
}

int
main (int argc, char **argv)
{
  struct err *e = NULL;
  if (argc >= 5 && !strcmp (argv[1], "setup"))
    return do_setup (argc, argv);
  if (argc == 4 && !strcmp (argv[1], "teardown"))
    return net_teardown (argv[2], argv[3], &e) < 0 ? fail (e) : 0;
  if (argc == 3 && !strcmp (argv[1], "gc"))
    return net_gc (argv[2], &e) < 0 ? fail (e) : 0;
  if (argc == 4 && !strcmp (argv[1], "bench"))
    return do_bench (argv);
  if (argc >= 8 && !strcmp (argv[1], "run"))
    return do_run (argc, argv);
  if (argc == 3 && !strcmp (argv[1], "inspect"))
    return do_inspect (argv);
  fprintf (stderr, "usage: nethelper setup|teardown|gc|bench|inspect ...\n");
  return 2;
}
