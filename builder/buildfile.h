/* The Buildfile parser: Dockerfile syntax in, a plan out (bubblewrap's
 * "plan, then execute"). See docs/buildfile.md for what is supported.
 *
 * Parsing (bf_parse) is purely syntactic: directives, comments,
 * continuations, heredocs, JSON vs shell form, flags and each
 * instruction's argument grammar are checked, and errors name file:line.
 * Words keep their quotes: variables are expanded later, per instruction,
 * by bf_scope_step() as the builder walks a stage, because ENV values can
 * come from the base image, which the parser does not see. FROM lines are
 * expanded with the global ARGs by bf_plan_resolve(). */
#ifndef IMGTOOL_BUILDFILE_H
#define IMGTOOL_BUILDFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct err;

enum bf_kind
{
  BF_FROM,
  BF_RUN,
  BF_COPY,
  BF_ADD,
  BF_ENV,
  BF_ARG,
  BF_WORKDIR,
  BF_USER,
  BF_CMD,
  BF_ENTRYPOINT,
  BF_LABEL,
  BF_EXPOSE,
  BF_VOLUME,
  BF_STOPSIGNAL,
  BF_HEALTHCHECK,
  BF_SHELL,
  BF_ONBUILD,
  BF_MAINTAINER,
};

/* "RUN", "COPY", ... */
const char *bf_kind_name (enum bf_kind k);

struct bf_kv
{
  char *key;
  char *value; /* ARG without a default: NULL */
};

struct bf_flag
{
  char *name;  /* without "--" */
  char *value; /* "true" for a bare boolean flag */
};

struct bf_heredoc
{
  char *name;  /* the delimiter word, unquoted */
  char *body;  /* the lines between, each ending in "\n" (<<- strips
                  leading tabs) */
  bool expand; /* false when the delimiter was quoted */
  bool strip_tabs;
};

struct bf_health
{
  bool none;           /* HEALTHCHECK NONE */
  int64_t interval_ns; /* 0 = inherit */
  int64_t timeout_ns;
  int64_t start_period_ns;
  int64_t start_interval_ns;
  int retries; /* 0 = inherit */
};

struct bf_instr
{
  enum bf_kind kind;
  int line;  /* line of the keyword, 1-based */
  char *raw; /* the instruction as written, continuations joined */
  struct bf_flag *flags;
  size_t n_flags;
  bool json; /* exec (JSON) form */
  /* Arguments, by kind:
   *   FROM                     [image, stage name or absent]
   *   RUN CMD ENTRYPOINT SHELL json: argv; shell form: [command line]
   *   COPY ADD                 [src..., dest] (a heredoc source: "<<NAME")
   *   WORKDIR USER STOPSIGNAL MAINTAINER  [string]
   *   EXPOSE VOLUME            [word...]
   *   HEALTHCHECK              ["NONE"] or ["CMD"] with cmd set
   *   ONBUILD                  [trigger text, e.g. "RUN make"]
   *   ENV LABEL ARG            none: see kvs */
  char **args;
  struct bf_kv *kvs; /* ENV, LABEL, ARG; keys and values still quoted */
  size_t n_kvs;
  struct bf_heredoc *heredocs;
  size_t n_heredocs;
  struct bf_health health;
  struct bf_instr *sub; /* ONBUILD: the trigger; HEALTHCHECK CMD: a
                           BF_CMD with the command */
};

/* The value of --name, "true" for a bare boolean flag, or NULL. */
const char *bf_flag (const struct bf_instr *in, const char *name);

struct bf_stage
{
  int index;
  int line;       /* of its FROM */
  char *name;     /* "AS name" lower-cased, or NULL */
  char *base;     /* FROM image as written; expanded by bf_plan_resolve */
  char *platform; /* --platform as written / expanded, or NULL */
  struct bf_instr *from;   /* the FROM instruction */
  struct bf_instr *instrs; /* the instructions after FROM */
  size_t n_instrs;
};

