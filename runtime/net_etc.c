/* The container's /etc/hosts and /etc/resolv.conf (moby's etchosts and
 * resolvconf behaviour, written from scratch). */
#include "runtime/ipam.h"
#include "runtime/net.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/strbuf.h"
#include "lib/xalloc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#define ETC_MAX (1024 * 1024)

/* First word of line (after blanks) into w (at most n-1 chars); returns a
 * pointer after it. */
static const char *
word (const char *p, const char *end, char *w, size_t n)
{
  size_t k = 0;
  while (p < end && (*p == ' ' || *p == '\t'))
    p++;
  while (p < end && *p != ' ' && *p != '\t')
    {
      if (k + 1 < n)
        w[k++] = *p;
      p++;
    }
  w[k] = '\0';
  return p;
}

/* A nameserver the container can use: IPv4 and not loopback (the container
 * has its own lo; the host's stub resolver is unreachable from it). */
static bool
usable_nameserver (const char *addr)
{
  struct in_addr a;
  if (inet_pton (AF_INET, addr, &a) != 1)
    return false; /* IPv6 (or junk): the network is IPv4 only */
  return (ntohl (a.s_addr) >> 24) != 127;
}

char *
net_resolv_conf_filter (const char *host_text)
{
  struct strbuf out = STRBUF_INIT;
  const char *p = host_text ? host_text : "";
  int kept = 0;
  while (*p)
    {
      const char *nl = strchr (p, '\n');
      const char *end = nl ? nl : p + strlen (p);
      char w[64], addr[INET6_ADDRSTRLEN + 16];
      const char *rest = word (p, end, w, sizeof w);
      bool keep = true;
      if (!strcmp (w, "nameserver"))
        {
          word (rest, end, addr, sizeof addr);
          keep = usable_nameserver (addr);
          kept += keep;
        }
      if (keep)
        {
          strbuf_add (&out, p, (size_t) (end - p));
          strbuf_addch (&out, '\n');
        }
      p = nl ? nl + 1 : end;
    }
  if (!kept)
    strbuf_addstr (&out, "nameserver 8.8.8.8\nnameserver 8.8.4.4\n");
  return strbuf_detach (&out, NULL);
}

/* A name fit for a hosts line: letters, digits, '-', '_', '.' (what
 * docker allows in names and hostnames). Anything else, a newline above
 * all, could add entries of its own to other containers' hosts files. */
static bool
host_name_ok (const char *n)
{
  size_t len = n ? strlen (n) : 0;
  return len && len < 254
         && strspn (n, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                       "0123456789-_.")
                == len;
}

/* Append "ip\ta[ b]" with the names that are fit and distinct. */
static void
hosts_line (struct strbuf *s, struct in_addr ip, const char *a, const char *b)
{
  char buf[INET_ADDRSTRLEN];
  if (!host_name_ok (a))
    a = NULL;
  if (!host_name_ok (b))
    b = NULL;
  if (!a || !*a)
    {
      a = b;
      b = NULL;
    }
  if (!a || !*a)
    return;
  strbuf_addf (s, "%s\t%s", net_ip_str (ip, buf), a);
  if (b && *b && strcmp (a, b))
    strbuf_addf (s, " %s", b);
  strbuf_addch (s, '\n');
}

char *
net_hosts_render (struct in_addr own_ip, const char *hostname,
                  const char *name, struct in_addr gateway,
                  const struct net_host_entry *peers, size_t n_peers)
{
  struct strbuf s = STRBUF_INIT;
  strbuf_addstr (&s, "127.0.0.1\tlocalhost\n"
                     "::1\tlocalhost ip6-localhost ip6-loopback\n"
                     "fe00::\tip6-localnet\n"
                     "ff00::\tip6-mcastprefix\n"
                     "ff02::1\tip6-allnodes\n"
                     "ff02::2\tip6-allrouters\n");
  hosts_line (&s, own_ip, hostname, name);
  hosts_line (&s, gateway, "host.containers.internal",
              "host.docker.internal");
  for (size_t i = 0; i < n_peers; i++)
    {
      /* names is "a b ...": each must be fit */
      _cleanup_free_ char *copy = xstrdup (peers[i].names ? peers[i].names
                                                          : "");
      char *save = NULL, *tok;
      bool ok = *copy != '\0';
      for (tok = strtok_r (copy, " ", &save); tok && ok;
           tok = strtok_r (NULL, " ", &save))
        ok = host_name_ok (tok);
      if (ok)
        {
          char buf[INET_ADDRSTRLEN];
          strbuf_addf (&s, "%s\t%s\n", net_ip_str (peers[i].ip, buf),
                       peers[i].names);
        }
    }
  return strbuf_detach (&s, NULL);
}

/* Replace a file's content keeping its inode: the container sees the file
 * through a bind mount of that inode. */
static int
write_in_place (const char *path, const char *text, struct err **err)
{
  _cleanup_close_ int fd = open (
      path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0)
    return err_set (err, errno, "open '%s'", path);
  if (fs_write_all (fd, text, strlen (text)) < 0)
    return err_set (err, errno, "write '%s'", path);
  return 0;
}

static char *
peer_names (const struct net_lease *l)
{
  const char *a = host_name_ok (l->name) ? l->name : NULL;
  const char *b = host_name_ok (l->hostname) ? l->hostname : NULL;
  if (!a)
    {
      a = b;
      b = NULL;
    }
  if (!a)
    return NULL;
  if (b && *b && strcmp (a, b))
    return xasprintf ("%s %s", a, b);
  return xstrdup (a);
}

