/* The registry options shared by the commands (see regflags.h). */
#include "cmd/regflags.h"
#include "cmd/command.h"
#include "lib/err.h"
#include "registry/client.h"
#include "registry/push.h"

#include <stdio.h>
#include <stdlib.h>

void
regflags_init (struct regflags *f, const char *usage, bool quiet)
{
  *f = (struct regflags){
    .usage = usage, .tls_verify = true, .dest_tls_verify = true, .quiet = quiet
  };
}

/* --jobs N: concurrent transfers, 1 to 64. */
static int
parse_jobs (const char *arg, int *out)
{
  char *end;
  long v = strtol (arg, &end, 10);
  if (end == arg || *end || v < 1 || v > 64)
    return -1;
  *out = (int)v;
  return 0;
}

static int
bad_value (const struct regflags *f, const char *name, const char *arg,
           const char *expected, struct err **err)
{
  /* one line that names the value; exit 2 as any usage error, or 125
   * for run (docker's status for its own usage errors) */
  err_set (err, 0, "invalid %s '%s': expected %s", name, arg, expected);
  return err_exit (err, f->usage ? 2 : 125);
}

int
regflags_option (struct regflags *f, int c, const char *arg, struct err **err)
{
  bool v;
  switch (c)
    {
    case REGFLAG_PLATFORM:
      f->platform = arg;
      return 0;
    case REGFLAG_TLS_VERIFY:
    case REGFLAG_SRC_TLS_VERIFY:
    case REGFLAG_DEST_TLS_VERIFY:
      if (command_parse_bool (arg, &v) < 0)
        return bad_value (f,
                          c == REGFLAG_TLS_VERIFY       ? "--tls-verify"
                          : c == REGFLAG_SRC_TLS_VERIFY ? "--src-tls-verify"
                                                        : "--dest-tls-verify",
                          arg, "true or false", err);
      if (c != REGFLAG_DEST_TLS_VERIFY)
        f->tls_verify = v;
      if (c != REGFLAG_SRC_TLS_VERIFY)
        f->dest_tls_verify = v;
      return 0;
    case REGFLAG_CERT_DIR:
      f->cert_dir = arg;
      return 0;
    case REGFLAG_SIGNATURE_POLICY:
      f->signature_policy = arg;
      return 0;
    case REGFLAG_JOBS:
      if (parse_jobs (arg, &f->jobs) < 0)
        return bad_value (f, "--jobs", arg, "a number from 1 to 64", err);
      return 0;
    case REGFLAG_ALL:
    case REGFLAG_ALL_PLATFORMS:
    case REGFLAG_QUIET:
      *(c == REGFLAG_QUIET ? &f->quiet : &f->all) = cmd_optbool;
      return 0;
    case CMD_OPT_HELP_ID: /* printed by cmd_getopt */
      return 1;
    default:
      break;
    }
  command_bad_option (err);
  return f->usage ? -1 : err_exit (err, 125);
}

/* What a pull's and a push's options name alike. */
#define FILL_ALIKE(o, f)                                                       \
  ((o)->platform = (f)->platform, (o)->cert_dir = (f)->cert_dir,               \
   (o)->jobs = (f)->jobs, (o)->quiet = (f)->quiet)

void
regflags_pull_opts (const struct regflags *f, struct reg_pull_opts *o)
{
  FILL_ALIKE (o, f);
  o->all_platforms = f->all;
  o->no_tls_verify = !f->tls_verify;
}

void
regflags_push_opts (const struct regflags *f, struct reg_push_opts *o)
{
  FILL_ALIKE (o, f);
  o->all = f->all;
  o->no_tls_verify = !f->dest_tls_verify;
}
