/* The builder's internals, shared by builder.c (stages and the step loop),
 * steps.c (metadata instructions), run.c (RUN), copy.c (COPY/ADD),
 * rootfs.c (views of a stage's file system), config.c (config, history
 * and manifest JSON) and cache.c (the build cache). Not a public API. */
#ifndef IMGTOOL_BUILD_INT_H
#define IMGTOOL_BUILD_INT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "builder/builder.h"
#include "builder/buildfile.h"
#include "builder/ignore.h"
#include "layers/digest.h"
#include "layers/tarfs.h"

struct stat;
struct store;
struct store_ref;
struct strbuf;
struct rt_plan;

/* One layer of a stage's image. */
struct build_layer
{
  char *digest;
  char *diff_id;
  char *media_type;
  int64_t size;
};

/* A stage as far as it is built: its config document, its layers and the
 * cache chain key, plus the variables in scope. */
struct build_state
{
  json_t *doc; /* the whole image config document */
  struct build_layer *layers;
  size_t n_layers;
  char key[DIGEST_STR_LEN + 1]; /* cache chain: base, then each step */
  struct bf_scope scope;
  bool cmd_set;       /* CMD given in this stage (ENTRYPOINT keeps it) */
  bool history_added; /* a step of this build added history */
  bool no_cache;      /* --no-cache-filter names this stage */
  char **lowers;      /* snapshot dirs, top first; NULL: not made yet */
  bool done;
};

struct build
{
  const struct build_opts *o;
  struct store *store;
  struct bf_plan *plan;
  int context_fd;
  struct bf_ignore *ignore;
  char *tmp;             /* <root>/tmp/build-XXXXXX, removed at the end */
  int record_fd;         /* <root>/builds/build-XXXXXX, locked (record.c) */
  char *empty_dir;       /* an empty lower dir for FROM scratch */
  struct bf_kvs args;    /* --build-arg plus the automatic platform ARGs */
  struct bf_kvs builtin; /* the automatic platform ARGs */
  struct platform target;
  struct layer_opts lopts;
  struct build_state *stages; /* one per plan stage */
  bool *needed;
  int step, n_steps;
  unsigned seq; /* for temp names */
  FILE *out;
  /* SIGINT, SIGTERM and SIGHUP, blocked for the build and read here (a
   * signalfd): readable once one came; interrupted is its number */
  int interrupt_fd;
  int interrupted;
  sigset_t saved_mask;
  bool replay; /* building again what a child built: quiet, cache on */
  struct build_remote *remote; /* --cache-from's records (cacheremote.c) */
  json_t *export_all;          /* --cache-to: key -> record, every stage */
  json_t *export_min;          /* ... the final image's stages only */
  bool *min_stage;             /* stages of the final image (FROM chain) */
};

/* ---- builder.c, parallel.c: stages ---- */
int build_stage (struct build *b, size_t idx, struct err **err);
/* Mark in deps (n_stages) the stages idx needs built first. */
void build_stage_deps (struct build *b, size_t idx, bool *deps);
/* Build the needed stages up to target, independent ones at once. */
int build_stages (struct build *b, size_t target, struct err **err);

/* A copy of src for a stage built FROM it. */
void build_state_copy (struct build_state *dst, const struct build_state *src);
void build_state_release (struct build_state *st);

/* ---- config.c: the image config document ---- */
json_t *build_config_scratch (const struct platform *p);
/* The "config" object of the document (created if missing). */
json_t *build_config_obj (json_t *doc);
void build_config_set_str (json_t *doc, const char *key, const char *v);
const char *build_config_str (json_t *doc, const char *key);
/* A "K": {} map entry (ExposedPorts, Volumes). */
void build_config_add_set (json_t *doc, const char *key, const char *item);
/* Env from the scope's ENV, in order. */
void build_config_set_env (json_t *doc, const struct bf_kvs *env);
/* A history entry: created (RFC 3339 of t), created_by, comment. */
json_t *build_history_new (int64_t t, const char *created_by, bool empty_layer);
/* Append a history entry (and the layer's diff_id when it has one). */
void build_state_add (struct build_state *st, json_t *history,
                      const struct build_layer *layer);
/* Serialise the config (sorted keys, compact: the same state gives the
 * same bytes) and write config and manifest blobs. */
int build_write_image (struct build *b, struct build_state *st,
                       struct build_result *out, struct err **err);
/* The text for history's created_by and the STEP line. */
char *build_instr_text (const struct bf_instr *x, char *const *shell);
char *build_json_argv (char *const *argv);

/* ---- platform.c: several platforms, emulation ---- */
/* --platform names several platforms (a,b). */
bool build_platform_is_list (const char *spec);
/* The build once per platform, then an OCI index of the results, named
 * with the tags (or localhost/untagged:<ID>); out's IDs are the index's. */
int build_run_platforms (struct store *s, const struct build_opts *o,
                         struct build_result *out, struct err **err);
/* ref's image for want is in the store (an index may name platforms
 * whose images were never pulled). */
