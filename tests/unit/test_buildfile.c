/* Unit tests for builder/buildfile.c, bfscope.c and shlex.c: many small
 * Buildfiles, each instruction and form, and the substitution and scoping
 * rules of reference/buildfile.md. */
#include "builder/buildfile.h"
#include "builder/shlex.h"
#include "lib/err.h"
#include "lib/strbuf.h"
#include "lib/xalloc.h"
#include "tests/unit/test.h"

#include <stdlib.h>

static struct bf_plan *
parse (const char *text)
{
  struct bf_plan *p = NULL;
  struct err *err = NULL;
  if (bf_parse (text, strlen (text), "Buildfile", &p, &err) < 0)
    {
      printf ("# parse error: %s\n", err->msg);
      err_free (err);
      return NULL;
    }
  return p;
}

/* The error message of a Buildfile that must not parse (static buffer). */
static const char *
parse_err (const char *text)
{
  static char msg[512];
  struct bf_plan *p = NULL;
  struct err *err = NULL;
  if (bf_parse (text, strlen (text), "Buildfile", &p, &err) == 0)
    {
      bf_plan_free (p);
      return "(parsed)";
    }
  snprintf (msg, sizeof msg, "%s", err->msg);
  err_free (err);
  return msg;
}

static char *
join (char *const *v)
{
  struct strbuf sb = STRBUF_INIT;
  for (size_t i = 0; v && v[i]; i++)
    strbuf_addf (&sb, "%s[%s]", i ? " " : "", v[i]);
  return strbuf_detach (&sb, NULL);
}

static struct bf_instr *
I (struct bf_plan *p, size_t stage, size_t i)
{
  if (!p || stage >= p->n_stages || i >= p->stages[stage].n_instrs)
    return NULL;
  return &p->stages[stage].instrs[i];
}

#define CHECK_ARGS(in, want, ...)                                              \
  do                                                                           \
    {                                                                          \
      char *j_ = (in) ? join ((in)->args) : xstrdup ("(none)");                \
      CHECK_STR (j_, want, __VA_ARGS__);                                       \
      free (j_);                                                               \
    }                                                                          \
  while (0)

static void
test_lexical (void)
{
  struct bf_plan *p = parse ("# a comment\n"
                             "from alpine:3.19\n"
                             "  # indented comment\n"
                             "\n"
                             "run echo 'a # b'\n"
                             "RUN echo hello \\\n"
                             "# comment inside\n"
                             "\n"
                             "world\n"
                             "RUN a \\  \n"
                             "    b\r\n"
                             "CMD x \\\n");
  CHECK (p && p->n_stages == 1 && p->stages[0].n_instrs == 4,
         "lowercase keywords, comments, blank lines");
  CHECK_STR (p ? p->stages[0].base : NULL, "alpine:3.19", "FROM image");
  CHECK_ARGS (I (p, 0, 0), "[echo 'a # b']", "# inside a line is an argument");
  CHECK_ARGS (I (p, 0, 1), "[echo hello world]",
              "continuation skips comment and empty lines");
  CHECK_ARGS (I (p, 0, 2), "[a     b]",
              "escape followed by blanks continues; next line's indent kept");
  CHECK (I (p, 0, 1) && I (p, 0, 1)->line == 6, "line of the keyword (%d)",
         I (p, 0, 1) ? I (p, 0, 1)->line : -1);
  CHECK_ARGS (I (p, 0, 3), "[x]", "continuation at end of file");
  CHECK_STR (I (p, 0, 1) ? I (p, 0, 1)->raw : NULL, "RUN echo hello world",
             "raw text joins continuation lines");
  bf_plan_free (p);

  p = parse ("# escape=`\n"
             "# syntax=docker/dockerfile:1\n"
             "FROM windows\n"
             "COPY a c:\\dir\\\n"
             "RUN dir `\n"
             "  c:\\\n");
  CHECK (p && p->escape == '`', "escape directive");
  CHECK_STR (p ? p->syntax : NULL, "docker/dockerfile:1", "syntax directive");
  CHECK_ARGS (I (p, 0, 0), "[a] [c:\\dir\\]",
              "backslash is literal with escape=`");
  CHECK_ARGS (I (p, 0, 1), "[dir   c:\\]", "backtick continues the line");
  bf_plan_free (p);

  p = parse ("\n# escape=`\nFROM x\nRUN a `\n");
  CHECK (p && p->escape == '\\', "a directive after a blank line is a comment");
  bf_plan_free (p);
  p = parse ("# unknown=1\n# escape=`\nFROM x\n");
  CHECK (p && p->escape == '\\', "an unknown directive ends the directives");
  bf_plan_free (p);
  CHECK_STR (parse_err ("# escape=`\n# escape=\\\nFROM x\n"),
             "Buildfile:2: only one escape parser directive can be used",
             "duplicate directive");
  CHECK_STR (parse_err ("# escape=x\nFROM x\n"),
             "Buildfile:1: invalid escape token 'x' does not match ` or \\",
             "bad escape token");
  p = parse ("\xef\xbb\xbf# escape=`\nFROM x\n");
  CHECK (p && p->escape == '`', "a UTF-8 BOM is skipped");
  bf_plan_free (p);
}

