/* The registry options that pull, push, copy, build, run and login share
 * (--platform, --tls-verify[=BOOL], --cert-dir DIR, --jobs N, --all, -q,
 * and --help with the command's usage): getopt entries to splice into a
 * command's table, one handler for their codes, usage fragments, and the
 * fill-in of the registry's option structs.
 *
 *   static const struct cmd_opt opts[] = {
 *     REGFLAGS_OPT_PLATFORM, REGFLAGS_OPTS_TRANSFER, REGFLAGS_OPT_QUIET,
 *     CMD_OPT ("no-unpack", 0, NULL, 'U', "...", NULL), REGFLAGS_OPT_HELP,
 *     CMD_OPT_END,
 *   };
 *   struct regflags rf;
 *   regflags_init (&rf, usage_text, g->quiet);
 *   while ((c = cmd_getopt (argc, argv, &spec)) != -1)
 *     switch (c)
 *       {
 *       case 'U': ...           (the command's own options first)
 *       default:
 *         if ((rc = regflags_option (&rf, c, optarg, err)) != 0)
 *           return rc < 0 ? -1 : 0;
 *       }
 *
 * A command offers only the entries it splices in; -a, -j, -q and -h
 * come with them. */
#ifndef IMGTOOL_REGFLAGS_H
#define IMGTOOL_REGFLAGS_H

#include "cmd/opttable.h"

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

/* Their entries in a command's option table (cmd/opttable.h). */
#define REGFLAGS_OPT_PLATFORM                                                  \
  CMD_OPT ("platform", 0, "OS/ARCH[/VARIANT]", REGFLAG_PLATFORM,               \
           "Set platform if the image is multi-platform", "--platform")
#define REGFLAGS_OPT_ALL                                                       \
  CMD_OPT ("all", 'a', NULL, REGFLAG_ALL, "All the platforms of an image",     \
           "--all")
#define REGFLAGS_OPT_ALL_PLATFORMS                                             \
  CMD_OPT ("all-platforms", 0, NULL, REGFLAG_ALL_PLATFORMS,                    \
           "All the platforms of an image", "--all-platforms")
#define REGFLAGS_OPT_TLS_VERIFY                                                \
  CMD_OPT ("tls-verify", 0, NULL, REGFLAG_TLS_VERIFY,                          \
           "Verify the registry's TLS certificate (true)", NULL)
/* copy's: one side's verification each. */
#define REGFLAGS_OPT_SRC_DEST_TLS_VERIFY                                       \
  CMD_OPT ("src-tls-verify", 0, NULL, REGFLAG_SRC_TLS_VERIFY,                  \
           "Verify the source registry's TLS certificate (true)", NULL),       \
      CMD_OPT ("dest-tls-verify", 0, NULL, REGFLAG_DEST_TLS_VERIFY,            \
               "Verify the destination registry's TLS certificate (true)",     \
               NULL)
#define REGFLAGS_OPT_CERT_DIR                                                  \
  CMD_OPT ("cert-dir", 0, "DIR", REGFLAG_CERT_DIR,                             \
           "Certificates for the registry (*.crt, *.cert, *.key)", NULL)
#define REGFLAGS_OPT_JOBS                                                      \
  CMD_OPT ("jobs", 'j', "N", REGFLAG_JOBS,                                     \
           "Blobs transferred at once, 1 to 64", NULL)
#define REGFLAGS_OPT_QUIET                                                     \
  CMD_OPT ("quiet", 'q', NULL, REGFLAG_QUIET, "Suppress progress output",      \
           "--quiet")
#define REGFLAGS_OPT_HELP CMD_OPT_HELP_H
/* The containers-policy.json to enforce (trust/policy.h), as podman's. */
#define REGFLAGS_OPT_SIGNATURE_POLICY                                          \
  CMD_OPT ("signature-policy", 0, "FILE", REGFLAG_SIGNATURE_POLICY,            \
           "The signature policy to enforce (containers-policy.json)", NULL)
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
