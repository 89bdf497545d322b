/* imgtool network connect [--alias A] [--ip IP] NETWORK CONTAINER and
 * network disconnect [-f] NETWORK CONTAINER: a running container on one
 * more user-defined network, or off one (service/netconn.c). */
#include "cmd/network_connect.h"
#include "cmd/command.h"
#include "cmd/containers.h"
#include "cmd/opttable.h"
#include "lib/err.h"
#include "lib/json.h"
#include "lib/xalloc.h"
#include "network/net.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

static const char connect_usage[]
    = "imgtool network connect [--alias A] [--ip IP] NETWORK CONTAINER";
static const char disconnect_usage[]
    = "imgtool network disconnect [-f] NETWORK CONTAINER";

enum
{
  OPT_ALIAS = 256,
  OPT_IP,
};

static const struct cmd_opt connect_opts[] = {
  CMD_OPT ("alias", 0, "ALIAS", OPT_ALIAS,
           "Add a network-scoped alias for the container", "--alias"),
  CMD_OPT ("ip", 0, "IP", OPT_IP, "IPv4 address (e.g., \"172.30.100.104\")",
           "--ip"),
  CMD_OPT_HELP,
  CMD_OPT_END,
};

const struct cmd_spec cmd_network_connect_spec = {
  .name = "network connect",
  .summary = "Connect a container to a network",
  .usage = connect_usage,
  .opts = connect_opts,
};

static const struct cmd_opt disconnect_opts[] = {
  CMD_OPT ("force", 'f', NULL, 0,
           "Force the container to disconnect from a network", "--force"),
  CMD_OPT_HELP,
  CMD_OPT_END,
};

const struct cmd_spec cmd_network_disconnect_spec = {
  .name = "network disconnect",
  .summary = "Disconnect a container from a network",
  .usage = disconnect_usage,
  .opts = disconnect_opts,
};

/* --ip: a dotted IPv4 address */
static int
parse_ip (const char *s, struct in_addr *out, struct err **err)
{
  if (inet_pton (AF_INET, s, out) != 1 || !out->s_addr)
    return err_set (err, 0, "invalid IPv4 address '%s'", s);
  return 0;
}

/* Load CONTAINER and run fn's part: connect (aliases, ip) or disconnect
 * (force). */
static int
on_container (struct global *g, const char *net, const char *key,
              char **aliases, struct in_addr ip, int force, struct err **err)
{
  struct svc s = { .cs = { .fd = -1 } };
  struct svc_container c = { 0 };
  int r = containers_load (&s, g->root, g->config_path, key, &c, err);
  if (r == 0)
    r = force < 0 ? svc_network_connect (&s, &c, net, aliases, ip, err)
                  : svc_network_disconnect (&s, &c, net, force, err);
  svc_container_release (&c);
  svc_close (&s);
  return r;
}

int
network_connect (struct global *g, int argc, char **argv, struct err **err)
{
  _cleanup_strv_ char **aliases = xcalloc (1, sizeof *aliases);
  struct in_addr ip = { 0 };
  int c;
  while ((c = cmd_getopt (argc, argv, &cmd_network_connect_spec)) != -1)
    switch (c)
      {
      case OPT_ALIAS:
        strv_push (&aliases, xstrdup (optarg));
        break;
      case OPT_IP:
        if (parse_ip (optarg, &ip, err) < 0)
          return -1;
        break;
      default:
        return cmd_other_option (c, err);
      }
  if (optind + 2 != argc)
    return command_usage_error (connect_usage, err);
  return on_container (g, argv[optind], argv[optind + 1], aliases, ip, -1, err);
}

int
network_disconnect (struct global *g, int argc, char **argv, struct err **err)
{
  struct in_addr none = { 0 };
  bool force = false;
  int c;
  while ((c = cmd_getopt (argc, argv, &cmd_network_disconnect_spec)) != -1)
    switch (c)
      {
      case 'f':
        force = cmd_optbool;
        break;
      default:
        return cmd_other_option (c, err);
      }
  if (optind + 2 != argc)
    return command_usage_error (disconnect_usage, err);
  return on_container (g, argv[optind], argv[optind + 1], NULL, none, force,
                       err);
}

void
containers_connected_json (const struct rt_record *rec, json_t *networks)
{
  const char *first
      = rec->plan.net_name ? rec->plan.net_name : NET_DEFAULT_NETWORK;
  const char *sd = rec->plan.state_dir;
  _cleanup_free_ char *tail = xasprintf ("/containers/%s", rec->id);
  _cleanup_free_ char *root = NULL;
  struct net_endpoint *v = NULL;
  size_t n, len = sd ? strlen (sd) : 0;
  if (rec->plan.network != RT_NET_BRIDGE
      || (rec->state.status != RT_RUNNING && rec->state.status != RT_PAUSED)
      || len <= strlen (tail) || strcmp (sd + len - strlen (tail), tail))
    return;
  /* the store root, whose networks/ holds the leases */
  root = xstrndup (sd, len - strlen (tail));
  n = net_endpoints (root, rec->id, &v);
  for (size_t i = 0; i < n; i++)
    {
      char ip[INET_ADDRSTRLEN];
      if (!strcmp (v[i].network, first))
        continue;
      inet_ntop (AF_INET, &v[i].ip, ip, sizeof ip);
      json_object_set_new (networks, v[i].network,
                           json_pack ("{s:s, s:o}", "IPAddress", ip, "Aliases",
                                      strv_to_json (v[i].aliases)));
    }
  net_endpoints_free (v, n);
}
