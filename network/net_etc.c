/* The network's /etc/hosts, shared by its containers, and a container's
 * resolv.conf (moby's etchosts and resolvconf behaviour, from scratch).
 *
 * <root>/networks/<net>/hosts holds the localhost lines, the gateway's
 * names, then one line per attached container ("IP<TAB>hostname name").
 * Every container of the network bind-mounts this one file read-only as
 * /etc/hosts. why: a start appends its own line and an end blanks it, in
 * place under the networks lock, so both cost the same beside 500
 * containers as beside none; rewriting each container's own file cost
 * every start and end a pass over all of them. (docker's user networks
 * answer names with a DNS server; a file needs no process.) Blanked lines
 * keep their length, so no other line moves under a reader, and are
 * squeezed out once they outnumber the live ones. */
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/strbuf.h"
#include "lib/xalloc.h"
#include "network/ipam.h"
#include "network/net.h"
#include "runtime/etcfiles.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#define ETC_MAX (16 * 1024 * 1024)
#define HOSTS_FILE "hosts"

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

/* Append "ip\tname1 name2..." with the names (NULL-terminated) that are
 * fit and distinct. */
static void
hosts_line (struct strbuf *s, struct in_addr ip, const char *const *names)
{
  char buf[INET_ADDRSTRLEN];
  size_t start = s->len;
  for (size_t i = 0; names[i]; i++)
    {
      bool dup = !host_name_ok (names[i]);
      for (size_t j = 0; j < i && !dup; j++)
        dup = host_name_ok (names[j]) && !strcmp (names[i], names[j]);
      if (dup)
        continue;
      if (s->len == start)
        strbuf_addf (s, "%s\t%s", net_ip_str (ip, buf), names[i]);
      else
        strbuf_addf (s, " %s", names[i]);
    }
  if (s->len != start)
    strbuf_addch (s, '\n');
}

char *
net_hosts_render (struct in_addr gateway)
{
  struct strbuf s = STRBUF_INIT;
  strbuf_addstr (&s, "127.0.0.1\tlocalhost\n"
                     "::1\tlocalhost ip6-localhost ip6-loopback\n"
                     "fe00::\tip6-localnet\n"
                     "ff00::\tip6-mcastprefix\n"
                     "ff02::1\tip6-allnodes\n"
                     "ff02::2\tip6-allrouters\n");
  const char *gw[]
      = { "host.containers.internal", "host.docker.internal", NULL };
  hosts_line (&s, gateway, gw);
  return strbuf_detach (&s, NULL);
}

char *
net_hosts_entry (struct in_addr ip, const char *hostname, const char *name)
{
  const char *names[] = { hostname ? hostname : "", name ? name : "", NULL };
  struct strbuf s = STRBUF_INIT;
  hosts_line (&s, ip, names);
  return strbuf_detach (&s, NULL);
}

char *
net_hosts_path (const char *root, const char *net)
{
  _cleanup_free_ char *dir = net_dir_path (root, net);
  return xasprintf ("%s/" HOSTS_FILE, dir);
}

