/* imgtool ps [-a] [-q] [-s] [-n N] [-l] [--no-trunc] [-f FILTER]...
 * [--format table|json|TEMPLATE]: containers, as docker ps lists them;
 * --format takes docker's Go templates ("table ..." for aligned columns
 * under a header). */
#include "cmd/command.h"
#include "cmd/containers.h"
#include "cmd/filter.h"
#include "cmd/lookup.h"
#include "cmd/opttable.h"
#include "layers/image_store.h"
#include "lib/du.h"
#include "lib/err.h"
#include "lib/human.h"
#include "lib/json.h"
#include "lib/strbuf.h"
#include "lib/xalloc.h"
#include "runtime/state.h"

#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage_text[]
    = "imgtool ps [-a] [-q] [-s] [-n N] [-l] [--no-trunc] [-f FILTER]... "
      "[--format table|json|TEMPLATE]";

/* docker's defaultContainerTableFormat */
#define DEFAULT_TABLE                                                          \
  "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t"    \
  "{{.Ports}}\t{{.Names}}"
/* with -s */
#define SIZE_TABLE DEFAULT_TABLE "\t{{.Size}}"

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

/* docker's container filters */
static const char *const filter_keys[]
    = { "status", "name",    "id",     "label",  "ancestor", "exited",
        "health", "network", "volume", "before", "since",    NULL };

/* What the filters need beyond a record, looked up once. */
struct ps_ctx
{
  const struct filters *f;
  struct store store; /* for ancestor and -s */
  bool store_open;
  char ***ancestors; /* the diff IDs of each ancestor image found */
  size_t n_ancestors;
  char **ancestor_ids; /* their IDs */
};

/* One container as the filters see it. */
struct ps_item
{
  struct ps_ctx *ctx;
  const struct rt_record *rec;
  json_t *row;     /* its ps row (Networks) */
  json_t *inspect; /* its inspect JSON (labels, health), made when asked */
};

static json_t *
item_inspect (struct ps_item *it)
{
  if (!it->inspect)
    it->inspect = containers_inspect_json (it->rec);
  return it->inspect;
}

static bool
match_status (const char *value, void *data)
{
  struct ps_item *it = data;
  return !strcmp (value, rt_status_name (it->rec->state.status));
}

/* docker matches the name with and without its leading '/' */
static bool
match_name (const char *value, void *data)
{
  struct ps_item *it = data;
  const char *name = it->rec->name ? it->rec->name : "";
  _cleanup_free_ char *slash = xasprintf ("/%s", name);
  return filter_regex (value, name) || filter_regex (value, slash);
}

static bool
match_id (const char *value, void *data)
{
  struct ps_item *it = data;
  return filter_regex (value, it->rec->id);
}

static bool
match_exited (const char *value, void *data)
{
  struct ps_item *it = data;
  const struct rt_state *st = &it->rec->state;
  return st->status == RT_EXITED && st->started
         && st->exit_code == atoi (value);
}

/* State.Health.Status, "none" without a healthcheck */
static bool
match_health (const char *value, void *data)
{
  struct ps_item *it = data;
  const char *h = json_peek_str (
      json_object_get (json_object_get (item_inspect (it), "State"), "Health"),
      "Status");
  return !strcmp (value, h ? h : "none");
}

/* a name in the row's Networks ("bridge", "a,b") */
static bool
match_network (const char *value, void *data)
{
  struct ps_item *it = data;
  const char *nets = json_peek_str (it->row, "Networks");
  size_t n = strlen (value);
  for (const char *p = nets; p && *p;)
    {
      const char *end = strchr (p, ',');
      size_t len = end ? (size_t)(end - p) : strlen (p);
      if (len == n && !strncmp (p, value, n))
        return true;
      p = end ? end + 1 : p + len;
    }
  return false;
}

/* a mount's source or destination */
static bool
match_volume (const char *value, void *data)
{
  struct ps_item *it = data;
  const struct rt_plan *p = &it->rec->plan;
  for (size_t i = 0; i < p->n_mounts; i++)
    if ((p->mounts[i].source && !strcmp (p->mounts[i].source, value))
        || (p->mounts[i].destination
            && !strcmp (p->mounts[i].destination, value)))
      return true;
  return false;
}