/* The hosts file of lease self among leases (live ones only). */
static char *
hosts_for (const struct net_config *cfg, const struct net_lease *self,
           const struct net_lease *all, const bool *alive, size_t n)
{
  struct net_host_entry *peers = xcalloc (n + 1, sizeof *peers);
  char **names = xcalloc (n + 1, sizeof *names);
  size_t np = 0;
  char *text;
  for (size_t i = 0; i < n; i++)
    {
      if (!alive[i] || &all[i] == self || !all[i].container_id
          || (self->container_id
              && !strcmp (all[i].container_id, self->container_id)))
        continue;
      names[np] = peer_names (&all[i]);
      if (!names[np])
        continue;
      peers[np].ip = all[i].ip;
      peers[np].names = names[np];
      np++;
    }
  text = net_hosts_render (self->ip, self->hostname, self->name, cfg->gateway,
                           peers, np);
  for (size_t i = 0; i < np; i++)
    free (names[i]);
  free (names);
  free (peers);
  return text;
}

/* Rewrite the hosts file of every live container of the network except
 * skip_id (its own is written by the caller). Best effort: a container
 * whose file is gone only misses a name. Lock held. */
void
net_hosts_refresh (const char *root, int netfd, const struct net_config *cfg,
                   const char *skip_id)
{
  struct net_lease *all = NULL;
  size_t n = 0;
  bool *alive;
  struct err *e = NULL;
  if (net_ipam_load_all (netfd, &all, &n, &e) < 0)
    {
      err_free (e);
      return;
    }
  alive = xcalloc (n + 1, sizeof *alive);
  for (size_t i = 0; i < n; i++)
    alive[i] = net_lease_alive (root, &all[i]);
  for (size_t i = 0; i < n; i++)
    {
      _cleanup_free_ char *text = NULL;
      if (!alive[i] || !all[i].hosts_path
          || (skip_id && !strcmp (all[i].container_id, skip_id)))
        continue;
      text = hosts_for (cfg, &all[i], all, alive, n);
      if (write_in_place (all[i].hosts_path, text, &e) < 0)
        err_clear (&e);
    }
  free (alive);
  net_leases_free (all, n);
}

static char *
host_resolv_conf (void)
{
  char *text = NULL;
  struct err *e = NULL;
  if (fs_read_file (AT_FDCWD, "/etc/resolv.conf", ETC_MAX, &text, NULL, &e)
      < 0)
    {
      err_free (e);
      return xstrdup ("");
    }
  /* systemd-resolved's stub: the real servers are in its other file. */
  if (strstr (text, "nameserver 127.0.0.53"))
    {
      char *real = NULL;
      if (fs_read_file (AT_FDCWD, "/run/systemd/resolve/resolv.conf",
                        ETC_MAX, &real, NULL, &e)
          == 0)
        {
          free (text);
          return real;
        }
      err_free (e);
    }
  return text;
}

int
net_write_etc (const char *root, const struct net_attachment *a,
               const char *container_id, const char *hostname,
               const char *dir, struct err **err)
{
  _cleanup_free_ char *host = host_resolv_conf ();
  _cleanup_free_ char *resolv = net_resolv_conf_filter (host);
  _cleanup_free_ char *resolv_path = xasprintf ("%s/resolv.conf", dir);
  _cleanup_free_ char *hosts_path = xasprintf ("%s/hosts", dir);
  _cleanup_close_ int lock = -1, netfd = -1;
  struct net_lease *all = NULL;
  size_t n = 0;
  bool *alive = NULL;
  int r = -1;

  if (write_in_place (resolv_path, resolv, err) < 0)
    return -1;
  lock = net_ipam_lock (root, err);
  if (lock < 0)
    return -1;
  netfd = net_ipam_open_net (root, a->net.name, err);
  if (netfd < 0 || net_ipam_load_all (netfd, &all, &n, err) < 0)
    return -1;
  alive = xcalloc (n + 1, sizeof *alive);
  for (size_t i = 0; i < n; i++)
    alive[i] = net_lease_alive (root, &all[i]);
  for (size_t i = 0; i < n; i++)
    {
      _cleanup_free_ char *text = NULL;
      if (!all[i].container_id || strcmp (all[i].container_id, container_id)
          || all[i].ip.s_addr != a->ip.s_addr)
        continue;
      if (hostname && *hostname)
        {
          free (all[i].hostname);
          all[i].hostname = xstrdup (hostname);
        }
      text = hosts_for (&a->net, &all[i], all, alive, n);
      if (write_in_place (hosts_path, text, err) < 0)
        goto out;
      free (all[i].hosts_path);
      all[i].hosts_path = realpath (hosts_path, NULL);
      if (!all[i].hosts_path)
        all[i].hosts_path = xstrdup (hosts_path);
      if (net_ipam_write (netfd, &all[i], err) < 0)
        goto out;
      net_hosts_refresh (root, netfd, &a->net, container_id);
      r = 0;
      goto out;
    }
  err_set (err, 0, "container '%s' has no lease on network '%s'",
           container_id, a->net.name);
out:
  free (alive);
  net_leases_free (all, n);
  return r;
}

int
net_write_etc_host (const char *dir, struct err **err)
{
  _cleanup_free_ char *hosts = NULL;
  _cleanup_free_ char *resolv = host_resolv_conf ();
  _cleanup_free_ char *hp = xasprintf ("%s/hosts", dir);
  _cleanup_free_ char *rp = xasprintf ("%s/resolv.conf", dir);
  if (fs_read_file (AT_FDCWD, "/etc/hosts", ETC_MAX, &hosts, NULL, err) < 0)
    return -1;
  if (write_in_place (hp, hosts, err) < 0
      || write_in_place (rp, resolv, err) < 0)
    return -1;
  return 0;
}
