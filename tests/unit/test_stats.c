/* Unit tests for runtime/stats.c: a container's numbers read from fake
 * cgroup v1 and v2 trees (the machine has one of them). */
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/xalloc.h"
#include "runtime/stats.h"
#include "tests/unit/test.h"

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

static char tmp[] = "/tmp/test_stats.XXXXXX";

static void
put (const char *rel, const char *text)
{
  _cleanup_free_ char *path = xasprintf ("%s/%s", tmp, rel);
  _cleanup_free_ char *dir = xstrdup (path);
  struct err *e = NULL;
  *strrchr (dir, '/') = '\0';
  fs_mkdir_p (AT_FDCWD, dir, 0755, &e);
  fs_write_file_replace (AT_FDCWD, path, text, strlen (text), 0644, &e);
  err_free (e);
}

static void
test_v2 (void)
{
  struct rt_stats st;
  _cleanup_free_ char *dir = xasprintf ("%s/v2/imgtool/abc", tmp);
  put ("v2/imgtool/abc/cpu.stat", "usage_usec 2500\nuser_usec 2000\n");
  put ("v2/imgtool/abc/memory.current", "10485760\n");
  put ("v2/imgtool/abc/memory.stat", "anon 1\nfile 2\ninactive_file 4194304\n");
  put ("v2/imgtool/abc/memory.max", "max\n");
  put ("v2/imgtool/abc/pids.current", "3\n");
  put ("v2/imgtool/abc/io.stat",
       "8:0 rbytes=1000 wbytes=2000 rios=1 wios=2 dbytes=0 dios=0\n"
       "8:16 rbytes=24 wbytes=0 rios=1 wios=0 dbytes=5 dios=1\n");
  memset (&st, 0, sizeof st);
  rt_stats_read_v2 (dir, &st);
  CHECK (st.cgroup, "v2: read");
  CHECK (st.cpu_ns == 2500000, "v2: cpu.stat usage_usec in ns");
  CHECK (st.mem_usage == 6291456,
         "v2: memory.current without inactive_file (docker's)");
  CHECK (st.mem_limit == 0, "v2: memory.max 'max' is no limit");
  CHECK (st.pids == 3, "v2: pids.current");
  CHECK (st.blk_read == 1024 && st.blk_write == 2000,
         "v2: io.stat rbytes and wbytes summed over devices (dbytes not)");
  put ("v2/imgtool/abc/memory.max", "536870912\n");
  memset (&st, 0, sizeof st);
  rt_stats_read_v2 (dir, &st);
  CHECK (st.mem_limit == 536870912, "v2: a memory limit");
}

static void
test_v1 (void)
{
  struct rt_stats st;
  _cleanup_free_ char *root = xasprintf ("%s/v1", tmp);
  put ("v1/cpuacct/imgtool/abc/cpuacct.usage", "123456789\n");
  put ("v1/memory/imgtool/abc/memory.usage_in_bytes", "8388608\n");
  put ("v1/memory/imgtool/abc/memory.stat",
       "cache 1\ninactive_file 7\ntotal_inactive_file 1048576\n");
  put ("v1/memory/imgtool/abc/memory.limit_in_bytes", "9223372036854771712\n");
  put ("v1/pids/imgtool/abc/pids.current", "7\n");
  put ("v1/blkio/imgtool/abc/blkio.throttle.io_service_bytes_recursive",
       "8:0 Read 4096\n8:0 Write 8192\n8:0 Sync 1\n8:0 Total 12288\n"
       "Total 12288\n");
  memset (&st, 0, sizeof st);
  rt_stats_read_v1 (root, "imgtool/abc", &st);
  CHECK (st.cgroup, "v1: read");
  CHECK (st.cpu_ns == 123456789, "v1: cpuacct.usage");
  CHECK (st.mem_usage == 7340032,
         "v1: usage without total_inactive_file (not inactive_file)");
  CHECK (st.pids == 7, "v1: pids.current");
  CHECK (st.blk_read == 4096 && st.blk_write == 8192,
         "v1: Read and Write lines only");
}

static void
test_missing (void)
{
  struct rt_stats st;
  _cleanup_free_ char *dir = xasprintf ("%s/v2/imgtool/none", tmp);
  memset (&st, 0, sizeof st);
  rt_stats_read_v2 (dir, &st);
  CHECK (!st.cgroup, "no cgroup: nothing read (shown as --)");
}

static void
test_system (void)
{
  uint64_t ns = 0;
  unsigned ncpu = 0;
  CHECK (rt_stats_system (&ns, &ncpu) == 0 && ns > 0 && ncpu > 0,
         "the host's CPU time and CPUs from /proc/stat");
  CHECK (rt_stats_host_memory () > 0, "the host's memory");
}

int
main (void)
{
  if (!mkdtemp (tmp))
    return 1;
  test_v2 ();
  test_v1 ();
  test_missing ();
  test_system ();
  {
    struct err *e = NULL;
    fs_rm_rf (AT_FDCWD, tmp, &e);
    err_free (e);
  }
  return test_done ();
}