/* The image's diff IDs, by what a user typed or an ID; NULL if unknown. */
static char **
image_diff_ids (struct ps_ctx *c, const char *name, char **id)
{
  struct store_ref ref;
  struct image img;
  struct err *e = NULL;
  char **v = NULL;
  if (!c->store_open || lookup_image (&c->store, name, &ref, &e) < 0)
    {
      err_free (e);
      return NULL;
    }
  if (image_load_ref (&c->store, &ref, NULL, &img, &e) == 0)
    {
      v = strv_dup (img.config.diff_ids);
      if (id)
        *id = xstrdup (img.manifest.config.digest);
      image_release (&img);
    }
  err_free (e);
  store_ref_release (&ref);
  return v;
}

/* docker's ancestor: the image, or an image built on it (its layers
 * start with the ancestor's) */
static bool
match_ancestor (const char *value, void *data)
{
  struct ps_item *it = data;
  struct ps_ctx *c = it->ctx;
  _cleanup_strv_ char **mine = NULL;
  (void)value; /* resolved once, in ctx */
  if (!it->rec->image_id)
    return false;
  for (size_t i = 0; i < c->n_ancestors; i++)
    if (!strcmp (c->ancestor_ids[i], it->rec->image_id))
      return true;
  mine = image_diff_ids (c, it->rec->image_id, NULL);
  for (size_t i = 0; mine && i < c->n_ancestors; i++)
    {
      size_t k = 0;
      char **a = c->ancestors[i];
      while (a[k] && mine[k] && !strcmp (a[k], mine[k]))
        k++;
      if (k && !a[k])
        return true;
    }
  return false;
}

/* ancestor: every value is looked up once; one that names no image
 * matches nothing (docker) */
static void
ctx_ancestors (struct ps_ctx *c)
{
  const struct filters *f = c->f;
  c->ancestors = xcalloc (f->n + 1, sizeof *c->ancestors);
  c->ancestor_ids = xcalloc (f->n + 1, sizeof *c->ancestor_ids);
  for (size_t i = 0; i < f->n; i++)
    if (!strcmp (f->kv[i].key, "ancestor"))
      {
        char *id = NULL;
        char **v = image_diff_ids (c, f->kv[i].value, &id);
        if (!v)
          continue;
        c->ancestors[c->n_ancestors] = v;
        c->ancestor_ids[c->n_ancestors++] = id;
      }
}

static void
ctx_release (struct ps_ctx *c)
{
  for (size_t i = 0; i < c->n_ancestors; i++)
    strv_free (c->ancestors[i]);
  free (c->ancestors);
  strv_free (c->ancestor_ids);
  if (c->store_open)
    store_release (&c->store);
}

static int
check_status (const char *value, struct err **err)
{
  static const char *const ok[]
      = { "created", "restarting", "running", "removing",
          "paused",  "exited",     "dead" };
  for (size_t i = 0; i < ARRAY_SIZE (ok); i++)
    if (!strcmp (value, ok[i]))
      return 0;
  return err_set (err, 0, "invalid filter 'status=%s'", value);
}

static int
check_exited (const char *value, struct err **err)
{
  char *end;
  long v = strtol (value, &end, 10);
  if (!*value || *end || v < 0 || v > 255)
    return err_set (err, 0, "invalid filter 'exited=%s'", value);
  return 0;
}

static int
check_health (const char *value, struct err **err)
{
  if (!strcmp (value, "starting") || !strcmp (value, "healthy")
      || !strcmp (value, "unhealthy") || !strcmp (value, "none"))
    return 0;
  return err_set (err, 0, "unrecognised filter value for health: %s", value);
}

static int
by_created (const void *a, const void *b)
{
  const struct rt_record *x = a, *y = b;
  if (x->created != y->created)
    return x->created < y->created ? 1 : -1;
  return x->created_ns < y->created_ns   ? 1
         : x->created_ns > y->created_ns ? -1
                                         : 0;
}

/* before/since: the containers named, as records (their creation) */
static int
load_marks (struct svc *svc, const struct filters *f, const char *key,
            struct rt_record **out, size_t *n, struct err **err)
{
  *out = xcalloc (f->n + 1, sizeof **out);
  *n = 0;
  for (size_t i = 0; i < f->n; i++)
    if (!strcmp (f->kv[i].key, key))
      {
        _cleanup_free_ char *id = NULL;
        if (rt_record_lookup (&svc->cs, f->kv[i].value, &id, err) < 0
            || rt_record_load_summary (&svc->cs, id, &(*out)[*n], err) < 0)
          return -1;
        (*n)++;
      }
  return 0;
}

