/* User-defined networks (net.h): `network create` writes
 * <root>/networks/user/<name>/network.json; net_setup, teardown, gc and
 * `network ls|inspect|rm|prune` read it. Every change holds the networks
 * lock, as the leases do, so a network cannot go while a container joins
 * it. */
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/json.h"
#include "lib/xalloc.h"
#include "network/ipam.h"
#include "network/net.h"
#include "network/netlink.h"
#include "runtime/names.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define DEF_FILE "network.json"
#define AUTO_BASE 0x0a5a0000u /* 10.90.0.0: 10.90.N.0/24 by default */

bool
net_name_valid (const char *name)
{
  size_t n = name ? strlen (name) : 0;
  const char *alnum = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                      "0123456789";
  return n && n < 64 && strchr (alnum, name[0])
         && strspn (name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                          "0123456789_.-")
                == n;
}

static char *
cidr (const struct net_config *c)
{
  char ip[INET_ADDRSTRLEN];
  return xasprintf ("%s/%u", net_ip_str (c->subnet, ip), c->prefix);
}

static bool
overlaps (const struct net_config *a, const struct net_config *b)
{
  unsigned p = a->prefix < b->prefix ? a->prefix : b->prefix;
  uint32_t mask = ~0u << (32 - p);
  return (ntohl (a->subnet.s_addr) & mask) == (ntohl (b->subnet.s_addr) & mask);
}

static bool
in_subnet (const struct net_config *c, struct in_addr ip)
{
  uint32_t mask = ~0u << (32 - c->prefix);
  return (ntohl (ip.s_addr) & mask) == ntohl (c->subnet.s_addr);
}

/* Parse one network.json. */
static int
def_load_file (int dirfd, const char *path, struct net_config *out,
               char ***labels, long long *created, struct err **err)
{
  _cleanup_free_ char *text = NULL;
  json_t *o, *l, *v;
  const char *k, *s;
  int r = 0;
  if (fs_read_file (dirfd, path, 1 << 20, &text, NULL, err) < 0)
    return -1;
  o = json_loads (text, 0, NULL);
  memset (out, 0, sizeof *out);
  if (!o || !(s = json_peek_str (o, "subnet"))
      || net_parse_subnet (s, out, path, err) < 0)
    {
      json_decref (o);
      return err && *err ? -1 : err_set (err, 0, "'%s': bad network", path);
    }
  snprintf (out->name, sizeof out->name, "%s",
            json_peek_str (o, "name") ? json_peek_str (o, "name") : "");
  snprintf (out->id, sizeof out->id, "%s",
            json_peek_str (o, "id") ? json_peek_str (o, "id") : "");
  snprintf (out->bridge, sizeof out->bridge, "%s",
            json_peek_str (o, "bridge") ? json_peek_str (o, "bridge") : "");
  if ((s = json_peek_str (o, "gateway")))
    inet_pton (AF_INET, s, &out->gateway);
  out->internal = json_is_true (json_object_get (o, "internal"));
  if (created)
    *created = json_get_int (o, "created");
  if (labels)
    {
      *labels = xcalloc (1, sizeof **labels);
      l = json_object_get (o, "labels");
      json_object_foreach (l, k, v) strv_push (
          labels,
          xasprintf ("%s=%s", k,
                     json_string_value (v) ? json_string_value (v) : ""));
    }
  if (!net_name_valid (out->name) || strlen (out->id) != 64
      || strncmp (out->bridge, NET_USER_BRIDGE, strlen (NET_USER_BRIDGE)))
    r = err_set (err, 0, "'%s': bad network", path);
  json_decref (o);
  return r;
}

static int
cmp_str (const void *a, const void *b)
{
  return strcmp (*(char *const *)a, *(char *const *)b);
}

char **
net_def_names (const char *root)
{
  _cleanup_free_ char *dir = xasprintf ("%s/networks/" NET_USER_DIR, root);
  char **v = xcalloc (1, sizeof *v);
  size_t n = 0;
  DIR *d = opendir (dir);
  struct dirent *e;
  if (!d)
    return v;
  while ((e = readdir (d)))
    if (net_name_valid (e->d_name))
      {
        strv_push (&v, xstrdup (e->d_name));
        n++;
      }
  closedir (d);
  qsort (v, n, sizeof *v, cmp_str);
  return v;
}

static int
def_load (const char *root, const char *name, struct net_config *out,
          char ***labels, long long *created, struct err **err)
{
  _cleanup_free_ char *dir = net_dir_path (root, name);
  _cleanup_free_ char *path = xasprintf ("%s/" DEF_FILE, dir);
  return def_load_file (AT_FDCWD, path, out, labels, created, err);
}

