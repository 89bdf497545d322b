/* imgtool completion bash|zsh|fish: a script that completes imgtool's
 * commands (from the command table), each command's long options (from
 * its --help), image names for the commands that take an image and
 * container names for those that take a container (asked of imgtool
 * itself as one types). Load it with `source <(imgtool completion bash)`.
 * imgtool help [COMMAND]: the list of commands, or COMMAND --help. */
#include "cmd/command.h"
#include "lib/err.h"

#include <stdio.h>
#include <string.h>

static const char usage_text[] = "imgtool completion bash|zsh|fish";

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
          "_imgtool () {\n"
          "  local cur=${COMP_WORDS[COMP_CWORD]} cmd= i\n"
          "  for ((i = 1; i < COMP_CWORD; i++)); do\n"
          "    case ${COMP_WORDS[i]} in\n"
          "      --root|--config) ((i++)) ;;\n"
          "      -*) ;;\n"
          "      *) cmd=${COMP_WORDS[i]}; break ;;\n"
          "    esac\n"
          "  done\n"
          "  if [ -z \"$cmd\" ]; then\n"
          "    COMPREPLY=($(compgen -W \"");
  print_names ();
  printf ("\" -- \"$cur\"))\n"
          "    return\n"
          "  fi\n"
          "  if [[ $cur == -* ]]; then\n"
          "    COMPREPLY=($(compgen -W \"$(imgtool \"$cmd\" --help 2>&1 |"
          " grep -oE -- '--[a-z][a-z0-9-]*' | sort -u)\" -- \"$cur\"))\n"
          "    return\n"
          "  fi\n"
          "  COMPREPLY=($(compgen -W \"$(_imgtool_words \"$cmd\")\" -- "
          "\"$cur\"))\n"
          "}\n"
          "complete -F _imgtool imgtool\n");
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
}

COMMAND (completion)
{
  int r = command_no_options (argc, argv, usage_text, err);
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

COMMAND (help)
{
  char *sub[] = { NULL, (char *)"--help", NULL };
  int r = command_no_options (argc, argv, "imgtool help [COMMAND]", err);
  if (r != 0)
    return r < 0 ? -1 : 0;
  if (optind == argc)
    {
      command_usage (stdout);
      return 0;
    }
  if (argc - optind != 1)
    return command_usage_error ("imgtool help [COMMAND]", err);
  sub[0] = argv[optind];
  optind = 0;
  return command_run (sub[0], g, 2, sub, err);
}
