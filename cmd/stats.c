/* imgtool stats [-a] [--no-stream] [--no-trunc] [--format F] [CONTAINER...]:
 * docker stats. Two samples a second apart give CPU % (docker's formula:
 * the container's CPU time over the host's, times the CPUs); memory,
 * block I/O and pids come from the cgroup, network bytes from the
 * container's namespace (runtime/stats.h). Without --no-stream the table
 * is drawn again every second until interrupted. What cannot be read (a
 * stopped container, no cgroup when rootless) shows "--". */
#include "runtime/stats.h"
#include "cmd/command.h"
#include "cmd/containers.h"
#include "cmd/opttable.h"
#include "lib/err.h"
#include "lib/human.h"
#include "lib/xalloc.h"
#include "runtime/cgroup.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char usage_text[]
    = "imgtool stats [-a] [--no-stream] [--no-trunc] [--format "
      "table|json|TEMPLATE] [CONTAINER...]";

/* docker's defaultStatsTableFormat */
#define DEFAULT_TABLE                                                          \
  "table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t"      \
  "{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}"
#define NO_VALUE "--"

enum
{
  OPT_NO_STREAM = 256,
  OPT_NO_TRUNC,
  OPT_FORMAT,
};

struct sample
{
  struct rt_stats st;
  uint64_t system_ns;
  unsigned ncpu;
};

static void
take (const struct rt_record *rec, struct sample *s)
{
  memset (s, 0, sizeof *s);
  if (rec->state.status != RT_RUNNING)
    return;
  rt_stats_read (RT_CGROUP_ROOT, rec->plan.cgroup_parent, rec->id,
                 rec->state.pid, &s->st);
  rt_stats_system (&s->system_ns, &s->ncpu);
}

/* docker's units.BytesSize: binary units, 4 significant digits */
static void
bytes_size (uint64_t v, char *buf, size_t len)
{
  static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
  double d = (double)v;
  size_t u = 0;
  while (d >= 1024 && u + 1 < ARRAY_SIZE (units))
    d /= 1024, u++;
  snprintf (buf, len, "%.4g%s", d, units[u]);
}

static json_t *
row (const struct rt_record *rec, const char *key, const struct sample *a,
     const struct sample *b, bool no_trunc, uint64_t host_mem)
{
  char cpu[32] = NO_VALUE, mem[64] = NO_VALUE, memp[32] = NO_VALUE;
  char net[64] = NO_VALUE, blk[64] = NO_VALUE, pids[32] = NO_VALUE;
  if (b->st.cgroup)
    {
      uint64_t limit = b->st.mem_limit && b->st.mem_limit < host_mem
                           ? b->st.mem_limit
                           : host_mem;
      double dc = (double)b->st.cpu_ns - (double)a->st.cpu_ns;
      double ds = (double)b->system_ns - (double)a->system_ns;
      char u[24], l[24], r[24], w[24];
      snprintf (cpu, sizeof cpu, "%.2f%%",
                dc > 0 && ds > 0 ? dc / ds * b->ncpu * 100.0 : 0.0);
      bytes_size (b->st.mem_usage, u, sizeof u);
      bytes_size (limit, l, sizeof l);
      snprintf (mem, sizeof mem, "%s / %s", u, l);
      snprintf (memp, sizeof memp, "%.2f%%",
                limit ? (double)b->st.mem_usage / (double)limit * 100.0 : 0.0);
      human_size ((int64_t)b->st.blk_read, r, sizeof r);
      human_size ((int64_t)b->st.blk_write, w, sizeof w);
      snprintf (blk, sizeof blk, "%s / %s", r, w);
      snprintf (pids, sizeof pids, "%llu", (unsigned long long)b->st.pids);
    }
  if (b->st.net)
    {
      char r[24], w[24];
      human_size ((int64_t)b->st.net_rx, r, sizeof r);
      human_size ((int64_t)b->st.net_tx, w, sizeof w);
      snprintf (net, sizeof net, "%s / %s", r, w);
    }
  return json_pack (
      "{s:s, s:s%, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "Container", key, "ID",
      rec->id, (size_t)(no_trunc ? RT_ID_HEX : RT_SHORT_ID), "Name",
      rec->name ? rec->name : "", "CPUPerc", cpu, "MemUsage", mem, "MemPerc",
      memp, "NetIO", net, "BlockIO", blk, "PIDs", pids);
}

static json_t *
header (void)
{
  return json_pack ("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}",
                    "Container", "CONTAINER", "ID", "CONTAINER ID", "Name",
                    "NAME", "CPUPerc", "CPU %", "MemUsage", "MEM USAGE / LIMIT",
                    "MemPerc", "MEM %", "NetIO", "NET I/O", "BlockIO",
                    "BLOCK I/O", "PIDs", "PIDS");
}

