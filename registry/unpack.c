/* Unpack while pulling: see registry/unpack.h. */
#include "registry/unpack.h"
#include "layers/image.h"
#include "layers/snapshot.h"
#include "lib/bytepipe.h"
#include "lib/err.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "registry/client.h"

#include <string.h>

/* Per layer being downloaded: 2 MiB of queue keeps a pull of four layers
 * at once well under its memory budget, and is many feeds deep. */
#define RING_SIZE (2u << 20)
#define FEED_MAX (256u << 10)

struct lsink
{
  struct reg_unpack *u;
  char *chain_id, *diff_id, *digest;
  size_t index;
  struct bytepipe *pipe; /* NULL until the first byte */
  bool no_pipe;          /* no thread could be started */
  /* the worker's: */
  bool begun, failed, committed, blob_ok;
  struct snapshot_tx *tx;
  struct lsink *next;
};

struct reg_unpack
{
  struct store *s;
  struct lsink *sinks;
};

struct reg_unpack *
reg_unpack_new (struct store *s)
{
  struct reg_unpack *u = xcalloc (1, sizeof *u);
  u->s = s;
  return u;
}

/* In the worker: the blob's bytes into the snapshot. */
static int
consume (void *ctx, const void *data, size_t len, struct err **err)
{
  struct lsink *k = ctx;
  if (!k->begun)
    {
      k->begun = true;
      /* 1: the snapshot exists; 2: another process is making it right
       * now (the fallback waits for it); either way nothing to feed. */
      int rc = snapshot_begin (k->u->s, k->chain_id, k->diff_id, false, &k->tx,
                               err);
      if (rc < 0)
        k->failed = true;
      if (rc != 0)
        return rc < 0 ? -1 : 1;
    }
  if (snapshot_tx_feed (k->tx, data, len, err) < 0)
    {
      k->failed = true;
      return -1;
    }
  return 0;
}

/* In the worker: commit when the blob verified, else throw it away (the
 * fallback unpacks the stored blob, if there is one). */
static int
end (void *ctx, bool ok, struct err **err)
{
  struct lsink *k = ctx;
  struct snapshot_tx *tx = steal_pointer (&k->tx);
  k->blob_ok = ok;
  if (!tx)
    return 0;
  if (!ok || k->failed)
    {
      snapshot_abort (tx);
      return 0;
    }
  if (snapshot_commit (tx, err) < 0)
    {
      k->failed = true;
      return -1;
    }
  k->committed = true;
  return 0;
}

/* The download's bytes, in order from byte 0. Never fails the download:
 * a layer that cannot be unpacked here is unpacked (or reported) after. */
static int
sink_write (void *ctx, const void *data, size_t len, struct err **err)
{
  static const struct bytepipe_ops ops = { .consume = consume, .end = end };
  struct lsink *k = ctx;
  if (!k->pipe && !k->no_pipe)
    {
      struct err *e = NULL;
      if (!(k->pipe = bytepipe_start (RING_SIZE, FEED_MAX, &ops, k, &e)))
        {
          log_debug ("layer %s: %s; unpacking it later", k->digest, e->msg);
          err_free (e);
          k->no_pipe = true;
        }
    }
  if (k->pipe)
    bytepipe_put (k->pipe, data, len);
  return 0;
}

/* ok: the whole blob went through and verified. The worker commits in
 * the background: the downloads go on meanwhile. */
static int
sink_finish (void *ctx, bool ok, struct err **err)
{
  struct lsink *k = ctx;
  if (k->pipe)
    bytepipe_close (k->pipe, ok);
  return 0;
}

static int
sink_open (void *ud, const struct reg_layer *l, struct reg_blob_sink *out,
           struct err **err)
{
  struct reg_unpack *u = ud;
  struct lsink *k = xcalloc (1, sizeof *k);
  k->u = u;
  k->chain_id = xstrdup (l->chain_id);
  k->diff_id = xstrdup (l->diff_id);
  k->digest = xstrdup (l->desc->digest);
  k->index = l->index;
  k->next = u->sinks;
  u->sinks = k;
  out->ctx = k;
  out->write = sink_write;
  out->finish = sink_finish;
  return 0;
}

/* Wait for the worker: 0, or -1 with its error. */
static int
sink_join (struct lsink *k, struct err **err)
{
  int rc = bytepipe_join (k->pipe, err);
  k->pipe = NULL;
  return rc;
}

static int
layers_done (void *ud, const struct image_manifest *m,
             const struct image_config *c, struct err **err)
{
  struct reg_unpack *u = ud;
  struct err *first = NULL;
  char **lowers = NULL;
  for (struct lsink *k = u->sinks; k; k = k->next)
    {
      struct err *e = NULL;
      if (sink_join (k, &e) < 0)
        {
          /* An unpack error on a blob that verified is the layer's fault
           * (not the network's): report it rather than unpack it again. */
          if (k->blob_ok && !first)
            {
              first = e;
              err_wrap (&first, "unpack layer %zu (%s)", k->index + 1,
                        k->digest);
            }
          else
            err_free (e);
        }
      if (k->committed)
        log_debug ("layer %zu %s: unpacked while downloading", k->index + 1,
                   k->digest);
    }
  if (first)
    {
      *err = first;
      return -1;
    }
  /* The rest (stored before, resumed, made by another process) from the
   * stored blobs; this also checks every snapshot is there. */
  if (snapshot_prepare_image (u->s, m, c, &lowers, err) < 0)
    return -1;
  strv_free (lowers);
  return 0;
}

void
reg_unpack_hooks (struct reg_unpack *u, struct reg_pull_opts *o)
{
  o->sink_open = sink_open;
  o->layers_done = layers_done;
  o->sink_ud = u;
}

void
reg_unpack_free (struct reg_unpack *u)
{
  struct lsink *k, *next;
  if (!u)
    return;
  for (k = u->sinks; k; k = next)
    {
      struct err *ignored = NULL;
      next = k->next;
      sink_join (k, &ignored);
      err_free (ignored);
      free (k->chain_id);
      free (k->diff_id);
      free (k->digest);
      free (k);
    }
  free (u);
}