static void
test_errors (void)
{
  CHECK_STR (parse_err ("FROM x\n\n\n\n\n\nRUNN echo\n"),
             "Buildfile:7: unknown instruction 'RUNN'", "unknown instruction");
  CHECK_STR (parse_err ("RUN echo\nFROM x\n"),
             "Buildfile:1: RUN before the first FROM (only ARG may come "
             "before FROM)",
             "instruction before FROM");
  CHECK_STR (parse_err ("# just a comment\n"), "Buildfile: no FROM instruction",
             "empty Buildfile");
  CHECK_STR (parse_err ("FROM a b\n"),
             "Buildfile:1: FROM requires either one or three arguments "
             "(FROM image [AS name])",
             "FROM with two words");
  CHECK_STR (parse_err ("FROM a AS 1x\n"),
             "Buildfile:1: invalid name for build stage: '1x', name can't "
             "start with a number or contain symbols",
             "bad stage name");
  CHECK_STR (parse_err ("FROM a AS x\nFROM b AS X\n"),
             "Buildfile:2: duplicate name for build stage 'x'",
             "duplicate stage name");
  CHECK_STR (parse_err ("FROM a\nRUN --foo=bar x\n"),
             "Buildfile:2: unknown flag '--foo' for RUN", "unknown flag");
  CHECK_STR (parse_err ("FROM a\nWORKDIR --x /a\n"),
             "Buildfile:2: unknown flag '--x' for WORKDIR",
             "flags on an instruction without flags");
  CHECK_STR (parse_err ("FROM a\nRUN --mount=type=cache,target=/x "
                        "--mount=type=secret,id=s make\n"),
             "(parsed)", "RUN --mount is parsed (several; builder/mounts.c)");
  CHECK_STR (parse_err ("FROM a\nRUN --security=insecure make\n"),
             "Buildfile:2: RUN --security is not supported yet",
             "RUN --security refused clearly");
  CHECK_STR (parse_err ("FROM a\nRUN --network=bridge x\n"),
             "Buildfile:2: RUN --network must be none, host or default, not "
             "'bridge'",
             "bad network mode");
  CHECK_STR (parse_err ("FROM a\nRUN\n"),
             "Buildfile:2: RUN requires at least one argument", "empty RUN");
  CHECK_STR (parse_err ("FROM a\nCOPY onlyone\n"),
             "Buildfile:2: COPY requires at least two arguments: source(s) "
             "and destination",
             "COPY with one argument");
  CHECK_STR (parse_err ("FROM a\nSHELL /bin/bash -c\n"),
             "Buildfile:2: SHELL requires the arguments to be in JSON form "
             "(SHELL [\"executable\", \"parameters\"])",
             "SHELL needs JSON");
  CHECK_STR (parse_err ("FROM a\nCMD [\"a\", 1]\n"),
             "Buildfile:2: CMD: a JSON array must hold only strings",
             "JSON array with a number");
  /* \u0000 is valid JSON: the exec form (BuildKit's reading), whose
     argument no program can take, so the build stops here rather than
     cut it short or run it as a shell command */
  CHECK_STR (parse_err ("FROM a\nCMD [\"ok\", \"a\\u0000b\"]\n"),
             "Buildfile:2: CMD: argument 2 holds a NUL character, which no "
             "program can take",
             "a NUL in an exec form argument");
  CHECK_STR (parse_err ("FROM a\nSHELL [\"/bin/sh\\u0000\"]\n"),
             "Buildfile:2: SHELL: argument 1 holds a NUL character, which no "
             "program can take",
             "... in SHELL too");
  CHECK_STR (parse_err ("FROM a\nENV a=1 b\n"),
             "Buildfile:2: ENV: can't find = in 'b' (must be of the form "
             "name=value)",
             "ENV mixing forms");
  CHECK_STR (parse_err ("FROM a\nENV A\n"),
             "Buildfile:2: ENV A: missing value (use ENV A=value)",
             "legacy ENV without value");
  CHECK_STR (parse_err ("FROM a\nLABEL =x\n"),
             "Buildfile:2: LABEL: empty name in '=x'", "empty label key");
  CHECK_STR (parse_err ("FROM a\nONBUILD ONBUILD RUN x\n"),
             "Buildfile:2: chaining ONBUILD via 'ONBUILD ONBUILD' isn't "
             "allowed",
             "ONBUILD ONBUILD");
  CHECK_STR (parse_err ("FROM a\nONBUILD FROM b\n"),
             "Buildfile:2: FROM isn't allowed as an ONBUILD trigger",
             "ONBUILD FROM");
  CHECK_STR (parse_err ("FROM a\nONBUILD maintainer me\n"),
             "Buildfile:2: MAINTAINER isn't allowed as an ONBUILD trigger",
             "ONBUILD MAINTAINER");
  CHECK_STR (parse_err ("FROM a\nONBUILD RUNX y\n"),
             "Buildfile:2: unknown instruction 'RUNX'",
             "ONBUILD of an unknown instruction");
  CHECK_STR (parse_err ("FROM a\nHEALTHCHECK --interval=5 CMD x\n"),
             "Buildfile:2: HEALTHCHECK --interval: bad duration '5'",
             "duration without unit");
  CHECK_STR (parse_err ("FROM a\nHEALTHCHECK NONE x\n"),
             "Buildfile:2: HEALTHCHECK NONE takes no arguments",
             "HEALTHCHECK NONE with arguments");
  CHECK_STR (parse_err ("FROM a\nHEALTHCHECK RUN x\n"),
             "Buildfile:2: unknown type 'RUN' in HEALTHCHECK (try CMD)",
             "HEALTHCHECK of a bad type");
  CHECK_STR (parse_err ("FROM a\nCOPY --link=maybe a b\n"),
             "Buildfile:2: --link expects true or false, not 'maybe'",
             "boolean flag value");
  CHECK_STR (parse_err ("FROM a\nCOPY --from a b\n"),
             "Buildfile:2: flag '--from' needs a value", "flag without value");
  CHECK_STR (parse_err ("FROM a\nRUN <<EOF\necho\n"),
             "Buildfile:2: unterminated heredoc <<EOF", "unterminated heredoc");
  CHECK_STR (parse_err ("FROM a\nARG 1x=2\n"),
             "Buildfile:2: ARG: invalid name '1x'", "bad ARG name");
  CHECK_STR (parse_err ("FROM a\nVOLUME [\"\"]\n"),
             "Buildfile:2: VOLUME specified can not be an empty string",
             "empty VOLUME");
  CHECK_STR (parse_err ("FROM a\nWORKDIR\n"),
             "Buildfile:2: WORKDIR requires exactly one argument",
             "WORKDIR without a path");
  CHECK_STR (parse_err ("FROM a\nCOPY --chmod=7;rm a b\n"),
             "Buildfile:2: COPY --chmod: bad mode '7;rm'", "bad chmod");
}

