/* --format as docker's CLI takes it (ps, images): a Go template applied to
 * each row; "table ..." prints a header (the template applied to the
 * header's words) and aligns the columns; "table" alone is the command's
 * default table, "json" one JSON object per row. */
#include "cmd/command.h"
#include "lib/gotmpl.h"
#include "lib/strbuf.h"
#include "lib/xalloc.h"

#include <stdio.h>
#include <string.h>

int
command_print_format (const char *format, const char *default_table,
                      json_t *header, json_t *rows, struct err **err)
{
  bool table;
  _cleanup_free_ char *body = NULL;
  if (!format || !strcmp (format, "table"))
    format = default_table;
  else if (!strcmp (format, "json"))
    format = "{{json .}}"; /* docker's formatter.JSONFormat */
  body = gotmpl_docker_format (format, &table);
  _cleanup_free_ char *aligned = NULL;
  struct gotmpl *t = NULL;
  struct strbuf sb = STRBUF_INIT;
  size_t i;
  json_t *row;
  int r = 0;
  if (gotmpl_parse (body, &t, err) < 0)
    return -1;
  if (table)
    {
      r = gotmpl_exec (t, header, &sb, err);
      strbuf_addch (&sb, '\n');
    }
  json_array_foreach (rows, i, row)
  {
    if (r == 0)
      r = gotmpl_exec (t, row, &sb, err);
    strbuf_addch (&sb, '\n');
  }
  if (r == 0)
    {
      if (table)
        aligned = gotmpl_align (sb.buf ? sb.buf : "");
      fputs (aligned ? aligned : sb.buf ? sb.buf : "", stdout);
    }
  strbuf_release (&sb);
  gotmpl_free (t);
  return r;
}

int
command_print_object (const char *format, json_t *obj, struct err **err)
{
  json_t *rows = json_pack ("[O]", obj), *header = json_object ();
  int r = command_print_format (format, format, header, rows, err);
  json_decref (header);
  json_decref (rows);
  return r;
}
