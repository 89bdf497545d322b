/* One blob over parallel Range requests: see registry/blobpar.h. */
#include "registry/blobpar.h"
#include "layers/store.h"
#include "lib/err.h"
#include "lib/log.h"
#include "lib/progress.h"
#include "lib/xalloc.h"
#include "registry/blob.h"
#include "registry/byteranges.h"
#include "registry/http.h"
#include "registry/session.h"

#include <curl/curl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define MAX_AUTH_ROUNDS 2
#define MAX_PARTS 64
/* The digest and the sink take the arrived prefix in steps this large. */
#define ABSORB_STEP (1u << 20)

struct part
{
  struct par *pa;
  struct byterange r;
  uint64_t got;
  char *range;
  struct http_request req;
  struct http_response resp;
  struct http_xfer *x;
  bool checked, in_multi, done, counted;
  int auth_rounds;
  int64_t wake_ns;
};

struct par
{
  struct reg_repo *repo;
  struct blob_writer *w;
  const struct reg_blob_sink *sink;
  struct progress *p;
  int pid;
  CURLM *multi;
  char *url, *auth, *path;
  struct part parts[MAX_PARTS];
  size_t n, n_checked;
  uint64_t size, absorbed, got;
  bool ignored;
};

static int
to_sink (void *ctx, const void *data, size_t len, struct err **err)
{
  const struct reg_blob_sink *s = ctx;
  return s->write (s->ctx, data, len, err);
}

/* Take what has arrived from the start on into the digest and the sink:
 * only once every part's answer was seen to be a 206 (a 200 somewhere
 * means Range is ignored, and the sink must then see nothing). */
static int
absorb (struct par *pa, bool all, struct err **err)
{
  uint64_t end = 0;
  if (pa->n_checked < pa->n)
    return 0;
  for (size_t i = 0; i < pa->n; i++)
    {
      end = pa->parts[i].r.off + pa->parts[i].got;
      if (pa->parts[i].got < pa->parts[i].r.len)
        break;
    }
  if (end < pa->absorbed + (all ? 1 : ABSORB_STEP))
    return 0;
  pa->absorbed = end;
  return blob_writer_absorb (pa->w, end,
                             pa->sink && pa->sink->write ? to_sink : NULL,
                             (void *)pa->sink, err);
}

static int
on_data (void *ctx, const void *data, size_t len, struct err **err)
{
  struct part *t = ctx;
  struct par *pa = t->pa;
  if (!t->checked)
    {
      struct byterange cr;
      int64_t total;
      t->checked = true;
      if (t->resp.status == 200)
        {
          pa->ignored = true;
          return err_set (err, 0, "registry ignores Range");
        }
      if (byteranges_content_range (t->resp.content_range, &cr, &total) < 0
          || cr.off != t->r.off + t->got
          || cr.off + cr.len != t->r.off + t->r.len)
        return err_set (err, 0, "registry sent range '%s', wanted %s",
                        t->resp.content_range ? t->resp.content_range : "",
                        t->range);
      if (!t->counted)
        pa->n_checked++;
      t->counted = true;
    }
  if (len > t->r.len - t->got)
    return err_set (err, 0, "registry sent more than the range asked for");
  if (blob_writer_pwrite (pa->w, t->r.off + t->got, data, len, err) < 0)
    return -1;
  t->got += len;
  pa->got += len;
  progress_update (pa->p, pa->pid, (int64_t)pa->got);
  return absorb (pa, false, err);
}

/* (Re)start part t from what it has. fresh: a new transfer. */
static int
launch (struct part *t, bool fresh, struct err **err)
{
  struct par *pa = t->pa;
  if (fresh)
    {
      if (t->in_multi)
        curl_multi_remove_handle (pa->multi, http_xfer_easy (t->x));
      t->in_multi = false;
      http_xfer_free (t->x);
      http_response_release (&t->resp);
      free (t->range);
      struct byterange rest = { t->r.off + t->got, t->r.len - t->got };
      t->range = byteranges_header (&rest, 1);
      memset (&t->req, 0, sizeof t->req);
      t->req.url = pa->url;
      t->req.auth = pa->auth;
      t->req.range = t->range;
      t->req.write = on_data;
      t->req.ctx = t;
      t->x = http_xfer_new (pa->repo->c->http, &t->req, &t->resp);
    }
  t->checked = false;
  t->wake_ns = 0;
  if (http_xfer_prepare (t->x, err) < 0)
    return -1;
  if (curl_multi_add_handle (pa->multi, http_xfer_easy (t->x)) != CURLM_OK)
    return err_set (err, 0, "curl: cannot add a transfer");
  t->in_multi = true;
  return 0;
}

static void
renew_auth (struct par *pa)
{
  free (pa->url);
  free (pa->auth);
  pa->url = reg_repo_url (pa->repo, pa->path);
  pa->auth = reg_repo_auth (pa->repo);
}

