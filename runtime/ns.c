/* Namespace helpers: the loopback link of a new network namespace. */
#include "lib/err.h"
#include "lib/xalloc.h"
#include "runtime/child.h"

#include <errno.h>
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

int
rt_net_lo_up (struct err **err)
{
  struct ifreq ifr;
  _cleanup_close_ int s = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0)
    return err_set (err, errno, "socket");
  memset (&ifr, 0, sizeof ifr);
  strcpy (ifr.ifr_name, "lo");
  if (ioctl (s, SIOCGIFFLAGS, &ifr) < 0)
    return err_set (err, errno, "get flags of 'lo'");
  ifr.ifr_flags |= IFF_UP;
  if (ioctl (s, SIOCSIFFLAGS, &ifr) < 0)
    return err_set (err, errno, "bring 'lo' up");
  return 0;
}
