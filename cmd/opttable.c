/* The option tables' getopt driver, handlers and --help printer
 * (opttable.h). */
#include "cmd/opttable.h"
#include "cmd/command.h"
#include "lib/err.h"
#include "lib/xalloc.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

bool cmd_optbool;

/* The entry cmd_getopt last returned, for cmd_parse. */
static const struct cmd_opt *last_opt;

/* Its id, else its short form, else one of its own from its place (the
 * entries with a handler need none). */
static int
opt_id (const struct cmd_spec *spec, const struct cmd_opt *o)
{
  return o->id           ? o->id
         : o->short_name ? o->short_name
                         : CMD_OPT_AUTO_ID + (int)(o - spec->opts);
}

static const struct cmd_opt *
by_id (const struct cmd_spec *spec, int id)
{
  for (const struct cmd_opt *o = spec->opts; o && o->name; o++)
    if (opt_id (spec, o) == id)
      return o;
  return NULL;
}

bool
cmd_opt_offered (const struct cmd_spec *spec, const struct cmd_opt *o)
{
  for (const char *const *n = spec->omit; n && *n; n++)
    if (!strcmp (*n, o->name))
      return false;
  return true;
}

int
cmd_getopt (int argc, char **argv, const struct cmd_spec *spec)
{
  /* rebuilt on each call: getopt_long keeps only argv positions between
   * calls, and a table is a few dozen entries */
  static struct option longs[160];
  static char shorts[2 * 128];
  size_t nl = 0, ns = 0;
  const struct cmd_opt *o;
  int c;

  if (spec->posix)
    shorts[ns++] = '+';
  for (o = spec->opts; o && o->name && nl + 1 < ARRAY_SIZE (longs); o++)
    {
      if (!cmd_opt_offered (spec, o))
        continue;
      /* a flag is --name or --name=BOOL, docker's booleans */
      longs[nl++]
          = (struct option){ o->name,
                             o->flags & CMD_OPT_OPTVALUE  ? optional_argument
                             : o->arg                     ? required_argument
                             : o->flags & CMD_OPT_NOVALUE ? no_argument
                                                          : optional_argument,
                             NULL, opt_id (spec, o) };
      if (o->short_name && ns + 3 < sizeof shorts)
        {
          shorts[ns++] = o->short_name;
          if (o->arg && !(o->flags & CMD_OPT_OPTVALUE))
            shorts[ns++] = ':';
        }
    }
  longs[nl] = (struct option){ 0 };
  shorts[ns] = '\0';

  last_opt = NULL;
  c = command_getopt (argc, argv, shorts, longs);
  if (c == -1 || c == '?' || !(o = by_id (spec, c)))
    return c;
  last_opt = o;
  cmd_optbool = true;
  if (!o->arg && !(o->flags & CMD_OPT_OPTVALUE) && optarg
      && command_parse_bool (optarg, &cmd_optbool) < 0)
    {
      command_refuse_value (argv,
                            "invalid --%s '%.64s': expected true or false",
                            o->name, optarg);
      return '?';
    }
  if (c == CMD_OPT_HELP_ID)
    cmd_help_print (spec, stdout);
  return c;
}

int
cmd_parse (int argc, char **argv, const struct cmd_spec *spec, void *target,
           struct err **err)
{
  int c;
  while ((c = cmd_getopt (argc, argv, spec)) != -1)
    {
      if (c == CMD_OPT_HELP_ID)
        return 1;
      if (c == '?' || !last_opt)
        {
          command_bad_option (err);
          return err_exit (err, spec->bad_exit ? spec->bad_exit : 2);
        }
      cmd_opt_fn set = last_opt->set ? last_opt->set : spec->other;
      if (set && set (target, last_opt, optarg, err) < 0)
        return -1;
    }
  return 0;
}

int
cmd_set_bool (void *target, const struct cmd_opt *o, const char *arg,
              struct err **err)
{
  (void)arg, (void)err;
  *(bool *)((char *)target + o->off) = cmd_optbool;
  return 0;
}

int
cmd_set_string (void *target, const struct cmd_opt *o, const char *arg,
                struct err **err)
{
  char **field = (char **)(void *)((char *)target + o->off);
  (void)err;
  free (*field);
  *field = xstrdup (arg);
  return 0;
}

int
cmd_set_strv (void *target, const struct cmd_opt *o, const char *arg,
              struct err **err)
{
  (void)err;
  strv_push ((char ***)(void *)((char *)target + o->off), xstrdup (arg));
  return 0;
}

struct summary_find
{
  const char *name, *summary;
};

