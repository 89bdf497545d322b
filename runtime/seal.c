/* CVE-2019-5736: a container must never reach the host's imgtool binary
 * through /proc/<pid>/exe (e.g. `#!/proc/self/exe` run by an exec'ing
 * imgtool process, which then loads the container's libraries and keeps
 * an fd to our binary to overwrite it later). imgtool re-execs itself
 * from a sealed memfd copy before it starts containers (crun's
 * ensure_cloned_binary, runc's memfd exeseal): /proc/self/exe of every
 * imgtool process is then an anonymous, write-sealed file. */
#include "lib/err.h"
#include "lib/xalloc.h"
#include "runtime/container.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif

#define SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

bool
rt_self_sealed (void)
{
  _cleanup_close_ int fd = open ("/proc/self/exe", O_RDONLY | O_CLOEXEC);
  int seals = fd < 0 ? -1 : fcntl (fd, F_GET_SEALS);
  return seals >= 0 && (seals & SEALS) == SEALS;
}

int
rt_seal_self (char **argv, struct err **err)
{
  extern char **environ;
  _cleanup_close_ int src = -1, mfd = -1;
  struct stat st;
  off_t off = 0;
  if (rt_self_sealed ())
    return 0;
  src = open ("/proc/self/exe", O_RDONLY | O_CLOEXEC);
  if (src < 0 || fstat (src, &st) < 0)
    return err_set (err, errno, "open /proc/self/exe");
  mfd = memfd_create ("imgtool", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
  if (mfd < 0 && errno == EINVAL) /* kernels before 6.3 know no MFD_EXEC */
    mfd = memfd_create ("imgtool", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (mfd < 0)
    return err_set (err, errno, "memfd_create");
  while (off < st.st_size)
    {
      ssize_t n = sendfile (mfd, src, &off, (size_t)(st.st_size - off));
      if (n <= 0)
        return err_set (err, n < 0 ? errno : EIO, "copy /proc/self/exe");
    }
  if (fcntl (mfd, F_ADD_SEALS, SEALS) < 0)
    return err_set (err, errno, "seal the imgtool copy");
  fexecve (mfd, argv, environ);
  return err_set (err, errno, "re-exec from the sealed copy");
}
