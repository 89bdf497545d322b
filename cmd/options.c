/* Option helpers shared by commands. */
#include "cmd/command.h"

#include <string.h>

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