/* created before (sign < 0) or after any of the marks; true without */
static bool
marks_match (const struct rt_record *marks, size_t n, const struct rt_record *r,
             int sign)
{
  for (size_t i = 0; i < n; i++)
    if (sign * by_created (&marks[i], r) > 0)
      return true;
  return n == 0;
}

static void
marks_free (struct rt_record *marks, size_t n)
{
  for (size_t i = 0; i < n; i++)
    rt_record_release (&marks[i]);
  free (marks);
}

static bool
passes (struct ps_item *it)
{
  static const struct
  {
    const char *key;
    filter_match_fn fn;
  } tests[] = {
    { "status", match_status },
    { "name", match_name },
    { "id", match_id },
    { "exited", match_exited },
    { "network", match_network },
    { "volume", match_volume },
    { "ancestor", match_ancestor },
    { "health", match_health },
  };
  for (size_t i = 0; i < ARRAY_SIZE (tests); i++)
    if (!filters_any (it->ctx->f, tests[i].key, tests[i].fn, it))
      return false;
  /* the labels are inspect's Config.Labels */
  return !filters_has (it->ctx->f, "label")
         || filters_labels (
             it->ctx->f,
             json_object_get (json_object_get (item_inspect (it), "Config"),
                              "Labels"));
}

/* docker's Size with -s: "12B (virtual 1.09MB)": the writable layer,
 * and it plus the image */
static void
set_size (struct ps_ctx *c, const struct rt_record *rec, json_t *row)
{
  char rw[32], virt[32];
  int64_t upper
      = rec->plan.upper_dir ? fs_tree_size (AT_FDCWD, rec->plan.upper_dir) : 0,
      image = 0;
  struct store_ref ref;
  struct image img;
  struct err *e = NULL;
  if (c->store_open && rec->image_id
      && lookup_image (&c->store, rec->image_id, &ref, &e) == 0)
    {
      if (image_load_ref (&c->store, &ref, NULL, &img, &e) == 0)
        {
          image = image_size (&img);
          image_release (&img);
        }
      store_ref_release (&ref);
    }
  err_free (e);
  human_size (upper, rw, sizeof rw);
  human_size (upper + image, virt, sizeof virt);
  json_object_set_new (row, "Size", json_sprintf ("%s (virtual %s)", rw, virt));
}

static const struct cmd_opt ps_opts[] = {
  CMD_OPT ("all", 'a', NULL, 0,
           "Show all containers (default shows just running)", "--all"),
  CMD_OPT ("quiet", 'q', NULL, 0, "Only display container IDs", "--quiet"),
  CMD_OPT ("size", 's', NULL, 0, "Display total file sizes", "--size"),
  CMD_OPT ("last", 'n', "N", 0,
           "Show n last created containers (includes all states)", "--last"),
  CMD_OPT ("latest", 'l', NULL, 0,
           "Show the latest created container (includes all states)",
           "--latest"),
  CMD_OPT_NO_TRUNC ('T'),
  CMD_OPT_FILTER,
  CMD_OPT_FORMAT ('F'),
  CMD_OPT_HELP,
  CMD_OPT_END,
};

const struct cmd_spec cmd_ps_spec = {
  .name = "ps",
  .usage = usage_text,
  .opts = ps_opts,
};