/* The shared file, created with its fixed head when missing. */
static int
hosts_open (int netfd, const struct net_config *cfg, struct err **err)
{
  _cleanup_free_ char *head = NULL;
  int fd = openat (netfd, HOSTS_FILE, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
  if (fd >= 0 || errno != ENOENT)
    return fd >= 0 ? fd : err_set (err, errno, "open '" HOSTS_FILE "'");
  fd = openat (netfd, HOSTS_FILE,
               O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0)
    return err_set (err, errno, "create '" HOSTS_FILE "'");
  head = net_hosts_render (cfg->gateway);
  if (fs_write_all (fd, head, strlen (head)) == 0)
    return fd;
  err_set (err, errno, "write '" HOSTS_FILE "'");
  close (fd);
  return -1;
}

int
net_hosts_ensure (const char *root, const struct net_config *cfg,
                  struct err **err)
{
  _cleanup_free_ char *path = net_hosts_path (root, cfg->name);
  _cleanup_close_ int lock = -1, netfd = -1, fd = -1;
  if (access (path, F_OK) == 0)
    return 0;
  lock = net_ipam_lock (root, err);
  if (lock < 0)
    return -1;
  netfd = net_ipam_open_net (root, cfg->name, err);
  if (netfd < 0)
    return -1;
  fd = hosts_open (netfd, cfg, err);
  return fd < 0 ? -1 : 0;
}

int
net_hosts_add (int netfd, const struct net_config *cfg, struct in_addr ip,
               const char *hostname, const char *name, struct err **err)
{
  const char *names[] = { hostname ? hostname : "", name ? name : "", NULL };
  return net_hosts_add_names (netfd, cfg, ip, names, err);
}

int
net_hosts_add_names (int netfd, const struct net_config *cfg, struct in_addr ip,
                     const char *const *names, struct err **err)
{
  struct strbuf line = STRBUF_INIT;
  _cleanup_close_ int fd = -1;
  int r = 0;
  hosts_line (&line, ip, names);
  if (!line.len)
    goto out; /* no name fit for a hosts line */
  fd = hosts_open (netfd, cfg, err);
  if (fd < 0)
    r = -1;
  /* one write at the end: a reader sees the line whole or not at all */
  else if (lseek (fd, 0, SEEK_END) < 0
           || fs_write_all (fd, line.buf, line.len) < 0)
    r = err_set (err, errno, "write '" HOSTS_FILE "'");
out:
  strbuf_release (&line);
  return r;
}

/* Rewrite fd's text without its blanked lines, in place (the inode is
 * what the containers have mounted). */
static void
hosts_squeeze (int fd, const char *text, size_t len)
{
  struct strbuf s = STRBUF_INIT;
  for (const char *p = text, *end = text + len; p < end;)
    {
      const char *nl = memchr (p, '\n', (size_t)(end - p));
      size_t n = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);
      if (*p != '#')
        strbuf_add (&s, p, n);
      p += n;
    }
  if (pwrite (fd, s.buf, s.len, 0) == (ssize_t)s.len)
    (void)!ftruncate (fd, (off_t)s.len);
  strbuf_release (&s);
}

void
net_hosts_del (int netfd, struct in_addr ip)
{
  _cleanup_close_ int fd
      = openat (netfd, HOSTS_FILE, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
  _cleanup_free_ char *text = NULL;
  char buf[INET_ADDRSTRLEN + 1];
  size_t len = 0, blank = 0, live = 0, iplen;
  struct err *e = NULL;
  if (fd < 0)
    return;
  if (fs_read_fd (fd, ETC_MAX, &text, &len, &e) < 0)
    {
      err_free (e);
      return;
    }
  net_ip_str (ip, buf);
  iplen = strlen (buf);
  buf[iplen++] = '\t';
  for (char *p = text, *end = text + len; p < end;)
    {
      char *nl = memchr (p, '\n', (size_t)(end - p));
      size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
      if (n > iplen && !memcmp (p, buf, iplen))
        {
          /* blanked in place: same length, so no other line moves */
          memset (p, ' ', n);
          *p = '#';
          if (pwrite (fd, p, n, p - text) != (ssize_t)n)
            return;
        }
      if (*p == '#')
        blank++;
      else if (n && *p >= '0' && *p <= '9')
        live++;
      p += n + 1;
    }
  if (blank > 32 && blank > live)
    hosts_squeeze (fd, text, len);
}

int
net_write_resolv (const char *dir, const struct rt_plan *p, struct err **err)
{
  _cleanup_free_ char *host = rt_host_resolv_conf ();
  _cleanup_free_ char *filtered = rt_resolv_conf_filter (host);
  _cleanup_free_ char *resolv
      = p ? rt_resolv_conf_dns (filtered, p) : xstrdup (filtered);
  _cleanup_free_ char *path = xasprintf ("%s/resolv.conf", dir);
  return rt_write_in_place (path, resolv, err);
}

int
net_write_own_hosts (const char *shared_path, const struct rt_plan *p,
                     struct err **err)
{
  _cleanup_free_ char *text = NULL, *own = NULL;
  _cleanup_free_ char *path = xasprintf ("%s/hosts", p->state_dir);
  if (fs_read_file (AT_FDCWD, shared_path, 1 << 22, &text, NULL, err) < 0)
    return -1;
  own = rt_hosts_extra (text, p);
  return rt_write_in_place (path, own, err);
}
