/* Unit tests for layers/ingest.c (a layer stream into the store: blob,
 * diff_id, snapshot) and the unnamed snapshots it uses
 * (snapshot_begin_unnamed / snapshot_commit_as), in a store made by the
 * test. */
#include "layers/image.h"
#include "layers/ingest.h"
#include "layers/snapshot.h"
#include "layers/store.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/xalloc.h"
#include "tests/unit/tarbuild.h"
#include "tests/unit/test.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static char root[64];
static struct store st;

/* Entries of snapshots/ (or a folder of it) not starting with a dot. */
static size_t
count_in (const char *sub)
{
  DIR *d;
  struct dirent *de;
  size_t n = 0;
  _cleanup_free_ char *p = xasprintf ("%s/snapshots/%s", root, sub);
  if (!(d = opendir (p)))
    return 0;
  while ((de = readdir (d)))
    n += de->d_name[0] != '.';
  closedir (d);
  return n;
}

static size_t
count_snapshots (void)
{
  return count_in ("");
}

/* Feed buf in small pieces (as an archive's member arrives). */
static int
ingest (const struct strbuf *b, struct layer_result *res,
        struct layer_ingest **out, struct err **err)
{
  struct layer_ingest *li = layer_ingest_new (&st);
  for (size_t off = 0; off < b->len; off += 3)
    if (layer_ingest_feed (li, b->buf + off,
                           b->len - off < 3 ? b->len - off : 3, err)
        < 0)
      goto fail;
  if (layer_ingest_finish (li, res, err) < 0)
    goto fail;
  *out = li;
  return 0;
fail:
  layer_ingest_abort (li);
  return -1;
}

static void
test_plain (void)
{
  struct err *err = NULL;
  struct strbuf tar = TAR ({ .type = '0', .name = "a", .data = "plain" }, );
  char diff[DIGEST_STR_LEN + 1];
  struct layer_result res;
  struct layer_ingest *li = NULL;
  digest_buf (tar.buf, tar.len, diff);
  CHECK (ingest (&tar, &res, &li, &err) == 0, "a plain tar (%s)",
         err ? err->msg : "");
  CHECK_STR (res.diff_id, diff, "its diff_id");
  CHECK_STR (res.media_type, MT_OCI_LAYER_GZIP, "stored gzip'd");
  CHECK (res.tar_size == tar.len, "tar size");
  CHECK (store_has_blob (&st, res.digest)
             && store_blob_size (&st, res.digest) == res.size,
         "the blob is in the store at finish");
  CHECK (count_snapshots () == 1, "one unnamed snapshot being made");
  CHECK (layer_ingest_commit (li, diff, &err) == 0, "commit as its chain ID");
  CHECK (snapshot_exists (&st, diff), "the snapshot has its name");
  _cleanup_free_ char *a
      = xasprintf ("%s/snapshots/%s/a", root, digest_hex (diff));
  CHECK (access (a, F_OK) == 0, "and the layer's file");
  CHECK (count_snapshots () == 1, "no temp dir left");
  /* the same layer again: the snapshot is there, the new one goes */
  CHECK (ingest (&tar, &res, &li, &err) == 0
             && layer_ingest_commit (li, diff, &err) == 0,
         "the same layer again");
  CHECK (count_snapshots () == 1, "still one snapshot");
  strbuf_release (&tar);
}

static void
test_compressed (void)
{
  struct err *err = NULL;
  struct strbuf tar = TAR ({ .type = '0', .name = "z", .data = "zz" }, );
  struct strbuf bufs[2] = { gzip_buf (&tar), zstd_buf (&tar) };
  const char *types[2] = { MT_OCI_LAYER_GZIP, MT_OCI_LAYER_ZSTD };
  char diff[DIGEST_STR_LEN + 1], blob[DIGEST_STR_LEN + 1];
  digest_buf (tar.buf, tar.len, diff);
  for (int i = 0; i < 2; i++)
    {
      struct layer_result res;
      struct layer_ingest *li = NULL;
      digest_buf (bufs[i].buf, bufs[i].len, blob);
      CHECK (ingest (&bufs[i], &res, &li, &err) == 0, "%s (%s)", types[i],
             err ? err->msg : "");
      CHECK_STR (res.digest, blob, "%s: stored as given", types[i]);
      CHECK_STR (res.media_type, types[i], "%s: its media type", types[i]);
      CHECK_STR (res.diff_id, diff, "%s: the diff_id of its tar", types[i]);
      layer_ingest_abort (li);
      strbuf_release (&bufs[i]);
    }
  CHECK (count_snapshots () == 1, "aborted: no snapshot left");
  strbuf_release (&tar);
}

static void
test_bad (void)
{
  struct err *err = NULL;
  struct strbuf tar = TAR ({ .type = '0', .name = "b", .data = "bad" }, );
  struct layer_result res;
  struct layer_ingest *li = NULL;
  char other[DIGEST_STR_LEN + 1];
  digest_buf ("x", 1, other);
  CHECK (ingest (&tar, &res, &li, &err) == 0, "a layer");
  CHECK (layer_ingest_commit (li, other, &err) == 0
             && snapshot_exists (&st, other),
         "named by a chain ID other than its diff_id (a layer above "
         "another)");
  CHECK (count_snapshots () == 2, "two snapshots now");
  struct strbuf cut = STRBUF_INIT;
  strbuf_add (&cut, tar.buf, 513);
  CHECK (ingest (&cut, &res, &li, &err) < 0
             || layer_ingest_commit (li, res.diff_id, &err) < 0,
         "a cut tar fails");
  err_clear (&err);
  CHECK (!snapshot_exists (&st, res.diff_id), "and leaves no snapshot");
  struct strbuf gz = gzip_buf (&tar);
  gz.len -= 6;
  CHECK (ingest (&gz, &res, &li, &err) < 0, "a cut gzip fails at finish");
  err_clear (&err);
  CHECK (count_snapshots () == 2, "no temp dir left by failures");
  /* the two snapshots' and the cut layer's chain (named when it failed,
     as any named snapshot's): none of the random names */
  CHECK (count_in (".locks") == 3,
         "no lock file left of the unnamed snapshots (%zu)",
         count_in (".locks"));
  strbuf_release (&gz);
  strbuf_release (&cut);
  strbuf_release (&tar);
}

int
main (void)
{
  struct err *err = NULL;
  snprintf (root, sizeof root, "/tmp/imgtool-ingest-%d", (int)getpid ());
  CHECK (store_open (&st, root, &err) == 0, "open a store");
  test_plain ();
  test_compressed ();
  test_bad ();
  store_release (&st);
  fs_rm_rf (AT_FDCWD, root, &err);
  err_free (err);
  return test_done ();
}
