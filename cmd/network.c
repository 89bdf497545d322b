/* imgtool network create|rm|ls|inspect|prune|connect|disconnect: the default
 * network and the user-defined ones (network/netdef.c), as docker's network
 * commands. */
#include "cmd/command.h"
#include "cmd/filter.h"
#include "cmd/network_connect.h"
#include "cmd/opttable.h"
#include "lib/err.h"
#include "lib/human.h"
#include "lib/xalloc.h"
#include "network/net.h"

#include <arpa/inet.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

static const char usage_text[]
    = "imgtool network create [--subnet CIDR] [--gateway IP] [--internal] "
      "[--label K=V] [-d bridge] NAME | rm NAME... | ls [-q] [--no-trunc] "
      "[--filter K=V] [--format F] | inspect [-f F] [NAME...] | prune [-f] "
      "[--filter label=K] | connect [--alias A] [--ip IP] NETWORK CONTAINER | "
      "disconnect [-f] NETWORK CONTAINER";

static const char *
ip_s (struct in_addr a, char buf[INET_ADDRSTRLEN])
{
  return inet_ntop (AF_INET, &a, buf, INET_ADDRSTRLEN);
}

/* "k=v" strings as a JSON object */
static json_t *
labels_object (char **labels)
{
  json_t *o = json_object ();
  for (char **l = labels; l && *l; l++)
    {
      const char *eq = strchr (*l, '=');
      _cleanup_free_ char *k
          = eq ? xstrndup (*l, (size_t)(eq - *l)) : xstrdup (*l);
      json_object_set_new (o, k, json_string (eq ? eq + 1 : ""));
    }
  return o;
}

static json_t *
created_json (long long t)
{
  char buf[40];
  rfc3339_format ((time_t)t, buf, sizeof buf);
  return json_string (buf);
}

/* ---- create ---- */

enum
{
  OPT_SUBNET = 256,
  OPT_GATEWAY,
  OPT_INTERNAL,
  OPT_LABEL,
};

static const struct cmd_opt network_create_opts[] = {
  CMD_OPT ("subnet", 0, "CIDR", OPT_SUBNET, "Subnet in CIDR format",
           "--subnet"),
  CMD_OPT ("gateway", 0, "IP", OPT_GATEWAY, "IPv4 gateway for the subnet",
           "--gateway"),
  CMD_OPT ("internal", 0, NULL, OPT_INTERNAL,
           "Restrict external access to the network", "--internal"),
  CMD_OPT ("label", 0, "K=V", OPT_LABEL, "Set metadata on a network",
           "--label"),
  CMD_OPT ("driver", 'd', "DRIVER", 0, "Driver to manage the network (bridge)",
           "--driver"),
  CMD_OPT_HELP,
  CMD_OPT_END,
};

const struct cmd_spec cmd_network_create_spec = {
  .name = "network create",
  .summary = "Create a network",
  .usage = usage_text,
  .opts = network_create_opts,
};

static int
network_create (struct global *g, int argc, char **argv, struct err **err)
{
  struct net_create_opts o = { 0 };
  _cleanup_strv_ char **labels = xcalloc (1, sizeof *labels);
  _cleanup_free_ char *id = NULL;
  int c;
  while ((c = cmd_getopt (argc, argv, &cmd_network_create_spec)) != -1)
    switch (c)
      {
      case OPT_SUBNET:
        if (o.subnet)
          return err_set (err, 0, "only one --subnet is supported");
        o.subnet = optarg;
        break;
      case OPT_GATEWAY:
        if (o.gateway)
          return err_set (err, 0, "only one --gateway is supported");
        o.gateway = optarg;
        break;
      case OPT_INTERNAL:
        o.internal = cmd_optbool;
        if (optarg && command_parse_bool (optarg, &o.internal) < 0)
          return err_set (err, 0, "invalid --internal '%s'", optarg);
        break;
      case OPT_LABEL:
        strv_push (&labels, xstrdup (optarg));
        break;
      case 'd':
        o.driver = optarg;
        break;
      default:
        return cmd_other_option (c, err);
      }
  if (optind + 1 != argc)
    return command_usage_error (usage_text, err);
  o.name = argv[optind];
  o.labels = labels;
  if (net_def_create (g->root, g->config_path, &o, &id, err) < 0)
    return -1;
  printf ("%s\n", id);
  return 0;
}

static const struct cmd_opt network_rm_opts[] = {
  CMD_OPT_FORCE,
  CMD_OPT_HELP,
  CMD_OPT_END,
};

const struct cmd_spec cmd_network_rm_spec = {
  .name = "network rm",
  .summary = "Remove networks",
  .usage = usage_text,
  .opts = network_rm_opts,
};

