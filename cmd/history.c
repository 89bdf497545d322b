/* imgtool history [--no-trunc] IMAGE: the config's history, newest first,
 * as docker prints it. SIZE is the layer's blob size in the store (docker
 * shows the unpacked size). */
#include "cmd/command.h"
#include "cmd/lookup.h"
#include "cmd/opttable.h"
#include "layers/image_store.h"
#include "lib/err.h"
#include "lib/human.h"
#include "lib/xalloc.h"

#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static const char usage_text[] = "imgtool history [--no-trunc] IMAGE";

/* Docker's truncation: the first n-3 characters and "...". */
static char *
trunc_text (const char *s, size_t n, bool no_trunc)
{
  char *t = xstrdup (s);
  for (char *c = t; *c; c++)
    if (*c == '\n' || *c == '\t')
      *c = ' ';
  if (!no_trunc && strlen (t) > n)
    strcpy (t + n - 3, "...");
  return t;
}

static const struct cmd_opt history_opts[] = {
  CMD_OPT_NO_TRUNC ('n'),
  CMD_OPT_HELP_H,
  CMD_OPT_END,
};

const struct cmd_spec cmd_history_spec = {
  .name = "history",
  .usage = usage_text,
  .opts = history_opts,
};

COMMAND (history)
{
  bool no_trunc = false;
  struct store s;
  struct store_ref ref;
  struct image img;
  int c, ret = -1;

  while ((c = cmd_getopt (argc, argv, &cmd_history_spec)) != -1)
    switch (c)
      {
      case 'n':
        no_trunc = cmd_optbool;
        break;
      case CMD_OPT_HELP_ID:
        return 0;
      default:
        return command_bad_option (err);
      }
  if (optind != argc - 1)
    return command_usage_error (usage_text, err);
  if (store_open (&s, g->root, err) < 0)
    return -1;
  if (lookup_image (&s, argv[optind], &ref, err) < 0)
    goto out_store;
  if (image_load_ref (&s, &ref, NULL, &img, err) < 0)
    goto out_ref;

  json_t *hist = json_object_get (img.config.json, "history");
  size_t n = json_array_size (hist), layer = img.manifest.n_layers;
  time_t now = time (NULL);
  printf ("%-12s   %-24s %-45s %-9s %s\n", "IMAGE", "CREATED", "CREATED BY",
          "SIZE", "COMMENT");
  for (size_t i = n; i-- > 0;)
    {
      json_t *h = json_array_get (hist, i);
      const char *created = json_string_value (json_object_get (h, "created"));
      const char *by = json_string_value (json_object_get (h, "created_by"));
      const char *comment = json_string_value (json_object_get (h, "comment"));
      bool empty = json_is_true (json_object_get (h, "empty_layer"));
      char ago[64] = "", size[32] = "0B";
      time_t t;
      if (created && rfc3339_parse (created, &t) == 0)
        human_ago (t, now, ago, sizeof ago);
      if (!empty && layer > 0)
        human_size (img.manifest.layers[--layer].size, size, sizeof size);
      _cleanup_free_ char *id
          = i == n - 1 ? xstrndup (digest_hex (img.manifest.config.digest),
                                   no_trunc ? 64 : 12)
                       : xstrdup ("<missing>");
      _cleanup_free_ char *b = trunc_text (by ? by : "", 45, no_trunc);
      printf ("%-12s   %-24s %-45s %-9s %s\n", id, ago, b, size,
              comment ? comment : "");
    }
  ret = 0;
  image_release (&img);
out_ref:
  store_ref_release (&ref);
out_store:
  store_release (&s);
  return ret;
}
