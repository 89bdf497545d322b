/* A container's resource use (stats.h). */
#include "runtime/stats.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/xalloc.h"
#include "runtime/cgroup.h"

#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The contents of dir/file (NULL if unreadable). */
static char *
slurp (const char *dir, const char *file)
{
  _cleanup_free_ char *path = xasprintf ("%s/%s", dir, file);
  struct err *e = NULL;
  char *buf = NULL;
  if (fs_read_file (AT_FDCWD, path, 1 << 20, &buf, NULL, &e) < 0)
    {
      err_free (e);
      return NULL;
    }
  return buf;
}

static bool
read_u64 (const char *dir, const char *file, uint64_t *out)
{
  _cleanup_free_ char *s = slurp (dir, file);
  char *end;
  if (!s)
    return false;
  if (!strncmp (s, "max", 3))
    {
      *out = 0;
      return true;
    }
  *out = strtoull (s, &end, 10);
  return end != s;
}

/* The value of "key N" in a flat keyed file (cpu.stat, memory.stat). */
static bool
keyed (const char *dir, const char *file, const char *key, uint64_t *out)
{
  _cleanup_free_ char *s = slurp (dir, file);
  size_t kl = strlen (key);
  for (char *l = s; l && *l; l = strchr (l, '\n') ? strchr (l, '\n') + 1 : NULL)
    if (!strncmp (l, key, kl) && l[kl] == ' ')
      {
        *out = strtoull (l + kl + 1, NULL, 10);
        return true;
      }
  return false;
}

void
rt_stats_read_v2 (const char *dir, struct rt_stats *st)
{
  uint64_t usec = 0, inactive = 0;
  _cleanup_free_ char *io = slurp (dir, "io.stat");
  st->cgroup = read_u64 (dir, "memory.current", &st->mem_usage);
  if (keyed (dir, "cpu.stat", "usage_usec", &usec))
    st->cpu_ns = usec * 1000;
  /* docker: usage without the inactive file cache */
  if (keyed (dir, "memory.stat", "inactive_file", &inactive)
      && inactive < st->mem_usage)
    st->mem_usage -= inactive;
  read_u64 (dir, "memory.max", &st->mem_limit);
  read_u64 (dir, "pids.current", &st->pids);
  /* "8:0 rbytes=N wbytes=N rios=N ..." per device */
  for (char *p = io; p && (p = strstr (p, "bytes="));)
    {
      uint64_t v = strtoull (p + 6, NULL, 10);
      if (p > io && p[-1] == 'r' && (p - 1 == io || p[-2] == ' '))
        st->blk_read += v;
      else if (p > io && p[-1] == 'w' && (p - 1 == io || p[-2] == ' '))
        st->blk_write += v;
      p += 6;
    }
}

void
rt_stats_read_v1 (const char *root, const char *path, struct rt_stats *st)
{
  _cleanup_free_ char *cpu = xasprintf ("%s/cpuacct/%s", root, path);
  _cleanup_free_ char *mem = xasprintf ("%s/memory/%s", root, path);
  _cleanup_free_ char *pids = xasprintf ("%s/pids/%s", root, path);
  _cleanup_free_ char *blk = xasprintf ("%s/blkio/%s", root, path);
  _cleanup_free_ char *io = NULL;
  uint64_t inactive = 0;
  st->cgroup = read_u64 (mem, "memory.usage_in_bytes", &st->mem_usage);
  read_u64 (cpu, "cpuacct.usage", &st->cpu_ns);
  if (keyed (mem, "memory.stat", "total_inactive_file", &inactive)
      && inactive < st->mem_usage)
    st->mem_usage -= inactive;
  /* v1's "no limit" is a huge number: the host's memory caps it below */
  read_u64 (mem, "memory.limit_in_bytes", &st->mem_limit);
  read_u64 (pids, "pids.current", &st->pids);
  io = slurp (blk, "blkio.throttle.io_service_bytes_recursive");
  if (!io || !*io)
    {
      free (io);
      io = slurp (blk, "blkio.io_service_bytes_recursive");
    }
  /* "8:0 Read N" lines */
  for (char *l = io; l && *l;
       l = strchr (l, '\n') ? strchr (l, '\n') + 1 : NULL)
    {
      char dev[32], op[16];
      unsigned long long v;
      if (sscanf (l, "%31s %15s %llu", dev, op, &v) != 3)
        continue;
      if (op[0] == 'R' || op[0] == 'r')
        st->blk_read += v;
      else if (op[0] == 'W' || op[0] == 'w')
        st->blk_write += v;
    }
}

static void
read_net (pid_t pid, struct rt_stats *st)
{
  _cleanup_free_ char *dir = xasprintf ("/proc/%d/net", (int)pid);
  _cleanup_free_ char *dev = slurp (dir, "dev");
  /* two header lines, then "  eth0: rx_bytes ... (8 rx fields) tx_bytes" */
  for (char *l = dev; l && *l;
       l = strchr (l, '\n') ? strchr (l, '\n') + 1 : NULL)
    {
      char name[32];
      unsigned long long rx, tx, skip;
      char *colon = strchr (l, ':');
      char *nl = strchr (l, '\n');
      if (!colon || (nl && colon > nl))
        continue;
      if (sscanf (l, " %31[^:]: %llu %llu %llu %llu %llu %llu %llu %llu %llu",
                  name, &rx, &skip, &skip, &skip, &skip, &skip, &skip, &skip,
                  &tx)
          != 10)
        continue;
      st->net = true;
      if (!strcmp (name, "lo"))
        continue; /* docker counts the container's interfaces only */
      st->net_rx += rx;
      st->net_tx += tx;
    }
}

void
rt_stats_read (const char *cgroup_root, const char *parent, const char *id,
               pid_t pid, struct rt_stats *out)
{
  enum rt_cgroup_mode mode = RT_CGROUP_NONE;
  struct err *e = NULL;
  memset (out, 0, sizeof *out);
  if (rt_cgroup_detect (cgroup_root, &mode, &e) < 0)
    err_free (e);
  if (mode != RT_CGROUP_NONE)
    {
      struct rt_cgroup *cg = rt_cgroup_new (cgroup_root, mode, parent, id);
      if (mode == RT_CGROUP_V2)
        {
          _cleanup_free_ char *dir = xasprintf ("%s/%s", cg->root, cg->path);
          rt_stats_read_v2 (dir, out);
        }
      else
        rt_stats_read_v1 (cg->root, cg->path, out);
      rt_cgroup_free (cg);
    }
  if (pid > 0)
    read_net (pid, out);
}

int
rt_stats_system (uint64_t *cpu_ns, unsigned *ncpu)
{
  _cleanup_free_ char *s = slurp ("/proc", "stat");
  unsigned long long f[7];
  *ncpu = 0;
  if (!s
      || sscanf (s, "cpu %llu %llu %llu %llu %llu %llu %llu", &f[0], &f[1],
                 &f[2], &f[3], &f[4], &f[5], &f[6])
             != 7)
    return -1;
  *cpu_ns = 0;
  for (int i = 0; i < 7; i++)
    *cpu_ns += f[i] * (1000000000ULL / 100);
  for (char *l = strchr (s, '\n'); l && !strncmp (l + 1, "cpu", 3);
       l = strchr (l + 1, '\n'))
    (*ncpu)++;
  return 0;
}

uint64_t
rt_stats_host_memory (void)
{
  uint64_t kb = 0;
  keyed ("/proc", "meminfo", "MemTotal:", &kb);
  return kb * 1024;
}