int
net_all_configs (const char *root, const char *config_path,
                 struct net_config **out, size_t *n, struct err **err)
{
  _cleanup_strv_ char **names = net_def_names (root);
  size_t k = 1;
  *out = xcalloc (strv_len (names) + 1, sizeof **out);
  if (net_config_load (config_path, NULL, &(*out)[0], err) < 0)
    goto fail;
  for (char **p = names; *p; p++)
    {
      struct err *e = NULL;
      /* one being created or removed right now is no error */
      if (def_load (root, *p, &(*out)[k], NULL, NULL, &e) == 0)
        k++;
      err_free (e);
    }
  *n = k;
  return 0;
fail:
  free (*out);
  *out = NULL;
  return -1;
}

int
net_config_find (const char *root, const char *config_path,
                 const char *name_or_id, struct net_config *out, char ***labels,
                 long long *created, struct err **err)
{
  _cleanup_strv_ char **names = NULL;
  struct net_config c;
  size_t len = name_or_id ? strlen (name_or_id) : 0;
  bool hex = len && strspn (name_or_id, "0123456789abcdef") == len;
  int found = 0;
  if (labels)
    *labels = NULL;
  if (created)
    *created = 0;
  if (net_config_load (config_path, NULL, out, err) < 0)
    return -1;
  if (!name_or_id || !strcmp (name_or_id, NET_DEFAULT_NETWORK))
    goto deflt;
  if (net_name_valid (name_or_id)
      && def_load (root, name_or_id, out, labels, created, NULL) == 0)
    return 0;
  if (hex && !strncmp (out->id, name_or_id, len))
    goto deflt;
  names = net_def_names (root);
  for (char **p = names; hex && *p; p++)
    if (def_load (root, *p, &c, NULL, NULL, NULL) == 0
        && !strncmp (c.id, name_or_id, len))
      {
        if (found++)
          return err_set (err, 0, "network '%s' is ambiguous", name_or_id);
        *out = c;
      }
  if (found)
    return def_load (root, out->name, out, labels, created, err);
  return err_set (err, 0, "network '%s' not found", name_or_id);
deflt:
  {
    struct stat st;
    _cleanup_free_ char *dir = net_dir_path (root, NET_DEFAULT_NETWORK);
    if (created)
      *created = stat (dir, &st) == 0 ? (long long)st.st_mtime : time (NULL);
    if (labels)
      *labels = xcalloc (1, sizeof **labels);
  }
  return 0;
}

/* The first free 10.90.N.0/24 beside nets. */
static int
auto_subnet (struct net_config *cfg, const struct net_config *nets, size_t n,
             struct err **err)
{
  for (uint32_t k = 0; k < 256; k++)
    {
      bool taken = false;
      cfg->subnet.s_addr = htonl (AUTO_BASE + (k << 8));
      cfg->prefix = 24;
      for (size_t i = 0; i < n && !taken; i++)
        taken = overlaps (cfg, &nets[i]);
      if (!taken)
        {
          cfg->gateway.s_addr = htonl (AUTO_BASE + (k << 8) + 1);
          return 0;
        }
    }
  return err_set (err, 0, "no free subnet left in 10.90.0.0/16");
}

static json_t *
labels_json (char **labels, struct err **err)
{
  json_t *o = json_object ();
  for (char **l = labels; l && *l; l++)
    {
      const char *eq = strchr (*l, '=');
      _cleanup_free_ char *k
          = eq ? xstrndup (*l, (size_t)(eq - *l)) : xstrdup (*l);
      if (!*k)
        {
          json_decref (o);
          err_set (err, 0, "invalid label '%s': empty name", *l);
          return NULL;
        }
      json_object_set_new (o, k, json_string (eq ? eq + 1 : ""));
    }
  return o;
}

int
net_def_create (const char *root, const char *config_path,
                const struct net_create_opts *o, char **id_out,
                struct err **err)
{
  struct net_config cfg = { 0 }, *nets = NULL;
  size_t n = 0;
  _cleanup_close_ int lock = -1;
  _cleanup_free_ char *dir = NULL, *id = NULL, *sub = NULL, *text = NULL;
  char gw[INET_ADDRSTRLEN];
  json_t *labels = NULL, *j;
  int r = -1;

