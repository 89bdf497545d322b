/* Detaching a background child from the caller (detach.h). */
#include "lib/detach.h"

#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

int
detach_self (int keep_fd)
{
  int null;
  setsid ();
  null = open ("/dev/null", O_RDWR);
  if (null >= 0)
    {
      dup2 (null, 0);
      dup2 (null, 1);
      dup2 (null, 2);
    }
  if (dup2 (keep_fd, 3) != 3)
    return -1;
  syscall (SYS_close_range, 4, ~0U, 0);
  return 3;
}
