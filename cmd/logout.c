/* imgtool logout [SERVER]: forget the credentials for a registry. */
#include "cmd/command.h"
#include "lib/err.h"
#include "lib/xalloc.h"
#include "registry/credentials.h"
#include "registry/ref.h"

#include <stdio.h>
#include <string.h>

static const char usage_text[] = "imgtool logout [SERVER]";

COMMAND (logout)
{
  const char *server = argc == 2 ? argv[1] : REF_DEFAULT_DOMAIN, *p;
  _cleanup_free_ char *domain = NULL;
  bool found;
  if (argc == 2 && !strcmp (argv[1], "--help"))
    {
      printf ("usage: %s\n", usage_text);
      return 0;
    }
  if (argc > 2 || (argc == 2 && argv[1][0] == '-'))
    return command_usage_error (usage_text, err);
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
