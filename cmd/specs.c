/* Every command's option table (opttable.h), for help, completion and
 * docs/options.md: a command's spec is cmd_<name>_spec in its file, and a
 * line here (one a command, in the command table's order). */
#include "cmd/opttable.h"

#include <stddef.h>

/* clang-format off */
#define SPECS(X) \
  X (pull) \
  X (login) \
  X (logout) \
  X (push) \
  X (copy) \
  X (sign) \
  X (verify) \
  X (save) \
  X (load) \
  X (import) \
  X (export) \
  X (commit) \
  X (images) \
  X (inspect) \
  X (tag) \
  X (build) \
  X (builder) \
  X (history) \
  X (rmi) \
  X (prune) \
  X (run) \
  X (create) \
  X (start) \
  X (restart) \
  X (wait) \
  X (attach) \
  X (rename) \
  X (pause) \
  X (unpause) \
  X (ps) \
  X (logs) \
  X (exec) \
  X (stop) \
  X (kill) \
  X (rm) \
  X (top) \
  X (stats) \
  X (port) \
  X (diff) \
  X (cp) \
  X (network) \
  X (volume) \
  X (version) \
  X (info) \
  X (help) \
  X (completion) \
  X (system)
/* clang-format on */

#define DECLARE(name) extern const struct cmd_spec cmd_##name##_spec;
SPECS (DECLARE)

#define LIST(name) &cmd_##name##_spec,
const struct cmd_spec *const cmd_specs[] = { SPECS (LIST) NULL };
