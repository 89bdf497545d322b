/* Ranges of a blob: see registry/ranges.h. */
#include "registry/ranges.h"
#include "lib/err.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "registry/http.h"
#include "registry/session.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* Ranges per request: keeps the Range header a few KiB, which every
 * server's header limit allows. */
#define RANGES_PER_REQUEST 128

struct rq
{
  const struct byterange *rs; /* this request's ranges */
  size_t n, base;             /* base: index of rs[0] for fn */
  uint64_t *got;
  reg_range_fn fn;
  void *ctx;
  struct http_response *resp;
  struct byteranges_parser *mp;
  struct byterange single; /* a 206 of one part: its Content-Range */
  uint64_t single_done;
  bool started, ignored;
};

/* Bytes at blob offset off, as the answer had them: to the ranges they
 * fall in (a server may merge near ranges: the gap is dropped). */
static int
deliver (void *ctx, uint64_t off, const void *data, size_t len,
         struct err **err)
{
  struct rq *q = ctx;
  const char *p = data;
  while (len)
    {
      size_t lo = 0, hi = q->n;
      while (lo < hi) /* the first range that ends past off */
        {
          size_t mid = (lo + hi) / 2;
          if (q->rs[mid].off + q->rs[mid].len <= off)
            lo = mid + 1;
          else
            hi = mid;
        }
      if (lo == q->n)
        return err_set (err, 0,
                        "registry sent bytes at %" PRIu64 " not asked for",
                        off);
      const struct byterange *r = &q->rs[lo];
      if (off < r->off) /* a gap between ranges */
        {
          uint64_t skip = r->off - off;
          if (skip >= len)
            return 0;
          off += skip, p += skip, len -= (size_t)skip;
        }
      if (off != r->off + q->got[lo])
        return err_set (err, 0, "registry sent range bytes out of order");
      uint64_t left = r->off + r->len - off;
      size_t n = len < left ? len : (size_t)left;
      if (q->fn (q->ctx, q->base + lo, off, p, n, err) < 0)
        return -1;
      q->got[lo] += n;
      off += n, p += n, len -= n;
    }
  return 0;
}

/* The first bytes of the body: what kind of answer is it? */
static int
start (struct rq *q, struct err **err)
{
  struct http_response *r = q->resp;
  q->started = true;
  if (r->status == 200)
    {
      q->ignored = true;
      return err_set (err, 0, "registry ignores Range");
    }
  if (r->status != 206)
    return err_set (err, 0, "registry answered %ld to a Range request",
                    r->status);
  if (r->content_type && !strcasecmp (r->content_type, "multipart/byteranges"))
    {
      if (!r->boundary)
        return err_set (err, 0, "multipart answer without a boundary");
      q->mp = byteranges_parser_new (r->boundary, deliver, q);
      return 0;
    }
  int64_t total;
  if (byteranges_content_range (r->content_range, &q->single, &total) < 0)
    return err_set (err, 0, "registry sent range '%s'",
                    r->content_range ? r->content_range : "(none)");
  return 0;
}

static int
on_body (void *ctx, const void *data, size_t len, struct err **err)
{
  struct rq *q = ctx;
  if (!q->started && start (q, err) < 0)
    return -1;
  if (q->mp)
    return byteranges_parser_feed (q->mp, data, len, err);
  if (len > q->single.len - q->single_done)
    return err_set (err, 0, "registry sent more than its Content-Range");
  q->single_done += len;
  return deliver (q, q->single.off + q->single_done - len, data, len, err);
}

/* One request for q's ranges: 0, 1 Range ignored, -1. */
static int
one_request (struct reg_repo *repo, const char *path, struct rq *q,
             struct err **err)
{
  _cleanup_free_ char *range = byteranges_header (q->rs, q->n);
  struct http_request req = { .url = path,
                              .range = range,
                              .write = on_body,
                              .ctx = q };
  struct http_response resp = { .content_length = -1 };
  int ret = -1;
  q->resp = &resp;
  if (reg_repo_do (repo, &req, &resp, err) < 0)
    {
      if (q->ignored)
        {
          err_free (*err);
          *err = NULL;
          ret = 1;
        }
      goto out;
    }
  if (resp.status != 206)
    {
      _cleanup_free_ char *t = reg_repo_denied_text (repo, &resp);
      err_set (err, 0, "%s", t);
      goto out;
    }
  if (q->mp && byteranges_parser_end (q->mp, err) < 0)
    goto out;
  for (size_t i = 0; i < q->n; i++)
    if (q->got[i] != q->rs[i].len)
      {
        err_set (err, 0,
                 "registry sent %" PRIu64 " of the %" PRIu64
                 " bytes at %" PRIu64,
                 q->got[i], q->rs[i].len, q->rs[i].off);
        goto out;
      }
  ret = 0;
out:
  byteranges_parser_free (q->mp);
  q->mp = NULL;
  http_response_release (&resp);
  return ret;
}

int
reg_blob_ranges (struct reg_repo *repo, const char *digest,
                 const struct byterange *rs, size_t n, reg_range_fn fn,
                 void *ctx, struct err **err)
{
  _cleanup_free_ char *path
      = xasprintf ("/v2/%s/blobs/%s", repo->path, digest);
  _cleanup_free_ uint64_t *got = xcalloc (n + 1, sizeof *got);
  for (size_t i = 0; i < n; i += RANGES_PER_REQUEST)
    {
      struct rq q = { .rs = rs + i,
                      .n = n - i < RANGES_PER_REQUEST ? n - i
                                                      : RANGES_PER_REQUEST,
                      .base = i,
                      .got = got + i,
                      .fn = fn,
                      .ctx = ctx };
      int rc = one_request (repo, path, &q, err);
      if (rc == 1 && i > 0)
        return err_set (err, 0, "registry stopped answering Range requests");
      if (rc != 0)
        return rc;
    }
  return 0;
}
