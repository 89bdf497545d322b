/* Unpack while pulling: see registry/unpack.h. */
#include "registry/unpack.h"
#include "layers/image.h"
#include "layers/snapshot.h"
#include "lib/err.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "registry/client.h"

#include <pthread.h>
#include <signal.h>
#include <string.h>

/* Per layer being downloaded: 2 MiB of queue keeps a pull of four layers
 * at once well under its memory budget, and is many feeds deep. */
#define RING_SIZE (2u << 20)
#define FEED_MAX (256u << 10)

enum sink_result
{
  SINK_NONE,      /* not started, skipped or discarded: the fallback makes it */
  SINK_COMMITTED, /* the snapshot is in place */
  SINK_FAILED,    /* unpacking failed: err says why */
};

struct lsink
{
  struct reg_unpack *u;
  char *chain_id, *diff_id, *digest;
  size_t index;
  pthread_t thread;
  bool started; /* the thread runs (or ran): join it */
  pthread_mutex_t mu;
  pthread_cond_t data, space;
  uint8_t *ring;
  size_t head, len;   /* read position, bytes queued */
  bool eof, blob_ok;  /* finish() was called; the blob verified */
  bool dead;          /* the thread stopped reading: writes are dropped */
  bool want_data, want_space;
  enum sink_result result;
  struct err *err;
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

/* The thread stops reading; a writer waiting for space goes on. */
static void
sink_kill (struct lsink *k)
{
  pthread_mutex_lock (&k->mu);
  k->dead = true;
  k->len = 0;
  pthread_cond_signal (&k->space);
  pthread_mutex_unlock (&k->mu);
}

static void *
unpack_thread (void *arg)
{
  struct lsink *k = arg;
  struct snapshot_tx *tx = NULL;
  struct err *e = NULL;
  bool ok;
  /* 1: the snapshot exists; 2: another process is making it right now
   * (the fallback waits for it); either way nothing to feed. */
  int rc = snapshot_begin (k->u->s, k->chain_id, k->diff_id, false, &tx, &e);
  if (rc != 0)
    {
      if (rc < 0)
        k->result = SINK_FAILED, k->err = e;
      sink_kill (k);
      return NULL;
    }
  for (;;)
    {
      const uint8_t *p;
      size_t n;
      pthread_mutex_lock (&k->mu);
      while (!k->len && !k->eof)
        {
          k->want_data = true;
          pthread_cond_wait (&k->data, &k->mu);
          k->want_data = false;
        }
      if (k->eof && (!k->blob_ok || !k->len))
        {
          ok = k->blob_ok;
          pthread_mutex_unlock (&k->mu);
          break;
        }
      p = k->ring + k->head;
      n = k->len;
      if (n > RING_SIZE - k->head)
        n = RING_SIZE - k->head;
      if (n > FEED_MAX)
        n = FEED_MAX;
      pthread_mutex_unlock (&k->mu);
      /* The writer only fills the free part of the ring: p..p+n is ours
       * until we give it back below. */
      if (snapshot_tx_feed (tx, p, n, &e) < 0)
        {
          snapshot_abort (tx);
          k->result = SINK_FAILED;
          k->err = e;
          sink_kill (k);
          return NULL;
        }
      pthread_mutex_lock (&k->mu);
      k->head = (k->head + n) % RING_SIZE;
      k->len -= n;
      if (k->want_space)
        pthread_cond_signal (&k->space);
      pthread_mutex_unlock (&k->mu);
    }
  if (!ok)
    {
      /* the blob did not verify or the download starts over: the
       * fallback unpacks the stored blob if there is one */
      snapshot_abort (tx);
      return NULL;
    }
  if (snapshot_commit (tx, &e) < 0)
    {
      k->result = SINK_FAILED;
      k->err = e;
      return NULL;
    }
  k->result = SINK_COMMITTED;
  return NULL;
}

static int
sink_start (struct lsink *k)
{
  sigset_t all, old;
  int rc;
  k->ring = xmalloc (RING_SIZE);
  /* Signals stay with the main thread (progress, interrupts). */
  sigfillset (&all);
  pthread_sigmask (SIG_SETMASK, &all, &old);
  rc = pthread_create (&k->thread, NULL, unpack_thread, k);
  pthread_sigmask (SIG_SETMASK, &old, NULL);
  if (rc != 0)
    {
      log_debug ("layer %s: no unpack thread (%s); unpacking it later",
                 k->digest, strerror (rc));
      k->dead = true;
      return -1;
    }
  k->started = true;
  return 0;
}

/* The download's bytes, in order from byte 0. Never fails the download:
 * a layer that cannot be unpacked here is unpacked (or reported) after. */
static int
sink_write (void *ctx, const void *data, size_t len, struct err **err)
{
  struct lsink *k = ctx;
  const uint8_t *p = data;
  if (!k->started && !k->dead && sink_start (k) < 0)
    return 0;
  pthread_mutex_lock (&k->mu);
  while (len && !k->dead)
    {
      size_t tail, n;
      while (k->len == RING_SIZE && !k->dead)
        {
          k->want_space = true;
          pthread_cond_wait (&k->space, &k->mu);
          k->want_space = false;
        }
      if (k->dead)
        break;
      tail = (k->head + k->len) % RING_SIZE;
      n = tail >= k->head && k->len < RING_SIZE ? RING_SIZE - tail
                                                : k->head - tail;
      if (n > RING_SIZE - k->len)
        n = RING_SIZE - k->len;
      if (n > len)
        n = len;
      memcpy (k->ring + tail, p, n);
      k->len += n;
      p += n;
      len -= n;
      if (k->want_data)
        pthread_cond_signal (&k->data);
    }
  pthread_mutex_unlock (&k->mu);
  return 0;
}

/* ok: the whole blob went through and verified; the thread commits (in
 * the background: the downloads go on meanwhile). */
static int
sink_finish (void *ctx, bool ok, struct err **err)
{
  struct lsink *k = ctx;
  if (!k->started)
    return 0;
  pthread_mutex_lock (&k->mu);
  k->eof = true;
  k->blob_ok = ok;
  pthread_cond_signal (&k->data);
  pthread_mutex_unlock (&k->mu);
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
  pthread_mutex_init (&k->mu, NULL);
  pthread_cond_init (&k->data, NULL);
  pthread_cond_init (&k->space, NULL);
  k->next = u->sinks;
  u->sinks = k;
  out->ctx = k;
  out->write = sink_write;
  out->finish = sink_finish;
  return 0;
}

static void
sink_join (struct lsink *k)
{
  if (!k->started)
    return;
  /* A sink the download never finished (it failed): stop it. */
  pthread_mutex_lock (&k->mu);
  if (!k->eof)
    {
      k->eof = true;
      k->blob_ok = false;
      pthread_cond_signal (&k->data);
    }
  pthread_mutex_unlock (&k->mu);
  pthread_join (k->thread, NULL);
  k->started = false;
  free (k->ring);
  k->ring = NULL;
}

static int
layers_done (void *ud, const struct image_manifest *m,
             const struct image_config *c, struct err **err)
{
  struct reg_unpack *u = ud;
  struct lsink *failed = NULL;
  char **lowers = NULL;
  for (struct lsink *k = u->sinks; k; k = k->next)
    {
      sink_join (k);
      if (k->result == SINK_COMMITTED)
        log_debug ("layer %zu %s: unpacked while downloading", k->index + 1,
                   k->digest);
      /* An unpack error on a blob that verified is the layer's fault
       * (not the network's): report it rather than unpack it again. */
      if (k->result == SINK_FAILED && k->blob_ok && !failed)
        failed = k;
    }
  if (failed)
    {
      *err = steal_pointer (&failed->err);
      return err_wrap (err, "unpack layer %zu (%s)", failed->index + 1,
                       failed->digest);
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
      next = k->next;
      sink_join (k);
      pthread_mutex_destroy (&k->mu);
      pthread_cond_destroy (&k->data);
      pthread_cond_destroy (&k->space);
      err_free (k->err);
      free (k->chain_id);
      free (k->diff_id);
      free (k->digest);
      free (k);
    }
  free (u);
}
