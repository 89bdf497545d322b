/* IPAM: a file per lease under an flock (see ipam.h). */
#include "network/ipam.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/json.h"
#include "lib/strbuf.h"
#include "lib/xalloc.h"
#include "runtime/proc.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define LEASE_MAX (64 * 1024)

const char *
net_ip_str (struct in_addr ip, char buf[INET_ADDRSTRLEN])
{
  return inet_ntop (AF_INET, &ip, buf, INET_ADDRSTRLEN);
}

void
net_lease_release (struct net_lease *l)
{
  if (!l)
    return;
  free (l->container_id);
  free (l->name);
  free (l->hostname);
  free (l->host_veth);
  free (l->state_dir);
  free (l->boot_id);
  free (l->ports);
  strv_free (l->aliases);
  memset (l, 0, sizeof *l);
}

void
net_leases_free (struct net_lease *l, size_t n)
{
  for (size_t i = 0; i < n; i++)
    net_lease_release (&l[i]);
  free (l);
}

int
net_ipam_lock (const char *root, struct err **err)
{
  _cleanup_free_ char *dir = xasprintf ("%s/networks", root);
  _cleanup_close_ int dfd = -1;
  int fd;
  if (fs_mkdir_p (AT_FDCWD, dir, 0700, err) < 0)
    return -1;
  dfd = fs_open_dir (AT_FDCWD, dir, err);
  if (dfd < 0)
    return -1;
  fd = fs_lock (dfd, "lock", LOCK_EX, err);
  if (fd < 0)
    return err_wrap (err, "networks");
  return fd;
}

char *
net_dir_path (const char *root, const char *net)
{
  if (!strcmp (net, NET_DEFAULT_NETWORK))
    return xasprintf ("%s/networks/%s", root, net);
  return xasprintf ("%s/networks/" NET_USER_DIR "/%s", root, net);
}

int
net_ipam_open_net (const char *root, const char *net, struct err **err)
{
  _cleanup_free_ char *top = net_dir_path (root, net);
  _cleanup_free_ char *dir = xasprintf ("%s/leases", top);
  if (fs_mkdir_p (AT_FDCWD, dir, 0700, err) < 0)
    return -1;
  dir[strlen (dir) - strlen ("/leases")] = '\0';
  return fs_open_dir (AT_FDCWD, dir, err);
}

/* Write data to dirfd/path in place (the lock makes it safe, see ipam.h).
 * excl: fail with EEXIST if it exists. */
static int
write_small (int dirfd, const char *path, const char *data, bool excl,
             struct err **err)
{
  int flags
      = O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW | (excl ? O_EXCL : O_TRUNC);
  _cleanup_close_ int fd = openat (dirfd, path, flags, 0600);
  if (fd < 0)
    return err_set (err, errno, "create '%s'", path);
  if (fs_write_all (fd, data, strlen (data)) < 0)
    return err_set (err, errno, "write '%s'", path);
  return 0;
}

/* ids/<id> -> "<ip>": a container's lease found without reading them
 * all (teardown). */
static int
id_link (int netfd, const char *id, const char *ip, struct err **err)
{
  _cleanup_free_ char *link = xasprintf ("ids/%s", id);
  if (mkdirat (netfd, "ids", 0700) < 0 && errno != EEXIST)
    return err_set (err, errno, "create 'ids'");
  unlinkat (netfd, link, 0);
  if (symlinkat (ip, netfd, link) < 0)
    return err_set (err, errno, "index lease '%s'", ip);
  return 0;
}

static const char *
proto_name (enum net_proto p)
{
  return p == NET_UDP ? "udp" : "tcp";
}

static json_t *
ports_to_json (const struct port_map *p, size_t n)
{
  json_t *a = json_array ();
  char ip[INET_ADDRSTRLEN];
  for (size_t i = 0; i < n; i++)
    json_array_append_new (
        a, json_pack (
               "{s:s, s:i, s:i, s:s}", "host_ip", net_ip_str (p[i].host_ip, ip),
               "host_port", (int)p[i].host_port, "container_port",
               (int)p[i].container_port, "proto", proto_name (p[i].proto)));
  return a;
}

