/* Concurrent, verified, resumable blob downloads: see registry/blob.h. */
#include "registry/blob.h"
#include "layers/digest.h"
#include "layers/store.h"
#include "lib/bytepipe.h"
#include "lib/err.h"
#include "lib/log.h"
#include "lib/progress.h"
#include "lib/xalloc.h"
#include "registry/blobpar.h"
#include "registry/http.h"
#include "registry/session.h"

#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define MAX_AUTH_ROUNDS 2
/* The bytes of each download go through a writer thread (digest, file,
 * sink) so the network is read while the last bytes are hashed and
 * written: 1 MiB of queue per download, written in pieces of 256 KiB. */
#define PIPE_SIZE (1u << 20)
#define PIPE_CHUNK (256u << 10)

struct xf
{
  struct reg_blob_job *job;
  struct blob_writer *w;
  struct bytepipe *pipe; /* the writer thread of this transfer, or NULL */
  uint64_t off;          /* bytes taken from the network (the writer's
                          * offset whenever pipe is NULL) */
  struct http_request req;
  struct http_response resp;
  struct http_xfer *x;
  char *path, *url, *auth;
  int pid;
  bool checked;   /* this attempt's status and range were looked at */
  bool sink_live; /* the sink has seen every byte so far, from 0 */
  int auth_rounds;
  int64_t wake_ns; /* a retry is due then; 0: none pending */
  bool in_multi;
  struct fetch *fe;
};

struct fetch
{
  struct reg_repo *repo;
  struct store *s;
  struct progress *p;
  CURLM *multi;
  struct reg_blob_job **order; /* by digest */
  size_t n, next;
  struct reg_blob_job **waiting; /* another writer held them */
  size_t n_wait;
  struct xf **act;
  size_t n_act, max;
  struct reg_blob_job *jobs;
  int *pids; /* a job's progress item made already, else -1 */
};

/* The job's progress item: the one made before (a large blob that went
 * back to one connection), else a new one. */
static int
job_pid (struct fetch *fe, struct reg_blob_job *job, const char *label)
{
  int *pid = &fe->pids[job - fe->jobs];
  if (*pid < 0)
    *pid = progress_add (fe->p, label, job->size);
  return *pid;
}

static void
sink_fail (struct xf *f)
{
  struct err *ignored = NULL;
  if (f->sink_live && f->job->sink.finish)
    f->job->sink.finish (f->job->sink.ctx, false, &ignored);
  err_free (ignored);
  f->sink_live = false;
}

/* "bytes START-END/TOTAL": the start, or -1. */
static int64_t
range_start (const char *cr)
{
  char *end;
  long long v;
  if (!cr || strncmp (cr, "bytes ", 6))
    return -1;
  errno = 0;
  v = strtoll (cr + 6, &end, 10);
  return errno || *end != '-' || v < 0 ? -1 : (int64_t)v;
}

/* In the writer thread: digest and file, then the sink. */
static int
pipe_consume (void *ctx, const void *data, size_t len, struct err **err)
{
  struct xf *f = ctx;
  if (blob_writer_write (f->w, data, len, err) < 0)
    return -1;
  if (f->sink_live && f->job->sink.write (f->job->sink.ctx, data, len, err) < 0)
    return -1;
  return 0;
}

/* Wait until the writer thread has written everything queued, and end
 * it: after this the blob writer and the sink are the caller's again. */
static int
pipe_stop (struct xf *f, struct err **err)
{
  return bytepipe_finish (&f->pipe, true, err);
}

