/* The registry options that pull, push, copy, build, run and login share
 * (--platform, --tls-verify[=BOOL], --cert-dir DIR, --jobs N, --all, -q,
 * and --help with the command's usage): getopt entries to splice into a
 * command's table, one handler for their codes, usage fragments, and the
 * fill-in of the registry's option structs.
 *
 *   static const struct option opts[] = {
 *     REGFLAGS_OPT_PLATFORM, REGFLAGS_OPTS_TRANSFER, REGFLAGS_OPT_QUIET,
 *     { "no-unpack", no_argument, NULL, 'U' }, REGFLAGS_OPT_HELP, { 0 },
 *   };
 *   struct regflags rf;
 *   regflags_init (&rf, usage_text, g->quiet);
 *   while ((c = command_getopt (argc, argv, "j:qh", opts)) != -1)
 *     switch (c)
 *       {
 *       case 'U': ...           (the command's own options first)
 *       default:
 *         if ((rc = regflags_option (&rf, c, optarg, err)) != 0)
 *           return rc < 0 ? -1 : 0;
 *       }
 *
 * A command offers only the entries it splices in; -a, -j and -q are its
 * short options when its getopt string names them. */
#ifndef IMGTOOL_REGFLAGS_H
#define IMGTOOL_REGFLAGS_H

#include <getopt.h>
#include <stdbool.h>

struct err;
struct reg_pull_opts;
struct reg_push_opts;

/* The option codes: the short options' letters, else above run's own
 * long-only codes (cmd/runflags.c counts up from 256). A command gives
 * none of its own options these codes; its own cases come first, so run's
 * -h stays its --hostname (run's regflags have no usage: no --help). */
enum
{
  REGFLAG_ALL = 'a',
  REGFLAG_HELP = 'h',
  REGFLAG_JOBS = 'j',
  REGFLAG_QUIET = 'q',
  REGFLAG_PLATFORM = 0x1000,
  REGFLAG_TLS_VERIFY,
  REGFLAG_SRC_TLS_VERIFY,
  REGFLAG_DEST_TLS_VERIFY,
  REGFLAG_CERT_DIR,
  REGFLAG_ALL_PLATFORMS, /* long only: pull's -a is --all-tags (docker) */
  REGFLAG_SIGNATURE_POLICY,
};

#define REGFLAGS_OPT_PLATFORM                                                  \
  {                                                                            \
    "platform", required_argument, NULL, REGFLAG_PLATFORM                      \
  }
#define REGFLAGS_OPT_ALL                                                       \
  {                                                                            \
    "all", no_argument, NULL, REGFLAG_ALL                                      \
  }
#define REGFLAGS_OPT_ALL_PLATFORMS                                             \
  {                                                                            \
    "all-platforms", no_argument, NULL, REGFLAG_ALL_PLATFORMS                  \
  }
#define REGFLAGS_OPT_TLS_VERIFY                                                \
  {                                                                            \
    "tls-verify", optional_argument, NULL, REGFLAG_TLS_VERIFY                  \
  }
/* copy's: one side's verification each. */
#define REGFLAGS_OPT_SRC_DEST_TLS_VERIFY                                       \
  { "src-tls-verify", optional_argument, NULL, REGFLAG_SRC_TLS_VERIFY },       \
  {                                                                            \
    "dest-tls-verify", optional_argument, NULL, REGFLAG_DEST_TLS_VERIFY        \
  }
#define REGFLAGS_OPT_CERT_DIR                                                  \
  {                                                                            \
    "cert-dir", required_argument, NULL, REGFLAG_CERT_DIR                      \
  }
#define REGFLAGS_OPT_JOBS                                                      \
  {                                                                            \
    "jobs", required_argument, NULL, REGFLAG_JOBS                              \
  }
#define REGFLAGS_OPT_QUIET                                                     \
  {                                                                            \
    "quiet", no_argument, NULL, REGFLAG_QUIET                                  \
  }
#define REGFLAGS_OPT_HELP                                                      \
  {                                                                            \
    "help", no_argument, NULL, REGFLAG_HELP                                    \
  }
/* The containers-policy.json to enforce (trust/policy.h), as podman's. */
#define REGFLAGS_OPT_SIGNATURE_POLICY                                          \
  {                                                                            \
    "signature-policy", required_argument, NULL, REGFLAG_SIGNATURE_POLICY      \
  }
#define REGFLAGS_USAGE_SIGNATURE_POLICY "[--signature-policy FILE]"
/* How pull and push reach a registry (copy has no --cert-dir). */
#define REGFLAGS_OPTS_TRANSFER                                                 \
  REGFLAGS_OPT_TLS_VERIFY, REGFLAGS_OPT_CERT_DIR, REGFLAGS_OPT_JOBS

/* The usage texts' words for them. */
#define REGFLAGS_USAGE_PLATFORM "[--platform OS/ARCH[/VARIANT]]"
#define REGFLAGS_USAGE_TLS_VERIFY "[--tls-verify=false]"
#define REGFLAGS_USAGE_CERT_DIR "[--cert-dir DIR]"
#define REGFLAGS_USAGE_JOBS "[--jobs N]"
#define REGFLAGS_USAGE_TRANSFER                                                \
  REGFLAGS_USAGE_TLS_VERIFY " " REGFLAGS_USAGE_CERT_DIR " " REGFLAGS_USAGE_JOBS

struct regflags
{
  /* How a bad value is told: the command's usage text, exit 2; NULL:
   * "invalid --tls-verify 'x': expected true or false", exit 125 (run). */
  const char *usage;
  const char *platform; /* --platform; NULL: the host's */
  bool all;             /* --all-platforms; push's and copy's -a, --all */
  /* --tls-verify sets both; --src-tls-verify the first, --dest-tls-verify
   * the second. tls_verify is the registry read from (or logged in to),
   * dest_tls_verify the one pushed to. Default true. */
  bool tls_verify, dest_tls_verify;
  const char *cert_dir;         /* --cert-dir; NULL: the configured ones */
  int jobs;                     /* --jobs, -j: 1 to 64; 0: the default */
  bool quiet;                   /* -q, --quiet; starts as the global -q */
  const char *signature_policy; /* --signature-policy; NULL: the default */
};

void regflags_init (struct regflags *f, const char *usage, bool quiet);

/* Take option code c (from command_getopt, with its optarg) when it is
 * one of the above: 0; for --help, "usage: <usage>" on stdout and 1 (the
 * command exits 0). Otherwise -1 with *err set: a bad value (see usage),
 * or an option that is not a registry option either (getopt's '?':
 * command_bad_option, exit 2, 125 for run). Call it for every code the
 * command's own cases do not take. */
int regflags_option (struct regflags *f, int c, const char *arg,
                     struct err **err);

/* Copy them into a pull's options (tls_verify), a push's
 * (dest_tls_verify): platform, all, TLS, cert dir, jobs, quiet. */
void regflags_pull_opts (const struct regflags *f, struct reg_pull_opts *o);
void regflags_push_opts (const struct regflags *f, struct reg_push_opts *o);

#endif
