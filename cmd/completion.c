/* imgtool completion bash|zsh|fish: a script that completes imgtool's
 * commands (from the command table), each command's options (from its
 * option table, cmd/opttable.h), image names for the commands that take an
 * image and container names for those that take a container (asked of imgtool
 * itself as one types). Load it with `source <(imgtool completion bash)`.
 * imgtool help [COMMAND]: the list of commands, or COMMAND --help. */
#include "cmd/command.h"
#include "cmd/opttable.h"
#include "lib/err.h"
#include "lib/xalloc.h"

#include <stdio.h>
#include <string.h>

static const char usage_text[] = "imgtool completion bash|zsh|fish";

const struct cmd_spec cmd_completion_spec
    = { .name = "completion", .usage = usage_text, .opts = cmd_opts_help_only };
static const struct cmd_opt help_opts[] = {
  CMD_OPT ("markdown", 0, NULL, 'M',
           "Print every command's options as Markdown (docs/options.md)", NULL),
  CMD_OPT_HELP,
  CMD_OPT_END,
};

const struct cmd_spec cmd_help_spec
    = { .name = "help",
        .usage = "imgtool help [--markdown] [COMMAND [SUBCOMMAND]]",
        .opts = help_opts };

/* The commands whose arguments are images, and those whose are
 * containers. */
#define IMAGE_CMDS                                                             \
  "run|create|pull|push|rmi|tag|history|save|inspect|sign|verify"
#define CONTAINER_CMDS                                                         \
  "start|stop|restart|kill|rm|logs|exec|attach|wait|rename|pause|unpause|"     \
  "top|stats|port|diff|cp|export|commit"

static void
print_name (const char *name, const char *summary, void *data)
{
  (void)summary;
  printf ("%s%s", *(int *)data ? " " : "", name);
  *(int *)data = 1;
}

static void
print_names (void)
{
  int started = 0;
  command_each (print_name, &started);
  printf (" image container");
}

/* Each option of spec, as words for compgen. */
static void
print_opts (const struct cmd_spec *spec)
{
  for (const struct cmd_opt *o = spec->opts; o && o->name; o++)
    if (cmd_opt_offered (spec, o))
      printf (" --%s", o->name);
}

/* The case arms of _imgtool_opts: "CMD" or "CMD SUB") the options. */
static void
bash_opts_case (const char *name, const char *summary, void *data)
{
  const struct cmd_spec *spec = cmd_spec_find (name);
  (void)summary, (void)data;
  if (!spec)
    return;
  printf ("    '%s')\n      echo '", name);
  print_opts (spec);
  printf ("' ;;\n");
  for (size_t k = 0; spec->subs && spec->subs[k]; k++)
    {
      printf ("    '%s')\n      echo '", spec->subs[k]->name);
      print_opts (spec->subs[k]);
      printf ("' ;;\n");
    }
}

static void
bash_script (void)
{
  printf ("# imgtool completion for bash: source <(imgtool completion bash)\n"
          "_imgtool_words () {\n"
          "  case $1 in\n"
          "    " IMAGE_CMDS ")\n"
          "      imgtool images --format '{{.Repository}}:{{.Tag}}' "
          "2>/dev/null | grep -v '<none>' ;;\n"
          "    " CONTAINER_CMDS ")\n"
          "      imgtool ps -a --format '{{.Names}}' 2>/dev/null ;;\n"
          "  esac\n"
          "}\n"
          "_imgtool_opts () {\n"
          "  case $1 in\n");
  command_each (bash_opts_case, NULL);
  printf ("    *) ;;\n"
          "  esac\n"
          "}\n"
          "_imgtool () {\n"
          "  local cur=${COMP_WORDS[COMP_CWORD]} cmd= sub= i\n"
          "  for ((i = 1; i < COMP_CWORD; i++)); do\n"
          "    case ${COMP_WORDS[i]} in\n"
          "      --root|--config) ((i++)) ;;\n"
          "      -*) ;;\n"
          "      *) cmd=${COMP_WORDS[i]}; break ;;\n"
          "    esac\n"
          "  done\n"
          "  for ((i++; i < COMP_CWORD; i++)); do\n"
          "    case ${COMP_WORDS[i]} in\n"
          "      -*) ;;\n"
          "      *) sub=${COMP_WORDS[i]}; break ;;\n"
          "    esac\n"
          "  done\n"
          "  if [ -z \"$cmd\" ]; then\n"
          "    COMPREPLY=($(compgen -W \"");
  print_names ();
  printf ("\" -- \"$cur\"))\n"
          "    return\n"
          "  fi\n"
          "  if [[ $cur == -* ]]; then\n"
          "    local o=$(_imgtool_opts \"$cmd $sub\")\n"
          "    [ -z \"$o\" ] && o=$(_imgtool_opts \"$cmd\")\n"
          "    COMPREPLY=($(compgen -W \"$o\" -- \"$cur\"))\n"
          "    return\n"
          "  fi\n"
          "  COMPREPLY=($(compgen -W \"$(_imgtool_words \"$cmd\")\" -- "
          "\"$cur\"))\n"
          "}\n"
          "complete -F _imgtool imgtool\n");
}

