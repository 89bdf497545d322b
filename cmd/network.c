/* imgtool network ls [-q] | inspect [NAME...]: the networks imgtool knows
 * (today the default one), their subnets and leases. */
#include "cmd/command.h"
#include "lib/err.h"
#include "lib/xalloc.h"
#include "network/net.h"

#include <arpa/inet.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

static const char usage_text[]
    = "imgtool network ls [-q] | imgtool network inspect [NAME...]";

static const char *
ip_s (struct in_addr a, char buf[INET_ADDRSTRLEN])
{
  return inet_ntop (AF_INET, &a, buf, INET_ADDRSTRLEN);
}

static int
network_ls (struct global *g, int argc, char **argv, struct err **err)
{
  static const struct option opts[] = {
    { "quiet", no_argument, NULL, 'q' },
    { "help", no_argument, NULL, 'H' },
    { 0 },
  };
  struct net_info *nets = NULL;
  size_t n = 0;
  bool quiet = false;
  int c;
  while ((c = command_getopt (argc, argv, "q", opts)) != -1)
    switch (c)
      {
      case 'q':
        quiet = true;
        break;
      case 'H':
        printf ("usage: %s\n", usage_text);
        return 0;
      default:
        return command_bad_option (err);
      }
  if (optind != argc)
    return command_usage_error (usage_text, err);
  if (net_list (g->root, g->config_path, &nets, &n, err) < 0)
    return -1;
  if (!quiet)
    printf ("%-12s %-8s %-18s %-15s %-10s %s\n", "NAME", "DRIVER", "SUBNET",
            "GATEWAY", "BRIDGE", "CONTAINERS");
  for (size_t i = 0; i < n; i++)
    {
      char sub[INET_ADDRSTRLEN], gw[INET_ADDRSTRLEN], cidr[32];
      size_t alive = 0;
      if (quiet)
        {
          printf ("%s\n", nets[i].net.name);
          continue;
        }
      for (size_t k = 0; k < nets[i].n_leases; k++)
        alive += nets[i].leases[k].alive;
      snprintf (cidr, sizeof cidr, "%s/%u", ip_s (nets[i].net.subnet, sub),
                nets[i].net.prefix);
      printf ("%-12s %-8s %-18s %-15s %-10s %zu\n", nets[i].net.name, "bridge",
              cidr, ip_s (nets[i].net.gateway, gw), nets[i].net.bridge, alive);
    }
  for (size_t i = 0; i < n; i++)
    net_info_release (&nets[i]);
  free (nets);
  return 0;
}

/* docker network inspect's shape, with imgtool's own lease fields. */
static json_t *
info_json (const struct net_info *info)
{
  char a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN];
  json_t *ctrs = json_object ();
  _cleanup_free_ char *cidr
      = xasprintf ("%s/%u", ip_s (info->net.subnet, a), info->net.prefix);
  for (size_t i = 0; i < info->n_leases; i++)
    {
      const struct net_lease_info *l = &info->leases[i];
      json_t *ports = json_array ();
      _cleanup_free_ char *addr
          = xasprintf ("%s/%u", ip_s (l->ip, a), info->net.prefix);
      for (size_t k = 0; k < l->n_ports; k++)
        {
          char *p
              = xasprintf ("%s:%u->%u/%s", ip_s (l->ports[k].host_ip, b),
                           l->ports[k].host_port, l->ports[k].container_port,
                           l->ports[k].proto == NET_UDP ? "udp" : "tcp");
          json_array_append_new (ports, json_string (p));
          free (p);
        }
      json_object_set_new (ctrs, l->container_id,
                           json_pack ("{s:s, s:s, s:s?, s:i, s:b, s:o}", "Name",
                                      l->name ? l->name : "", "IPv4Address",
                                      addr, "HostVeth", l->host_veth, "Pid",
                                      (int)l->pid, "Running", l->alive, "Ports",
                                      ports));
    }
  return json_pack ("{s:s, s:s, s:s, s:b, s:{s:[{s:s, s:s}]}, s:o}", "Name",
                    info->net.name, "Driver", "bridge", "Bridge",
                    info->net.bridge, "BridgeExists", info->bridge_exists,
                    "IPAM", "Config", "Subnet", cidr, "Gateway",
                    ip_s (info->net.gateway, b), "Containers", ctrs);
}

static int
network_inspect (struct global *g, int argc, char **argv, struct err **err)
{
  json_t *out = json_array ();
  char *text;
  int first = 1;
  if (argc > 1 && (!strcmp (argv[1], "--help") || !strcmp (argv[1], "-h")))
    {
      printf ("usage: %s\n", usage_text);
      json_decref (out);
      return 0;
    }
  for (int i = first; i < argc || i == first; i++)
    {
      struct net_info info;
      const char *name = i < argc ? argv[i] : NULL;
      if (name && name[0] == '-')
        {
          json_decref (out);
          return command_usage_error (usage_text, err);
        }
      if (net_inspect (g->root, g->config_path, name, &info, err) < 0)
        {
          json_decref (out);
          return -1;
        }
      json_array_append_new (out, info_json (&info));
      net_info_release (&info);
      if (i >= argc)
        break;
    }
  text = json_dumps (out, JSON_INDENT (4));
  json_decref (out);
  if (!text)
    return err_set (err, 0, "network inspect: cannot encode JSON");
  printf ("%s\n", text);
  free (text);
  return 0;
}

COMMAND (network)
{
  if (argc < 2)
    return command_usage_error (usage_text, err);
  if (!strcmp (argv[1], "ls") || !strcmp (argv[1], "list"))
    return network_ls (g, argc - 1, argv + 1, err);
  if (!strcmp (argv[1], "inspect"))
    return network_inspect (g, argc - 1, argv + 1, err);
  if (!strcmp (argv[1], "--help") || !strcmp (argv[1], "-h"))
    {
      printf ("usage: %s\n", usage_text);
      return 0;
    }
  err_set (err, 0, "network: unknown command '%s'", argv[1]);
  return err_exit (err, 2);
}
