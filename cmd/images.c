/* imgtool images [-q] [--format table|json|TEMPLATE]: the images in the
 * store, as docker images lists them; a template is docker's ("table ..."
 * for aligned columns). */
#include "cmd/command.h"
#include "cmd/lookup.h"
#include "layers/image_store.h"
#include "lib/err.h"
#include "lib/human.h"
#include "lib/xalloc.h"
#include "registry/ref.h"

#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

static const char usage_text[]
    = "imgtool images [-q] [--format table|json|TEMPLATE]";

struct row
{
  char *repo, *tag, *digest, *id, *created;
  int64_t size;
};

static void
row_from_ref (struct store *s, const struct store_ref *ref, struct row *row)
{
  struct err *err = NULL;
  struct image img;
  memset (row, 0, sizeof *row);
  row->digest = xstrdup (ref->digest);
  if (lookup_repo_tag (ref->name, &row->repo, &row->tag) < 0)
    row->repo = xstrdup (ref->name);
  if (!row->tag)
    row->tag = xstrdup ("<none>");
  if (image_load_ref (s, ref, NULL, &img, &err) == 0)
    {
      row->id = xstrdup (img.manifest.config.digest);
      row->size = image_size (&img);
      row->created = img.config.created ? xstrdup (img.config.created) : NULL;
      image_release (&img);
    }
  err_free (err);
}

static void
row_release (struct row *row)
{
  free (row->repo);
  free (row->tag);
  free (row->digest);
  free (row->id);
  free (row->created);
}

/* docker's defaultImageTableFormat */
#define DEFAULT_TABLE                                                          \
  "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t"                                 \
  "{{if .CreatedSince }}{{.CreatedSince}}{{else}}N/A{{end}}\t{{.Size}}"

/* A row's fields, docker's (--format json prints them all, in this
 * order). Containers and the shared sizes are N/A, as docker images says
 * when it was not asked to count them. */
static json_t *
row_json (const struct row *row, time_t now)
{
  char size[32], ago[64] = "", created[64] = "";
  time_t t;
  if (row->created && rfc3339_parse (row->created, &t) == 0)
    {
      human_ago (t, now, ago, sizeof ago);
      human_time_go (t, created, sizeof created);
    }
  human_size (row->size, size, sizeof size);
  return json_pack ("{s:s, s:s, s:s, s:s, s:s%, s:s, s:s, s:s, s:s, s:s, "
                    "s:s}",
                    "Containers", "N/A", "CreatedAt", created, "CreatedSince",
                    ago, "Digest", row->digest, "ID",
                    row->id ? row->id + 7 : row->digest + 7, (size_t)12,
                    "Repository", row->repo, "SharedSize", "N/A", "Size", size,
                    "Tag", row->tag, "UniqueSize", "N/A", "VirtualSize", size);
}

COMMAND (images)
{
  static const struct option opts[] = {
    { "quiet", no_argument, NULL, 'q' },
    { "format", required_argument, NULL, 'f' },
    { "help", no_argument, NULL, 'h' },
    { 0 },
  };
  struct store s;
  struct store_ref *refs;
  size_t n;
  bool quiet = false;
  const char *format = NULL;
  json_t *rows, *header;
  int c, ret;
  time_t now = time (NULL);

  while ((c = command_getopt (argc, argv, "qh", opts)) != -1)
    switch (c)
      {
      case 'q':
        quiet = true;
        break;
      case 'f':
        format = optarg;
        break;
      case 'h':
        printf ("usage: %s\n", usage_text);
        return 0;
      default:
        return command_bad_option (err);
      }
  if (optind != argc)
    return command_usage_error (usage_text, err);
  if (store_open (&s, g->root, err) < 0)
    return -1;
  if (store_ref_list (&s, &refs, &n, err) < 0)
    {
      store_release (&s);
      return -1;
    }
  rows = json_array ();
  for (size_t i = 0; i < n; i++)
    {
      struct row row;
      row_from_ref (&s, &refs[i], &row);
      json_array_append_new (rows, row_json (&row, now));
      row_release (&row);
    }
  header = json_pack ("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, "
                      "s:s}",
                      "Containers", "CONTAINERS", "CreatedAt", "CREATED AT",
                      "CreatedSince", "CREATED", "Digest", "DIGEST", "ID",
                      "IMAGE ID", "Repository", "REPOSITORY", "SharedSize",
                      "SHARED SIZE", "Size", "SIZE", "Tag", "TAG", "UniqueSize",
                      "UNIQUE SIZE", "VirtualSize", "SIZE");
  /* -q (the IDs, one per name) wins over --format, as with ps */
  ret = command_print_format (quiet ? "{{.ID}}" : format, DEFAULT_TABLE, header,
                              rows, err);
  json_decref (header);
  json_decref (rows);
  store_refs_free (refs, n);
  store_release (&s);
  return ret;
}
