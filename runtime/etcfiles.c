/* /etc/hostname, /etc/hosts and /etc/resolv.conf for a container: written
 * by the runtime into plan->state_dir before clone and bind-mounted by the
 * child (a network hook may rewrite hosts and resolv.conf in between). */
#include "runtime/child.h"
#include "runtime/net.h"
#include "runtime/plan.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/strbuf.h"
#include "lib/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

static int
write_file (const char *dir, const char *name, const char *data, size_t len,
            struct err **err)
{
  _cleanup_free_ char *path = xasprintf ("%s/%s", dir, name);
  /* no fsync: these are rewritten on every start */
  _cleanup_close_ int fd
      = open (path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
              0644);
  if (fd < 0 || fs_write_all (fd, data, len) < 0)
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
    return net_write_etc_host (p->state_dir, err);
  hosts = xasprintf ("127.0.0.1\tlocalhost\n"
                     "::1\tlocalhost ip6-localhost ip6-loopback\n"
                     "fe00::0\tip6-localnet\n"
                     "ff00::0\tip6-mcastprefix\n"
                     "ff02::1\tip6-allnodes\n"
                     "ff02::2\tip6-allrouters\n"
                     "127.0.1.1\t%s\n",
                     host);
  if (write_file (p->state_dir, "hosts", hosts, strlen (hosts), err) < 0)
    return -1;
  /* the host's, without the nameservers the container cannot reach; a
   * bridge network hook rewrites it */
  if (fs_read_file (AT_FDCWD, "/etc/resolv.conf", 1 << 20, &host_resolv,
                    NULL, &e)
      < 0)
    err_free (e);
  resolv = net_resolv_conf_filter (host_resolv);
  return write_file (p->state_dir, "resolv.conf", resolv, strlen (resolv),
                     err);
}