static char *
lease_to_json (const struct net_lease *l)
{
  char ip[INET_ADDRSTRLEN];
  json_t *o = json_pack (
      "{s:s, s:s, s:s?, s:s?, s:s?, s:s?, s:i, s:I, s:s?, s:o}", "ip",
      net_ip_str (l->ip, ip), "container_id", l->container_id, "name", l->name,
      "hostname", l->hostname, "host_veth", l->host_veth, "state_dir",
      l->state_dir, "pid", (int)l->pid, "start_time", (json_int_t)l->start_time,
      "boot_id", l->boot_id, "ports", ports_to_json (l->ports, l->n_ports));
  if (l->aliases && l->aliases[0])
    json_object_set_new (o, "aliases", strv_to_json (l->aliases));
  char *s = json_dumps (o, JSON_COMPACT);
  json_decref (o);
  if (!s)
    abort ();
  char *r = xasprintf ("%s\n", s);
  free (s);
  return r;
}

/* Parse a lease; false if it is not a valid one. */
static bool
lease_from_json (const char *text, struct net_lease *l)
{
  json_t *o = json_loads (text, 0, NULL), *ports;
  const char *ip;
  size_t i;
  json_t *p;
  bool ok = false;
  memset (l, 0, sizeof *l);
  if (!json_is_object (o))
    goto out;
  ip = json_peek_str (o, "ip");
  if (!ip || inet_pton (AF_INET, ip, &l->ip) != 1)
    goto out;
  l->container_id = json_get_str (o, "container_id");
  if (!l->container_id)
    goto out;
  l->name = json_get_str (o, "name");
  l->hostname = json_get_str (o, "hostname");
  l->host_veth = json_get_str (o, "host_veth");
  l->state_dir = json_get_str (o, "state_dir");
  l->boot_id = json_get_str (o, "boot_id");
  if (json_is_array (json_object_get (o, "aliases")))
    l->aliases = json_to_strv (json_object_get (o, "aliases"));
  l->pid = (pid_t)json_integer_value (json_object_get (o, "pid"));
  l->start_time = (unsigned long long)json_integer_value (
      json_object_get (o, "start_time"));
  ports = json_object_get (o, "ports");
  if (json_is_array (ports) && json_array_size (ports))
    {
      l->ports = xcalloc (json_array_size (ports), sizeof *l->ports);
      json_array_foreach (ports, i, p)
      {
        struct port_map *m = &l->ports[l->n_ports];
        const char *hip = json_peek_str (p, "host_ip");
        const char *proto = json_peek_str (p, "proto");
        json_int_t hp = json_integer_value (json_object_get (p, "host_port"));
        json_int_t cp
            = json_integer_value (json_object_get (p, "container_port"));
        if (!hip || inet_pton (AF_INET, hip, &m->host_ip) != 1 || hp < 1
            || hp > 65535 || cp < 1 || cp > 65535)
          continue;
        m->host_port = (uint16_t)hp;
        m->container_port = (uint16_t)cp;
        m->proto = proto && !strcmp (proto, "udp") ? NET_UDP : NET_TCP;
        l->n_ports++;
      }
    }
  ok = true;
out:
  json_decref (o);
  if (!ok)
    {
      net_lease_release (l);
      memset (l, 0, sizeof *l);
    }
  return ok;
}

/* Read and parse one lease file; false when missing or damaged. */
static bool
read_lease (int netfd, const char *path, struct net_lease *l)
{
  _cleanup_free_ char *text = NULL;
  struct err *e = NULL;
  memset (l, 0, sizeof *l);
  if (fs_read_file (netfd, path, LEASE_MAX, &text, NULL, &e) < 0)
    {
      err_free (e);
      return false;
    }
  return lease_from_json (text, l);
}