/* ---- rm ---- */

static int
network_rm (struct global *g, int argc, char **argv, struct err **err)
{
  int c, r = 0;
  while ((c = cmd_getopt (argc, argv, &cmd_network_rm_spec)) != -1)
    switch (c)
      {
      case 'f':
        break; /* docker's: a missing network is no error then */
      default:
        return cmd_other_option (c, err);
      }
  if (optind >= argc)
    return command_usage_error (usage_text, err);
  /* each one, as docker: the first error is reported, the rest still go */
  for (int i = optind; i < argc; i++)
    {
      struct err *e = NULL;
      if (net_def_remove (g->root, g->config_path, argv[i], &e) == 0)
        {
          printf ("%s\n", argv[i]);
          continue;
        }
      if (r == 0 && err)
        *err = e;
      else
        {
          command_print_error ("%s", e->msg);
          err_free (e);
        }
      r = -1;
    }
  return r;
}

/* ---- ls ---- */

static const char *const ls_keys[]
    = { "name", "id", "label", "driver", "type", "scope", NULL };

struct ls_row
{
  const struct net_info *info;
};

static bool
match_name (const char *v, void *d)
{
  return filter_regex (v, ((struct ls_row *)d)->info->net.name);
}

static bool
match_id (const char *v, void *d)
{
  return filter_regex (v, ((struct ls_row *)d)->info->net.id);
}

static bool
match_driver (const char *v, void *d)
{
  (void)d;
  return !strcmp (v, "bridge");
}

static bool
match_scope (const char *v, void *d)
{
  (void)d;
  return !strcmp (v, "local");
}

static bool
match_type (const char *v, void *d)
{
  bool builtin
      = !strcmp (((struct ls_row *)d)->info->net.name, NET_DEFAULT_NETWORK);
  return !strcmp (v, builtin ? "builtin" : "custom");
}

static int
check_type (const char *v, struct err **err)
{
  if (strcmp (v, "builtin") && strcmp (v, "custom"))
    return err_set (
        err, 0, "invalid filter: 'type'='%s': must be builtin or custom", v);
  return 0;
}

static bool
row_matches (const struct filters *f, const struct net_info *info)
{
  struct ls_row row = { info };
  json_t *labels = labels_object (info->labels);
  bool ok = filters_any (f, "name", match_name, &row)
            && filters_any (f, "id", match_id, &row)
            && filters_any (f, "driver", match_driver, &row)
            && filters_any (f, "scope", match_scope, &row)
            && filters_any (f, "type", match_type, &row)
            && filters_labels (f, labels);
  json_decref (labels);
  return ok;
}

static json_t *
ls_row_json (const struct net_info *info, bool no_trunc)
{
  char gw[INET_ADDRSTRLEN], sub[INET_ADDRSTRLEN];
  json_t *created = created_json (info->created);
  _cleanup_free_ char *labels = NULL;
  _cleanup_free_ char *cidr
      = xasprintf ("%s/%u", ip_s (info->net.subnet, sub), info->net.prefix);
  size_t alive = 0;
  json_t *o;
  {
    size_t len = 0;
    for (char **l = info->labels; l && *l; l++)
      len += strlen (*l) + 1;
    labels = xcalloc (1, len + 1);
    for (char **l = info->labels; l && *l; l++)
      {
        if (l != info->labels)
          strcat (labels, ",");
        strcat (labels, *l);
      }
  }
  for (size_t k = 0; k < info->n_leases; k++)
    alive += info->leases[k].alive;
  o = json_pack ("{s:s%, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:O, s:s, s:s, "
                 "s:s, s:I}",
                 "ID", info->net.id, no_trunc ? (size_t)64 : (size_t)12, "Name",
                 info->net.name, "Driver", "bridge", "Scope", "local", "IPv6",
                 "false", "Internal", info->net.internal ? "true" : "false",
                 "Labels", labels, "CreatedAt", json_string_value (created),
                 "Created", created, "Subnet", cidr, "Gateway",
                 ip_s (info->net.gateway, gw), "Bridge", info->net.bridge,
                 "Containers", (json_int_t)alive);
  json_decref (created);
  return o;
}

static const struct cmd_opt network_ls_opts[] = {
  CMD_OPT ("quiet", 'q', NULL, 0, "Only show IDs", "--quiet"),
  CMD_OPT_NO_TRUNC ('T'),
  CMD_OPT_FILTER,
  CMD_OPT_FORMAT ('F'),
  CMD_OPT_HELP,
  CMD_OPT_END,
};

const struct cmd_spec cmd_network_ls_spec = {
  .name = "network ls",
  .summary = "List networks",
  .usage = usage_text,
  .opts = network_ls_opts,
};