bool build_platform_in_store (struct store *s, const struct store_ref *ref,
                              const struct platform *want);
/* Before a RUN: the kernel can exec the stage's architecture (natively,
 * or through a binfmt_misc handler with the F flag); else why not. */
int build_platform_check_run (const struct build_state *st,
                              struct err **err);

/* ---- steps.c ---- */
/* Apply a metadata instruction (already expanded) to the config. */
int build_apply_meta (struct build *b, struct build_state *st,
                      const struct bf_instr *x, struct err **err);
/* WORKDIR's argument made absolute against the current WorkingDir. */
char *build_workdir_path (const struct build_state *st, const char *arg);

/* ---- cache.c ---- */
struct build_cache_rec
{
  bool remote; /* a --cache-from hit: written to this store's cache too */
  bool has_layer;
  struct build_layer layer;
  json_t *history;
};
/* key = sha256(parent_key "\n" text). */
void build_cache_key (const char *parent, const char *text,
                      char out[DIGEST_STR_LEN + 1]);
/* 0 hit (rec filled, its layer blob is in the store), 1 miss, -1 error. */
int build_cache_get (struct build *b, const char *key,
                     struct build_cache_rec *rec, struct err **err);
/* top: the state's top layer digest after the step (or NULL). */
int build_cache_put (struct build *b, const char *key,
                     const struct build_cache_rec *rec, const char *top,
                     struct err **err);
void build_cache_rec_release (struct build_cache_rec *rec);
/* A record as JSON ({"history", "layer"}) and back (1: not a record). */
json_t *build_cache_rec_json (const struct build_cache_rec *rec);
int build_cache_rec_parse (json_t *j, struct build_cache_rec *rec);

/* ---- cacheremote.c: --cache-from ---- */
/* What a shared cache is: an OCI image manifest whose config (of this
 * media type, also its artifactType) is {"records": {key: record}} and
 * whose layers are the blobs the records name. */
#define BUILD_CACHE_MT "application/vnd.imgtool.build.cache.v1+json"
#define BUILDKIT_CACHE_MT "application/vnd.buildkit.cacheconfig.v0"
struct build_remote;
/* Read each --cache-from's manifest and records (no layer): one that
 * cannot be read is a warning, as BuildKit's. */
void build_remote_open (struct build *b);
void build_remote_close (struct build *b);
/* 0 hit (rec filled; its layer blob may not be in the store yet), 1 miss. */
int build_remote_get (struct build *b, const char *key,
                      struct build_cache_rec *rec);
/* Fetch the layers the store lacks from the caches that have them (the
 * others are left for the caller to find missing). */
int build_remote_fetch (struct build *b, const struct build_layer *layers,
                        size_t n, struct err **err);

/* ---- cacheexport.c: --cache-to ---- */
/* Note a step's record for the export (stage of st, mode=min or max). */
void build_cache_note (struct build *b, const struct build_state *st,
                       const char *key, const struct build_cache_rec *rec);
/* Write every --cache-to after the build. */
int build_cache_export (struct build *b, struct err **err);

/* ---- rootfs.c: a stage's file system ---- */
/* Snapshot dirs of the state's layers, top first; for an empty image the
 * empty dir. Owned by st. */
int build_lowers (struct build *b, struct build_state *st, char ***out,
                  struct err **err);
/* A read-only merged view of the state mounted at a new dir under the
 * build's temp dir (in the builder's private mount namespace): returns
 * an O_PATH fd of it in *root_fd and its path in *mnt (to unmount with
 * build_view_close). */
struct build_view
{
  char *mnt;
  bool mounted;
  int fd; /* O_RDONLY|O_DIRECTORY of the root */
};
int build_view_open (struct build *b, struct build_state *st,
                     struct build_view *v, struct err **err);
void build_view_close (struct build_view *v);
/* Resolve path (absolute, in the image) inside the view: every symlink
 * followed within the root, as the container would see it. *out is the
 * resolved absolute path (lexically clean); *exists and *is_dir tell what is
 * there. A missing component ends the resolution (the rest is kept). */
int build_resolve (int root_fd, const char *path, char **out, bool *exists,
                   bool *is_dir, struct err **err);
/* Resolve a user spec against the view's /etc/passwd and /etc/group. */
int build_user_ids (struct build *b, struct build_state *st, const char *spec,
                    uint64_t *uid, uint64_t *gid, struct err **err);
/* A new temp dir under the build's dir; caller frees the path. */
char *build_tmpdir (struct build *b, const char *what, struct err **err);

/* ---- record.c: what a killed build leaves, for build_gc ---- */
/* Create and lock the build's record, then its temp dir b->tmp. */
int build_record_open (struct build *b, struct err **err);
/* A RUN step's container id, before its cgroup is made. */
int build_record_step (struct build *b, const char *id, struct err **err);
/* Remove the record (after b->tmp) and drop its lock. */
void build_record_close (struct build *b);

