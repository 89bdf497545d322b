/* imgtool images [-a] [-q] [--digests] [--no-trunc] [-f FILTER]...
 * [--format table|json|TEMPLATE] [REPOSITORY[:TAG]]: the images in the
 * store, as docker images lists them (newest first); a template is
 * docker's ("table ..." for aligned columns). */
#include "builder/builder.h"
#include "cmd/command.h"
#include "cmd/filter.h"
#include "cmd/lookup.h"
#include "cmd/opttable.h"
#include "layers/image_store.h"
#include "lib/err.h"
#include "lib/human.h"
#include "lib/xalloc.h"
#include "registry/ref.h"

#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage_text[]
    = "imgtool images [-a] [-q] [--digests] [--no-trunc] [-f FILTER]... "
      "[--format table|json|TEMPLATE] [REPOSITORY[:TAG]]";

/* docker's image filters */
static const char *const filter_keys[]
    = { "reference", "dangling", "label", "before", "since", NULL };

struct row
{
  char *name; /* the store reference */
  char *repo, *tag, *digest, *id, *created;
  time_t created_t;
  int64_t size;
  json_t *labels; /* the config's Labels, or NULL */
  bool dangling;
};

static void
row_from_ref (struct store *s, const struct store_ref *ref, struct row *row)
{
  struct err *err = NULL;
  struct image img;
  memset (row, 0, sizeof *row);
  row->name = xstrdup (ref->name);
  row->digest = xstrdup (ref->digest);
  if (lookup_repo_tag (ref->name, &row->repo, &row->tag) < 0)
    row->repo = xstrdup (ref->name);
  if (!row->tag)
    row->tag = xstrdup ("<none>");
  /* the name an image left without one gets: docker's dangling <none> */
  row->dangling = !strncmp (ref->name, BUILD_UNTAGGED_REPO ":",
                            strlen (BUILD_UNTAGGED_REPO ":"));
  if (image_load_ref (s, ref, NULL, &img, &err) == 0)
    {
      json_t *cfg = json_object_get (img.config.json, "config");
      row->id = xstrdup (img.manifest.config.digest);
      row->size = image_size (&img);
      row->created = img.config.created ? xstrdup (img.config.created) : NULL;
      row->labels = json_incref (json_object_get (cfg, "Labels"));
      image_release (&img);
    }
  if (!row->created || rfc3339_parse (row->created, &row->created_t) < 0)
    row->created_t = 0;
  err_free (err);
}

static void
row_release (struct row *row)
{
  free (row->name);
  free (row->repo);
  free (row->tag);
  free (row->digest);
  free (row->id);
  free (row->created);
  json_decref (row->labels);
}

/* docker's defaultImageTableFormat, and with --digests */
#define DEFAULT_TABLE                                                          \
  "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t"                                 \
  "{{if .CreatedSince }}{{.CreatedSince}}{{else}}N/A{{end}}\t{{.Size}}"
#define DIGESTS_TABLE                                                          \
  "table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t"                    \
  "{{if .CreatedSince }}{{.CreatedSince}}{{else}}N/A{{end}}\t{{.Size}}"

/* A row's fields, docker's (--format json prints them all, in this
 * order). Containers and the shared sizes are N/A, as docker images says
 * when it was not asked to count them. */
static json_t *
row_json (const struct row *row, bool no_trunc, time_t now)
{
  char size[32], ago[64] = "", created[64] = "";
  const char *id = row->id ? row->id : row->digest;
  if (row->created_t)
    {
      human_ago (row->created_t, now, ago, sizeof ago);
      human_time_go (row->created_t, created, sizeof created);
    }
  human_size (row->size, size, sizeof size);
  /* docker: the ID's first 12 hex digits, or the whole digest */
  return json_pack ("{s:s, s:s, s:s, s:s, s:s%, s:s, s:s, s:s, s:s, s:s, "
                    "s:s}",
                    "Containers", "N/A", "CreatedAt", created, "CreatedSince",
                    ago, "Digest", row->digest, "ID", no_trunc ? id : id + 7,
                    no_trunc ? strlen (id) : 12, "Repository", row->repo,
                    "SharedSize", "N/A", "Size", size, "Tag", row->tag,
                    "UniqueSize", "N/A", "VirtualSize", size);
}

/* ---------------------------------------------------------- filters */

/* docker's reference.FamiliarMatch: the pattern against "repo:tag", else
 * against "repo" */
static bool
match_reference (const char *value, void *data)
{
  const struct row *r = data;
  _cleanup_free_ char *full = xasprintf ("%s:%s", r->repo, r->tag);
  if (r->dangling)
    return false;
  return filter_glob (value, full) || filter_glob (value, r->repo);
}

/* before/since: the named images' creation times, looked up once */
struct when
{
  time_t *t;
  size_t n;
};

static int
when_resolve (const struct filters *f, const char *key, struct store *s,
              struct when *w, struct err **err)
{
  w->t = xcalloc (f->n + 1, sizeof *w->t);
  w->n = 0;
  for (size_t i = 0; i < f->n; i++)
    if (!strcmp (f->kv[i].key, key))
      {
        struct store_ref ref;
        struct row other;
        if (lookup_image (s, f->kv[i].value, &ref, err) < 0)
          return -1;
        row_from_ref (s, &ref, &other);
        store_ref_release (&ref);
        w->t[w->n++] = other.created_t;
        row_release (&other);
      }
  return 0;
}

