/* imgtool build: a Buildfile (builder/buildfile.h) executed stage by stage
 * into an OCI image in the store.
 *
 * Each RUN runs in the runtime core (runtime/container.h) on an overlay of
 * the layers so far with a fresh upper dir, which becomes the step's layer
 * (layers/diff.h); COPY and ADD write their layer straight from the
 * sources (layers/copy.h); the other instructions change only the config
 * and add a history entry with empty_layer. Every step is looked up in the
 * build cache first (builder/cache.c). The result is an OCI manifest and
 * config in the store, tagged with each name asked for. */
#ifndef IMGTOOL_BUILDER_H
#define IMGTOOL_BUILDER_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "builder/buildfile.h"
#include "layers/image.h"
#include "runtime/plan.h"

struct err;
struct store;

enum build_pull
{
  BUILD_PULL_MISSING, /* default: pull FROM images not in the store */
  BUILD_PULL_ALWAYS,  /* --pull / --pull=always */
  BUILD_PULL_NEVER,   /* --pull=never */
};

/* --secret id=ID,src=FILE|env=VAR: the value, held only in memory and on
 * a step's tmpfs. */
struct build_secret
{
  char *id;
  char *data;
  size_t len;
};

/* The build context: a directory as given, or one made from "-" (a tar,
 * or a Buildfile then in text), a tar file, an http(s) URL of a tar or a
 * git URL (builder/context.c, builder/git.h). */
struct build_context
{
  const char *dir; /* the context directory */
  char *tmp;       /* the directory made for it, removed by release */
  char *git_dir;   /* a git context's checkout (#ref:subdir): dir */
  char *text;      /* stdin was a Buildfile: its text (len bytes) */
  size_t len;
};
int build_context_open (const char *root, const char *spec, bool tls_verify,
                        struct build_context *c, struct err **err);
void build_context_release (struct build_context *c);
bool build_context_is_url (const char *spec);
/* GET url, its body to write(ctx, ...); a non-2xx status is an error.
 * etag and last_modified (may be NULL) get those headers, or NULL. */
int build_fetch_url (const char *url, bool tls_verify,
                     int (*write) (void *ctx, const void *data, size_t len,
                                   struct err **err),
                     void *ctx, char **etag, char **last_modified,
                     struct err **err);

/* --output: export the result instead of naming it in the store. */
enum build_output_type
{
  BUILD_OUT_NONE,
  BUILD_OUT_LOCAL, /* type=local,dest=DIR (also -o DIR) */
  BUILD_OUT_TAR,   /* type=tar,dest=FILE|- (also -o -) */
  BUILD_OUT_OCI,   /* type=oci,dest=FILE|- */
};
struct build_output
{
  enum build_output_type type;
  char *dest;
};
int build_output_parse (const char *spec, struct build_output *out,
                        struct err **err);
void build_output_release (struct build_output *out);

/* --cache-from / --cache-to: where a build cache is shared
 * (builder/cacheopt.c parses, builder/cacheremote.c reads, cacheexport.c
 * writes). */
enum build_cache_type
{
  BUILD_CACHE_REGISTRY, /* type=registry,ref=R (also a bare R) */
  BUILD_CACHE_LOCAL,    /* type=local,src=DIR / dest=DIR (OCI layout) */
};
struct build_cache_spec
{
  enum build_cache_type type;
  char *ref;         /* registry: the reference, normalised */
  char *dir;         /* local: the layout directory */
  char *tag;         /* local: its tag (default latest) */
  bool max;          /* --cache-to mode=max: every stage's steps */
  bool ignore_error; /* --cache-to ignore-error=true: a failure warns */
};
/* Append one --cache-from (to false) or --cache-to (to true) value to
 * *v; a bad one is a usage error (exit 2). */
int build_cache_spec_add (struct build_cache_spec **v, size_t *n,
                          const char *arg, bool to, struct err **err);
/* Free the n specs and the array. */
void build_cache_specs_free (struct build_cache_spec *v, size_t n);

