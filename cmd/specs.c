/* Every command's option table (opttable.h), for help, completion and the
 * docs check: a command's spec is cmd_<name>_spec in its file. */
#include "cmd/opttable.h"

#include <stddef.h>

#define SPECS(X)                                                               \
  X (tag)                                                                      \
  X (diff) X (logout) X (pause) X (unpause) X (port) X (rename) X (wait)       \
      X (stop) X (restart) X (kill) X (completion) X (help) X (run) X (create)

#define DECLARE(name) extern const struct cmd_spec cmd_##name##_spec;
SPECS (DECLARE)

#define LIST(name) &cmd_##name##_spec,
const struct cmd_spec *const cmd_specs[] = { SPECS (LIST) NULL };