static void
test_instructions (void)
{
  struct bf_plan *p
      = parse ("ARG BASE=alpine\n"
               "FROM --platform=linux/arm64 $BASE AS Build\n"
               "RUN [\"/bin/echo\", \"a b\"]\n"
               "RUN --network=none make\n"
               "RUN [not json\n"
               "CMD [\"a\"] trailing\n"
               "ENTRYPOINT exec top -b\n"
               "SHELL [\"/bin/bash\", \"-c\"]\n"
               "COPY --from=build --chown=1:2 --chmod=0755 --link a b* /dst/\n"
               "ADD [\"with space\", \"/x y/\"]\n"
               "ADD --checksum=sha256:00 https://example.com/f /f\n"
               "WORKDIR /a b\n"
               "USER app:app\n"
               "EXPOSE 80 443/udp\n"
               "VOLUME /a /b\n"
               "VOLUME [\"/c\"]\n"
               "STOPSIGNAL SIGKILL\n"
               "HEALTHCHECK --interval=1m30s --timeout=500ms --start-period=2s "
               "--start-interval=1s --retries=4 CMD curl -f http://localhost/\n"
               "HEALTHCHECK NONE\n"
               "HEALTHCHECK CMD [\"/bin/check\"]\n"
               "ONBUILD RUN make install\n"
               "MAINTAINER Jane <j@example.com>\n"
               "LABEL a=b \"c d\"=\"e f\"\n"
               "FROM scratch\n"
               "FROM build\n");
  CHECK (p && p->n_stages == 3 && p->n_meta_args == 1, "stages and meta ARGs");
  if (!p)
    return;
  struct bf_stage *st = &p->stages[0];
  CHECK_STR (st->name, "build", "AS name lower-cased");
  CHECK_STR (st->platform, "linux/arm64", "--platform");
  CHECK_STR (st->base, "$BASE", "FROM kept as written until resolved");
  CHECK (bf_plan_stage (p, "BUILD") == st
             && bf_plan_stage (p, "2") == &p->stages[2]
             && !bf_plan_stage (p, "nope"),
         "stage lookup by name and index");
  size_t k = 0;
  struct bf_instr *in = I (p, 0, k++);
  CHECK (in && in->kind == BF_RUN && in->json, "RUN exec form");
  CHECK_ARGS (in, "[/bin/echo] [a b]", "exec form argv");
  in = I (p, 0, k++);
  CHECK (in && !in->json && !strcmp (bf_flag (in, "network"), "none"),
         "RUN --network=none");
  CHECK_ARGS (in, "[make]", "shell form");
  in = I (p, 0, k++);
  CHECK (in && !in->json, "text that is not JSON is shell form");
  CHECK_ARGS (in, "[[not json]", "... kept whole");
  in = I (p, 0, k++);
  CHECK (in && !in->json, "JSON followed by text is shell form");
  in = I (p, 0, k++);
  CHECK (in && in->kind == BF_ENTRYPOINT && !in->json, "ENTRYPOINT shell form");
  in = I (p, 0, k++);
  CHECK (in && in->kind == BF_SHELL && in->json, "SHELL");
  CHECK_ARGS (in, "[/bin/bash] [-c]", "SHELL argv");
  in = I (p, 0, k++);
  CHECK (in && in->kind == BF_COPY && !strcmp (bf_flag (in, "from"), "build")
             && !strcmp (bf_flag (in, "chown"), "1:2")
             && !strcmp (bf_flag (in, "chmod"), "0755")
             && !strcmp (bf_flag (in, "link"), "true"),
         "COPY flags");
  CHECK_ARGS (in, "[a] [b*] [/dst/]", "COPY sources and dest");
  in = I (p, 0, k++);
  CHECK (in && in->kind == BF_ADD && in->json, "ADD JSON form");
  CHECK_ARGS (in, "[with space] [/x y/]", "JSON keeps spaces");
  in = I (p, 0, k++);
  CHECK (in && !strcmp (bf_flag (in, "checksum"), "sha256:00"),
         "ADD --checksum");
  in = I (p, 0, k++);
  CHECK (in && in->kind == BF_WORKDIR, "WORKDIR");
  CHECK_ARGS (in, "[/a b]", "WORKDIR takes the whole line");
  in = I (p, 0, k++);
  CHECK_ARGS (in, "[app:app]", "USER");
  in = I (p, 0, k++);
  CHECK_ARGS (in, "[80] [443/udp]", "EXPOSE");
  in = I (p, 0, k++);
  CHECK_ARGS (in, "[/a] [/b]", "VOLUME list");
  in = I (p, 0, k++);
  CHECK (in && in->json, "VOLUME JSON");
  CHECK_ARGS (in, "[/c]", "VOLUME JSON list");
  in = I (p, 0, k++);
  CHECK_ARGS (in, "[SIGKILL]", "STOPSIGNAL");
  in = I (p, 0, k++);
  CHECK (in && in->kind == BF_HEALTHCHECK && !in->health.none
             && in->health.interval_ns == 90000000000LL
             && in->health.timeout_ns == 500000000LL
             && in->health.start_period_ns == 2000000000LL
             && in->health.start_interval_ns == 1000000000LL
             && in->health.retries == 4,
         "HEALTHCHECK flags as nanoseconds and retries");
  CHECK (in && in->sub && !in->sub->json
             && !strcmp (in->sub->args[0], "curl -f http://localhost/"),
         "HEALTHCHECK CMD shell form");
  in = I (p, 0, k++);
  CHECK (in && in->health.none, "HEALTHCHECK NONE");
  in = I (p, 0, k++);
  CHECK (in && in->sub && in->sub->json, "HEALTHCHECK CMD exec form");
  in = I (p, 0, k++);
  CHECK (in && in->kind == BF_ONBUILD && in->sub && in->sub->kind == BF_RUN,
         "ONBUILD parses its trigger");
  CHECK_ARGS (in, "[RUN make install]", "ONBUILD keeps the raw trigger");
  in = I (p, 0, k++);
  CHECK (in && in->kind == BF_MAINTAINER, "MAINTAINER");
  CHECK_ARGS (in, "[Jane <j@example.com>]", "MAINTAINER text");
  in = I (p, 0, k++);
  CHECK (in && in->kind == BF_LABEL && in->n_kvs == 2
             && !strcmp (in->kvs[1].key, "\"c d\""),
         "LABEL pairs keep quotes until expanded");
  CHECK_STR (p->stages[1].base, "scratch", "FROM scratch");
  CHECK (p->stages[1].n_instrs == 0, "an empty stage");

  /* argv of RUN/CMD/ENTRYPOINT */
  char *sh[] = { "/bin/sh", "-c", NULL };
  char **v = bf_instr_argv (I (p, 0, 1), sh);
  char *j = join (v);
  CHECK_STR (j, "[/bin/sh] [-c] [make]", "shell form runs through the shell");
  free (j);
  strv_free (v);
  v = bf_instr_argv (I (p, 0, 0), sh);
  j = join (v);
  CHECK_STR (j, "[/bin/echo] [a b]", "exec form runs as is");
  free (j);
  strv_free (v);
  bf_plan_free (p);
}

