/* lib/gotmpl.c: the templates docker users pass to --format, with the
 * output Go's text/template gives for the same data. */
#include "lib/err.h"
#include "lib/gotmpl.h"
#include "lib/strbuf.h"
#include "lib/xalloc.h"
#include "tests/unit/test.h"

#include <stdlib.h>

static const char data[]
    = "{\"Id\":\"abc\",\"Name\":\"/web\",\"Args\":[\"-f\",\"-p\",\"80\"],"
      "\"State\":{\"Pid\":42,\"Running\":true,\"ExitCode\":0,\"Error\":\"\"},"
      "\"Config\":{\"Env\":[\"A=1\",\"B=2\"],\"Labels\":{\"b\":\"2\",\"a\":"
      "\"1\"},"
      "\"Entrypoint\":null},"
      "\"NetworkSettings\":{\"Networks\":{\"bridge\":{\"IPAddress\":\"10.89.0."
      "2\"},"
      "\"other\":{\"IPAddress\":\"10.90.0.3\"}},\"Ports\":{}},"
      "\"Size\":1.5}";

/* The output of src over data, or "ERR: message". */
static char *
render (const char *src)
{
  json_t *d = json_loads (data, 0, NULL);
  struct gotmpl *t = NULL;
  struct err *e = NULL;
  struct strbuf sb = STRBUF_INIT;
  char *r;
  if (gotmpl_parse (src, &t, &e) < 0 || gotmpl_exec (t, d, &sb, &e) < 0)
    r = xasprintf ("ERR: %s", e->msg);
  else
    r = strbuf_detach (&sb, NULL);
  strbuf_release (&sb);
  err_free (e);
  gotmpl_free (t);
  json_decref (d);
  return r ? r : xstrdup ("");
}

static void
is (const char *src, const char *want)
{
  char *got = render (src);
  CHECK_STR (got, want, "%s", src);
  free (got);
}

static void
fails (const char *src, const char *want_part)
{
  char *got = render (src);
  CHECK (!strncmp (got, "ERR: template: ", 15) && strstr (got, want_part),
         "%s fails: %s", src, got);
  free (got);
}

int
main (void)
{
  /* fields, as docker inspect -f */
  is ("{{.State.Pid}}", "42");
  is ("pid={{.State.Pid}} up={{.State.Running}}", "pid=42 up=true");
  is ("{{.Name}}", "/web");
  is ("{{.Args}}", "[-f -p 80]");
  is ("{{.Config.Labels}}", "map[a:1 b:2]");
  is ("{{.Nope}}", "<no value>");
  is ("{{.State.Nope.Deeper}}", "<no value>");
  is ("{{.Config.Entrypoint}}", "<nil>");
  is ("{{.Size}}", "1.5");
  is ("{{.}}", "map[Args:[-f -p 80] Config:map[Entrypoint:<nil> Env:[A=1 B=2] "
               "Labels:map[a:1 b:2]] Id:abc Name:/web NetworkSettings:map["
               "Networks:map[bridge:map[IPAddress:10.89.0.2] other:map["
               "IPAddress:10.90.0.3]] Ports:map[]] Size:1.5 State:map["
               "Error: ExitCode:0 Pid:42 Running:true]]");
  /* functions */
  is ("{{json .Config.Env}}", "[\"A=1\",\"B=2\"]");
  is ("{{json .State}}",
      "{\"Pid\":42,\"Running\":true,\"ExitCode\":0,\"Error\":\"\"}");
  is ("{{index .Config.Labels \"a\"}}", "1");
  is ("{{index .Args 2}}", "80");
  is ("{{index .NetworkSettings.Networks \"bridge\" | json}}",
      "{\"IPAddress\":\"10.89.0.2\"}");
  is ("{{join .Args \",\"}}", "-f,-p,80");
  is ("{{len .Args}} {{len .Config.Labels}} {{len .Name}}", "3 2 4");
  is ("{{upper .Name}} {{lower \"AbC\"}} {{title \"hello world\"}}",
      "/WEB abc Hello World");
  is ("{{split \"a:b:c\" \":\"}}", "[a b c]");
  is ("{{printf \"%s has %d args (%q)\" .Name (len .Args) .Id}}",
      "/web has 3 args (\"abc\")");
  is ("{{.Name | upper}}", "/WEB");
  is ("{{println .Name .Id}}", "/web abc\n");
  /* control */
  is ("{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}",
      "10.89.0.2 10.90.0.3 ");
  is ("{{range .Args}}[{{.}}]{{end}}", "[-f][-p][80]");
  is ("{{range .NetworkSettings.Ports}}x{{else}}none{{end}}", "none");
  is ("{{if .State.Running}}up{{else}}down{{end}}", "up");
  is ("{{if .State.ExitCode}}failed{{else if "
      ".State.Error}}error{{else}}ok{{end}}",
      "ok");
  is ("{{if .State.Error}}a{{else if .State.Running}}b{{else}}c{{end}}", "b");
  is ("{{with .Config}}{{.Env}}{{end}}", "[A=1 B=2]");
  is ("{{with .Nope}}x{{else}}no config{{end}}", "no config");
  is ("{{if eq .State.Pid 42}}pid 42{{end}}", "pid 42");
  is ("{{if eq .Name \"/db\" \"/web\"}}one of them{{end}}", "one of them");
  is ("{{if ne .Name \"/web\"}}x{{else}}is web{{end}}", "is web");
  is ("{{if and .State.Running (gt .State.Pid 1)}}up{{end}}", "up");
  is ("{{or .State.Error \"no error\"}}", "no error");
  is ("{{and .Id .Name}} {{not .State.Running}}", "/web false");
  is ("{{lt 1 2}} {{le 2 2}} {{ge \"a\" \"b\"}}", "true true false");
  fails ("{{lt .Name 1}}", "incompatible types");
  /* trimming and comments */
  is ("a  {{- .Id -}}  b", "aabcb");
  is ("x{{/* a comment */}}y", "xy");
  is ("{{ .Id }}\t{{ .Name }}", "abc\t/web");
  /* errors: one line, "template: ..." */
  fails ("{{.Id", "unclosed action");
  fails ("{{if .Id}}x", "missing {{end}}");
  fails ("{{end}}", "unexpected");
  fails ("{{nosuch .Id}}", "function not defined");
  fails ("{{index .Args 9}}", "index out of range");
  fails ("{{$x := .Id}}", "variables are not supported");
  fails ("{{\"abc}}", "unterminated string");
  /* docker's table formats */
  {
    bool table;
    char *f = gotmpl_docker_format ("table  {{.ID}}\\t{{.Names}}\\n ", &table);
    CHECK (table, "a table format");
    CHECK_STR (f, "{{.ID}}\t{{.Names}}\n",
               "its body, \\t and \\n made a tab and a newline");
    free (f);
    f = gotmpl_docker_format ("tablet {{.ID}}", &table);
    CHECK (!table, "not a table format");
    CHECK_STR (f, "tablet {{.ID}}", "left as it is");
    free (f);
  }
  {
    char *a = gotmpl_align ("NAMES\tSTATUS\tX\nweb\tUp 2 seconds\tyy\n");
    CHECK_STR (a, "NAMES     STATUS         X\nweb       Up 2 seconds   yy\n",
               "cells aligned: at least 10 wide, 3 spaces of padding");
    free (a);
  }
  return test_done ();
}