static int
network_ls (struct global *g, int argc, char **argv, struct err **err)
{
  struct filters f = FILTERS_INIT;
  struct net_info *nets = NULL;
  const char *format = NULL;
  size_t n = 0;
  bool quiet = false, no_trunc = false;
  json_t *rows = NULL, *header = NULL;
  int c, r = -1;
  while ((c = cmd_getopt (argc, argv, &cmd_network_ls_spec)) != -1)
    switch (c)
      {
      case 'q':
        quiet = cmd_optbool;
        break;
      case 'T':
        no_trunc = cmd_optbool;
        break;
      case 'f':
        if (filters_add (&f, optarg, ls_keys, err) < 0)
          goto out;
        break;
      case 'F':
        format = optarg;
        break;
      default:
        r = cmd_other_option (c, err);
        goto out;
      }
  if (optind != argc)
    {
      r = command_usage_error (usage_text, err);
      goto out;
    }
  if (filters_check (&f, "type", check_type, err) < 0
      || net_list (g->root, g->config_path, &nets, &n, err) < 0)
    goto out;
  rows = json_array ();
  for (size_t i = 0; i < n; i++)
    if (row_matches (&f, &nets[i]))
      json_array_append_new (rows, ls_row_json (&nets[i], no_trunc));
  header
      = json_pack ("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "ID",
                   "NETWORK ID", "Name", "NAME", "Driver", "DRIVER", "Scope",
                   "SCOPE", "IPv6", "IPV6", "Internal", "INTERNAL", "CreatedAt",
                   "CREATED AT", "Subnet", "SUBNET", "Gateway", "GATEWAY");
  r = command_print_format (quiet ? "{{.ID}}" : format,
                            "table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}",
                            header, rows, err);
out:
  json_decref (rows);
  json_decref (header);
  for (size_t i = 0; i < n; i++)
    net_info_release (&nets[i]);
  free (nets);
  filters_release (&f);
  return r;
}

/* ---- inspect ---- */

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
      json_object_set_new (
          ctrs, l->container_id,
          json_pack ("{s:s, s:s, s:s, s:s?, s:i, s:b, s:o}", "Name",
                     l->name ? l->name : "", "IPv4Address", addr, "IPv6Address",
                     "", "HostVeth", l->host_veth, "Pid", (int)l->pid,
                     "Running", l->alive, "Ports", ports));
    }
  return json_pack (
      "{s:s, s:s, s:o, s:s, s:s, s:b, s:{s:s, s:{}, s:[{s:s, s:s}]}, s:b, "
      "s:b, s:b, s:o, s:{s:s}, s:o, s:s, s:b}",
      "Name", info->net.name, "Id", info->net.id, "Created",
      created_json (info->created), "Scope", "local", "Driver", "bridge",
      "EnableIPv6", 0, "IPAM", "Driver", "default", "Options", "Config",
      "Subnet", cidr, "Gateway", ip_s (info->net.gateway, b), "Internal",
      info->net.internal, "Attachable", 0, "Ingress", 0, "Containers", ctrs,
      "Options", "com.docker.network.bridge.name", info->net.bridge, "Labels",
      labels_object (info->labels), "Bridge", info->net.bridge, "BridgeExists",
      info->bridge_exists);
}

static const struct cmd_opt network_inspect_opts[] = {
  CMD_OPT ("format", 'f', "FORMAT", 0,
           "Format output: table, json or a Go template", "--format"),
  CMD_OPT_HELP,
  CMD_OPT_END,
};

const struct cmd_spec cmd_network_inspect_spec = {
  .name = "network inspect",
  .summary = "Show networks as JSON",
  .usage = usage_text,
  .opts = network_inspect_opts,
};