static void
summary_of (const char *name, const char *summary, void *data)
{
  struct summary_find *f = data;
  if (!strcmp (name, f->name))
    f->summary = summary;
}

/* "-t, --time SECONDS" or "    --rm" */
static int
left_column (const struct cmd_opt *o, char *buf, size_t size)
{
  return snprintf (buf, size, "%c%c%s--%s%s%s", o->short_name ? '-' : ' ',
                   o->short_name ? o->short_name : ' ',
                   o->short_name ? ", " : "  ", o->name, o->arg ? " " : "",
                   o->arg ? o->arg : "");
}

void
cmd_help_print (const struct cmd_spec *spec, FILE *out)
{
  struct summary_find f = { spec->name, spec->summary };
  char buf[128];
  int width = 0;
  if (!f.summary)
    command_each (summary_of, &f);
  fprintf (out, "usage: %s\n", spec->usage);
  if (f.summary)
    fprintf (out, "\n%s\n", f.summary);
  for (size_t k = 0; spec->subs && spec->subs[k]; k++)
    fprintf (out, "%s  %-10s %s\n", k ? "" : "\ncommands:\n",
             spec->subs[k]->name + strlen (spec->name) + 1,
             spec->subs[k]->summary ? spec->subs[k]->summary : "");
  if (!spec->opts || !spec->opts->name)
    return;
  for (const struct cmd_opt *o = spec->opts; o->name; o++)
    {
      int n = cmd_opt_offered (spec, o) ? left_column (o, buf, sizeof buf) : 0;
      if (n > width && n <= 34)
        width = n;
    }
  fprintf (out, "\noptions:\n");
  for (const struct cmd_opt *o = spec->opts; o->name; o++)
    {
      if (!cmd_opt_offered (spec, o))
        continue;
      left_column (o, buf, sizeof buf);
      fprintf (out, "  %-*s  %s\n", width, buf, o->help);
    }
}

int
cmd_other_option (int c, struct err **err)
{
  return c == CMD_OPT_HELP_ID ? 0 : command_bad_option (err);
}

const struct cmd_opt cmd_opts_help_only[] = { CMD_OPT_HELP, { 0 } };

int
cmd_no_options (int argc, char **argv, const struct cmd_spec *spec,
                struct err **err)
{
  int c = cmd_getopt (argc, argv, spec);
  if (c == -1)
    return 0;
  if (c == CMD_OPT_HELP_ID)
    return 1;
  return command_bad_option (err);
}

const struct cmd_spec *
cmd_spec_find (const char *name)
{
  for (size_t i = 0; cmd_specs[i]; i++)
    {
      if (!strcmp (cmd_specs[i]->name, name))
        return cmd_specs[i];
      for (size_t k = 0; cmd_specs[i]->subs && cmd_specs[i]->subs[k]; k++)
        if (!strcmp (cmd_specs[i]->subs[k]->name, name))
          return cmd_specs[i]->subs[k];
    }
  return NULL;
}

/* A table cell: '|' escaped, the rest as it is. */
static void
md_cell (FILE *out, const char *s, bool code)
{
  bool tick = code && *s;
  fputs (tick ? " `" : " ", out);
  for (; *s; s++)
    fprintf (out, *s == '|' ? "\\|" : "%c", *s);
  fputs (tick ? "` |" : " |", out);
}

void
cmd_markdown_print (const struct cmd_spec *spec, FILE *out)
{
  struct summary_find f = { spec->name, spec->summary };
  char left[96];
  if (!f.summary)
    command_each (summary_of, &f);
  fprintf (out, "## %s\n\n", spec->name);
  if (f.summary)
    fprintf (out, "%s.\n\n", f.summary);
  fprintf (out, "    %s\n\n", spec->usage);
  fprintf (out, "| option | value | docker's | description |\n"
                "|---|---|---|---|\n");
  for (const struct cmd_opt *o = spec->opts; o && o->name; o++)
    {
      if (!cmd_opt_offered (spec, o))
        continue;
      if (o->short_name)
        snprintf (left, sizeof left, "`-%c`, `--%s`", o->short_name, o->name);
      else
        snprintf (left, sizeof left, "`--%s`", o->name);
      fprintf (out, "| %s |", left);
      md_cell (out, o->arg ? o->arg : "", true);
      md_cell (out, o->docker ? o->docker : "", true);
      md_cell (out, o->help, false);
      fputc ('\n', out);
    }
  fputc ('\n', out);
  for (size_t k = 0; spec->subs && spec->subs[k]; k++)
    cmd_markdown_print (spec->subs[k], out);
}