static void
test_heredocs (void)
{
  struct bf_plan *p = parse ("FROM a\n"
                             "RUN <<EOF\n"
                             "echo $HOME\n"
                             "echo two\n"
                             "EOF\n"
                             "RUN python3 <<'PY' > /out\n"
                             "print('hi $x')\n"
                             "PY\n"
                             "COPY <<-EOT /etc/conf\n"
                             "\t\tvalue=$V\n"
                             "\tEOT\n"
                             "RUN cat <<A <<\"B\"\n"
                             "a\n"
                             "A\n"
                             "b\n"
                             "B\n"
                             "ENV V=after\n");
  CHECK (p && p->stages[0].n_instrs == 5, "heredoc bodies are not lines");
  if (!p)
    return;
  struct bf_instr *in = I (p, 0, 0);
  CHECK (in->n_heredocs == 1 && in->heredocs[0].expand
             && !strcmp (in->heredocs[0].body, "echo $HOME\necho two\n"),
         "RUN <<EOF body");
  char *sh[] = { "/bin/sh", "-c", NULL };
  char **v = bf_instr_argv (in, sh);
  char *j = join (v);
  CHECK_STR (j, "[/bin/sh] [-c] [echo $HOME\necho two\n]",
             "a heredoc-only RUN runs its body with the shell");
  free (j);
  strv_free (v);
  in = I (p, 0, 1);
  CHECK (in->n_heredocs == 1 && !in->heredocs[0].expand
             && !strcmp (in->heredocs[0].name, "PY"),
         "quoted delimiter: no expansion");
  v = bf_instr_argv (in, sh);
  j = join (v);
  CHECK_STR (j, "[/bin/sh] [-c] [python3 <<'PY' > /out\nprint('hi $x')\nPY\n]",
             "a command with a heredoc is given to the shell whole");
  free (j);
  strv_free (v);
  in = I (p, 0, 2);
  CHECK (in->kind == BF_COPY && in->n_heredocs == 1
             && in->heredocs[0].strip_tabs
             && !strcmp (in->heredocs[0].body, "value=$V\n"),
         "<<- strips leading tabs");
  CHECK_ARGS (in, "[<<EOT] [/etc/conf]", "COPY heredoc source");
  in = I (p, 0, 3);
  CHECK (in->n_heredocs == 2 && !strcmp (in->heredocs[0].body, "a\n")
             && !strcmp (in->heredocs[1].body, "b\n") && in->heredocs[0].expand
             && !in->heredocs[1].expand,
         "two heredocs on one line");

  /* COPY heredoc bodies expand with the scope. */
  struct bf_kvs ba = { 0 };
  struct bf_scope s;
  bf_scope_init (&s, p, &ba, (char *[]){ "V=before", NULL });
  struct bf_instr *o = NULL;
  struct err *err = NULL;
  CHECK (bf_scope_step (&s, I (p, 0, 2), &o, &err) == 0
             && !strcmp (o->heredocs[0].body, "value=before\n"),
         "COPY heredoc expands variables");
  bf_instr_free (o);
  bf_scope_release (&s);
  bf_plan_free (p);
}