static bool
when_match (const struct when *w, time_t t, int sign)
{
  for (size_t i = 0; i < w->n; i++)
    if (sign < 0 ? t < w->t[i] : t > w->t[i])
      return true;
  return w->n == 0;
}

static int
check_dangling (const char *value, struct err **err)
{
  bool b;
  return filter_bool ("dangling", value, &b, err);
}

/* Whether a row passes every filter (values checked before). */
static bool
row_passes (const struct filters *f, const struct when *before,
            const struct when *since, const struct row *r)
{
  for (size_t i = 0; i < f->n; i++)
    if (!strcmp (f->kv[i].key, "dangling"))
      {
        bool want = false;
        filter_bool ("dangling", f->kv[i].value, &want, NULL);
        if (want != r->dangling)
          return false;
      }
  return filters_any (f, "reference", match_reference, (void *)r)
         && filters_labels (f, r->labels)
         && when_match (before, r->created_t, -1)
         && when_match (since, r->created_t, 1);
}

static int
by_created (const void *a, const void *b)
{
  const struct row *x = a, *y = b;
  return x->created_t < y->created_t ? 1 : x->created_t > y->created_t ? -1 : 0;
}

static const struct cmd_opt images_opts[] = {
  CMD_OPT ("all", 'a', NULL, 0,
           "Show all images (nothing is hidden: the store keeps no "
           "intermediate images)",
           "--all"),
  CMD_OPT ("quiet", 'q', NULL, 0, "Only show image IDs", "--quiet"),
  CMD_OPT ("digests", 0, NULL, 'D', "Show digests", "--digests"),
  CMD_OPT_NO_TRUNC ('T'),
  CMD_OPT_FILTER,
  CMD_OPT_FORMAT ('F'),
  CMD_OPT_HELP_H,
  CMD_OPT_END,
};

const struct cmd_spec cmd_images_spec = {
  .name = "images",
  .usage = usage_text,
  .opts = images_opts,
};

COMMAND (images)
{
  struct store s;
  struct store_ref *refs;
  struct filters f = FILTERS_INIT;
  struct row *rows = NULL;
  struct when before = { 0 }, since = { 0 };
  size_t n, kept = 0;
  bool quiet = false, digests = false, no_trunc = false;
  const char *format = NULL;
  json_t *out, *header;
  int c, ret = -1;
  time_t now = time (NULL);

  while ((c = cmd_getopt (argc, argv, &cmd_images_spec)) != -1)
    switch (c)
      {
      case 'a':
        /* nothing is hidden: the store keeps no intermediate images */
        break;
      case 'q':
        quiet = cmd_optbool;
        break;
      case 'D':
        digests = cmd_optbool;
        break;
      case 'T':
        no_trunc = cmd_optbool;
        break;
      case 'f':
        if (filters_add (&f, optarg, filter_keys, err) < 0)
          goto out_filters;
        break;
      case 'F':
        format = optarg;
        break;
      case CMD_OPT_HELP_ID:
        return 0;
      default:
        filters_release (&f);
        return command_bad_option (err);
      }
  if (argc - optind > 1)
    {
      filters_release (&f);
      return command_usage_error (usage_text, err);
    }
  /* docker: REPOSITORY[:TAG] is one more reference filter */
  if (optind < argc)
    {
      _cleanup_free_ char *arg = xasprintf ("reference=%s", argv[optind]);
      if (filters_add (&f, arg, filter_keys, err) < 0)
        goto out_filters;
    }
  if (filters_check (&f, "dangling", check_dangling, err) < 0)
    goto out_filters;
  if (store_open (&s, g->root, err) < 0)
    goto out_filters;
  if (when_resolve (&f, "before", &s, &before, err) < 0
      || when_resolve (&f, "since", &s, &since, err) < 0
      || store_ref_list (&s, &refs, &n, err) < 0)
    goto out_store;
  rows = xcalloc (n + 1, sizeof *rows);
  for (size_t i = 0; i < n; i++)
    {
      row_from_ref (&s, &refs[i], &rows[kept]);
      if (row_passes (&f, &before, &since, &rows[kept]))
        kept++;
      else
        row_release (&rows[kept]);
    }
  /* docker lists the newest first */
  qsort (rows, kept, sizeof *rows, by_created);
  out = json_array ();
  for (size_t i = 0; i < kept; i++)
    json_array_append_new (out, row_json (&rows[i], no_trunc, now));
  header = json_pack ("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, "
                      "s:s}",
                      "Containers", "CONTAINERS", "CreatedAt", "CREATED AT",
                      "CreatedSince", "CREATED", "Digest", "DIGEST", "ID",
                      "IMAGE ID", "Repository", "REPOSITORY", "SharedSize",
                      "SHARED SIZE", "Size", "SIZE", "Tag", "TAG", "UniqueSize",
                      "UNIQUE SIZE", "VirtualSize", "SIZE");
  /* -q (the IDs, one per name) wins over --format, as with ps */
  ret = command_print_format (quiet ? "{{.ID}}" : format,
                              digests ? DIGESTS_TABLE : DEFAULT_TABLE, header,
                              out, err);
  json_decref (header);
  json_decref (out);
  for (size_t i = 0; i < kept; i++)
    row_release (&rows[i]);
  free (rows);
  store_refs_free (refs, n);
out_store:
  free (before.t);
  free (since.t);
  store_release (&s);
out_filters:
  filters_release (&f);
  return ret;
}
