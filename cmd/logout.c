/* imgtool logout [SERVER]: forget the credentials for a registry. */
#include "cmd/command.h"
#include "cmd/opttable.h"
#include "lib/err.h"
#include "lib/xalloc.h"
#include "registry/credentials.h"
#include "registry/ref.h"

#include <stdio.h>
#include <string.h>

static const char usage_text[] = "imgtool logout [SERVER]";

const struct cmd_spec cmd_logout_spec
    = { .name = "logout", .usage = usage_text, .opts = cmd_opts_help_only };

COMMAND (logout)
{
  const char *server = REF_DEFAULT_DOMAIN, *p;
  _cleanup_free_ char *domain = NULL;
  bool found;
  int r;
  if ((r = cmd_no_options (argc, argv, &cmd_logout_spec, err)) != 0)
    return r < 0 ? -1 : 0;
  if (optind < argc - 1)
    return command_usage_error (usage_text, err);
  if (optind == argc - 1)
    server = argv[optind];
  p = server;
  if (!strncmp (p, "https://", 8))
    p += 8;
  else if (!strncmp (p, "http://", 7))
    p += 7;
  domain = xstrndup (p, strcspn (p, "/"));
  if (!strcmp (domain, "index.docker.io")
      || !strcmp (domain, "registry-1.docker.io"))
    {
      free (domain);
      domain = xstrdup (REF_DEFAULT_DOMAIN);
    }
  if (reg_cred_erase (domain, &found, err) < 0)
    return -1;
  if (!found)
    return err_set (err, 0, "logout: not logged in to '%s'", domain);
  printf ("Removed login credentials for %s\n", domain);
  return 0;
}