COMMAND (ps)
{
  bool all = false, quiet = false, no_trunc = false, size = false;
  long last = -1;
  const char *format = NULL;
  int ret = -1;
  struct svc svc = { 0 };
  struct filters f = FILTERS_INIT;
  struct ps_ctx ctx = { 0 };
  _cleanup_strv_ char **ids = NULL;
  struct rt_record *recs = NULL, *before = NULL, *since = NULL;
  size_t n = 0, n_before = 0, n_since = 0;
  json_t *rows = NULL, *header;
  bool full;
  int c;
  time_t now = time (NULL);

  while ((c = cmd_getopt (argc, argv, &cmd_ps_spec)) != -1)
    switch (c)
      {
      case 'a':
        all = cmd_optbool;
        break;
      case 'q':
        quiet = cmd_optbool;
        break;
      case 's':
        size = cmd_optbool;
        break;
      case 'n':
        {
          char *end;
          last = strtol (optarg, &end, 10);
          if (!*optarg || *end)
            {
              err_set (err, 0, "invalid --last '%s': expected a number",
                       optarg);
              goto out;
            }
        }
        break;
      case 'l': /* --latest=false: no limit but a --last before */
        if (cmd_optbool || last == 1)
          last = cmd_optbool ? 1 : -1;
        break;
      case 'T':
        no_trunc = cmd_optbool;
        break;
      case 'f':
        if (filters_add (&f, optarg, filter_keys, err) < 0)
          goto out;
        break;
      case 'F':
        format = optarg;
        break;
      case CMD_OPT_HELP_ID:
        ret = 0;
        goto out;
      default:
        ret = command_bad_option (err);
        goto out;
      }
  if (optind != argc)
    {
      ret = command_usage_error (usage_text, err);
      goto out;
    }
  if (filters_check (&f, "status", check_status, err) < 0
      || filters_check (&f, "exited", check_exited, err) < 0
      || filters_check (&f, "health", check_health, err) < 0)
    goto out;
  /* docker: a status filter looks at every container, -n and -l too */
  if (filters_has (&f, "status") || last > 0)
    all = true;
  /* docker counts sizes when a template shows them */
  if (!quiet && format && strstr (format, ".Size"))
    size = true;
  ctx.f = &f;
  if (filters_has (&f, "ancestor") || (size && !quiet))
    {
      if (store_open (&ctx.store, g->root, err) < 0)
        goto out;
      ctx.store_open = true;
    }
  ctx_ancestors (&ctx);
  /* no network sweep: loading a record whose monitor died gives its
   * network back (svc_load_id), and a sweep reads every lease */
  if (svc_open (&svc, g->root, g->config_path, err) < 0)
    goto out;
  if (load_marks (&svc, &f, "before", &before, &n_before, err) < 0
      || load_marks (&svc, &f, "since", &since, &n_since, err) < 0
      || rt_record_list (&svc.cs, &ids, err) < 0)
    goto out;
  /* labels and health are the whole record's (inspect's); the rest is in
   * the summary ps reads (runtime/state.h) */
  full = filters_has (&f, "label") || filters_has (&f, "health");
  recs = xcalloc (strv_len (ids) + 1, sizeof *recs);
  for (size_t i = 0; ids[i]; i++)
    {
      struct err *e = NULL;
      /* A container removed meanwhile (or half-made) is skipped. */
      if ((full ? svc_load_id : svc_load_summary) (&svc, ids[i], &recs[n], &e)
          < 0)
        {
          err_free (e);
          rt_record_release (&recs[n]);
          continue;
        }
      /* docker: paused and restarting ones count as running */
      if ((!all && recs[n].state.status != RT_RUNNING
           && recs[n].state.status != RT_PAUSED
           && recs[n].state.status != RT_RESTARTING)
          || !marks_match (before, n_before, &recs[n], -1)
          || !marks_match (since, n_since, &recs[n], 1))
        {
          rt_record_release (&recs[n]);
          continue;
        }
      n++;
    }
  qsort (recs, n, sizeof *recs, by_created);

  rows = json_array ();
  for (size_t i = 0, shown = 0; i < n && (last <= 0 || shown < (size_t)last);
       i++)
    {
      _cleanup_free_ char *cmd = command_text (recs[i].command, no_trunc);
      struct ps_item it = { &ctx, &recs[i], NULL, NULL };
      it.row = containers_ps_json (&recs[i], cmd, no_trunc, now);
      if (passes (&it))
        {
          if (size && !quiet)
            set_size (&ctx, &recs[i], it.row);
          json_array_append (rows, it.row);
          shown++;
        }
      json_decref (it.row);
      json_decref (it.inspect);
    }
  header = header_fields ();
  /* -q (the IDs) wins over --format, as with docker; the default is
   * docker's table */
  ret = command_print_format (quiet ? "{{.ID}}" : format,
                              size ? SIZE_TABLE : DEFAULT_TABLE, header, rows,
                              err);
  json_decref (header);
out:
  json_decref (rows);
  for (size_t i = 0; i < n; i++)
    rt_record_release (&recs[i]);
  free (recs);
  marks_free (before, n_before);
  marks_free (since, n_since);
  ctx_release (&ctx);
  if (svc.cs.path)
    svc_close (&svc);
  filters_release (&f);
  return ret;
}