/* ---- substitution ------------------------------------------------------ */

static const char *
vars (void *ctx, const char *name)
{
  (void)ctx;
  if (!strcmp (name, "foo"))
    return "hello";
  if (!strcmp (name, "empty"))
    return "";
  if (!strcmp (name, "sp"))
    return "a b";
  return NULL;
}

static void
word (const char *in, const char *want)
{
  char *out = NULL;
  struct err *err = NULL;
  int r = bf_shlex_word (in, '\\', vars, NULL, &out, &err);
  CHECK_STR (r == 0 ? out : err->msg, want, "word %s", in);
  free (out);
  err_free (err);
}

static void
test_substitution (void)
{
  word ("$foo", "hello");
  word ("${foo}", "hello");
  word ("${foo}bar", "hellobar");
  word ("$foo.bar", "hello.bar");
  word ("$unset", "");
  word ("a${unset}b", "ab");
  word ("${unset:-word}", "word");
  word ("${empty:-word}", "word");
  word ("${empty-word}", "");
  word ("${unset-word}", "word");
  word ("${foo:-word}", "hello");
  word ("${foo:+word}", "word");
  word ("${empty:+word}", "");
  word ("${empty+word}", "word");
  word ("${unset+word}", "");
  word ("${unset:-${foo}x}", "hellox");
  word ("${unset:-'a b'}", "a b");
  word ("\\$foo", "$foo");
  word ("\\${foo}", "${foo}");
  word ("'$foo'", "$foo");
  word ("\"$foo\"", "hello");
  word ("\"a \\\"q\\\" \\$foo \\x\"", "a \"q\" $foo \\x");
  word ("a\\ b", "a b");
  word ("$", "$");
  word ("a$ b", "a$ b");
  word ("$1x", "x");
  word ("${foo:?}", "hello");
  word ("${unset:?must be set}", "unset: must be set");
  word ("${foo", "missing '}' in '${foo'");
  word ("${}", "bad substitution in '${}'");
  word ("${foo#h}", "unsupported modifier '#' in '${foo...}'");
  word ("'open", "unexpected end of statement while looking for matching "
                 "single-quote in ''open'");
  word ("\"open", "unexpected end of statement while looking for matching "
                  "double-quote in '\"open'");

  char *out = NULL;
  struct err *err = NULL;
  bf_shlex_word ("`$foo `` x", '`', vars, NULL, &out, &err);
  CHECK_STR (out, "$foo ` x", "escape ` escapes $ and itself");
  free (out);
  bf_shlex_heredoc ("'$foo' \"x\" \\$foo \\n\n", '\\', vars, NULL, &out, &err);
  CHECK_STR (out, "'hello' \"x\" $foo \\n\n",
             "heredoc: quotes literal, \\$ escaped, other \\ kept");
  free (out);

  char **w = bf_shlex_split (" a=\"b c\"  d='e f' g\\ h \"\" ", '\\');
  char *j = join (w);
  CHECK_STR (j, "[a=\"b c\"] [d='e f'] [g\\ h] [\"\"]",
             "split keeps quotes and escapes; a quoted empty word counts");
  free (j);
  strv_free (w);
}