/* The host range of a subnet: net+1 .. broadcast-1 (host order); the
 * allocation skips the gateway. */
static void
subnet_range (const struct net_config *cfg, uint32_t *lo, uint32_t *hi)
{
  uint32_t net = ntohl (cfg->subnet.s_addr);
  uint32_t size = cfg->prefix >= 32 ? 1 : (uint32_t)1 << (32 - cfg->prefix);
  *lo = net + 1;
  *hi = net + size - 2;
}

int
net_ipam_allocate (int netfd, const struct net_config *cfg, struct net_lease *l,
                   struct err **err)
{
  _cleanup_free_ char *last = NULL;
  _cleanup_free_ char *text = NULL;
  _cleanup_close_ int lfd = -1;
  uint32_t lo, hi, start, cur;
  struct in_addr a;
  char ip[INET_ADDRSTRLEN];

  subnet_range (cfg, &lo, &hi);
  if (hi < lo)
    return err_set (err, 0, "network '%s': subnet has no free addresses",
                    cfg->name);
  start = lo;
  {
    struct err *e = NULL;
    if (fs_read_file (netfd, "last", 64, &last, NULL, &e) == 0
        && (last[strcspn (last, "\n")] = '\0', 1)
        && inet_pton (AF_INET, last, &a) == 1 && ntohl (a.s_addr) >= lo
        && ntohl (a.s_addr) < hi)
      start = ntohl (a.s_addr) + 1;
    err_free (e);
  }
  /* the caller's preference (l->ip) first, when in the range */
  if (l->ip.s_addr && ntohl (l->ip.s_addr) >= lo && ntohl (l->ip.s_addr) <= hi)
    start = ntohl (l->ip.s_addr);
  lfd = fs_open_dir (netfd, "leases", err);
  if (lfd < 0)
    return -1;
  cur = start;
  do
    {
      a.s_addr = htonl (cur);
      net_ip_str (a, ip);
      if (a.s_addr != cfg->gateway.s_addr
          && faccessat (lfd, ip, F_OK, AT_SYMLINK_NOFOLLOW) < 0
          && errno == ENOENT)
        {
          l->ip = a;
          text = lease_to_json (l);
          if (write_small (lfd, ip, text, true, err) < 0)
            return -1;
          if (id_link (netfd, l->container_id, ip, err) < 0)
            {
              unlinkat (lfd, ip, 0);
              return -1;
            }
          {
            _cleanup_free_ char *lt = xasprintf ("%s\n", ip);
            struct err *e = NULL;
            /* Only a hint for round robin: a failure is harmless. */
            write_small (netfd, "last", lt, false, &e);
            err_free (e);
          }
          return 0;
        }
      cur = cur >= hi ? lo : cur + 1;
    }
  while (cur != start);
  return err_set (err, 0, "network '%s': no free address in %s/%u", cfg->name,
                  net_ip_str (cfg->subnet, ip), cfg->prefix);
}

int
net_ipam_update (int netfd, const struct net_lease *l, struct err **err)
{
  char ip[INET_ADDRSTRLEN];
  _cleanup_free_ char *path = xasprintf ("leases/%s", net_ip_str (l->ip, ip));
  _cleanup_free_ char *text = lease_to_json (l);
  return write_small (netfd, path, text, false, err);
}

int
net_ipam_release (int netfd, struct in_addr ip, struct err **err)
{
  char s[INET_ADDRSTRLEN];
  _cleanup_free_ char *path = xasprintf ("leases/%s", net_ip_str (ip, s));
  struct net_lease l;
  if (read_lease (netfd, path, &l))
    {
      /* its index entry, if it still points here */
      _cleanup_free_ char *link = xasprintf ("ids/%s", l.container_id);
      char target[INET_ADDRSTRLEN];
      ssize_t n = readlinkat (netfd, link, target, sizeof target - 1);
      if (n > 0 && (target[n] = '\0', !strcmp (target, s)))
        unlinkat (netfd, link, 0);
      net_lease_release (&l);
    }
  if (unlinkat (netfd, path, 0) < 0 && errno != ENOENT)
    return err_set (err, errno, "remove lease '%s'", s);
  return 0;
}