/* ---- run.c ---- */
/* Run the RUN in the runtime core; its upper dir becomes the layer
 * (*has_layer false when it changed nothing). */
int build_run_layer (struct build *b, struct build_state *st,
                     const struct bf_instr *x, struct build_layer *layer,
                     bool *has_layer, struct err **err);

/* ---- copy.c ---- */
/* The cache text of a COPY/ADD (with its sources' checksums). */
int build_copy_key (struct build *b, struct build_state *st,
                    const struct bf_instr *x, char **text, struct err **err);
/* Make the step's layer; *has_layer false when nothing was copied. */
int build_copy_layer (struct build *b, struct build_state *st,
                      const struct bf_instr *x, struct build_layer *layer,
                      bool *has_layer, struct err **err);
/* WORKDIR: a layer with the directory if it is missing. */
int build_workdir_layer (struct build *b, struct build_state *st,
                         const char *dir, struct build_layer *layer,
                         bool *has_layer, struct err **err);

/* ---- mounts.c: RUN --mount ---- */
enum build_mount_type
{
  BM_BIND,
  BM_CACHE,
  BM_TMPFS,
  BM_SECRET,
  BM_SSH,
};
enum build_mount_sharing
{
  BM_SHARED,
  BM_PRIVATE,
  BM_LOCKED,
};
struct build_mount
{
  enum build_mount_type type;
  char *target; /* absolute, clean; NULL for a secret given as env only */
  char *id, *from, *source, *env;
  bool rw, rw_set, required;
  enum build_mount_sharing sharing;
  int mode;           /* -1: the type's default */
  long long uid, gid; /* -1: 0 */
  int64_t size;       /* tmpfs, 0: no limit */
  /* while the step runs */
  int lock_fd;
  struct build_view view;
  bool view_open;
  struct build_state img;
  bool have_img;
};
struct build_mounts
{
  struct build_mount *v; /* sorted by target: parents first */
  size_t n;
  char **mounted; /* what setup mounted in the builder (tmpfs, overlays) */
  size_t n_secret_files;
};
/* The RUN's --mount flags (already expanded). */
int build_mounts_parse (const struct build_state *st, const struct bf_instr *x,
                        struct build_mounts *ms, struct err **err);
/* Append the mounts' definitions (and bind sources' content) to the key. */
int build_mounts_key (struct build *b, struct build_mounts *ms,
                      struct strbuf *sb, struct err **err);
/* Add the mounts to the step's plan; step_dir is the step's temp dir. */
int build_mounts_setup (struct build *b, struct build_mounts *ms,
                        struct rt_plan *p, const char *step_dir,
                        struct err **err);
/* Remove what the runtime made in the upper dir as mount points. */
void build_mounts_clean (const struct build_mounts *ms, int upper_fd,
                         char *const *lowers);
void build_mounts_release (struct build_mounts *ms);
/* The from= values of an instruction's --mount flags, unexpanded. */
void build_mounts_froms (const struct bf_instr *x, char ***out);
/* A context path's checksum, as COPY keys its sources (copy.c). */
int build_context_checksum (struct build *b, const char *path,
                            char out[DIGEST_STR_LEN + 1], struct err **err);

/* ---- addurl.c: ADD <URL> ---- */
/* The file (downloaded once per build) and its cache text. */
int build_url_fetch (struct build *b, const char *url, const char *checksum,
                     char **path, char **key, struct err **err);
/* The file name a URL gives (its last path segment), or NULL. */
char *build_url_name (const char *url);
/* ADD <git URL>: the checkout (cloned once per build; its #subdir) and
 * its cache text (builder/git.h: with the resolved commit). */
int build_git_fetch (struct build *b, const char *spec, bool keep_git_dir,
                     char **path, char **key, struct err **err);

/* ---- unxz.c: bzip2 and xz archives for ADD ---- */
enum build_legacy_comp
{
  BUILD_COMP_NONE,
  BUILD_COMP_BZIP2,
  BUILD_COMP_XZ,
};
enum build_legacy_comp build_legacy_sniff (const unsigned char *p, size_t n);
/* in (from its start) decompressed into out. */
int build_legacy_decompress (enum build_legacy_comp c, int in, int out,
                             struct err **err);

/* ---- output.c: --output ---- */
int build_export (struct build *b, struct build_state *st,
                  const struct build_result *res, struct err **err);

/* An interrupt of the build (SIGINT, SIGTERM, SIGHUP): exit 130 and
 * "build interrupted (signal N)" once one came. */
int build_check_interrupt (struct build *b, struct err **err);

/* The stage a --from names, or NULL for an image. */
struct bf_stage *build_from_stage (struct build *b, const char *name,
                                   size_t before);
/* The state of an image for COPY --from=image (pulled if needed). */
int build_image_state (struct build *b, const char *name, const char *platform,
                       struct build_state *st, struct err **err);

/* Time for new history entries and files: SOURCE_DATE_EPOCH or now. */
int64_t build_now (const struct build *b);

#endif