static int
on_data (void *ctx, const void *data, size_t len, struct err **err)
{
  static const struct bytepipe_ops ops = { .consume = pipe_consume };
  struct xf *f = ctx;
  uint64_t off = f->off;
  if (!f->checked)
    {
      /* the first bytes of a transfer: no writer thread runs yet */
      f->checked = true;
      if (f->resp.status == 206)
        {
          int64_t start = range_start (f->resp.content_range);
          if (start < 0 || (uint64_t)start != off)
            return err_set (
                err, 0, "registry sent range '%s', wanted %" PRIu64,
                f->resp.content_range ? f->resp.content_range : "(none)", off);
        }
      else if (off > 0)
        {
          /* A 200 to a Range request: the whole blob comes again. */
          log_debug ("%s: range ignored, starting over", f->job->digest);
          sink_fail (f);
          if (blob_writer_reset (f->w, err) < 0)
            return -1;
          f->off = off = 0;
        }
    }
  if (off + len > (uint64_t)f->job->size)
    return err_set (
        err, 0, "blob is larger than its descriptor says (%" PRId64 " bytes)",
        f->job->size);
  if (!f->pipe
      && !(f->pipe = bytepipe_start (PIPE_SIZE, PIPE_CHUNK, &ops, f, err)))
    return -1;
  if (bytepipe_put (f->pipe, data, len) < 0)
    return err_set (err, 0, "write failed"); /* pipe_stop tells why */
  f->off = off + len;
  progress_update (f->fe->p, f->pid, (int64_t)f->off);
  return 0;
}

static void
xf_free (struct xf *f)
{
  struct err *ignored = NULL;
  if (!f)
    return;
  pipe_stop (f, &ignored);
  err_free (ignored);
  if (f->in_multi)
    curl_multi_remove_handle (f->fe->multi, http_xfer_easy (f->x));
  http_xfer_free (f->x);
  http_response_release (&f->resp);
  free (f->path);
  free (f->url);
  free (f->auth);
  free (f);
}

/* Give up on f: its partial file stays for a later resume when keep. */
static void
xf_abort (struct xf *f, bool keep)
{
  struct err *ignored = NULL;
  pipe_stop (f, &ignored);
  err_free (ignored);
  sink_fail (f);
  store_blob_abort (f->w, keep);
  f->w = NULL;
  xf_free (f);
}

/* (Re)start the request for f from the writer's offset. fresh: a new
 * transfer (new URL, auth and retry budget); else the same one again. */
static int
xf_launch (struct xf *f, bool fresh, struct err **err)
{
  if (fresh)
    {
      if (f->in_multi)
        curl_multi_remove_handle (f->fe->multi, http_xfer_easy (f->x));
      f->in_multi = false;
      http_xfer_free (f->x);
      http_response_release (&f->resp);
      free (f->url);
      free (f->auth);
      f->url = reg_repo_url (f->fe->repo, f->path);
      f->auth = reg_repo_auth (f->fe->repo);
      memset (&f->req, 0, sizeof f->req);
      f->req.url = f->url;
      f->req.auth = f->auth;
      f->req.write = on_data;
      f->req.ctx = f;
      f->x = http_xfer_new (f->fe->repo->c->http, &f->req, &f->resp);
    }
  f->req.range_start = (int64_t)blob_writer_offset (f->w);
  f->checked = false;
  f->wake_ns = 0;
  if (http_xfer_prepare (f->x, err) < 0)
    return -1;
  if (curl_multi_add_handle (f->fe->multi, http_xfer_easy (f->x)) != CURLM_OK)
    return err_set (err, 0, "curl: cannot add a transfer");
  f->in_multi = true;
  return 0;
}

/* Finish a blob whose bytes are all in the writer. */
static int
xf_commit (struct xf *f, struct err **err)
{
  struct blob_writer *w = steal_pointer (&f->w);
  struct err *e = NULL;
  if (store_blob_commit (f->fe->s, w, NULL, err) < 0)
    return -1;
  if (f->sink_live && f->job->sink.finish)
    {
      if (f->job->sink.finish (f->job->sink.ctx, true, err) < 0)
        {
          f->sink_live = false;
          return -1;
        }
      f->job->sink_ok = true;
    }
  f->sink_live = false;
  err_free (e);
  f->job->fetched = true;
  progress_done (f->fe->p, f->pid, "Pull complete");
  return 0;
}

/* Start a job: 1 when it needs no download, 2 when another writer holds
 * the blob and !wait, 0 started, -1 error. */