static int
network_inspect (struct global *g, int argc, char **argv, struct err **err)
{
  const char *format = NULL;
  json_t *out;
  char *text;
  int c, r = 0;
  while ((c = cmd_getopt (argc, argv, &cmd_network_inspect_spec)) != -1)
    switch (c)
      {
      case 'f':
        format = optarg;
        break;
      default:
        return cmd_other_option (c, err);
      }
  out = json_array ();
  /* no name: the default network (imgtool's own short form) */
  for (int i = optind; i < argc || i == optind; i++)
    {
      struct net_info info;
      const char *name = i < argc ? argv[i] : NULL;
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
  if (format)
    {
      r = command_print_format (format, NULL, NULL, out, err);
      json_decref (out);
      return r;
    }
  text = json_dumps (out, JSON_INDENT (4));
  json_decref (out);
  if (!text)
    return err_set (err, 0, "network inspect: cannot encode JSON");
  printf ("%s\n", text);
  free (text);
  return 0;
}

/* ---- prune ---- */

static const char *const prune_keys[] = { "label", "until", NULL };

static const struct cmd_opt network_prune_opts[] = {
  CMD_OPT_FORCE,
  CMD_OPT ("filter", 0, "KEY=VALUE", 'F',
           "Filter output based on conditions provided", "--filter"),
  CMD_OPT_HELP,
  CMD_OPT_END,
};

const struct cmd_spec cmd_network_prune_spec = {
  .name = "network prune",
  .summary = "Remove all unused networks",
  .usage = usage_text,
  .opts = network_prune_opts,
};

static int
network_prune (struct global *g, int argc, char **argv, struct err **err)
{
  struct filters f = FILTERS_INIT;
  struct net_info *nets = NULL;
  size_t n = 0;
  bool force = false, printed = false;
  int c, r = -1;
  while ((c = cmd_getopt (argc, argv, &cmd_network_prune_spec)) != -1)
    switch (c)
      {
      case 'f':
        force = cmd_optbool;
        break;
      case 'F':
        if (filters_add (&f, optarg, prune_keys, err) < 0)
          goto out;
        break;
      default:
        r = cmd_other_option (c, err);
        goto out;
      }
  if (optind != argc)
    {
      r = command_usage_error (usage_text, err);
      goto out;
    }
  if (filters_has (&f, "until"))
    {
      err_set (err, 0, "network prune: the until filter is not supported");
      goto out;
    }
  if (!force
      && !command_confirm (
          "This will remove all custom networks not used by at least one "
          "container."))
    {
      r = 0;
      goto out;
    }
  if (net_list (g->root, g->config_path, &nets, &n, err) < 0)
    goto out;
  for (size_t i = 0; i < n; i++)
    {
      struct err *e = NULL;
      json_t *labels;
      bool match;
      if (!strcmp (nets[i].net.name, NET_DEFAULT_NETWORK))
        continue;
      labels = labels_object (nets[i].labels);
      match = filters_labels (&f, labels);
      json_decref (labels);
      /* one in use is refused by net_def_remove: kept, silently */
      if (!match
          || net_def_remove (g->root, g->config_path, nets[i].net.name, &e) < 0)
        {
          err_free (e);
          continue;
        }
      if (!printed)
        printf ("Deleted Networks:\n");
      printed = true;
      printf ("%s\n", nets[i].net.name);
    }
  r = 0;
out:
  for (size_t i = 0; i < n; i++)
    net_info_release (&nets[i]);
  free (nets);
  filters_release (&f);
  return r;
}

/* Subcommand fn with argv[0] "network SUB", as its errors name it. */
static int
run_sub (int (*fn) (struct global *, int, char **, struct err **),
         struct global *g, int argc, char **argv, struct err **err)
{
  _cleanup_free_ char *name = xasprintf ("network %s", argv[1]);
  char *saved = argv[1];
  int r;
  argv[1] = name;
  r = fn (g, argc - 1, argv + 1, err);
  argv[1] = saved;
  return r;
}

static const struct cmd_spec *const network_subs[]
    = { &cmd_network_connect_spec,    &cmd_network_create_spec,
        &cmd_network_disconnect_spec, &cmd_network_inspect_spec,
        &cmd_network_ls_spec,         &cmd_network_prune_spec,
        &cmd_network_rm_spec,         NULL };

const struct cmd_spec cmd_network_spec = {
  .name = "network",
  .usage = usage_text,
  .opts = cmd_opts_help_only,
  .subs = network_subs,
};

COMMAND (network)
{
  const char *sub = argc >= 2 ? argv[1] : NULL;
  if (!sub)
    return command_usage_error (usage_text, err);
  if (!strcmp (sub, "ls") || !strcmp (sub, "list"))
    return run_sub (network_ls, g, argc, argv, err);
  if (!strcmp (sub, "inspect"))
    return run_sub (network_inspect, g, argc, argv, err);
  if (!strcmp (sub, "create"))
    return run_sub (network_create, g, argc, argv, err);
  if (!strcmp (sub, "rm") || !strcmp (sub, "remove"))
    return run_sub (network_rm, g, argc, argv, err);
  if (!strcmp (sub, "prune"))
    return run_sub (network_prune, g, argc, argv, err);
  if (!strcmp (sub, "--help") || !strcmp (sub, "-h"))
    {
      cmd_help_print (&cmd_network_spec, stdout);
      return 0;
    }
  if (!strcmp (sub, "connect"))
    return run_sub (network_connect, g, argc, argv, err);
  if (!strcmp (sub, "disconnect"))
    return run_sub (network_disconnect, g, argc, argv, err);
  err_set (err, 0, "network: unknown command '%s'", sub);
  return err_exit (err, 2);
}
