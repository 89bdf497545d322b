/* A bounded byte ring between two threads: see lib/bytepipe.h. */
#include "lib/bytepipe.h"
#include "lib/err.h"
#include "lib/xalloc.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

struct bytepipe
{
  pthread_mutex_t mu;
  pthread_cond_t data, space;
  uint8_t *ring;
  size_t size, max_chunk;
  size_t head, len; /* read position, bytes queued */
  bool eof, ok;     /* closed; the producer's verdict */
  bool stopped;     /* the worker reads no more */
  bool reserved;    /* the producer is writing into the ring */
  bool want_data, want_space;
  int rc; /* the worker's result */
  struct err *err;
  struct bytepipe_ops ops;
  void *ctx;
  pthread_t thread;
};

/* The ring is mapped, not malloc'ed: unmapped, its pages go back at once
 * (malloc would keep them in a thread's arena after a large free). */
static void
ring_free (struct bytepipe *p)
{
  if (p->ring)
    munmap (p->ring, p->size);
  p->ring = NULL;
}

static void *
worker (void *arg)
{
  struct bytepipe *p = arg;
  struct err *e = NULL;
  bool ok;
  for (;;)
    {
      const uint8_t *d;
      size_t n;
      int r;
      pthread_mutex_lock (&p->mu);
      while (!p->len && !p->eof)
        {
          p->want_data = true;
          pthread_cond_wait (&p->data, &p->mu);
          p->want_data = false;
        }
      if (!p->len || (p->eof && !p->ok))
        {
          pthread_mutex_unlock (&p->mu);
          break;
        }
      d = p->ring + p->head;
      n = p->len;
      if (n > p->size - p->head)
        n = p->size - p->head;
      if (n > p->max_chunk)
        n = p->max_chunk;
      pthread_mutex_unlock (&p->mu);
      /* The producer fills only the free part: d..d+n is ours until it is
       * given back below. */
      r = p->ops.consume (p->ctx, d, n, &e);
      pthread_mutex_lock (&p->mu);
      p->head = (p->head + n) % p->size;
      p->len -= n;
      if (r != 0)
        {
          p->stopped = true;
          p->len = 0;
          if (r < 0)
            {
              p->rc = -1;
              p->err = steal_pointer (&e);
            }
        }
      if (p->want_space || p->stopped)
        pthread_cond_signal (&p->space);
      pthread_mutex_unlock (&p->mu);
      if (r != 0)
        break;
    }
  /* Done reading: the ring goes now, not at the join (a pull of many
   * layers joins them all at its end). Later puts see stopped. */
  pthread_mutex_lock (&p->mu);
  p->stopped = true;
  p->len = 0;
  pthread_cond_signal (&p->space);
  /* not while the producer writes into it (bytepipe_reserve) */
  while (p->reserved)
    pthread_cond_wait (&p->data, &p->mu);
  ring_free (p);
  /* the verdict */
  while (!p->eof)
    {
      p->want_data = true;
      pthread_cond_wait (&p->data, &p->mu);
      p->want_data = false;
    }
  ok = p->ok;
  pthread_mutex_unlock (&p->mu);
  if (p->ops.end && p->ops.end (p->ctx, ok, &e) < 0 && p->rc == 0)
    {
      p->rc = -1;
      p->err = steal_pointer (&e);
    }
  err_free (e);
  return NULL;
}

struct bytepipe *
bytepipe_start (size_t ring_size, size_t max_chunk,
                const struct bytepipe_ops *ops, void *ctx, struct err **err)
{
  struct bytepipe *p = xcalloc (1, sizeof *p);
  sigset_t all, old;
  int rc;
  p->size = ring_size;
  p->ring = mmap (NULL, ring_size, PROT_READ | PROT_WRITE,
                  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p->ring == MAP_FAILED)
    {
      free (p);
      err_set (err, errno, "map a %zu-byte buffer", ring_size);
      return NULL;
    }
  p->max_chunk = max_chunk ? max_chunk : ring_size;
  p->ops = *ops;
  p->ctx = ctx;
  pthread_mutex_init (&p->mu, NULL);
  pthread_cond_init (&p->data, NULL);
  pthread_cond_init (&p->space, NULL);
  /* signals stay with the main thread */
  sigfillset (&all);
  pthread_sigmask (SIG_SETMASK, &all, &old);
  rc = pthread_create (&p->thread, NULL, worker, p);
  pthread_sigmask (SIG_SETMASK, &old, NULL);
  if (rc != 0)
    {
      pthread_mutex_destroy (&p->mu);
      pthread_cond_destroy (&p->data);
      pthread_cond_destroy (&p->space);
      ring_free (p);
      free (p);
      err_set (err, rc, "start a thread");
      return NULL;
    }
  return p;
}

