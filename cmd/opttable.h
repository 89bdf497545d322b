/* One declarative table of options per command: parsing (cmd_getopt,
 * cmd_parse), --help and `imgtool help CMD` (cmd_help_print), the man
 * pages (scripts/man-pages reads that --help) and the completion scripts
 * (cmd/completion.c walks cmd_spec_find) all come from it.
 *
 * Adding an option: one line in the command's table,
 *
 *   CMD_OPT ("time", 't', "SECONDS", 0, "Seconds to wait before killing it",
 *            "--time"),
 *
 * then a case for its id in the command's switch (or, for run/create, a
 * handler in the entry: cmd/runopts.c). A flag (arg NULL) also takes
 * --name=true|false as docker's booleans do: read cmd_optbool in its case.
 * Adding a command: its spec, listed in cmd_specs[] (cmd/opttable.c). */
#ifndef IMGTOOL_OPTTABLE_H
#define IMGTOOL_OPTTABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct err;
struct cmd_opt;

/* A handler (run/create): take the option's value into target (the
 * command's options struct). arg is NULL for a flag; cmd_optbool holds its
 * value. 0, or -1 with *err set. */
typedef int (*cmd_opt_fn) (void *target, const struct cmd_opt *o,
                           const char *arg, struct err **err);

struct cmd_opt
{
  const char *name;   /* the long name, without "--"; NULL ends the table */
  char short_name;    /* its one-letter form, 0 for none */
  const char *arg;    /* the value's name ("SECONDS"); NULL: a flag */
  int id;             /* what cmd_getopt returns for it; 0: short_name */
  const char *help;   /* one line for --help and the man page */
  const char *docker; /* docker's flag it mirrors ("--time"), NULL: none */
  cmd_opt_fn set;     /* cmd_parse: the handler, NULL: none */
  size_t off;         /* for a generic handler: the field's offset */
  unsigned flags;     /* CMD_OPT_* */
};

/* An entry: CMD_OPT (name, short_name, arg, id, help, docker); with a
 * handler, CMD_OPT_SET (..., set, off). */
#define CMD_OPT(name_, short_, arg_, id_, help_, docker_)                      \
  {                                                                            \
    .name = (name_), .short_name = (short_), .arg = (arg_), .id = (id_),       \
    .help = (help_), .docker = (docker_)                                       \
  }
#define CMD_OPT_SET(name_, short_, arg_, help_, docker_, set_, off_)           \
  {                                                                            \
    .name = (name_), .short_name = (short_), .arg = (arg_), .help = (help_),   \
    .docker = (docker_), .set = (set_), .off = (off_)                          \
  }
#define CMD_OPT_END                                                            \
  {                                                                            \
    0                                                                          \
  }

/* A flag that takes no value at all (--help): "--help=x" is refused. */
#define CMD_OPT_NOVALUE 1u

/* An option whose value may be left out (build's --pull[=POLICY]): only
 * as --name=VALUE, and not checked as a boolean. */
#define CMD_OPT_OPTVALUE 2u

/* The ids of entries without id or short form: this plus their index. */
#define CMD_OPT_AUTO_ID 0x6000

/* Entries several commands share, in docker's words. */
#define CMD_OPT_FILTER                                                         \
  CMD_OPT ("filter", 'f', "KEY=VALUE", 0,                                      \
           "Filter output based on conditions provided", "--filter")
#define CMD_OPT_FORMAT(id)                                                     \
  CMD_OPT ("format", 0, "FORMAT", (id),                                        \
           "Format output: table, json or a Go template", "--format")
#define CMD_OPT_NO_TRUNC(id)                                                   \
  CMD_OPT ("no-trunc", 0, NULL, (id), "Don't truncate output", "--no-trunc")
#define CMD_OPT_FORCE                                                          \
  CMD_OPT ("force", 'f', NULL, 0, "Do not prompt for confirmation", "--force")

/* The id of --help: cmd_getopt has printed the help when it returns it. */
#define CMD_OPT_HELP_ID 0x7f00
#define CMD_OPT_HELP                                                           \
  {                                                                            \
    .name = "help", .id = CMD_OPT_HELP_ID, .help = "Print this help",          \
    .docker = "--help", .flags = CMD_OPT_NOVALUE                               \
  }
/* The commands where -h is --help too (those that took it before). */
#define CMD_OPT_HELP_H                                                         \
  {                                                                            \
    .name = "help", .short_name = 'h', .id = CMD_OPT_HELP_ID,                  \
    .help = "Print this help", .docker = "--help", .flags = CMD_OPT_NOVALUE    \
  }

struct cmd_spec
{
  const char *name;  /* "stop", "network create" */
  const char *usage; /* the synopsis after "usage: " */
  const struct cmd_opt *opts;
  bool posix;              /* options end at the first operand (run, exec) */
  int bad_exit;            /* exit status for a bad option; 0: 2 */
  const char *summary;     /* one line; NULL: the command table's */
  cmd_opt_fn other;        /* cmd_parse: for the entries without a handler */
  const char *const *omit; /* names of opts this command does not take */
  const struct cmd_spec *const *subs; /* subcommands, NULL-ended */
};

/* The value of the last flag cmd_getopt returned: true for "--flag",
 * "--flag=true" or "-f", false for "--flag=false". */
extern bool cmd_optbool;

/* getopt_long over spec's table, with command_getopt's exact matching
 * and messages: an entry's id, -1 at the end of the options, '?' for a
 * bad option (then command_bad_option), CMD_OPT_HELP_ID after printing
 * the help on stdout. */
int cmd_getopt (int argc, char **argv, const struct cmd_spec *spec);

/* Every option through its entry's handler (cmd_opt.set) into target:
 * 0 with optind at the first operand, 1 when --help was printed, -1 with
 * *err set (a bad option: exit spec->bad_exit). */
int cmd_parse (int argc, char **argv, const struct cmd_spec *spec, void *target,
               struct err **err);

/* Generic handlers: the field at o->off is a bool (the flag's value), a
 * char * (replaced by a copy of arg), or a char ** list (arg appended). */
int cmd_set_bool (void *target, const struct cmd_opt *o, const char *arg,
                  struct err **err);
int cmd_set_string (void *target, const struct cmd_opt *o, const char *arg,
                    struct err **err);
int cmd_set_strv (void *target, const struct cmd_opt *o, const char *arg,
                  struct err **err);

/* The default case of an option switch over cmd_getopt: 0 for --help
 * (printed already), else command_bad_option's -1. */
int cmd_other_option (int c, struct err **err);

/* For a command whose only option is --help: 0 to go on with
 * argv[optind..], 1 when the help was printed (exit 0), -1 with *err set
 * for any other option. */
int cmd_no_options (int argc, char **argv, const struct cmd_spec *spec,
                    struct err **err);
extern const struct cmd_opt cmd_opts_help_only[];

/* "usage: ...", the summary and one line per option, docker's --help. */
void cmd_help_print (const struct cmd_spec *spec, FILE *out);

/* spec's options as a Markdown section (docs/options.md), its
 * subcommands' after it. */
void cmd_markdown_print (const struct cmd_spec *spec, FILE *out);

/* Whether spec takes o (an entry of spec->opts not in spec->omit). */
bool cmd_opt_offered (const struct cmd_spec *spec, const struct cmd_opt *o);

/* The spec of command name ("run", "network create"), NULL for none. */
const struct cmd_spec *cmd_spec_find (const char *name);

/* Every command's spec (subcommands' through spec->subs). */
extern const struct cmd_spec *const cmd_specs[];

#endif