/* Run every instruction of stage si through a scope; returns the scope
 * (caller releases) and the expanded instructions in *out. */
static int
run_stage (struct bf_plan *p, size_t si, struct bf_kvs *ba, char **base_env,
           struct bf_scope *s, struct bf_instr ***out)
{
  struct err *err = NULL;
  bf_scope_init (s, p, ba, base_env);
  struct bf_stage *st = &p->stages[si];
  *out = xcalloc (st->n_instrs + 1, sizeof **out);
  for (size_t i = 0; i < st->n_instrs; i++)
    if (bf_scope_step (s, &st->instrs[i], &(*out)[i], &err) < 0)
      {
        printf ("# step: %s\n", err->msg);
        err_free (err);
        return -1;
      }
  return 0;
}

static void
free_instrs (struct bf_instr **v)
{
  for (size_t i = 0; v && v[i]; i++)
    bf_instr_free (v[i]);
  free (v);
}

static void
test_scoping (void)
{
  struct err *err = NULL;
  struct bf_plan *p = parse ("ARG VERSION=1.0\n"
                             "ARG IMG=busybox:$VERSION\n"
                             "ARG UNUSED\n"
                             "FROM $IMG AS one\n"
                             "LABEL v=\"$VERSION\"\n"
                             "ARG VERSION\n"
                             "LABEL w=$VERSION\n"
                             "ENV abc=hello\n"
                             "ENV abc=bye def=$abc\n"
                             "ENV ghi=$abc\n"
                             "ARG abc=fromarg\n"
                             "LABEL abc=$abc\n"
                             "ARG LOCAL=x${VERSION}y\n"
                             "WORKDIR /src/$LOCAL\n"
                             "ENV single='$abc' dq=\"$abc\" esc=\\$abc\n"
                             "ENV LEGACY two words $abc\n"
                             "EXPOSE $PORTS 22\n"
                             "ARG PORTS=\"80 443\"\n"
                             "EXPOSE $PORTS\n"
                             "COPY --chown=${OWNER:-app} $LOCAL /dst/$LOCAL/\n"
                             "RUN echo $abc\n"
                             "FROM ${IMG%:*}:2 AS two\n"
                             "LABEL v=$VERSION\n");
  CHECK (p != NULL, "scoping Buildfile parses");
  if (!p)
    return;
  CHECK_STR (parse_err ("FROM a\nLABEL x=${y\n"), "(parsed)",
             "substitution errors come when the stage is built");

  struct bf_kvs ba = { 0 }, builtin = { 0 };
  CHECK (bf_plan_resolve (p, &ba, &builtin, &err) == -1 && err
             && strstr (err->msg, "Buildfile:22:")
             && strstr (err->msg, "unsupported modifier '%'"),
         "bad FROM substitution names its line (%s)", err ? err->msg : "");
  err_clear (&err);
  free (p->stages[1].from->args[0]);
  p->stages[1].from->args[0] = xstrdup ("${IMG}-two");
  bf_kvs_set (&ba, "http_proxy", "http://proxy:3128");
  CHECK (bf_plan_resolve (p, &ba, &builtin, &err) == 0, "resolve FROM");
  CHECK_STR (p->stages[0].base, "busybox:1.0",
             "global ARGs expand in FROM, one using another");

  struct bf_scope s;
  struct bf_instr **o = NULL;
  CHECK (run_stage (p, 0, &ba, (char *[]){ "PATH=/bin", NULL }, &s, &o) == 0,
         "walk stage one");
  size_t k = 0;
  CHECK_STR (o[k]->kvs[0].value, "", "a global ARG is not visible in a stage");
  k++; /* ARG VERSION */
  k++;
  CHECK_STR (o[k]->kvs[0].value, "1.0", "... until redeclared without value");
  k++;
  k++; /* ENV abc=bye def=$abc */
  CHECK_STR (o[k]->kvs[1].value, "hello",
             "ENV values use the variables from before the instruction");
  k++;
  CHECK_STR (o[k]->kvs[0].value, "bye", "... and the new value after");
  k++; /* ARG abc=fromarg */
  k++;
  CHECK_STR (o[k]->kvs[0].value, "bye",
             "ENV wins over an ARG of the same name");
  k++; /* ARG LOCAL */
  CHECK_STR (o[k]->kvs[0].value, "x1.0y", "ARG default expands");
  k++;
  CHECK_ARGS (o[k], "[/src/x1.0y]", "WORKDIR expands ARGs");
  k++;
  CHECK (!strcmp (o[k]->kvs[0].value, "$abc")
             && !strcmp (o[k]->kvs[1].value, "bye")
             && !strcmp (o[k]->kvs[2].value, "$abc"),
         "single quotes and \\$ keep $ literal, double quotes expand");
  k++;
  CHECK (!strcmp (o[k]->kvs[0].key, "LEGACY")
             && !strcmp (o[k]->kvs[0].value, "two words bye"),
         "legacy ENV: one variable, the rest of the line (%s)",
         o[k]->kvs[0].value);
  k++;
  CHECK_ARGS (o[k], "[22]", "an undeclared ARG expands to nothing");
  k++; /* ARG PORTS */
  k++;
  CHECK_ARGS (o[k], "[80] [443]", "EXPOSE splits an expanded list");
  k++;
  CHECK (!strcmp (bf_flag (o[k], "chown"), "app"), "flags expand");
  CHECK_ARGS (o[k], "[x1.0y] [/dst/x1.0y/]", "COPY sources and dest expand");
  k++;
  CHECK_ARGS (o[k], "[echo $abc]", "RUN is not expanded");
  char **env = bf_scope_run_env (&s);
  char *j = join (env);
  CHECK_STR (j,
             "[PATH=/bin] [abc=bye] [def=hello] [ghi=bye] [single=$abc] "
             "[dq=bye] [esc=$abc] [LEGACY=two words bye] [VERSION=1.0] "
             "[LOCAL=x1.0y] [PORTS=80 443] [http_proxy=http://proxy:3128]",
             "RUN env: ENV, then ARGs not shadowed, then proxy build args");
  free (j);
  strv_free (env);
  free_instrs (o);
  bf_scope_release (&s);

  /* --build-arg overrides defaults, global and local. */
  bf_kvs_set (&ba, "VERSION", "2.0");
  bf_kvs_set (&ba, "LOCAL", "L");
  CHECK (bf_plan_resolve (p, &ba, &builtin, &err) == 0
             && !strcmp (p->stages[0].base, "busybox:2.0"),
         "--build-arg overrides a global ARG in FROM");
  run_stage (p, 0, &ba, NULL, &s, &o);
  CHECK_STR (o[2]->kvs[0].value, "2.0", "... and when redeclared in a stage");
  CHECK_STR (o[8]->kvs[0].value, "L", "--build-arg overrides an ARG default");
  free_instrs (o);

  /* A stage FROM another stage inherits ENV and ARGs. */
  struct bf_scope s2 = { 0 };
  bf_scope_copy (&s2, &s);
  CHECK_STR (bf_scope_get (&s2, "abc"), "bye", "a child stage inherits ENV");
  CHECK_STR (bf_scope_get (&s2, "LOCAL"), "L", "... and ARGs");
  bf_scope_release (&s2);
  bf_scope_release (&s);

  /* An unrelated stage does not see them. */
  run_stage (p, 1, &ba, NULL, &s, &o);
  CHECK_STR (o[0]->kvs[0].value, "", "another stage must redeclare ARGs");
  free_instrs (o);
  bf_scope_release (&s);
  bf_kvs_release (&ba);
  bf_plan_free (p);

  /* SHELL changes the shell of later shell-form instructions. */
  p = parse ("FROM a\nSHELL [\"/bin/bash\", \"-eu\", \"-c\"]\nRUN echo hi\n");
  bf_kvs_release (&ba);
  run_stage (p, 0, &ba, NULL, &s, &o);
  char **argv = bf_instr_argv (o[1], s.shell);
  j = join (argv);
  CHECK_STR (j, "[/bin/bash] [-eu] [-c] [echo hi]", "SHELL applies to RUN");
  free (j);
  strv_free (argv);
  free_instrs (o);
  bf_scope_release (&s);
  bf_plan_free (p);

  /* Builtin platform ARGs in FROM without declaration. */
  p = parse ("FROM --platform=$BUILDPLATFORM golang AS b\n");
  bf_kvs_set (&builtin, "BUILDPLATFORM", "linux/amd64");
  bf_plan_resolve (p, &ba, &builtin, &err);
  CHECK_STR (p->stages[0].platform, "linux/amd64",
             "builtin ARGs usable in FROM --platform");
  bf_kvs_release (&builtin);
  bf_plan_free (p);
  err_clear (&err);
}

int
main (void)
{
  test_lexical ();
  test_errors ();
  test_instructions ();
  test_heredocs ();
  test_substitution ();
  test_scoping ();
  return test_done ();
}