  if (!net_name_valid (o->name))
    return err_set (err, 0,
                    "invalid network name '%s': only [a-zA-Z0-9][a-zA-Z0-9_.-] "
                    "are allowed, at most 63",
                    o->name);
  if (!strcmp (o->name, "host") || !strcmp (o->name, "none")
      || !strcmp (o->name, "default"))
    return err_set (err, 0,
                    "operation is not permitted on predefined network "
                    "'%s'",
                    o->name);
  if (o->driver && strcmp (o->driver, "bridge"))
    return err_set (err, 0, "network driver '%s' is not supported: only bridge",
                    o->driver);
  if (o->gateway && !o->subnet)
    return err_set (err, 0, "--gateway needs --subnet");
  if (!(labels = labels_json (o->labels, err)))
    return -1;
  if (o->subnet)
    {
      _cleanup_free_ char *where = xasprintf ("network '%s'", o->name);
      if (net_parse_subnet (o->subnet, &cfg, where, err) < 0)
        goto out;
    }
  if (o->gateway)
    {
      uint32_t h, last = ntohl (cfg.subnet.s_addr)
                         + ((uint32_t)1 << (32 - cfg.prefix)) - 1;
      if (inet_pton (AF_INET, o->gateway, &cfg.gateway) != 1)
        {
          err_set (err, 0, "invalid gateway '%s'", o->gateway);
          goto out;
        }
      h = ntohl (cfg.gateway.s_addr);
      if (!in_subnet (&cfg, cfg.gateway) || h == ntohl (cfg.subnet.s_addr)
          || h == last)
        {
          err_set (err, 0, "gateway '%s' is not a host address of '%s'",
                   o->gateway, o->subnet);
          goto out;
        }
    }
  lock = net_ipam_lock (root, err);
  if (lock < 0 || net_all_configs (root, config_path, &nets, &n, err) < 0)
    goto out;
  for (size_t i = 0; i < n; i++)
    if (!strcmp (nets[i].name, o->name))
      {
        err_set (err, 0, "network with name '%s' already exists", o->name);
        goto out;
      }
  if (!o->subnet && auto_subnet (&cfg, nets, n, err) < 0)
    goto out;
  for (size_t i = 0; i < n; i++)
    if (overlaps (&cfg, &nets[i]))
      {
        _cleanup_free_ char *a = cidr (&cfg), *b = cidr (&nets[i]);
        err_set (err, 0, "subnet '%s' overlaps network '%s' (%s)", a,
                 nets[i].name, b);
        goto out;
      }
  id = rt_new_id ();
  sub = cidr (&cfg);
  dir = net_dir_path (root, o->name);
  {
    _cleanup_free_ char *br = xasprintf (NET_USER_BRIDGE "%.10s", id);
    j = json_pack ("{s:s, s:s, s:s, s:s, s:s, s:s, s:b, s:O, s:I}", "name",
                   o->name, "id", id, "driver", "bridge", "subnet", sub,
                   "gateway", net_ip_str (cfg.gateway, gw), "bridge", br,
                   "internal", o->internal, "labels", labels, "created",
                   (json_int_t)time (NULL));
  }
  text = json_dumps (j, JSON_INDENT (2));
  json_decref (j);
  if (fs_mkdir_p (AT_FDCWD, dir, 0700, err) < 0
      || fs_write_file_atomic (
             AT_FDCWD, (free (sub), sub = xasprintf ("%s/" DEF_FILE, dir)),
             text, strlen (text), 0600, err)
             < 0)
    {
      struct err *e = NULL;
      fs_rm_rf (AT_FDCWD, dir, &e);
      err_free (e);
      goto out;
    }
  *id_out = steal_pointer (&id);
  r = 0;
out:
  json_decref (labels);
  free (nets);
  return r;
}

int
net_def_remove (const char *root, const char *config_path,
                const char *name_or_id, struct err **err)
{
  struct net_config cfg;
  struct net_nl nl = { 0 };
  struct net_lease *all = NULL;
  size_t n = 0;
  _cleanup_close_ int lock = -1, netfd = -1;
  _cleanup_free_ char *dir = NULL;
  int r = -1;

  lock = net_ipam_lock (root, err);
  if (lock < 0
      || net_config_find (root, config_path, name_or_id, &cfg, NULL, NULL, err)
             < 0)
    return -1;
  if (!strcmp (cfg.name, NET_DEFAULT_NETWORK))
    return err_set (err, 0,
                    "bridge is a pre-defined network and cannot be removed");
  netfd = net_ipam_open_net (root, cfg.name, err);
  if (netfd < 0 || net_ipam_load_all (netfd, &all, &n, err) < 0)
    return -1;
  for (size_t i = 0; i < n; i++)
    if (all[i].container_id && net_lease_alive (root, &all[i]))
      {
        err_set (err, 0,
                 "error while removing network: network %s id %s has active "
                 "endpoints",
                 cfg.name, cfg.id);
        goto out;
      }
  /* the bridge goes with it (docker's does); a missing one is fine */
  if (net_nl_open (&nl, err) < 0 || net_nl_link_del (&nl, cfg.bridge, err) < 0)
    goto out;
  dir = net_dir_path (root, cfg.name);
  if (fs_rm_rf (AT_FDCWD, dir, err) < 0)
    goto out;
  r = 0;
out:
  net_nl_close (&nl);
  net_leases_free (all, n);
  return r;
}
