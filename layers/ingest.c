/* Layers taken in from a stream: see layers/ingest.h. */
#include "layers/ingest.h"
#include "layers/decompress.h"
#include "layers/snapshot.h"
#include "layers/store.h"
#include "lib/bytepipe.h"
#include "lib/err.h"
#include "lib/xalloc.h"

#include <string.h>

struct layer_ingest
{
  struct store *s;
  uint8_t head[4]; /* the first bytes, until the compression is known */
  size_t nhead;
  enum layer_compression kind; /* LAYER_UNKNOWN until sniffed */
  /* a compressed layer: stored as given, inflated for the rest */
  struct blob_writer *w;
  struct layer_decomp *dec;
  struct digester diff_id;
  /* a plain tar: gzip'd into the store by the tar writer */
  struct layer_store_out out;
  struct tar_writer *tw;
  struct snapshot_tx *tx;
  struct bytepipe *unpack; /* the tar to tx, in a thread of its own */
  struct layer_result res;
  bool finished;
};

struct layer_ingest *
layer_ingest_new (struct store *s)
{
  struct layer_ingest *li = xcalloc (1, sizeof *li);
  li->s = s;
  li->kind = LAYER_UNKNOWN;
  digester_init (&li->diff_id);
  return li;
}

/* Unpacking (file system work, and the unpacker's own hash) runs beside
 * the hashing and compressing of the same bytes: as in pull, a bounded
 * ring between the two threads. */
#define UNPACK_RING (4u << 20)
#define UNPACK_CHUNK (256u << 10)

static int
unpack_consume (void *ctx, const void *data, size_t len, struct err **err)
{
  return snapshot_tx_feed (ctx, data, len, err);
}

/* The tar's bytes to the snapshot. */
static int
to_snapshot (struct layer_ingest *li, const void *buf, size_t len,
             struct err **err)
{
  if (li->unpack)
    {
      if (bytepipe_put (li->unpack, buf, len) == 0)
        return 0;
      return bytepipe_finish (&li->unpack, false, err) < 0
                 ? -1
                 : err_set (err, 0, "unpacking stopped");
    }
  return snapshot_tx_feed (li->tx, buf, len, err);
}

/* The uncompressed tar of a compressed layer. */
static int
inflated (void *arg, const uint8_t *buf, size_t len, struct err **err)
{
  struct layer_ingest *li = arg;
  digester_update (&li->diff_id, buf, len);
  li->res.tar_size += len;
  return to_snapshot (li, buf, len, err);
}

static int
start (struct layer_ingest *li, struct err **err)
{
  static const struct bytepipe_ops ops = { .consume = unpack_consume };
  struct err *e = NULL;
  li->kind = layer_compression_sniff (li->head, li->nhead);
  if (snapshot_begin_unnamed (li->s, &li->tx, err) < 0)
    return -1;
  /* no thread: the unpacking stays on this one */
  li->unpack = bytepipe_start (UNPACK_RING, UNPACK_CHUNK, &ops, li->tx, &e);
  err_free (e);
  if (li->kind == LAYER_UNCOMPRESSED)
    {
      if (layer_store_begin (li->s, &li->out, err) < 0)
        return -1;
      li->tw = tarw_new (LAYER_GZIP, 0, &li->out.sink, err);
      return li->tw ? 0 : -1;
    }
  if (store_blob_begin (li->s, NULL, &li->w, err) < 0)
    return -1;
  blob_writer_direct (li->w);
  li->dec = layer_decomp_new (inflated, li);
  return 0;
}

static int
push (struct layer_ingest *li, const void *buf, size_t len, struct err **err)
{
  if (!len)
    return 0;
  if (li->tw)
    return tarw_raw (li->tw, buf, len, err) < 0
                   || to_snapshot (li, buf, len, err) < 0
               ? -1
               : 0;
  li->res.size += (int64_t)len;
  if (blob_writer_write (li->w, buf, len, err) < 0)
    return -1;
  return layer_decomp_feed (li->dec, buf, len, err);
}

int
layer_ingest_feed (struct layer_ingest *li, const void *buf, size_t len,
                   struct err **err)
{
  const uint8_t *p = buf;
  if (li->kind == LAYER_UNKNOWN)
    {
      while (len && li->nhead < sizeof li->head)
        {
          li->head[li->nhead++] = *p++;
          len--;
        }
      if (li->nhead < sizeof li->head)
        return 0;
      if (start (li, err) < 0 || push (li, li->head, li->nhead, err) < 0)
        return -1;
    }
  return push (li, p, len, err);
}

int
layer_ingest_finish (struct layer_ingest *li, struct layer_result *res,
                     struct err **err)
{
  char *digest = NULL;
  if (li->kind == LAYER_UNKNOWN
      && (start (li, err) < 0 || push (li, li->head, li->nhead, err) < 0))
    return -1;
  if (li->tw)
    {
      if (tarw_finish (li->tw, &li->res, err) < 0
          || layer_store_commit (&li->out, &li->res, err) < 0)
        return -1;
    }
  else
    {
      if (layer_decomp_finish (li->dec, err) < 0)
        return -1;
      digester_final (&li->diff_id, li->res.diff_id);
      li->res.media_type = layer_media_type (li->kind);
      if (store_blob_commit (li->s, steal_pointer (&li->w), &digest, err) < 0)
        return -1;
      memcpy (li->res.digest, digest, sizeof li->res.digest);
      free (digest);
    }
  if (bytepipe_finish (&li->unpack, true, err) < 0)
    return -1;
  li->finished = true;
  *res = li->res;
  return 0;
}

int
layer_ingest_commit (struct layer_ingest *li, const char *chain_id,
                     struct err **err)
{
  int ret;
  if (!li->finished)
    ret = err_set (err, 0, "layer committed before its end");
  else
    ret = snapshot_commit_as (steal_pointer (&li->tx), chain_id,
                              li->res.diff_id, err)
                  < 0
              ? -1
              : 0;
  layer_ingest_abort (li);
  return ret;
}

void
layer_ingest_abort (struct layer_ingest *li)
{
  if (!li)
    return;
  if (li->unpack)
    {
      struct err *e = NULL;
      bytepipe_finish (&li->unpack, false, &e);
      err_free (e);
    }
  tarw_free (li->tw);
  if (li->out.w)
    layer_store_abort (&li->out);
  if (li->w)
    store_blob_abort (li->w, false);
  layer_decomp_free (li->dec);
  snapshot_abort (li->tx);
  digester_release (&li->diff_id);
  free (li);
}