struct bf_plan
{
  char *file; /* name used in messages ("Buildfile", "-") */
  char escape;
  char *syntax;               /* "# syntax=" value or NULL */
  struct bf_instr *meta_args; /* ARGs before the first FROM */
  size_t n_meta_args;
  struct bf_kv *meta; /* their values after bf_plan_resolve */
  size_t n_meta;
  struct bf_stage *stages;
  size_t n_stages;
};

/* Parse text (len bytes, need not be NUL-terminated). file names the
 * Buildfile in messages: "Buildfile:7: unknown instruction 'RUNN'". */
int bf_parse (const char *text, size_t len, const char *file,
              struct bf_plan **out, struct err **err);
void bf_plan_free (struct bf_plan *p);

/* Values given with --build-arg and built-in ones (TARGETPLATFORM, ...). */
struct bf_kvs
{
  struct bf_kv *v;
  size_t n;
};
/* Last value of key, or NULL. */
const char *bf_kvs_get (const struct bf_kvs *kvs, const char *key);
/* Set key (replacing in place, else appending), as config Env does. */
void bf_kvs_set (struct bf_kvs *kvs, const char *key, const char *value);
void bf_kvs_release (struct bf_kvs *kvs);
void bf_kvs_copy (struct bf_kvs *dst, const struct bf_kvs *src);

/* Evaluate the global ARGs (build args override their defaults; builtin
 * ones like TARGETARCH are usable in FROM without a declaration) and
 * expand each stage's FROM image and --platform with them. Stage names
 * must be unique; a FROM naming a later stage is an error. */
int bf_plan_resolve (struct bf_plan *p, const struct bf_kvs *build_args,
                     const struct bf_kvs *builtin, struct err **err);
/* The stage called name (or by index "0", "1", ...), or NULL. */
struct bf_stage *bf_plan_stage (struct bf_plan *p, const char *name);

/* Variables in scope while a stage is built. ENV always wins over ARG;
 * ARGs are in scope from their declaration to the end of the stage; a
 * global ARG is visible in a stage only once redeclared there. */
struct bf_scope
{
  const struct bf_plan *plan;
  const struct bf_kvs *build_args;
  struct bf_kvs env;  /* from the base image, then ENV instructions */
  struct bf_kvs args; /* ARGs declared in this stage (value NULL: unset) */
  char **shell;       /* SHELL, default /bin/sh -c */
};

/* Start a stage on base image env ("K=V" strings, may be NULL). */
void bf_scope_init (struct bf_scope *s, const struct bf_plan *p,
                    const struct bf_kvs *build_args, char *const *base_env);
/* A stage FROM an earlier stage starts with that stage's ENV and ARGs. */
void bf_scope_copy (struct bf_scope *dst, const struct bf_scope *src);
void bf_scope_release (struct bf_scope *s);
/* ENV, else a declared ARG; NULL when unset. */
const char *bf_scope_get (const struct bf_scope *s, const char *name);

/* Expand one instruction with the scope as it is before it (every
 * variable has its value from before the instruction), and apply it to
 * the scope (ENV, ARG, SHELL). *out is a new instruction with words
 * unquoted and expanded (kvs, args, flags, heredoc bodies that expand);
 * RUN/CMD/ENTRYPOINT/SHELL are copied unexpanded. */
int bf_scope_step (struct bf_scope *s, const struct bf_instr *in,
                   struct bf_instr **out, struct err **err);
void bf_instr_free (struct bf_instr *in);

/* The environment a RUN sees: ENV, plus declared ARGs with a value, plus
 * the predefined proxy ARGs given with --build-arg even if undeclared.
 * "K=V" strings, NULL-terminated. */
char **bf_scope_run_env (const struct bf_scope *s);

/* The argv of a RUN (or the Cmd/Entrypoint for CMD/ENTRYPOINT) with the
 * scope's SHELL for the shell form. A RUN whose command is one heredoc
 * runs its body with the shell; a command line with heredocs is given to
 * the shell together with the heredoc bodies, which sh then feeds. */
char **bf_instr_argv (const struct bf_instr *in, char *const *shell);

/* Is name one of the predefined proxy ARGs (HTTP_PROXY, no_proxy ...)? */
bool bf_is_proxy_arg (const char *name);

#endif