struct build_opts
{
  const char *root;           /* store root (for temp dirs and caches) */
  const char *config_path;    /* registry config (credentials), or NULL */
  const char *context_dir;    /* the build context */
  const char *buildfile;      /* path of the Buildfile, or NULL with text */
  const char *buildfile_name; /* for messages ("Buildfile", "-") */
  const char *text;           /* the Buildfile's text */
  size_t text_len;
  char **tags;              /* normalised references, NULL-terminated */
  struct bf_kvs build_args; /* --build-arg */
  const char *target;       /* --target stage or NULL (the last) */
  bool no_cache;
  enum build_pull pull;
  bool no_tls_verify;
  const char *signature_policy; /* --signature-policy, or NULL */
  enum rt_network_mode network; /* RT_NET_HOST (default), NONE or BRIDGE */
  const char *platform;         /* --platform or NULL (the host's) */
  enum layer_compression compression;
  bool have_epoch; /* --source-date-epoch / SOURCE_DATE_EPOCH */
  int64_t source_date_epoch;
  bool quiet;                   /* -q: only the image id on stdout */
  struct build_secret *secrets; /* --secret */
  size_t n_secrets;
  struct bf_kvs ssh;      /* --ssh id -> agent socket */
  struct bf_kvs labels;   /* --label: set on the result's config */
  char **no_cache_stages; /* --no-cache-filter: stages not looked up */
  struct build_output output;
  int jobs;                  /* stages built at once; 0: the CPU count */
  char **add_hosts;          /* --add-host, as /etc/hosts lines for RUN */
  int64_t shm_size;          /* --shm-size for RUN, 0: the default */
  struct rt_rlimit *ulimits; /* --ulimit for RUN */
  size_t n_ulimits;
  struct build_cache_spec *cache_from; /* --cache-from, in order */
  size_t n_cache_from;
  struct build_cache_spec *cache_to; /* --cache-to */
  size_t n_cache_to;
  FILE *out; /* progress (stdout) */
  bool platform_part; /* one platform of several: the index is named */
};

/* Where an image built without -t is kept (with its ID prefix as tag). */
#define BUILD_UNTAGGED_REPO "localhost/untagged"

struct build_result
{
  char *image_id; /* config digest */
  char *manifest_digest;
  int64_t manifest_size;
  char **unused_args; /* --build-arg names no ARG consumed */
};

/* Run the build. On failure nothing is tagged; blobs and cache records
 * already written stay (a later build reuses them, prune removes them). An
 * interrupt (SIGINT, SIGTERM, SIGHUP) kills a running step and fails with
 * exit status 130; every mount lives in a private mount namespace, so
 * nothing stays mounted whatever happens. */
int build_run (struct store *s, const struct build_opts *o,
               struct build_result *out, struct err **err);
void build_result_release (struct build_result *r);

/* Remove what builds killed before their end left behind (their RUN
 * steps' cgroups, their temp dirs), as their records under
 * <root>/builds say (builder/record.c). Every command runs it first;
 * cheap when no build runs (one readdir of an empty directory). Errors
 * are logged, never fatal. */
void build_gc (const char *root);

/* Apply Dockerfile instructions to an image config document (the whole
 * config JSON), as docker's import and commit -c/--change do: CMD,
 * ENTRYPOINT, ENV, EXPOSE, HEALTHCHECK, LABEL, ONBUILD, STOPSIGNAL, USER,
 * VOLUME, WORKDIR, one instruction per string (continuation lines
 * allowed); variables expand against the config's Env. Anything else
 * fails with "<INSTR> is not a valid change command". */
int build_apply_changes (json_t *doc, char *const *changes, struct err **err);

/* prune: remove the build cache records whose layers no reference
 * reaches any more (store_gc then removes the blobs). *removed counts
 * them. */
int build_cache_prune (struct store *s, size_t *removed, struct err **err);
/* builder prune -a: remove every build cache record. */
int build_cache_clear (struct store *s, size_t *removed, struct err **err);
/* builder prune: remove RUN --mount=type=cache directories no step holds. */
int build_cache_mounts_prune (struct store *s, size_t *removed,
                              struct err **err);

#endif