int
net_ipam_find (int netfd, const char *container_id, struct net_lease *out)
{
  _cleanup_free_ char *link = xasprintf ("ids/%s", container_id);
  _cleanup_free_ char *path = NULL;
  char target[INET_ADDRSTRLEN];
  ssize_t n = readlinkat (netfd, link, target, sizeof target - 1);
  struct in_addr a;
  if (n <= 0)
    return 0;
  target[n] = '\0';
  if (inet_pton (AF_INET, target, &a) != 1)
    return 0;
  path = xasprintf ("leases/%s", target);
  if (!read_lease (netfd, path, out))
    return 0;
  out->ip = a;
  if (strcmp (out->container_id, container_id))
    {
      net_lease_release (out);
      return 0;
    }
  return 1;
}

static int
lease_cmp (const void *a, const void *b)
{
  uint32_t x = ntohl (((const struct net_lease *)a)->ip.s_addr);
  uint32_t y = ntohl (((const struct net_lease *)b)->ip.s_addr);
  return x < y ? -1 : x > y;
}

int
net_ipam_load_all (int netfd, struct net_lease **out, size_t *n,
                   struct err **err)
{
  _cleanup_closedir_ DIR *d = NULL;
  struct net_lease *v = NULL;
  size_t alloc = 0, used = 0;
  struct dirent *de;
  int fd = openat (netfd, "leases", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return err_set (err, errno, "open directory 'leases'");
  d = fdopendir (fd);
  if (!d)
    {
      close (fd);
      return err_set (err, errno, "open directory 'leases'");
    }
  while ((de = readdir (d)))
    {
      struct in_addr a;
      _cleanup_free_ char *text = NULL;
      struct err *e = NULL;
      if (inet_pton (AF_INET, de->d_name, &a) != 1)
        continue;
      v = xgrow (v, &alloc, used + 1, sizeof *v);
      if (fs_read_file (dirfd (d), de->d_name, LEASE_MAX, &text, NULL, &e) < 0
          || !lease_from_json (text, &v[used]))
        memset (&v[used], 0, sizeof v[used]);
      err_free (e);
      v[used].ip = a; /* the file name is authoritative */
      used++;
    }
  if (used)
    qsort (v, used, sizeof *v, lease_cmp);
  *out = v;
  *n = used;
  return 0;
}

int
net_lease_set_process (struct net_lease *l, pid_t pid, struct err **err)
{
  l->start_time = rt_proc_start (pid);
  if (!l->start_time)
    return err_set (err, errno ? errno : ESRCH, "read start time of pid %d",
                    (int)pid);
  l->pid = pid;
  free (l->boot_id);
  l->boot_id = rt_boot_id ();
  return 0;
}

bool
net_lease_process_alive (const struct net_lease *l)
{
  _cleanup_free_ char *bid = NULL;
  if (!rt_proc_same (l->pid, l->start_time))
    return false;
  bid = rt_boot_id ();
  return l->boot_id && !strcmp (bid, l->boot_id);
}

bool
net_lease_alive (const char *root, const struct net_lease *l)
{
  _cleanup_free_ char *cdir = NULL;
  struct stat sb;
  if (!l->container_id || !net_lease_process_alive (l))
    return false;
  cdir = l->state_dir ? xstrdup (l->state_dir)
                      : xasprintf ("%s/containers/%s", root, l->container_id);
  return stat (cdir, &sb) == 0 && S_ISDIR (sb.st_mode);
}

static char *
port_record (const struct port_map *p)
{
  return xasprintf ("%s-%u", proto_name (p->proto), p->host_port);
}

static int
ports_dir (const char *root, struct err **err)
{
  _cleanup_free_ char *dir = xasprintf ("%s/networks/ports", root);
  if (fs_mkdir_p (AT_FDCWD, dir, 0700, err) < 0)
    return -1;
  return fs_open_dir (AT_FDCWD, dir, err);
}

int
net_ports_reserve (const char *root, const struct port_map *p,
                   const char *container_id, struct err **err)
{
  _cleanup_close_ int dfd = ports_dir (root, err);
  _cleanup_free_ char *rec = port_record (p);
  _cleanup_free_ char *text = NULL;
  char ip[INET_ADDRSTRLEN];
  if (dfd < 0)
    return -1;
  text = xasprintf ("%s\n%s\n", container_id, net_ip_str (p->host_ip, ip));
  struct err *e = NULL;
  if (write_small (dfd, rec, text, true, &e) < 0)
    {
      int errnum = e->errnum;
      if (errnum != EEXIST)
        {
          if (err && !*err)
            *err = e; /* pass the callee's error on as is */
          else
            err_free (e);
          return -1;
        }
      err_free (e);
      return err_set (err, 0, "port %u/%s is already allocated", p->host_port,
                      proto_name (p->proto));
    }
  return 0;
}

/* The owner recorded in a port record, or NULL. */
static char *
port_owner (int dfd, const char *rec)
{
  char *text = NULL;
  struct err *e = NULL;
  if (fs_read_file (dfd, rec, 4096, &text, NULL, &e) < 0)
    {
      err_free (e);
      return NULL;
    }
  text[strcspn (text, "\n")] = '\0';
  return text;
}

void
net_ports_release (const char *root, const struct port_map *p,
                   const char *container_id)
{
  struct err *e = NULL;
  _cleanup_close_ int dfd = ports_dir (root, &e);
  _cleanup_free_ char *rec = port_record (p);
  _cleanup_free_ char *owner = NULL;
  err_free (e);
  if (dfd < 0)
    return;
  owner = port_owner (dfd, rec);
  if (owner && !strcmp (owner, container_id))
    unlinkat (dfd, rec, 0);
}

char *
net_ports_owner (const char *root, const struct port_map *p)
{
  struct err *e = NULL;
  _cleanup_close_ int dfd = ports_dir (root, &e);
  _cleanup_free_ char *rec = port_record (p);
  err_free (e);
  return dfd < 0 ? NULL : port_owner (dfd, rec);
}

char **
net_ports_owners (const char *root)
{
  struct err *e = NULL;
  int dfd = ports_dir (root, &e);
  _cleanup_closedir_ DIR *d = NULL;
  struct dirent *de;
  char **v = xcalloc (1, sizeof *v);
  err_free (e);
  if (dfd < 0)
    return v;
  d = fdopendir (dfd);
  if (!d)
    {
      close (dfd);
      return v;
    }
  while ((de = readdir (d)))
    {
      char *owner;
      if (de->d_name[0] == '.')
        continue;
      owner = port_owner (dirfd (d), de->d_name);
      if (owner)
        strv_push (&v, owner);
    }
  return v;
}

void
net_ports_release_owner (const char *root, const char *container_id)
{
  struct err *e = NULL;
  int dfd = ports_dir (root, &e);
  _cleanup_closedir_ DIR *d = NULL;
  struct dirent *de;
  err_free (e);
  if (dfd < 0)
    return;
  d = fdopendir (dfd);
  if (!d)
    {
      close (dfd);
      return;
    }
  while ((de = readdir (d)))
    {
      _cleanup_free_ char *owner = NULL;
      if (de->d_name[0] == '.')
        continue;
      owner = port_owner (dirfd (d), de->d_name);
      if (owner && !strcmp (owner, container_id))
        unlinkat (dirfd (d), de->d_name, 0);
    }
}