/* The containers to show: those named, or every running one (-a: all). */
static int
collect (struct global *g, struct svc *svc, char **names, bool all,
         struct rt_record **out, char ***keys, size_t *n, struct err **err)
{
  _cleanup_strv_ char **ids = NULL;
  *n = 0;
  *keys = xcalloc (1, sizeof **keys);
  if (names[0])
    {
      *out = xcalloc (strv_len (names) + 1, sizeof **out);
      for (size_t i = 0; names[i]; i++)
        {
          struct svc_container c;
          if (containers_load (svc, g->root, g->config_path, names[i], &c, err)
              < 0)
            return -1;
          (*out)[(*n)++] = c.rec;
          memset (&c.rec, 0, sizeof c.rec);
          svc_container_release (&c);
          strv_push (keys, xstrdup (names[i]));
        }
      return 0;
    }
  if (svc_open (svc, g->root, g->config_path, err) < 0
      || rt_record_list (&svc->cs, &ids, err) < 0)
    return -1;
  *out = xcalloc (strv_len (ids) + 1, sizeof **out);
  for (size_t i = 0; ids[i]; i++)
    {
      struct err *e = NULL;
      struct rt_record *r = &(*out)[*n];
      if (svc_load_id (svc, ids[i], r, &e) < 0)
        {
          err_free (e);
          rt_record_release (r);
          continue;
        }
      if (!all && r->state.status != RT_RUNNING)
        {
          rt_record_release (r);
          continue;
        }
      strv_push (keys, xstrndup (r->id, RT_SHORT_ID));
      (*n)++;
    }
  return 0;
}

static const struct cmd_opt stats_opts[] = {
  CMD_OPT ("all", 'a', NULL, 0,
           "Show all containers (default shows just running)", "--all"),
  CMD_OPT ("no-stream", 0, NULL, OPT_NO_STREAM,
           "Disable streaming stats and only pull the first result",
           "--no-stream"),
  CMD_OPT_NO_TRUNC (OPT_NO_TRUNC),
  CMD_OPT_FORMAT (OPT_FORMAT),
  CMD_OPT_HELP,
  CMD_OPT_END,
};

const struct cmd_spec cmd_stats_spec = {
  .name = "stats",
  .usage = usage_text,
  .opts = stats_opts,
};

COMMAND (stats)
{
  struct svc svc = { .cs = { .fd = -1 } };
  struct rt_record *recs = NULL;
  _cleanup_strv_ char **keys = NULL;
  struct sample *prev = NULL;
  const char *format = NULL;
  bool all = false, no_stream = false, no_trunc = false;
  uint64_t host_mem = rt_stats_host_memory ();
  size_t n = 0;
  int c, ret = -1;

  while ((c = cmd_getopt (argc, argv, &cmd_stats_spec)) != -1)
    switch (c)
      {
      case 'a':
        all = cmd_optbool;
        break;
      case OPT_NO_STREAM:
        no_stream = cmd_optbool;
        break;
      case OPT_NO_TRUNC:
        no_trunc = cmd_optbool;
        break;
      case OPT_FORMAT:
        format = optarg;
        break;
      case CMD_OPT_HELP_ID:
        return 0;
      default:
        return command_bad_option (err);
      }
  if (collect (g, &svc, argv + optind, all, &recs, &keys, &n, err) < 0)
    goto out;
  prev = xcalloc (n + 1, sizeof *prev);
  for (size_t i = 0; i < n; i++)
    take (&recs[i], &prev[i]);
  for (;;)
    {
      json_t *rows = json_array (), *hdr = header ();
      int r;
      /* docker's daemon samples once a second */
      sleep (1);
      if (!no_stream)
        fputs ("\033[2J\033[H", stdout);
      for (size_t i = 0; i < n; i++)
        {
          struct sample now;
          take (&recs[i], &now);
          json_array_append_new (rows, row (&recs[i], keys[i], &prev[i], &now,
                                            no_trunc, host_mem));
          prev[i] = now;
        }
      r = command_print_format (format, DEFAULT_TABLE, hdr, rows, err);
      json_decref (rows);
      json_decref (hdr);
      fflush (stdout);
      if (r < 0)
        goto out;
      if (no_stream)
        break;
    }
  ret = 0;
out:
  for (size_t i = 0; recs && i < n; i++)
    rt_record_release (&recs[i]);
  free (recs);
  free (prev);
  svc_close (&svc);
  return ret;
}
