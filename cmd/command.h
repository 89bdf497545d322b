/* The command table: one file per command in cmd/, each with one entry
 * point of this signature, listed in cmd/main.c (git's builtin table).
 *
 * Adding a command: write cmd/foo.c with `int cmd_foo (struct global *, int
 * argc, char **argv, struct err **err)`, declare it below, add a row to
 * the table in cmd/main.c, document it in docs/commands.md, add tests. */
#ifndef IMGTOOL_COMMAND_H
#define IMGTOOL_COMMAND_H

#include <jansson.h>

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct err;

/* Options that come before the command name, shared by every command. */
struct global
{
  const char *root;        /* --root / $IMGTOOL_ROOT, else the default */
  const char *config_path; /* --config / $IMGTOOL_CONFIG, else the default
                              (registry/config.h), never NULL */
  bool quiet;              /* -q: no progress output */
};

/* argv[0] is the command's name; options start at argv[1]. A command
 * returns its exit status (0 ok), or -1 with *err set. */
typedef int (*command_fn) (struct global *g, int argc, char **argv,
                           struct err **err);

#define COMMAND(name)                                                          \
  int cmd_##name (struct global *g, int argc, char **argv, struct err **err)

COMMAND (version);
COMMAND (info);
COMMAND (system);
COMMAND (completion);
COMMAND (help);
COMMAND (images);
COMMAND (inspect);
COMMAND (tag);
COMMAND (rmi);
COMMAND (prune);
COMMAND (builder);
COMMAND (pull);
COMMAND (login);
COMMAND (logout);
COMMAND (push);
COMMAND (copy);
COMMAND (save);
COMMAND (load);
COMMAND (import);
COMMAND (run);
COMMAND (ps);
COMMAND (logs);
COMMAND (exec);
COMMAND (stop);
COMMAND (kill);
COMMAND (rm);
COMMAND (network);
COMMAND (volume);
COMMAND (build);
COMMAND (history);
COMMAND (export);
COMMAND (commit);

/* fn on each command of the table, in its order. */
void command_each (void (*fn) (const char *name, const char *summary,
                               void *data),
                   void *data);
/* The list of commands, as `imgtool --help` prints it. */
void command_usage (FILE *out);

/* Run the command name of the table (cmd/main.c) as if typed; -1 with
 * *err when there is none. */
int command_run (const char *name, struct global *g, int argc, char **argv,
                 struct err **err);
COMMAND (sign);
COMMAND (verify);
COMMAND (create);
COMMAND (start);
COMMAND (restart);
COMMAND (wait);
COMMAND (rename);
COMMAND (pause);
COMMAND (unpause);
COMMAND (attach);
COMMAND (top);
COMMAND (stats);
COMMAND (port);
COMMAND (diff);
COMMAND (cp);

/* A boolean option value: NULL (bare flag), "true"/"1", "false"/"0".
 * Returns -1 for anything else. */
int command_parse_bool (const char *arg, bool *out);

/* What save and export say rather than write a tar to a terminal
 * (docker's words). */
#define COMMAND_TTY_REFUSED                                                    \
  "cowardly refusing to save to a terminal. Use the -o flag or redirect"

/* --source-date-epoch N: seconds since 1970, not negative ("invalid
 * source date epoch 'x'"). command_epoch_from_env takes
 * $SOURCE_DATE_EPOCH when no option gave one (*have false). */
int command_parse_epoch (const char *arg, int64_t *out, struct err **err);
int command_epoch_from_env (bool *have, int64_t *out, struct err **err);

/* getopt_long for a command's options, silent: on a bad option it returns
 * '?' and remembers one line about it for command_bad_option. */
int command_getopt (int argc, char **argv, const char *shortopts,
                    const struct option *longopts);
/* Remember a line about a bad value of an option for command_bad_option,
 * which says it as it is. */
void command_refuse_value (char **argv, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));
/* Set *err to that line ("pull: unknown option '--x'; see 'imgtool pull
 * --help'") with exit status 2. Returns -1. */
int command_bad_option (struct err **err);

/* For a command whose only option is --help: 0 to go on with
 * argv[optind..], 1 when the usage was printed (exit 0), -1 with *err set
 * for any other option. */
int command_no_options (int argc, char **argv, const char *usage,
                        struct err **err);

/* Commands that write snapshots or start containers (run, build, pull,
 * rm's removals, rmi, prune, load, import) call this once, after their
 * options are parsed and before anything is set up: as an ordinary user
 * the process then runs as root of its own user namespace
 * (docs/rootless.md). 0, or -1 with *err set and exit status status. */
int command_rootless (const char *name, int status, struct err **err);

/* Print "imgtool: <text>" on stderr as one line (err_line: control
 * characters escaped, long text cut): the one printer of errors. */
void command_print_error (const char *fmt, ...)
    __attribute__ ((format (printf, 1, 2)));

/* The default store root for this user (DESIGN.md). Returned string is
 * static or owned by the environment. */
const char *global_default_root (void);

/* Print "usage: <text>" to stderr and return the exit status for bad
 * usage (docker uses 125 for its own usage errors; we use 2 like most
 * Unix tools for flag errors, 125 only for run/exec, see docs). */
int command_usage_error (const char *usage, struct err **err);

/* docker's "WARNING! ...\nAre you sure you want to continue? [y/N] " on
 * stdout, as docker's prunes all ask; true for an answer on stdin starting
 * with y (none, or an empty line, is no). */
bool command_confirm (const char *warning);

/* Print rows (a JSON array of objects) through a --format template as
 * docker's CLI does: "table ..." adds a header, the template applied to
 * header (an object of the same fields holding column titles), and
 * aligns the columns; NULL or "table" alone is default_table (the
 * command's own); "json" prints each row as one line of JSON, its keys in
 * the rows' order (cmd/format.c). */
int command_print_format (const char *format, const char *default_table,
                          json_t *header, json_t *rows, struct err **err);

/* One object (version, info) through --format TEMPLATE|json. */
int command_print_object (const char *format, json_t *obj, struct err **err);

#endif