static int
xf_start (struct fetch *fe, struct reg_blob_job *job, bool wait,
          struct xf **out, struct err **err)
{
  struct xf *f;
  uint64_t off;
  char label[20];
  int rc;
  f = xcalloc (1, sizeof *f);
  f->fe = fe;
  f->job = job;
  f->resp.content_length = -1;
  snprintf (label, sizeof label, "%.12s", digest_hex (job->digest));
  rc = wait ? store_blob_begin (fe->s, job->digest, &f->w, err)
            : store_blob_try_begin (fe->s, job->digest, &f->w, err);
  if (rc != 0)
    {
      free (f);
      if (rc == 1)
        progress_done (fe->p, job_pid (fe, job, label), "Already exists");
      return rc;
    }
  f->pid = job_pid (fe, job, label);
  off = blob_writer_offset (f->w);
  if (off > (uint64_t)job->size && blob_writer_reset (f->w, err) < 0)
    {
      xf_abort (f, false);
      return -1;
    }
  off = f->off = blob_writer_offset (f->w);
  f->sink_live = job->sink.write && off == 0;
  if (job->sink.write && off > 0 && job->sink.finish)
    {
      struct err *ignored = NULL;
      job->sink.finish (job->sink.ctx, false, &ignored);
      err_free (ignored);
    }
  if (off > 0)
    log_info ("%s: resuming at byte %" PRIu64, job->digest, off);
  progress_update (fe->p, f->pid, (int64_t)off);
  if (off == (uint64_t)job->size)
    {
      int r = xf_commit (f, err);
      xf_free (f);
      return r < 0 ? -1 : 1;
    }
  f->path = xasprintf ("/v2/%s/blobs/%s", fe->repo->path, job->digest);
  if (xf_launch (f, true, err) < 0)
    {
      xf_abort (f, true);
      return -1;
    }
  *out = f;
  return 0;
}

/* A transfer ended: 1 finished (f freed), 0 continuing, -1 failed. */
static int
xf_done (struct xf *f, int rc, struct err **err)
{
  struct err *e = NULL;
  long delay = 0;
  enum http_next next;
  curl_multi_remove_handle (f->fe->multi, http_xfer_easy (f->x));
  f->in_multi = false;
  if (pipe_stop (f, err) < 0)
    {
      /* the disk, not the network: keep what is written for a resume */
      xf_abort (f, true);
      return -1;
    }
  next = http_xfer_finish (f->x, rc, &delay, &e);
  switch (next)
    {
    case HTTP_DONE:
      if (f->resp.status == 200 || f->resp.status == 206)
        {
          uint64_t got = blob_writer_offset (f->w);
          if (got != (uint64_t)f->job->size)
            {
              err_set (err, 0,
                       "truncated body: got %" PRIu64 " of %" PRId64 " bytes",
                       got, f->job->size);
              xf_abort (f, false);
              return -1;
            }
          if (xf_commit (f, err) < 0)
            {
              xf_abort (f, false);
              return -1;
            }
          xf_free (f);
          return 1;
        }
      if (f->resp.status == 401 && f->auth_rounds++ < MAX_AUTH_ROUNDS
          && f->resp.www_authenticate)
        {
          if (reg_repo_reauth (f->fe->repo, &f->resp, err) < 0)
            break;
          return xf_launch (f, true, err) < 0 ? -1 : 0;
        }
      if (f->resp.status == 416 && blob_writer_offset (f->w) > 0)
        {
          sink_fail (f);
          if (blob_writer_reset (f->w, err) < 0)
            break;
          f->off = 0;
          return xf_launch (f, true, err) < 0 ? -1 : 0;
        }
      {
        _cleanup_free_ char *t = reg_repo_denied_text (f->fe->repo, &f->resp);
        err_set (err, 0, "%s", t);
      }
      break;
    case HTTP_REDIRECT:
      return xf_launch (f, false, err) < 0 ? -1 : 0;
    case HTTP_RETRY:
      log_debug ("%s: %s; retrying", f->job->digest,
                 e ? e->msg : "server busy");
      err_free (e);
      /* Progress was made: a fresh transfer with a fresh retry budget.
       * A trickle's bytes are no progress: it must not escape the budget. */
      if (http_xfer_wrote (f->x) && !http_xfer_too_slow (f->x))
        {
          if (xf_launch (f, true, err) < 0)
            break;
          /* xf_launch added it at once; a short pause is not needed. */
          return 0;
        }
      f->wake_ns = http_now_ns () + (int64_t)delay * 1000000LL;
      return 0;
    case HTTP_FAIL:
      *err = e;
      break;
    }
  /* Keep the partial file: a rerun resumes it. A corrupt blob was already
   * removed by store_blob_commit. */
  xf_abort (f, true);
  return -1;
}

