/* The build cache: one small JSON record per step under
 * <root>/cache/build/<hex>, where hex is sha256(parent key "\n" step text).
 * The parent key chains the base image's identity and every step before,
 * so a record is reused only when everything that led to the step is the
 * same; the step text is the instruction after expansion, and for
 * COPY/ADD the content checksums of its sources (builder/copy.c).
 *
 *   {"history": {...}, "layer": {"digest", "diff_id", "mediaType",
 *    "size"}, "top": "sha256:..."}
 *
 * "layer" is absent for steps without one; "top" is the topmost layer
 * blob of the stage after the step, which prune uses to drop records
 * whose layers no image keeps (build_cache_prune). A record whose layer
 * blob has gone is a miss, unless a --cache-from has the step
 * (builder/cacheremote.c). */
#include "builder/build_int.h"
#include "layers/image_store.h"
#include "layers/store.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/strbuf.h"
#include "lib/xalloc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#define CACHE_DIR "cache/build"
#define RECORD_MAX (1u << 20)
/* Part of every key: raised when the layers a step writes change for the
 * same step text (v2: COPY/ADD/WORKDIR layers carry their parents), so a
 * record of an older imgtool is a miss, never a wrong layer. */
#define CACHE_FORMAT "imgtool-build-cache-v2\n"

void
build_cache_key (const char *parent, const char *text,
                 char out[DIGEST_STR_LEN + 1])
{
  struct digester d;
  digester_init (&d);
  digester_update (&d, CACHE_FORMAT, strlen (CACHE_FORMAT));
  digester_update (&d, parent, strlen (parent));
  digester_update (&d, "\n", 1);
  digester_update (&d, text, strlen (text));
  digester_final (&d, out);
  digester_release (&d);
}

static int
open_cache_dir (struct store *s, bool create, struct err **err)
{
  if (create && fs_mkdir_p (s->root_fd, CACHE_DIR, 0700, err) < 0)
    return -1;
  int fd = openat (s->root_fd, CACHE_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0 && (create || errno != ENOENT))
    return err_set (err, errno, "open '%s/" CACHE_DIR "'", s->root);
  return fd;
}

void
build_cache_rec_release (struct build_cache_rec *rec)
{
  free (rec->layer.digest);
  free (rec->layer.diff_id);
  free (rec->layer.media_type);
  json_decref (rec->history);
  memset (rec, 0, sizeof *rec);
}

int
build_cache_rec_parse (json_t *j, struct build_cache_rec *rec)
{
  json_t *h = json_object_get (j, "history");
  json_t *l = json_object_get (j, "layer");
  memset (rec, 0, sizeof *rec);
  if (!json_is_object (h))
    return 1;
  if (json_is_object (l))
    {
      const char *dg = json_string_value (json_object_get (l, "digest"));
      const char *id = json_string_value (json_object_get (l, "diff_id"));
      const char *mt = json_string_value (json_object_get (l, "mediaType"));
      json_t *sz = json_object_get (l, "size");
      if (!dg || !id || !mt || !json_is_integer (sz) || !digest_is_sha256 (dg)
          || !digest_is_sha256 (id))
        return 1;
      rec->has_layer = true;
      rec->layer
          = (struct build_layer){ xstrdup (dg), xstrdup (id), xstrdup (mt),
                                  json_integer_value (sz) };
    }
  rec->history = json_incref (h);
  return 0;
}

json_t *
build_cache_rec_json (const struct build_cache_rec *rec)
{
  json_t *j = json_pack ("{s:O}", "history", rec->history);
  if (rec->has_layer)
    json_object_set_new (
        j, "layer",
        json_pack ("{s:s,s:s,s:s,s:I}", "digest", rec->layer.digest, "diff_id",
                   rec->layer.diff_id, "mediaType", rec->layer.media_type,
                   "size", (json_int_t)rec->layer.size));
  return j;
}