/* Part t's transfer ended with curl code rc: 0 going on or done, -1. */
static int
part_end (struct part *t, int rc, struct err **err)
{
  struct par *pa = t->pa;
  struct err *e = NULL;
  long delay = 0;
  curl_multi_remove_handle (pa->multi, http_xfer_easy (t->x));
  t->in_multi = false;
  switch (http_xfer_finish (t->x, rc, &delay, &e))
    {
    case HTTP_DONE:
      if (t->resp.status == 206 && t->got == t->r.len)
        {
          t->done = true;
          return 0;
        }
      if (t->resp.status == 206)
        return err_set (err, 0,
                        "truncated body: got %" PRIu64 " of %" PRIu64
                        " bytes at %" PRIu64,
                        t->got, t->r.len, t->r.off);
      if (t->resp.status == 401 && t->auth_rounds++ < MAX_AUTH_ROUNDS
          && t->resp.www_authenticate)
        {
          if (reg_repo_reauth (pa->repo, &t->resp, err) < 0)
            return -1;
          renew_auth (pa);
          return launch (t, true, err);
        }
      {
        _cleanup_free_ char *m = reg_repo_denied_text (pa->repo, &t->resp);
        return err_set (err, 0, "%s", m);
      }
    case HTTP_REDIRECT:
      return launch (t, false, err);
    case HTTP_RETRY:
      log_debug ("part at %" PRIu64 ": %s; retrying", t->r.off,
                 e ? e->msg : "server busy");
      err_free (e);
      if (http_xfer_wrote (t->x) && !http_xfer_too_slow (t->x))
        return launch (t, true, err);
      t->wake_ns = http_now_ns () + (int64_t)delay * 1000000LL;
      return 0;
    case HTTP_FAIL:
      *err = e;
      return -1;
    }
  return -1;
}

static struct part *
part_of (struct par *pa, CURL *easy)
{
  for (size_t i = 0; i < pa->n; i++)
    if (pa->parts[i].in_multi && http_xfer_easy (pa->parts[i].x) == easy)
      return &pa->parts[i];
  return NULL;
}

static int
run (struct par *pa, struct err **err)
{
  for (size_t i = 0; i < pa->n; i++)
    if (launch (&pa->parts[i], true, err) < 0)
      return -1;
  for (;;)
    {
      int running, numfds, timeout_ms = 1000;
      bool left = false;
      CURLMsg *msg;
      int64_t t;
      curl_multi_perform (pa->multi, &running);
      while ((msg = curl_multi_info_read (pa->multi, &running)))
        {
          struct part *p;
          if (msg->msg != CURLMSG_DONE
              || !(p = part_of (pa, msg->easy_handle)))
            continue;
          if (part_end (p, msg->data.result, err) < 0)
            return -1;
        }
      t = http_now_ns ();
      for (size_t i = 0; i < pa->n; i++)
        {
          struct part *p = &pa->parts[i];
          if (p->done)
            continue;
          left = true;
          if (!p->wake_ns)
            continue;
          if (p->wake_ns <= t)
            {
              if (launch (p, false, err) < 0)
                return -1;
            }
          else if ((p->wake_ns - t) / 1000000 < timeout_ms)
            timeout_ms = (int)((p->wake_ns - t) / 1000000) + 1;
        }
      if (!left)
        return absorb (pa, true, err);
      curl_multi_poll (pa->multi, NULL, 0, timeout_ms, &numfds);
    }
}

int
reg_blob_parallel (struct reg_repo *repo, const char *digest, int64_t size,
                   struct blob_writer *w, int conns,
                   const struct reg_blob_sink *sink, struct progress *p,
                   int pid, struct err **err)
{
  struct byterange rs[MAX_PARTS];
  struct par pa = { .repo = repo,
                    .w = w,
                    .sink = sink,
                    .p = p,
                    .pid = pid,
                    .size = (uint64_t)size };
  int ret;
  pa.n = byteranges_split ((uint64_t)size,
                           conns < MAX_PARTS ? (size_t)conns : MAX_PARTS,
                           PAR_MIN_PART, rs);
  for (size_t i = 0; i < pa.n; i++)
    {
      pa.parts[i].pa = &pa;
      pa.parts[i].r = rs[i];
      pa.parts[i].resp.content_length = -1;
    }
  pa.path = xasprintf ("/v2/%s/blobs/%s", repo->path, digest);
  renew_auth (&pa);
  pa.multi = http_multi_new (repo->c->http);
  log_debug ("%s: %zu parts at once", digest, pa.n);
  ret = run (&pa, err);
  if (ret < 0 && pa.ignored)
    {
      log_debug ("%s: registry ignores Range", digest);
      err_free (*err);
      *err = NULL;
      ret = 1;
    }
  for (size_t i = 0; i < pa.n; i++)
    {
      struct part *t = &pa.parts[i];
      if (t->in_multi)
        curl_multi_remove_handle (pa.multi, http_xfer_easy (t->x));
      http_xfer_free (t->x);
      http_response_release (&t->resp);
      free (t->range);
    }
  curl_multi_cleanup (pa.multi);
  free (pa.path);
  free (pa.url);
  free (pa.auth);
  if (ret != 0)
    {
      struct err *ignored = NULL;
      if (blob_writer_reset (w, &ignored) < 0)
        err_free (ignored);
    }
  return ret;
}