/* A large blob over several connections (blobpar.h): 1 stored, 0 left
 * to the one-connection loop (a resume, a blob stored or being written by
 * another process, a registry without Range: *no_range), -1 error. */
static int
fetch_parallel (struct fetch *fe, struct reg_blob_job *job, bool *no_range,
                struct err **err)
{
  struct blob_writer *w = NULL;
  const struct reg_blob_sink *sink = job->sink.write ? &job->sink : NULL;
  char label[20];
  int pid, rc = store_blob_try_begin (fe->s, job->digest, &w, err);
  if (rc != 0)
    return rc < 0 ? -1 : 0;
  if (blob_writer_offset (w) > 0)
    {
      store_blob_abort (w, true);
      return 0;
    }
  snprintf (label, sizeof label, "%.12s", digest_hex (job->digest));
  pid = job_pid (fe, job, label);
  rc = reg_blob_parallel (fe->repo, job->digest, job->size, w, (int)fe->max,
                          sink, fe->p, pid, err);
  if (rc == 0)
    rc = store_blob_commit (fe->s, steal_pointer (&w), NULL, err);
  /* ignored Range (1): the sink saw nothing, and the loop feeds it */
  if (sink && sink->finish && rc == 0)
    rc = sink->finish (sink->ctx, true, err);
  else if (sink && sink->finish && rc < 0)
    {
      struct err *ignored = NULL;
      sink->finish (sink->ctx, false, &ignored);
      err_free (ignored);
    }
  store_blob_abort (w, false);
  if (rc == 1)
    *no_range = true;
  if (rc != 0)
    return rc < 0 ? -1 : 0;
  job->sink_ok = sink != NULL;
  job->fetched = true;
  progress_done (fe->p, pid, "Pull complete");
  return 1;
}

/* Large blobs first, one at a time, each over every connection; the
 * others stay in fe->order for the loop. */
static int
fetch_large (struct fetch *fe, struct err **err)
{
  bool no_range = false;
  size_t k = 0;
  char sbuf[20];
  for (size_t i = 0; i < fe->n; i++)
    {
      struct reg_blob_job *job = fe->order[i];
      int r = 0;
      if (!no_range && job->size >= PAR_MIN_SIZE)
        r = fetch_parallel (fe, job, &no_range, err);
      if (r < 0)
        return err_wrap (err, "fetch blob %s",
                         digest_short (job->digest, sbuf));
      if (r == 0)
        fe->order[k++] = job;
    }
  fe->n = k;
  return 0;
}

static int
cmp_job (const void *a, const void *b)
{
  const struct reg_blob_job *x = *(struct reg_blob_job *const *)a;
  const struct reg_blob_job *y = *(struct reg_blob_job *const *)b;
  return strcmp (x->digest, y->digest);
}

static int
try_start (struct fetch *fe, struct reg_blob_job *job, bool wait,
           struct err **err)
{
  struct xf *f = NULL;
  char sbuf[20];
  int r = xf_start (fe, job, wait, &f, err);
  if (r < 0)
    return err_wrap (err, "fetch blob %s", digest_short (job->digest, sbuf));
  if (r == 0)
    fe->act[fe->n_act++] = f;
  else if (r == 2)
    fe->waiting[fe->n_wait++] = job;
  return 0;
}

/* Start jobs until max are active: those another process was writing
 * first, then new ones, without waiting for any lock (a wait would stall
 * every transfer of this loop). Only when nothing is active does it wait
 * for the other writer. Blobs go in digest order, and we hold no partial
 * file while we wait, so two pulls never wait on each other. */
static int
start_jobs (struct fetch *fe, struct err **err)
{
  size_t n_wait = fe->n_wait;
  fe->n_wait = 0;
  for (size_t i = 0; i < n_wait; i++)
    {
      struct reg_blob_job *job = fe->waiting[i];
      if (fe->n_act >= fe->max)
        fe->waiting[fe->n_wait++] = job;
      else if (try_start (fe, job, false, err) < 0)
        return -1;
    }
  while (fe->n_act < fe->max && fe->next < fe->n)
    if (try_start (fe, fe->order[fe->next++], false, err) < 0)
      return -1;
  if (!fe->n_act && fe->n_wait)
    {
      struct reg_blob_job *job = fe->waiting[0];
      memmove (fe->waiting, fe->waiting + 1,
               --fe->n_wait * sizeof *fe->waiting);
      return try_start (fe, job, true, err);
    }
  return 0;
}