int
bytepipe_put (struct bytepipe *p, const void *data, size_t len)
{
  const uint8_t *s = data;
  int r;
  pthread_mutex_lock (&p->mu);
  while (len && !p->stopped)
    {
      size_t tail, n;
      while (p->len == p->size && !p->stopped)
        {
          p->want_space = true;
          pthread_cond_wait (&p->space, &p->mu);
          p->want_space = false;
        }
      if (p->stopped)
        break;
      tail = (p->head + p->len) % p->size;
      /* free and contiguous from tail: to the end, or up to head */
      n = tail >= p->head ? p->size - tail : p->head - tail;
      if (n > len)
        n = len;
      memcpy (p->ring + tail, s, n);
      p->len += n;
      s += n;
      len -= n;
      if (p->want_data)
        pthread_cond_signal (&p->data);
    }
  r = p->rc;
  pthread_mutex_unlock (&p->mu);
  return r;
}

void *
bytepipe_reserve (struct bytepipe *p, size_t min, size_t *room)
{
  size_t tail = 0, n = 0;
  bool got = false;
  pthread_mutex_lock (&p->mu);
  for (;;)
    {
      if (p->stopped)
        break;
      /* empty, and no piece in the worker's hands: start over at the
       * ring's start, so room of min bytes is there whatever came before */
      if (p->len == 0)
        p->head = 0;
      tail = (p->head + p->len) % p->size;
      n = p->len == p->size ? 0
          : tail >= p->head ? p->size - tail
                            : p->head - tail;
      if (n >= min)
        break;
      p->want_space = true;
      pthread_cond_wait (&p->space, &p->mu);
      p->want_space = false;
    }
  got = p->reserved = !p->stopped;
  pthread_mutex_unlock (&p->mu);
  if (!got)
    return NULL;
  *room = n;
  return p->ring + tail;
}

int
bytepipe_commit (struct bytepipe *p, size_t n)
{
  int r;
  pthread_mutex_lock (&p->mu);
  p->reserved = false;
  if (!p->stopped)
    p->len += n;
  /* the worker waits for data, or for the room to be given back */
  pthread_cond_signal (&p->data);
  r = p->rc;
  pthread_mutex_unlock (&p->mu);
  return r;
}

bool
bytepipe_stopped (struct bytepipe *p)
{
  bool r;
  pthread_mutex_lock (&p->mu);
  r = p->stopped;
  pthread_mutex_unlock (&p->mu);
  return r;
}

void
bytepipe_close (struct bytepipe *p, bool ok)
{
  pthread_mutex_lock (&p->mu);
  if (!p->eof)
    {
      p->eof = true;
      p->ok = ok;
      pthread_cond_signal (&p->data);
    }
  pthread_mutex_unlock (&p->mu);
}

int
bytepipe_finish (struct bytepipe **pp, bool ok, struct err **err)
{
  struct bytepipe *p = *pp;
  *pp = NULL;
  if (!p)
    return 0;
  bytepipe_close (p, ok);
  return bytepipe_join (p, err);
}

int
bytepipe_join (struct bytepipe *p, struct err **err)
{
  int rc;
  if (!p)
    return 0;
  bytepipe_close (p, false);
  pthread_join (p->thread, NULL);
  rc = p->rc;
  if (rc < 0)
    *err = steal_pointer (&p->err);
  err_free (p->err);
  pthread_mutex_destroy (&p->mu);
  pthread_cond_destroy (&p->data);
  pthread_cond_destroy (&p->space);
  ring_free (p);
  free (p);
  return rc;
}