/* This store's record: 0 hit, 1 miss, -1 error. */
static int
local_get (struct build *b, const char *key, struct build_cache_rec *rec,
           struct err **err)
{
  _cleanup_close_ int dfd = open_cache_dir (b->store, false, err);
  if (dfd < 0)
    return *err ? -1 : 1;
  _cleanup_free_ char *text = NULL;
  size_t len;
  struct err *e = NULL;
  if (fs_read_file (dfd, digest_hex (key), RECORD_MAX, &text, &len, &e) < 0)
    {
      bool missing = e->errnum == ENOENT;
      if (missing)
        {
          err_free (e);
          return 1;
        }
      *err = e;
      return -1;
    }
  json_t *j = json_loadb (text, len, 0, NULL);
  /* a damaged record is a miss; the next put replaces it */
  int r = build_cache_rec_parse (j, rec);
  json_decref (j);
  if (r == 0 && rec->has_layer && !store_has_blob (b->store, rec->layer.digest))
    {
      build_cache_rec_release (rec);
      r = 1;
    }
  return r;
}

int
build_cache_get (struct build *b, const char *key, struct build_cache_rec *rec,
                 struct err **err)
{
  memset (rec, 0, sizeof *rec);
  if (b->o->no_cache && !b->replay)
    return 1;
  int r = local_get (b, key, rec, err);
  if (r == 1 && b->remote)
    r = build_remote_get (b, key, rec);
  return r;
}

int
build_cache_put (struct build *b, const char *key,
                 const struct build_cache_rec *rec, const char *top,
                 struct err **err)
{
  _cleanup_close_ int dfd = open_cache_dir (b->store, true, err);
  if (dfd < 0)
    return -1;
  json_t *j = build_cache_rec_json (rec);
  if (top)
    json_object_set_new (j, "top", json_string (top));
  char *text = json_dumps (j, JSON_COMPACT | JSON_SORT_KEYS);
  json_decref (j);
  /* why not fsynced: a record lost or cut short by a crash reads as a
     miss, and its layer blob was made durable before it */
  int r = fs_write_file_replace (dfd, digest_hex (key), text, strlen (text),
                                 0600, err);
  free (text);
  return r < 0 ? err_wrap (err, "write the build cache") : 0;
}

static int prune_records (struct store *s, bool only_unused, size_t *removed,
                          struct err **err);

int
build_cache_clear (struct store *s, size_t *removed, struct err **err)
{
  return prune_records (s, false, removed, err);
}

int
build_cache_prune (struct store *s, size_t *removed, struct err **err)
{
  return prune_records (s, true, removed, err);
}

/* Drop every record, or (only_unused) those whose layers no image keeps. */
static int
prune_records (struct store *s, bool only_unused, size_t *removed,
               struct err **err)
{
  _cleanup_close_ int dfd = open_cache_dir (s, false, err);
  _cleanup_strv_ char **keep = NULL;
  struct store_ref *refs = NULL;
  size_t n = 0;
  int ret = 0;

  *removed = 0;
  if (dfd < 0)
    return *err ? -1 : 0;
  if (only_unused && store_ref_list (s, &refs, &n, err) < 0)
    return -1;
  for (size_t i = 0; i < n && ret == 0; i++)
    ret = image_reachable_blobs (s, refs[i].digest, &keep, err);
  store_refs_free (refs, n);
  if (ret < 0)
    return err_wrap (err, "prune the build cache");

  DIR *d = fdopendir (fcntl (dfd, F_DUPFD_CLOEXEC, 0));
  if (!d)
    return err_set (err, errno, "read '%s/" CACHE_DIR "'", s->root);
  struct dirent *de;
  while ((de = readdir (d)))
    {
      if (strlen (de->d_name) != DIGEST_HEX_LEN)
        continue;
      _cleanup_free_ char *text = NULL;
      size_t len;
      struct err *e = NULL;
      bool drop = true;
      if (fs_read_file (dfd, de->d_name, RECORD_MAX, &text, &len, &e) == 0)
        {
          json_t *j = json_loadb (text, len, 0, NULL);
          const char *top = json_string_value (json_object_get (j, "top"));
          drop = !only_unused || !top || !strv_has (keep, top);
          json_decref (j);
        }
      err_free (e);
      if (drop && unlinkat (dfd, de->d_name, 0) == 0)
        (*removed)++;
    }
  closedir (d);
  return 0;
}