int
reg_blobs_fetch (struct reg_repo *repo, struct store *s,
                 struct reg_blob_job *jobs, size_t n, int max_parallel,
                 struct progress *p, struct err **err)
{
  struct fetch fe = { .repo = repo, .s = s, .p = p, .n = n };
  _cleanup_free_ struct reg_blob_job **order = xcalloc (n + 1, sizeof *order);
  _cleanup_free_ struct reg_blob_job **waiting
      = xcalloc (n + 1, sizeof *waiting);
  _cleanup_free_ struct xf **act = NULL;
  int ret = 0;
  char sbuf[20];

  if (max_parallel < 1)
    max_parallel = 1;
  act = xcalloc ((size_t)max_parallel, sizeof *act);
  for (size_t i = 0; i < n; i++)
    {
      if (digest_check (jobs[i].digest, err) < 0)
        return -1;
      if (jobs[i].size < 0)
        return err_set (err, 0, "blob %s has a negative size", jobs[i].digest);
      order[i] = &jobs[i];
    }
  qsort (order, n, sizeof *order, cmp_job);
  fe.order = order;
  fe.waiting = waiting;
  fe.act = act;
  fe.max = (size_t)max_parallel;
  fe.jobs = jobs;
  fe.pids = xcalloc (n + 1, sizeof *fe.pids);
  for (size_t i = 0; i < n; i++)
    fe.pids[i] = -1;
  if (fe.max > 1 && fetch_large (&fe, err) < 0)
    {
      free (fe.pids);
      return -1;
    }
  n = fe.n;
  fe.multi = http_multi_new (repo->c->http);

  while (ret == 0 && (fe.next < n || fe.n_act || fe.n_wait))
    {
      int running, numfds, timeout_ms = 1000;
      CURLMsg *msg;
      int64_t t;

      if (start_jobs (&fe, err) < 0)
        {
          ret = -1;
          break;
        }
      if (!fe.n_act)
        continue; /* all were there already, or it waited for one */
      if (fe.n_wait)
        timeout_ms = 50; /* look again soon at the blobs others hold */

      curl_multi_perform (fe.multi, &running);
      while ((msg = curl_multi_info_read (fe.multi, &running)))
        {
          struct http_xfer *x = NULL;
          struct xf *f = NULL;
          if (msg->msg != CURLMSG_DONE)
            continue;
          curl_easy_getinfo (msg->easy_handle, CURLINFO_PRIVATE, (char **)&x);
          for (size_t i = 0; i < fe.n_act; i++)
            if (act[i]->x == x)
              f = act[i];
          if (!f)
            continue;
          const char *digest = f->job->digest;
          int r = xf_done (f, msg->data.result, err);
          if (r != 0)
            {
              for (size_t i = 0; i < fe.n_act; i++)
                if (act[i] == f)
                  act[i] = act[--fe.n_act];
            }
          if (r < 0)
            {
              err_wrap (err, "fetch blob %s", digest_short (digest, sbuf));
              ret = -1;
              break;
            }
        }
      if (ret < 0)
        break;
      if (!fe.n_act)
        continue; /* start the next ones, or leave */

      /* Retries whose pause is over go back on the wire. */
      t = http_now_ns ();
      for (size_t i = 0; i < fe.n_act; i++)
        {
          struct xf *f = act[i];
          if (!f->wake_ns)
            continue;
          if (f->wake_ns <= t)
            {
              if (xf_launch (f, false, err) < 0)
                {
                  err_wrap (err, "fetch blob %s",
                            digest_short (f->job->digest, sbuf));
                  ret = -1;
                  break;
                }
            }
          else if ((f->wake_ns - t) / 1000000 < timeout_ms)
            timeout_ms = (int)((f->wake_ns - t) / 1000000) + 1;
        }
      if (ret < 0)
        break;
      curl_multi_poll (fe.multi, NULL, 0, timeout_ms, &numfds);
    }

  for (size_t i = 0; i < fe.n_act; i++)
    xf_abort (act[i], true);
  curl_multi_cleanup (fe.multi);
  free (fe.pids);
  return ret;
}
