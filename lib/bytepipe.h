/* A byte stream handed from one thread to a worker thread through a
 * bounded ring: the producer copies bytes in (waiting while the ring is
 * full, so memory stays bounded), the worker is given them in order, in
 * pieces of at most max_chunk bytes, straight from the ring.
 *
 * pull uses two: network -> (digest, file) in registry/blob.c, and
 * blob bytes -> snapshot in registry/unpack.c. */
#ifndef IMGTOOL_BYTEPIPE_H
#define IMGTOOL_BYTEPIPE_H

#include <stdbool.h>
#include <stddef.h>

struct err;

struct bytepipe_ops
{
  /* In the worker, the next bytes: 0 go on, 1 stop reading (the rest is
   * dropped; not an error), -1 failed (*err set; the rest is dropped). */
  int (*consume) (void *ctx, const void *data, size_t len, struct err **err);
  /* In the worker, once the producer closed the stream, whether or not
   * consume stopped early; ok is the producer's verdict. May be NULL. */
  int (*end) (void *ctx, bool ok, struct err **err);
};

struct bytepipe;

/* Start the worker thread (with every signal blocked). */
struct bytepipe *bytepipe_start (size_t ring_size, size_t max_chunk,
                                 const struct bytepipe_ops *ops, void *ctx,
                                 struct err **err);
/* Queue bytes. -1 (and the bytes dropped) once the worker failed; 0 else,
 * also when it stopped reading on purpose. */
int bytepipe_put (struct bytepipe *p, const void *data, size_t len);
/* Write into the ring instead of copying into it: room at its tail,
 * contiguous, at least min bytes (min <= the ring size), *room set to its
 * size; waits for it. Fill it, then bytepipe_commit. NULL when the worker
 * stopped reading. One reservation at a time, and no bytepipe_put while
 * one is held. The pieces the worker gets start where a commit began
 * whenever every commit but the last is a multiple of a max_chunk that
 * divides the ring size. */
void *bytepipe_reserve (struct bytepipe *p, size_t min, size_t *room);
/* Queue the first n bytes of the reserved room (0: give it back unused).
 * -1 once the worker failed (the bytes are dropped), else 0. */
int bytepipe_commit (struct bytepipe *p, size_t n);
/* Has the worker stopped reading (stop or failure)? */
bool bytepipe_stopped (struct bytepipe *p);
/* End of stream: the worker consumes what is queued (unless !ok: then it
 * skips it), calls end and exits. Does not wait. */
void bytepipe_close (struct bytepipe *p, bool ok);
/* Wait for the worker (closing the stream with ok=false if it was not
 * closed), free p. Returns -1 with the worker's error if consume or end
 * failed. p may be NULL. */
int bytepipe_join (struct bytepipe *p, struct err **err);
/* Take *pp (leaving NULL), close its stream with ok and join it: the one
 * way owners end a pipe they hold in a field. *pp may be NULL. */
int bytepipe_finish (struct bytepipe **pp, bool ok, struct err **err);

#endif
