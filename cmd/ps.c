/* imgtool ps [-a] [-q] [--no-trunc] [--format table|json|TEMPLATE]:
 * containers, as docker ps lists them; --format takes docker's Go
 * templates ("table ..." for aligned columns under a header). */
#include "cmd/command.h"
#include "cmd/containers.h"
#include "lib/err.h"
#include "lib/strbuf.h"
#include "lib/xalloc.h"
#include "runtime/state.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

static const char usage_text[]
    = "imgtool ps [-a] [-q] [--no-trunc] [--format table|json|TEMPLATE]";

/* docker's defaultContainerTableFormat */
#define DEFAULT_TABLE                                                          \
  "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t"    \
  "{{.Ports}}\t{{.Names}}"

/* What a table's header shows for each field (docker's words). */
static json_t *
header_fields (void)
{
  return json_pack ("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s,"
                    " s:s, s:s, s:s}",
                    "ID", "CONTAINER ID", "Image", "IMAGE", "Command",
                    "COMMAND", "CreatedAt", "CREATED AT", "RunningFor",
                    "CREATED", "Status", "STATUS", "State", "STATE", "Ports",
                    "PORTS", "Names", "NAMES", "Networks", "NETWORKS", "Labels",
                    "LABELS", "LocalVolumes", "LOCAL VOLUMES", "Mounts",
                    "MOUNTS", "Size", "SIZE");
}

/* docker: the command quoted, cut to 20 characters with an ellipsis. */
static char *
command_text (char *const *argv, bool no_trunc)
{
  struct strbuf sb = STRBUF_INIT;
  for (size_t i = 0; argv && argv[i]; i++)
    {
      if (i)
        strbuf_addch (&sb, ' ');
      strbuf_addstr (&sb, argv[i]);
    }
  if (!no_trunc && sb.len > 20)
    {
      strbuf_setlen (&sb, 19);
      strbuf_addstr (&sb, "…");
    }
  {
    char *s = xasprintf ("\"%s\"", sb.buf);
    strbuf_release (&sb);
    return s;
  }
}

/* The records through a Go template (command_print_format). */
static int
print_format (const char *format, struct rt_record *recs, size_t n,
              bool no_trunc, time_t now, struct err **err)
{
  json_t *rows = json_array (), *header = header_fields ();
  int r;
  for (size_t i = 0; i < n; i++)
    {
      _cleanup_free_ char *cmd = command_text (recs[i].command, no_trunc);
      json_array_append_new (rows,
                             containers_ps_json (&recs[i], cmd, no_trunc, now));
    }
  r = command_print_format (format, DEFAULT_TABLE, header, rows, err);
  json_decref (rows);
  json_decref (header);
  return r;
}

static int
by_created (const void *a, const void *b)
{
  const struct rt_record *x = a, *y = b;
  return x->created < y->created ? 1 : x->created > y->created ? -1 : 0;
}

COMMAND (ps)
{
  static const struct option opts[] = {
    { "all", no_argument, NULL, 'a' },
    { "quiet", no_argument, NULL, 'q' },
    { "no-trunc", no_argument, NULL, 'T' },
    { "format", required_argument, NULL, 'F' },
    { "help", no_argument, NULL, 'H' },
    { 0 },
  };
  bool all = false, quiet = false, no_trunc = false;
  const char *format = NULL;
  int ret = 0;
  struct svc svc;
  _cleanup_strv_ char **ids = NULL;
  struct rt_record *recs = NULL;
  size_t n = 0;
  int c;
  time_t now = time (NULL);

  while ((c = command_getopt (argc, argv, "aq", opts)) != -1)
    switch (c)
      {
      case 'a':
        all = true;
        break;
      case 'q':
        quiet = true;
        break;
      case 'T':
        no_trunc = true;
        break;
      case 'F':
        format = optarg;
        break;
      case 'H':
        printf ("usage: %s\n", usage_text);
        return 0;
      default:
        return command_bad_option (err);
      }
  if (optind != argc)
    return command_usage_error (usage_text, err);
  /* no network sweep: loading a record whose monitor died gives its
   * network back (svc_load_id), and a sweep reads every lease */
  if (svc_open (&svc, g->root, g->config_path, err) < 0)
    return -1;
  if (rt_record_list (&svc.cs, &ids, err) < 0)
    {
      svc_close (&svc);
      return -1;
    }
  recs = xcalloc (strv_len (ids) + 1, sizeof *recs);
  for (size_t i = 0; ids[i]; i++)
    {
      struct err *e = NULL;
      /* A container removed meanwhile (or half-made) is skipped. */
      if (svc_load_id (&svc, ids[i], &recs[n], &e) < 0)
        {
          err_free (e);
          rt_record_release (&recs[n]);
          continue;
        }
      /* docker: restarting ones count as running */
      if (!all && recs[n].state.status != RT_RUNNING
          && recs[n].state.status != RT_RESTARTING)
        {
          rt_record_release (&recs[n]);
          continue;
        }
      n++;
    }
  qsort (recs, n, sizeof *recs, by_created);

  /* -q (the IDs) wins over --format, as with docker; the default is
   * docker's table */
  ret = print_format (quiet ? "{{.ID}}" : format, recs, n, no_trunc, now, err);
  for (size_t i = 0; i < n; i++)
    rt_record_release (&recs[i]);
  free (recs);
  svc_close (&svc);
  return ret;
}