/* fish's single quotes: a quote or backslash escaped */
static void
fish_quoted (const char *s)
{
  putchar ('\'');
  for (; *s; s++)
    {
      if (*s == '\'' || *s == '\\')
        putchar ('\\');
      putchar (*s);
    }
  putchar ('\'');
}

static void
fish_opts (const char *name, const char *summary, void *data)
{
  const struct cmd_spec *spec = cmd_spec_find (name);
  (void)summary, (void)data;
  for (const struct cmd_opt *o = spec ? spec->opts : NULL; o && o->name; o++)
    {
      if (!cmd_opt_offered (spec, o))
        continue;
      printf ("complete -c imgtool -n '__fish_seen_subcommand_from %s' -l %s",
              name, o->name);
      if (o->short_name)
        printf (" -s %c", o->short_name);
      if (o->arg)
        printf (" -r");
      printf (" -d ");
      fish_quoted (o->help);
      putchar ('\n');
    }
}

static void
fish_script (void)
{
  printf ("# imgtool completion for fish: imgtool completion fish | source\n"
          "complete -c imgtool -f -n __fish_use_subcommand -a '");
  print_names ();
  printf ("'\n"
          "complete -c imgtool -f -n '__fish_seen_subcommand_from "
          "%s' -a '(imgtool images --format \"{{.Repository}}:{{.Tag}}\" "
          "2>/dev/null)'\n"
          "complete -c imgtool -f -n '__fish_seen_subcommand_from "
          "%s' -a '(imgtool ps -a --format \"{{.Names}}\" 2>/dev/null)'\n",
          "run create pull push rmi tag history save inspect sign verify",
          "start stop restart kill rm logs exec attach wait rename pause "
          "unpause top stats port diff cp export commit");
  command_each (fish_opts, NULL);
}

COMMAND (completion)
{
  int r = cmd_no_options (argc, argv, &cmd_completion_spec, err);
  (void)g;
  if (r != 0)
    return r < 0 ? -1 : 0;
  if (argc - optind != 1)
    return command_usage_error (usage_text, err);
  if (!strcmp (argv[optind], "bash"))
    bash_script ();
  else if (!strcmp (argv[optind], "zsh"))
    {
      /* zsh runs bash's through its bashcompinit */
      printf ("# imgtool completion for zsh: source <(imgtool completion "
              "zsh)\nautoload -U +X bashcompinit && bashcompinit\n");
      bash_script ();
    }
  else if (!strcmp (argv[optind], "fish"))
    fish_script ();
  else
    {
      err_set (err, 0, "completion: unknown shell '%s': bash, zsh or fish",
               argv[optind]);
      return err_exit (err, 2);
    }
  return 0;
}

static void
markdown_each (const char *name, const char *summary, void *data)
{
  const struct cmd_spec *spec = cmd_spec_find (name);
  (void)summary, (void)data;
  if (spec)
    cmd_markdown_print (spec, stdout);
}

COMMAND (help)
{
  char *sub[] = { NULL, (char *)"--help", NULL };
  const struct cmd_spec *spec;
  bool markdown = false;
  int c;
  while ((c = cmd_getopt (argc, argv, &cmd_help_spec)) != -1)
    switch (c)
      {
      case 'M':
        markdown = cmd_optbool;
        break;
      case CMD_OPT_HELP_ID:
        return 0;
      default:
        return command_bad_option (err);
      }
  if (markdown && optind == argc)
    {
      printf ("# The options of every command\n\n"
              "Generated from the commands' option tables (cmd/opttable.h) "
              "by\n`imgtool help --markdown > docs/options.md`; "
              "tests/integration/09-opttable.sh\nchecks that it is "
              "current. docs/commands.md says what the commands do.\n"
              "A flag (no value) takes `--flag=false` too.\n\n");
      command_each (markdown_each, NULL);
      return 0;
    }
  if (optind == argc)
    {
      command_usage (stdout);
      return 0;
    }
  if (argc - optind == 2)
    {
      /* a subcommand's: help network create */
      _cleanup_free_ char *name
          = xasprintf ("%s %s", argv[optind], argv[optind + 1]);
      if (!(spec = cmd_spec_find (name)))
        return err_fail (err, 2, "unknown command '%s'; see 'imgtool --help'",
                         name);
      (markdown ? cmd_markdown_print : cmd_help_print) (spec, stdout);
      return 0;
    }
  if (argc - optind != 1)
    return command_usage_error (cmd_help_spec.usage, err);
  if (markdown)
    {
      if (!(spec = cmd_spec_find (argv[optind])))
        return err_fail (err, 2, "unknown command '%s'; see 'imgtool --help'",
                         argv[optind]);
      cmd_markdown_print (spec, stdout);
      return 0;
    }
  sub[0] = argv[optind];
  optind = 0;
  return command_run (sub[0], g, 2, sub, err);
}
