/* Option helpers shared by commands. */
#include "cmd/command.h"
#include "cmd/opttable.h"
#include "lib/err.h"
#include "runtime/rootless.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int
command_parse_bool (const char *arg, bool *out)
{
  if (!arg || !strcmp (arg, "true") || !strcmp (arg, "1"))
    *out = true;
  else if (!strcmp (arg, "false") || !strcmp (arg, "0"))
    *out = false;
  else
    return -1;
  return 0;
}

int
command_parse_epoch (const char *arg, int64_t *out, struct err **err)
{
  char *end;
  errno = 0;
  long long v = strtoll (arg, &end, 10);
  if (!*arg || *end || errno || v < 0)
    return err_set (err, 0, "invalid source date epoch '%s'", arg);
  *out = v;
  return 0;
}

int
command_epoch_from_env (bool *have, int64_t *out, struct err **err)
{
  const char *e = getenv ("SOURCE_DATE_EPOCH");
  if (*have || !e || !*e)
    return 0;
  if (command_parse_epoch (e, out, err) < 0)
    return err_wrap (err, "SOURCE_DATE_EPOCH");
  *have = true;
  return 0;
}

/* What command_getopt last refused, for command_bad_option. */
static char bad_option[160];
static const char *bad_option_cmd;
/* It is a value's, which names the option itself: said as it is. */
static bool bad_value;

/* The long option arg ("--name[=value]") names, spelled out in full:
 * options are matched exactly, never by a prefix. */
static const struct option *
find_long (const struct option *longopts, const char *name, size_t n)
{
  for (const struct option *o = longopts; o && o->name; o++)
    if (!strncmp (o->name, name, n) && strlen (o->name) == n)
      return o;
  return NULL;
}

static void
unknown_long (const char *arg, size_t n)
{
  snprintf (bad_option, sizeof bad_option, "unknown option '--%.*s'",
            (int)(n > 64 ? 64 : n), arg);
}

/* glibc's getopt_long, on '?': optopt is 0 for an unknown or ambiguous
 * long option, the option's val for a long option with a wrong value,
 * and the character for a short option (unknown, or without its value). */
static void
describe_bad_option (int argc, char **argv, const char *shortopts,
                     const struct option *longopts)
{
  const char *arg = optind > 0 && optind <= argc ? argv[optind - 1] : "";

  bad_option_cmd = argv[0];
  if (!strncmp (arg, "--", 2) && arg[2])
    {
      size_t n = strcspn (arg + 2, "=");
      const struct option *o = find_long (longopts, arg + 2, n);
      if (!optopt || !o)
        {
          unknown_long (arg + 2, n);
          return;
        }
      if (o->val == optopt)
        {
          snprintf (bad_option, sizeof bad_option,
                    o->has_arg == no_argument ? "option '--%s' takes no value"
                                              : "option '--%s' needs a value",
                    o->name);
          return;
        }
    }
  if (optopt > ' ' && optopt < 127 && optopt != ':'
      && strchr (shortopts, optopt))
    snprintf (bad_option, sizeof bad_option, "option '-%c' needs a value",
              optopt);
  else if (optopt > ' ' && optopt < 127)
    snprintf (bad_option, sizeof bad_option, "unknown option '-%c'", optopt);
  else
    snprintf (bad_option, sizeof bad_option, "bad option '%.64s'", arg);
}

/* glibc's getopt_long takes any unique prefix of a long option ("--priv"
 * for --privileged): refuse what was not spelled out in full. */
static bool
abbreviated (int argc, char **argv, const struct option *o)
{
  /* the option is the last word getopt took, or the one before when its
   * value was a word of its own */
  int i = optind
          - (o->has_arg == required_argument && optind >= 2
                     && optarg == argv[optind - 1]
                 ? 2
                 : 1);
  const char *arg = i > 0 && i < argc ? argv[i] : "";
  size_t n;
  if (strncmp (arg, "--", 2))
    return false;
  n = strcspn (arg + 2, "=");
  if (n == strlen (o->name) && !strncmp (arg + 2, o->name, n))
    return false;
  bad_option_cmd = argv[0];
  unknown_long (arg + 2, n);
  return true;
}

void
command_refuse_value (char **argv, const char *fmt, ...)
{
  va_list ap;
  bad_option_cmd = argv[0];
  bad_value = true;
  va_start (ap, fmt);
  vsnprintf (bad_option, sizeof bad_option, fmt, ap);
  va_end (ap);
}

int
command_getopt (int argc, char **argv, const char *shortopts,
                const struct option *longopts)
{
  int c, index = -1;
  bad_value = false;
  opterr = 0; /* only cmd/main.c prints: the error travels in struct err */
  c = getopt_long (argc, argv, shortopts, longopts, &index);
  opterr = 1; /* callers of plain getopt_long keep its messages */
  if (c == '?')
    describe_bad_option (argc, argv, shortopts, longopts);
  else if (index >= 0 && abbreviated (argc, argv, &longopts[index]))
    c = '?';
  return c;
}

int
command_bad_option (struct err **err)
{
  const char *cmd = bad_option_cmd ? bad_option_cmd : "imgtool";
  const char *base = strrchr (cmd, '/');
  base = base ? base + 1 : cmd;
  if (bad_value)
    err_set (err, 0, "%s", bad_option);
  else if (!strcmp (base, "imgtool"))
    err_set (err, 0, "%s; see 'imgtool --help'", bad_option);
  else
    err_set (err, 0, "%s: %s; see 'imgtool %s --help'", cmd, bad_option, cmd);
  return err_exit (err, 2);
}

int
command_no_options (int argc, char **argv, const char *usage, struct err **err)
{
  const struct cmd_spec spec
      = { .name = argv[0], .usage = usage, .opts = cmd_opts_help_only };
  return cmd_no_options (argc, argv, &spec, err);
}

int
command_rootless (const char *name, int status, struct err **err)
{
  /* why: as an ordinary user, the store's owners, overlay mounts and the
   * container's namespaces need a user namespace; enter it once, before
   * any thread or file exists (runtime/rootless.h) */
  if (rt_rootless_enter (err) < 0)
    return err_wrap (err, "%s", name), err_exit (err, status);
  return 0;
}
