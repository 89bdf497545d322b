/* What `run`, `create` and `exec` options mean, as docker defines it:
 * value parsers (sizes, --cpus, --env-file, -v, --tmpfs) and the rules that
 * combine the image config with -e, -w, -u, --entrypoint and the command.
 * Pure functions, no system changes: cmd/ parses argv with them and fills
 * a struct rt_plan. Every error is a clear one-line message with exit
 * status 125 (docker's status for its own failures). */
#ifndef IMGTOOL_RUNOPTS_H
#define IMGTOOL_RUNOPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "runtime/plan.h"

struct err;

/* PATH when the image sets none (docker's default). */
#define RT_DEFAULT_PATH                                                        \
  "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* docker's smallest --memory (moby linuxMinMemory). */
#define RT_MIN_MEMORY (6 << 20)

/* A size as docker's RAMInBytes reads it: "512", "1.5g", "64m", "10kb",
 * "2GiB": binary multiples (k = 1024), optional "b"/"ib", case-insensitive,
 * a fraction allowed, no negative values. Error: invalid size 'x'. */
int rt_parse_size (const char *s, int64_t *out, struct err **err);

/* --cpus: a decimal number of CPUs (at most 9 decimals, as docker's
 * "too precise"), 0 = unlimited. ncpu is the number of CPUs available
 * (more is an error, as docker's). Gives the CFS quota and period in
 * microseconds (period 100000). */
int rt_parse_cpus (const char *s, long ncpu, int64_t *quota, int64_t *period,
                   struct err **err);

/* Parse a decimal integer (for --cpu-shares, --pids-limit, -t). */
int rt_parse_int (const char *s, const char *what, int64_t *out,
                  struct err **err);

/* The memory options together: memory and swap strings may be NULL.
 * --memory-swap "-1" is unlimited; it must be >= --memory, and needs it. */
int rt_parse_memory (const char *memory, const char *swap,
                     struct rt_limits *limits, struct err **err);

/* Append the variables of a docker env file to *env: one VAR=VALUE per line,
 * leading blanks ignored, '#' comments and empty lines skipped, a bare VAR
 * taken from imgtool's environment (dropped if unset), a UTF-8 BOM allowed,
 * invalid UTF-8 and names with blanks refused. */
int rt_env_file_read (const char *path, char ***env, struct err **err);

/* -e: "VAR=VALUE" as is; a bare "VAR" takes imgtool's value when it has one
 * and otherwise stays bare, which removes VAR from the image's variables
 * (docker's rule). An empty name is an error. */
int rt_env_arg (const char *arg, char ***env, struct err **err);

/* The value of key in env ("K=V" vector), or NULL. */
const char *rt_env_get (char *const *env, const char *key);
/* Set or replace "K=V" (kv is copied); a bare "K" removes K. */
void rt_env_set (char ***env, const char *kv);

/* Mount specs (runtime/mountopt.c), docker's rules and messages:
 * -v [SRC:]DST[:MODE]: SRC an absolute host path (a bind, a missing one
 * made at start), a volume name, or nothing (an anonymous volume); MODE a
 * comma list of ro|rw, z|Z, a propagation, nocopy, and a consistency word
 * (ignored). Paths are cleaned. */
int rt_volume_parse (const char *spec, struct rt_mount *out, struct err **err);
/* --mount type=bind|volume|tmpfs,source=,target=,readonly,volume-nocopy,
 * volume-label=K=V,bind-propagation=,tmpfs-size=,tmpfs-mode= (a CSV
 * record, keys case-insensitive; a bind's source must exist). */
int rt_mount_opt_parse (const char *spec, struct rt_mount *out,
                        struct err **err);
/* The image's VOLUME paths not already a mount destination, appended as
 * anonymous volumes. */
void rt_mounts_add_image_volumes (struct rt_mount **mounts, size_t *n,
                                  char *const *volumes);
int rt_tmpfs_parse (const char *spec, struct rt_mount *out, struct err **err);

/* --device HOST[:CONTAINER][:PERMISSIONS], as docker reads it: CONTAINER
 * defaults to HOST, PERMISSIONS (a combination of r, w, m) to rwm, and
 * HOST:PERMISSIONS works when the second part is a valid mode. HOST is
 * stat()ed (a symlink counts as its target): a device node gives one
 * device, a directory every node below it (as docker); anything else,
 * or a missing path, is an error. Appends to *devs (runtime/devices.c). */
int rt_device_parse (const char *spec, struct rt_device **devs, size_t *n,
                     struct err **err);

/* An absolute path cleaned lexically ("//a/./b/../c/" -> "/a/c"). */
char *rt_path_clean (const char *path);

/* The image's process settings and the user's overrides. */
struct rt_process_request
{
  /* From the image config (any may be NULL). */
  char *const *image_entrypoint;
  char *const *image_cmd;
  char *const *image_env;
  const char *image_workdir;
  const char *image_user;
  /* From the command line. */
  bool entrypoint_set; /* --entrypoint given ("" clears it) */
  const char *entrypoint;
  char *const *args;   /* the command after the image, may be empty */
  char *const *env;    /* --env-file then -e, in order */
  const char *workdir; /* -w or NULL */
  const char *user;    /* -u or NULL */
  const char *hostname;
  bool tty;
};

struct rt_process
{
  char **argv; /* entrypoint + cmd, never empty */
  char **env;  /* PATH, HOSTNAME, TERM (tty), image env, user env */
  char *cwd;   /* absolute, "/" by default */
  char *user;  /* the user spec to resolve, "" for root */
};

/* docker's rules: --entrypoint replaces the image's Entrypoint and clears
 * its Cmd; a command after the image replaces Cmd; -w replaces WorkingDir;
 * -u replaces User; variables: PATH (default when the image has none) and
 * HOSTNAME first, TERM=xterm with -t, then the image's, then the user's,
 * later ones replacing earlier ones. No command at all is an error. */
int rt_process_resolve (const struct rt_process_request *req,
                        struct rt_process *out, struct err **err);
void rt_process_release (struct rt_process *p);

#endif
