/* imgtool images [-q] [--format table|json|TEMPLATE]: the images in the
 * store; a template is docker's (fields Repository, Tag, Digest, ID,
 * CreatedAt, CreatedSince, Size; "table ..." for aligned columns). */
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
  bool quiet = false, json = false;
  const char *tmpl = NULL;
  json_t *rows = NULL;
  int c, ret = 0;
  time_t now = time (NULL);

  while ((c = command_getopt (argc, argv, "qh", opts)) != -1)
    switch (c)
      {
      case 'q':
        quiet = true;
        break;
      case 'f':
        json = !strcmp (optarg, "json");
        tmpl = json || !strcmp (optarg, "table") ? NULL : optarg;
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
  json_t *out = json ? json_array () : NULL;
  if (tmpl && !quiet)
    rows = json_array ();
  else if (!quiet && !json)
    printf ("%-40s %-16s %-22s %-10s %s\n", "REPOSITORY", "TAG", "DIGEST",
            "SIZE", "CREATED");
  for (size_t i = 0; i < n; i++)
    {
      struct row row;
      char size[32] = "", ago[64] = "";
      time_t t;
      row_from_ref (&s, &refs[i], &row);
      if (row.created && rfc3339_parse (row.created, &t) == 0)
        human_ago (t, now, ago, sizeof ago);
      human_size (row.size, size, sizeof size);
      if (quiet)
        printf ("%.12s\n", row.id ? row.id + 7 : row.digest + 7);
      else if (rows)
        json_array_append_new (
            rows, json_pack ("{s:s, s:s, s:s, s:s%, s:s, s:s, s:s}",
                             "Repository", row.repo, "Tag", row.tag, "Digest",
                             row.digest, "ID",
                             row.id ? row.id + 7 : row.digest + 7,
                             (size_t) 12, "CreatedAt",
                             row.created ? row.created : "", "CreatedSince",
                             ago, "Size", size));
      else if (json)
        json_array_append_new (
            out, json_pack ("{s:s, s:s, s:s, s:s?, s:s, s:I, s:s?}", "Repository", row.repo,
                            "Tag", row.tag, "Digest", row.digest, "Id", row.id,
                            "Name", refs[i].name, "Size", (json_int_t) row.size,
                            "Created", row.created));
      else
        {
          char shortd[32];
          snprintf (shortd, sizeof shortd, "%.19s...", row.digest);
          printf ("%-40s %-16s %-22s %-10s %s\n", row.repo, row.tag, shortd,
                  size, ago);
        }
      row_release (&row);
    }
  if (json)
    {
      json_dumpf (out, stdout, JSON_INDENT (2));
      printf ("\n");
      json_decref (out);
    }
  if (rows)
    {
      json_t *header = json_pack (
          "{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "Repository", "REPOSITORY",
          "Tag", "TAG", "Digest", "DIGEST", "ID", "IMAGE ID", "CreatedAt",
          "CREATED AT", "CreatedSince", "CREATED", "Size", "SIZE");
      ret = command_print_format (tmpl, header, rows, err);
      json_decref (header);
      json_decref (rows);
    }
  store_refs_free (refs, n);
  store_release (&s);
  return ret;
}
