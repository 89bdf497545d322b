/* The subset of Go's text/template that docker users write in --format
 * (`docker inspect -f '{{.State.Pid}}'`, `docker ps --format '{{.Names}}'`),
 * evaluated over JSON (jansson) instead of Go values.
 *
 *   text and {{ACTION}}, with {{- and -}} trimming, and comment actions
 *   {{PIPELINE}}                 print: strings as they are, numbers,
 *                                true/false, [a b] for arrays, map[k:v]
 *                                for objects, <no value> for missing
 *   {{if P}} .. {{else if P}} .. {{else}} .. {{end}}
 *   {{range P}} .. {{else}} .. {{end}}   over arrays and objects (by key)
 *   {{with P}} .. {{else}} .. {{end}}
 *   PIPELINE: a command, then `| fn ARG...` (the value goes last)
 *   COMMAND: .  .Field.Sub  "string"  123  true  false  (PIPELINE)
 *            fn ARG...  with fn one of json, index, join, len, lower,
 *            upper, title, split, printf (%s %d %v %q), println, print,
 *            eq, ne, lt, le, gt, ge, and, or, not
 *
 * Field names match JSON keys exactly, as Go's do on struct fields. A
 * missing field gives <no value>, as on Go's maps. */
#ifndef IMGTOOL_GOTMPL_H
#define IMGTOOL_GOTMPL_H

#include <jansson.h>
#include <stdbool.h>

struct err;
struct strbuf;
struct gotmpl;

/* Parse src; a syntax error is "template: ..." with the offending text. */
int gotmpl_parse (const char *src, struct gotmpl **out, struct err **err);

/* Append the template applied to dot to out. An error (an unknown
 * function, index out of range, a bad argument) leaves what was written
 * so far. */
int gotmpl_exec (const struct gotmpl *t, json_t *dot, struct strbuf *out,
                 struct err **err);

void gotmpl_free (struct gotmpl *t);

/* A --format as docker's CLI takes it: *table when it starts with
 * "table" (aligned columns under a header), which is cut, as are the
 * spaces around; the two-character escapes \t and \n become a tab and a
 * newline (so `--format "{{.ID}}\t{{.Names}}"` works from a shell). */
char *gotmpl_docker_format (const char *fmt, bool *table);

/* Align the tab-separated cells of text as docker's tabwriter does (cells
 * at least 10 wide, 3 spaces of padding, the last cell unpadded). */
char *gotmpl_align (const char *text);

#endif
