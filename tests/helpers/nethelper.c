/* Drives runtime/net.h from tests/integration/40-network.sh until `run` is
 * wired: the "containers" are processes the script put in their own netns.
 *
 *   nethelper setup ROOT ID PID [--name N] [--config F] [--etc DIR] [-p SPEC]...
 *       prints "ip=A.B.C.D veth=NAME" and one "port=PROTO:HOST:CONTAINER"
 *       line per published port
 *   nethelper teardown ROOT ID
 *   nethelper gc ROOT
 *   nethelper bench ROOT PID N   N x (setup + teardown), prints the mean ms
 *   nethelper inspect ROOT       one line per lease: IP ID NAME alive|dead
 * Errors print "nethelper: MESSAGE" and exit 1. */
#include "runtime/net.h"
#include "lib/err.h"
#include "lib/xalloc.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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
  struct port_map *ports = xcalloc ((size_t) argc, sizeof *ports);
  struct net_attachment a;
  struct err *e = NULL;
  const char *etc = NULL;
  pid_t pid = (pid_t) atoi (argv[4]);
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
  if (etc
      && net_write_etc (req.root, &a, req.container_id, req.name, etc, &e)
             < 0)
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
  return (double) ts.tv_sec * 1e3 + (double) ts.tv_nsec / 1e6;
}

static int
do_bench (char **argv)
{
  int n = atoi (argv[4]);
  pid_t pid = (pid_t) atoi (argv[3]);
  double setup = 0, teardown = 0;
  struct err *e = NULL;
  for (int i = 0; i < n; i++)
    {
      char id[65];
      struct net_request req = { .root = argv[2], .container_id = id };
      struct net_attachment a;
      double t0, t1, t2;
      snprintf (id, sizeof id, "%064x", 0xbe00 + i);
      t0 = now_ms ();
      if (net_setup (&req, pid, &a, &e) < 0)
        return fail (e);
      t1 = now_ms ();
      if (net_teardown (argv[2], id, &e) < 0)
        return fail (e);
      t2 = now_ms ();
      net_attachment_release (&a);
      setup += t1 - t0;
      teardown += t2 - t1;
    }
  printf ("setup_ms=%.2f teardown_ms=%.2f\n", setup / n, teardown / n);
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
  if (argc == 5 && !strcmp (argv[1], "bench"))
    return do_bench (argv);
  if (argc == 3 && !strcmp (argv[1], "inspect"))
    return do_inspect (argv);
  fprintf (stderr, "usage: nethelper setup|teardown|gc|bench|inspect ...\n");
  return 2;
}
