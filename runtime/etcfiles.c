/* /etc/hostname, /etc/hosts and /etc/resolv.conf for a container: written
 * by the runtime into plan->state_dir before clone and bind-mounted by the
 * child (a network hook may rewrite hosts and resolv.conf in between). */
#include "runtime/etcfiles.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/strbuf.h"
#include "lib/xalloc.h"
#include "runtime/child.h"
#include "runtime/plan.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#define ETC_MAX (1024 * 1024)

static int
write_file (const char *dir, const char *name, const char *data, size_t len,
            struct err **err)
{
  _cleanup_free_ char *path = xasprintf ("%s/%s", dir, name);
  /* no fsync: these are rewritten on every start */
  _cleanup_close_ int fd = open (
      path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0 || fs_write_all (fd, data, len) < 0)
    return err_set (err, errno, "write '%s'", path);
  return 0;
}

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
rt_resolv_conf_filter (const char *host_text)
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
          strbuf_add (&out, p, (size_t)(end - p));
          strbuf_addch (&out, '\n');
        }
      p = nl ? nl + 1 : end;
    }
  if (!kept)
    strbuf_addstr (&out, "nameserver 8.8.8.8\nnameserver 8.8.4.4\n");
  return strbuf_detach (&out, NULL);
}

char *
rt_host_resolv_conf (void)
{
  char *text = NULL;
  struct err *e = NULL;
  if (fs_read_file (AT_FDCWD, "/etc/resolv.conf", ETC_MAX, &text, NULL, &e) < 0)
    {
      err_free (e);
      return xstrdup ("");
    }
  /* systemd-resolved's stub: the real servers are in its other file. */
  if (strstr (text, "nameserver 127.0.0.53"))
    {
      char *real = NULL;
      if (fs_read_file (AT_FDCWD, "/run/systemd/resolve/resolv.conf", ETC_MAX,
                        &real, NULL, &e)
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
rt_write_in_place (const char *path, const char *text, struct err **err)
{
  _cleanup_close_ int fd = open (
      path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0)
    return err_set (err, errno, "open '%s'", path);
  if (fs_write_all (fd, text, strlen (text)) < 0)
    return err_set (err, errno, "write '%s'", path);
  return 0;
}

int
rt_write_etc_host (const char *dir, struct err **err)
{
  _cleanup_free_ char *hosts = NULL;
  _cleanup_free_ char *resolv = rt_host_resolv_conf ();
  _cleanup_free_ char *hp = xasprintf ("%s/hosts", dir);
  _cleanup_free_ char *rp = xasprintf ("%s/resolv.conf", dir);
  if (fs_read_file (AT_FDCWD, "/etc/hosts", ETC_MAX, &hosts, NULL, err) < 0)
    return -1;
  if (rt_write_in_place (hp, hosts, err) < 0
      || rt_write_in_place (rp, resolv, err) < 0)
    return -1;
  return 0;
}

/* --add-host lines at the end of the container's hosts file. */
static int
append_extra_hosts (const struct rt_plan *p, struct err **err)
{
  if (!p->extra_hosts || !p->extra_hosts[0])
    return 0;
  _cleanup_free_ char *path = xasprintf ("%s/hosts", p->state_dir);
  _cleanup_close_ int fd
      = open (path, O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return err_set (err, errno, "open '%s'", path);
  for (size_t i = 0; p->extra_hosts[i]; i++)
    if (fs_write_all (fd, p->extra_hosts[i], strlen (p->extra_hosts[i])) < 0
        || fs_write_all (fd, "\n", 1) < 0)
      return err_set (err, errno, "write '%s'", path);
  return 0;
}

int
rt_write_etc_files (const struct rt_plan *p, struct err **err)
{
  _cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;
  _cleanup_free_ char *resolv = NULL, *hosts = NULL, *host_resolv = NULL;
  bool host_net = p->network == RT_NET_HOST;
  struct err *e = NULL;
  const char *host = p->hostname;
  char shortid[13];
  if (!p->state_dir)
    return 0;
  if (!host)
    {
      snprintf (shortid, sizeof shortid, "%s", p->id ? p->id : "imgtool");
      host = shortid;
    }
  strbuf_addf (&sb, "%s\n", host);
  if (write_file (p->state_dir, "hostname", sb.buf, sb.len, err) < 0)
    return -1;
  /* the host's own with its network (docker) */
  if (host_net)
    return rt_write_etc_host (p->state_dir, err) < 0
               ? -1
               : append_extra_hosts (p, err);
  hosts = xasprintf ("127.0.0.1\tlocalhost\n"
                     "::1\tlocalhost ip6-localhost ip6-loopback\n"
                     "fe00::0\tip6-localnet\n"
                     "ff00::0\tip6-mcastprefix\n"
                     "ff02::1\tip6-allnodes\n"
                     "ff02::2\tip6-allrouters\n"
                     "127.0.1.1\t%s\n",
                     host);
  if (write_file (p->state_dir, "hosts", hosts, strlen (hosts), err) < 0
      || append_extra_hosts (p, err) < 0)
    return -1;
  /* the host's, without the nameservers the container cannot reach; a
   * bridge network hook rewrites it */
  if (fs_read_file (AT_FDCWD, "/etc/resolv.conf", 1 << 20, &host_resolv, NULL,
                    &e)
      < 0)
    err_free (e);
  resolv = rt_resolv_conf_filter (host_resolv);
  return write_file (p->state_dir, "resolv.conf", resolv, strlen (resolv), err);
}
