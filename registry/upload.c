/* Concurrent, resumable blob uploads: see registry/upload.h. */
#include "registry/upload.h"
#include "layers/digest.h"
#include "lib/err.h"
#include "lib/log.h"
#include "lib/progress.h"
#include "lib/xalloc.h"
#include "registry/auth.h"
#include "registry/http.h"
#include "registry/session.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_AUTH_ROUNDS 2
#define DEFAULT_RETRIES 3
/* The chunk size when a registry refuses the whole blob in one PUT (413). */
#define FALLBACK_CHUNK (8 << 20)

/* --- pure pieces --- */

char *
upload_location (const char *request_url, const char *location)
{
  if (!location || !*location)
    return NULL;
  return http_url_resolve (request_url, location);
}

char *
upload_url_with_digest (const char *url, const char *digest)
{
  const char *q = strchr (url, '?');
  const char *sep = !q                                       ? "?"
                    : (q[1] && url[strlen (url) - 1] != '&') ? "&"
                                                             : "";
  return xasprintf ("%s%sdigest=%s", url, sep, digest);
}

/* "0-N" (distribution-spec) or "bytes=0-N" (the older API text). The
 * reference registry answers "0-0" for an empty upload (and, ambiguously,
 * for one of one byte): taken as empty, the worst case is one byte sent
 * again and a 416 that asks for the status once more. */
int64_t
upload_range_parse (const char *range)
{
  const char *p = range;
  char *end;
  long long a, b;
  if (!p || !*p)
    return 0;
  if (!strncmp (p, "bytes=", 6))
    p += 6;
  errno = 0;
  a = strtoll (p, &end, 10);
  if (errno || end == p || *end != '-' || a != 0)
    return -1;
  p = end + 1;
  b = strtoll (p, &end, 10);
  if (errno || end == p || *end || b < 0 || b == INT64_MAX)
    return -1;
  return b == 0 ? 0 : (int64_t)b + 1;
}

int64_t
upload_chunk_len (int64_t size, int64_t offset, int64_t chunk_size,
                  int64_t min_len)
{
  int64_t left = size - offset;
  int64_t len = chunk_size > 0 ? chunk_size : left;
  if (left <= 0)
    return 0;
  if (min_len > 0 && len < min_len)
    len = min_len;
  return len < left ? len : left;
}

/* --- the state machine, one per blob --- */

enum step
{
  S_HEAD,   /* does the registry have it? */
  S_MOUNT,  /* POST ?mount=&from= */
  S_POST,   /* open an upload */
  S_PUT,    /* the whole blob in one PUT ?digest= */
  S_PATCH,  /* one chunk */
  S_FINAL,  /* empty PUT ?digest= after the chunks */
  S_STATUS, /* GET the upload: how much does the registry hold? */
};

static const char *const step_names[] = {
  [S_HEAD] = "check blob",      [S_MOUNT] = "mount blob",
  [S_POST] = "start upload",    [S_PUT] = "upload blob",
  [S_PATCH] = "upload chunk",   [S_FINAL] = "finish upload",
  [S_STATUS] = "upload status",
};

struct up_ctx;

struct up
{
  struct reg_upload_job *job;
  struct up_ctx *u;
  enum step step;
  int fd;
  char *loc;      /* the latest upload URL, absolute */
  int64_t offset; /* bytes the registry holds */
  int64_t pos;    /* next byte the body sends */
  int64_t body_end;
  int64_t chunk; /* > 0: chunked */
  int64_t chunk_min;
  const char *mount_src;
  bool recheck; /* a HEAD after a finished upload whose answer was lost */
  bool read_failed;
  int failures; /* broken requests since the last progress */
  int auth_rounds;
  int pid;
  struct http_request req;
  struct http_response resp;
  struct http_xfer *x;
  char *url, *auth;
  char *hdrs[3];
  int64_t wake_ns;
  bool in_multi;
};

struct up_ctx
{
  struct reg_repo *repo;
  const struct reg_upload_opts *o;
  struct progress *p;
  CURLM *multi;
  int retries;
  bool denied; /* the registry refused the account: no blob context */
};

void
reg_upload_job_release (struct reg_upload_job *j)
{
  free (j->mounted_from);
  j->mounted_from = NULL;
}

static size_t
up_read (void *ctx, char *buf, size_t len)
{
  struct up *up = ctx;
  ssize_t r;
  if ((int64_t)len > up->body_end - up->pos)
    len = (size_t)(up->body_end - up->pos);
  if (!len)
    return 0;
  do
    r = pread (up->fd, buf, len, up->pos);
  while (r < 0 && errno == EINTR);
  if (r <= 0)
    {
      up->read_failed = true;
      return CURL_READFUNC_ABORT;
    }
  up->pos += r;
  progress_update (up->u->p, up->pid, up->pos);
  return (size_t)r;
}

static int
up_rewind (void *ctx)
{
  struct up *up = ctx;
  up->pos = up->offset;
  return 0;
}

static void
up_clear_request (struct up *up)
{
  if (up->in_multi)
    curl_multi_remove_handle (up->u->multi, http_xfer_easy (up->x));
  up->in_multi = false;
  http_xfer_free (up->x);
  up->x = NULL;
  http_response_release (&up->resp);
  free (up->url);
  free (up->auth);
  for (size_t i = 0; i < ARRAY_SIZE (up->hdrs); i++)
    free (up->hdrs[i]), up->hdrs[i] = NULL;
  up->url = up->auth = NULL;
}

static void
up_free (struct up *up)
{
  if (!up)
    return;
  up_clear_request (up);
  if (up->fd >= 0)
    close (up->fd);
  free (up->loc);
  free (up);
}

/* Put the request back on the wire (a redirect or a retry): the body, if
 * any, is read again from its start. */
static int
up_resend (struct up *up, struct err **err)
{
  if (up->req.read)
    up->pos = up->offset;
  up->wake_ns = 0;
  if (http_xfer_prepare (up->x, err) < 0)
    return -1;
  if (curl_multi_add_handle (up->u->multi, http_xfer_easy (up->x)) != CURLM_OK)
    return err_set (err, 0, "curl: cannot add a transfer");
  up->in_multi = true;
  return 0;
}

static int
up_open_file (struct up *up, struct err **err)
{
  struct stat st;
  if (up->fd >= 0)
    return 0;
  up->fd = open (up->job->path, O_RDONLY | O_CLOEXEC);
  if (up->fd < 0)
    return err_set (err, errno, "open '%s'", up->job->path);
  if (fstat (up->fd, &st) < 0)
    return err_set (err, errno, "stat '%s'", up->job->path);
  if (st.st_size != up->job->size)
    return err_set (err, 0, "'%s' has %lld bytes, its descriptor says %lld",
                    up->job->path, (long long)st.st_size,
                    (long long)up->job->size);
  return 0;
}

/* Send the request for up->step (a fresh transfer, with fresh auth). */
static int
up_launch (struct up *up, struct err **err)
{
  struct reg_repo *repo = up->u->repo;
  const char *d = up->job->digest;
  _cleanup_free_ char *path = NULL;
  int64_t len = 0;
  size_t nh = 0;

  up_clear_request (up);
  memset (&up->req, 0, sizeof up->req);
  switch (up->step)
    {
    case S_HEAD:
      up->req.method = "HEAD";
      path = xasprintf ("/v2/%s/blobs/%s", repo->path, d);
      break;
    case S_MOUNT:
      up->req.method = "POST";
      path = xasprintf ("/v2/%s/blobs/uploads/?mount=%s&from=%s", repo->path, d,
                        up->mount_src);
      break;
    case S_POST:
      up->req.method = "POST";
      path = xasprintf ("/v2/%s/blobs/uploads/", repo->path);
      break;
    case S_PUT:
    case S_FINAL:
      up->req.method = "PUT";
      up->url = upload_url_with_digest (up->loc, d);
      if (up->step == S_FINAL)
        break;
      len = up->job->size - up->offset;
      break;
    case S_PATCH:
      up->req.method = "PATCH";
      up->url = xstrdup (up->loc);
      len = upload_chunk_len (up->job->size, up->offset, up->chunk,
                              up->chunk_min);
      /* distribution-spec: "start-end", inclusive, no "bytes " prefix. */
      up->hdrs[nh++] = xasprintf ("Content-Range: %" PRId64 "-%" PRId64,
                                  up->offset, up->offset + len - 1);
      break;
    case S_STATUS:
      up->url = xstrdup (up->loc);
      break;
    }
  if (path)
    up->url = reg_repo_url (repo, path);
  /* The registry's credentials are for the registry: an upload Location
   * on another host (the spec allows it) gets none, as a redirect. */
  up->auth
      = http_same_origin (up->url, repo->base) ? reg_repo_auth (repo) : NULL;
  if (up->step == S_PUT || up->step == S_PATCH)
    {
      if (up_open_file (up, err) < 0)
        return -1;
      up->hdrs[nh++] = xstrdup ("Content-Type: application/octet-stream");
      up->req.read = up_read;
      up->req.rewind = up_rewind;
      up->req.ctx = up;
      up->req.upload_len = len;
      up->pos = up->offset;
      up->body_end = up->offset + len;
      /* A broken body is not sent again from byte 0: the upload's status
       * says where to continue (handled here, not by the transport). */
      up->req.no_retry = true;
    }
  up->req.url = up->url;
  up->req.auth = up->auth;
  up->req.headers = up->hdrs;
  up->x = http_xfer_new (repo->c->http, &up->req, &up->resp);
  log_debug ("%s %s (%s)", up->req.method ? up->req.method : "GET", up->url,
             step_names[up->step]);
  return up_resend (up, err);
}

/* Go to step after a pause (a broken request), or at once. */
static int
up_goto (struct up *up, enum step step, long delay_ms, struct err **err)
{
  up->step = step;
  if (delay_ms <= 0)
    return up_launch (up, err);
  up_clear_request (up);
  up->wake_ns = http_now_ns () + (int64_t)delay_ms * 1000000LL;
  return 0;
}

/* A request broke without progress: try again from the upload's status,
 * unless the budget is spent. */
static int
up_broken (struct up *up, enum step next, const char *why, struct err **err)
{
  if (up->failures++ >= up->u->retries)
    return err_set (err, 0, "%s: %s (gave up after %d attempts)",
                    step_names[up->step], why, up->failures);
  log_debug ("%s %s: %s; trying again", up->job->digest, step_names[up->step],
             why);
  return up_goto (up, next, 250L << (up->failures < 6 ? up->failures : 6), err);
}

static void
up_finish (struct up *up, enum reg_upload_result r)
{
  static const char *const words[] = {
    [UPLOAD_EXISTS] = "Layer already exists",
    [UPLOAD_MOUNTED] = "Mounted",
    [UPLOAD_PUSHED] = "Pushed",
  };
  up->job->result = r;
  if (r == UPLOAD_MOUNTED)
    {
      _cleanup_free_ char *s
          = xasprintf ("Mounted from %s", up->job->mounted_from);
      progress_done (up->u->p, up->pid, s);
    }
  else
    {
      progress_update (up->u->p, up->pid, up->job->size);
      progress_done (up->u->p, up->pid, words[r]);
    }
}

/* The data phase of an open upload, from the offset the registry holds. */
static int
up_send_data (struct up *up, struct err **err)
{
  if (up->offset == up->job->size)
    return up_goto (up, S_FINAL, 0, err);
  if (up->chunk > 0 || up->offset > 0)
    return up_goto (up, S_PATCH, 0, err);
  return up_goto (up, S_PUT, 0, err);
}

static int
up_take_location (struct up *up, struct err **err)
{
  _cleanup_free_ char *next = upload_location (up->url, up->resp.location);
  if (!next)
    {
      if (up->loc && (up->step == S_PATCH || up->step == S_STATUS))
        return 0; /* no new Location: the old one stays valid */
      return err_set (err, 0, "%s: the registry sent no upload location",
                      step_names[up->step]);
    }
  free (up->loc);
  up->loc = steal_pointer (&next);
  return 0;
}

char *
upload_error_text (struct reg_repo *repo, const struct http_response *resp)
{
  if (resp->status == 401 || resp->status == 403)
    {
      /* docker's words: with credentials the registry refused this
       * account the push; without, it wants a login. */
      if (auth_has_cred (repo->c->auth, repo->host))
        return xstrdup ("denied: requested access to the resource is denied");
      return xasprintf ("unauthorized: authentication required (no "
                        "credentials for %s: imgtool login %s)",
                        repo->host, repo->host);
    }
  return http_error_text (resp);
}

static int
up_error (struct up *up, struct err **err)
{
  _cleanup_free_ char *t = upload_error_text (up->u->repo, &up->resp);
  if (up->resp.status == 401 || up->resp.status == 403)
    {
      /* Not this blob's fault: said once, without the blob's name. */
      up->u->denied = true;
      return err_set (err, 0, "%s", t);
    }
  return err_set (err, 0, "%s: %s", step_names[up->step], t);
}

/* A final answer to the current step. 1: the blob is done. */
static int
up_answer (struct up *up, struct err **err)
{
  long st = up->resp.status;
  int64_t have;

  if (st == 401 && up->resp.www_authenticate
      && up->auth_rounds++ < MAX_AUTH_ROUNDS)
    {
      /* A token that expired mid-push, or one without the push scope yet. */
      if (reg_repo_reauth (up->u->repo, &up->resp, err) < 0)
        return -1;
      return up_launch (up, err);
    }
  up->auth_rounds = st == 401 ? up->auth_rounds : 0;

  switch (up->step)
    {
    case S_HEAD:
      if (st == 200)
        {
          up_finish (up, up->recheck ? UPLOAD_PUSHED : UPLOAD_EXISTS);
          return 1;
        }
      if (st != 404)
        return up_error (up, err);
      if (up->recheck && up->failures++ >= up->u->retries)
        return err_set (err, 0, "upload of %s vanished", up->job->digest);
      up->recheck = false;
      return up_goto (up, up->mount_src ? S_MOUNT : S_POST, 0, err);

    case S_MOUNT:
      if (st == 201)
        {
          up->job->mounted_from = xstrdup (up->mount_src);
          up_finish (up, UPLOAD_MOUNTED);
          return 1;
        }
      if (st == 202)
        {
          /* Not mounted, but an ordinary upload session was opened. */
          log_debug ("%s: mount from %s refused; uploading", up->job->digest,
                     up->mount_src);
          up->chunk_min = up->resp.chunk_min;
          if (up_take_location (up, err) < 0)
            return -1;
          return up_send_data (up, err);
        }
      {
        _cleanup_free_ char *t = http_error_text (&up->resp);
        log_debug ("%s: mount from %s failed (%s); uploading", up->job->digest,
                   up->mount_src, t);
      }
      up->mount_src = NULL;
      up->auth_rounds = 0;
      return up_goto (up, S_POST, 0, err);

    case S_POST:
      if (st != 202)
        return up_error (up, err);
      up->chunk_min = up->resp.chunk_min;
      up->offset = 0;
      if (up_take_location (up, err) < 0)
        return -1;
      return up_send_data (up, err);

    case S_PUT:
    case S_FINAL:
      if (st == 201 || st == 200 || st == 204)
        {
          if (up->resp.digest && digest_is_sha256 (up->resp.digest)
              && strcmp (up->resp.digest, up->job->digest))
            return err_set (err, 0, "the registry stored %s as %s",
                            up->job->digest, up->resp.digest);
          up_finish (up, UPLOAD_PUSHED);
          return 1;
        }
      if (st == 404 && up->step == S_FINAL)
        {
          /* The upload is gone: done by an earlier attempt whose answer
           * was lost, or forgotten. The HEAD tells which. */
          up->recheck = true;
          return up_goto (up, S_HEAD, 0, err);
        }
      if (st == 404)
        return up_broken (up, S_POST, "upload unknown to the registry", err);
      if (st == 413 && up->step == S_PUT)
        {
          log_debug ("%s: one PUT is too large; uploading in chunks",
                     up->job->digest);
          up->chunk = FALLBACK_CHUNK;
          return up_goto (up, S_STATUS, 0, err);
        }
      if (st == 416 || st == 429 || st >= 500)
        {
          _cleanup_free_ char *t = http_error_text (&up->resp);
          return up_broken (up, S_STATUS, t, err);
        }
      return up_error (up, err);

    case S_PATCH:
      if (st == 202 || st == 201 || st == 204)
        {
          int64_t sent_to = up->body_end;
          have = up->resp.range ? upload_range_parse (up->resp.range) : sent_to;
          if (have < 0 || have > up->job->size)
            return err_set (err, 0, "upload chunk: bad Range '%s'",
                            up->resp.range);
          /* A registry that keeps less than was sent (ECR) is asked again
           * from what it says it has. */
          if (have > up->offset)
            up->failures = 0;
          up->offset = have;
          if (up_take_location (up, err) < 0)
            return -1;
          return up_send_data (up, err);
        }
      if (st == 404)
        return up_broken (up, S_POST, "upload unknown to the registry", err);
      if (st == 416 || st == 429 || st >= 500)
        {
          _cleanup_free_ char *t = http_error_text (&up->resp);
          return up_broken (up, S_STATUS, t, err);
        }
      return up_error (up, err);

    case S_STATUS:
      if (st == 404)
        return up_broken (up, S_POST, "upload unknown to the registry", err);
      if (st != 204 && st != 200)
        return up_error (up, err);
      have = upload_range_parse (up->resp.range);
      if (have < 0 || have > up->job->size)
        return err_set (err, 0, "upload status: bad Range '%s'",
                        up->resp.range);
      if (have > up->offset)
        up->failures = 0;
      up->offset = have;
      progress_update (up->u->p, up->pid, have);
      if (have > 0)
        log_info ("%s: continuing the upload at byte %" PRId64, up->job->digest,
                  have);
      if (up_take_location (up, err) < 0)
        return -1;
      return up_send_data (up, err);
    }
  return err_set (err, 0, "upload: bad state");
}

/* A transfer ended: 1 the blob is done, 0 continuing, -1 failed. */
static int
up_done (struct up *up, int rc, struct err **err)
{
  struct err *e = NULL;
  long delay = 0;
  curl_multi_remove_handle (up->u->multi, http_xfer_easy (up->x));
  up->in_multi = false;
  switch (http_xfer_finish (up->x, rc, &delay, &e))
    {
    case HTTP_DONE:
      return up_answer (up, err);
    case HTTP_REDIRECT:
      return up_resend (up, err);
    case HTTP_RETRY:
      /* Only requests without a body get here (no_retry otherwise). */
      log_debug ("%s: %s; retrying", up->job->digest,
                 e ? e->msg : "server busy");
      err_free (e);
      up->wake_ns = http_now_ns () + (int64_t)delay * 1000000LL;
      return 0;
    case HTTP_FAIL:
      if (up->read_failed)
        {
          err_free (e);
          return err_set (err, errno, "read '%s'", up->job->path);
        }
      if (up->step == S_PUT || up->step == S_PATCH)
        {
          /* The connection broke while the body went out: how much did
           * the registry keep? */
          int r = up_broken (up, S_STATUS, e->msg, err);
          err_free (e);
          return r;
        }
      *err = e;
      return -1;
    }
  return -1;
}

static int
cmp_size_desc (const void *a, const void *b)
{
  const struct reg_upload_job *x = *(struct reg_upload_job *const *)a;
  const struct reg_upload_job *y = *(struct reg_upload_job *const *)b;
  return x->size < y->size ? 1 : x->size > y->size ? -1 : 0;
}

/* Cancel an upload the registry has open for us (ignore failures). */
static void
up_cancel (struct up *up)
{
  struct http_request req = { .method = "DELETE", .url = up->loc };
  struct http_response resp = { 0 };
  struct err *e = NULL;
  if (!up->loc || up->job->result != UPLOAD_PENDING)
    return;
  req.no_retry = true;
  if (reg_repo_do (up->u->repo, &req, &resp, &e) < 0)
    log_debug ("cancel upload %s: %s", up->loc, e->msg);
  err_free (e);
  http_response_release (&resp);
}

int
reg_blobs_upload (struct reg_repo *repo, struct reg_upload_job *jobs, size_t n,
                  const struct reg_upload_opts *o, struct progress *p,
                  struct err **err)
{
  struct up_ctx u = { .repo = repo, .o = o, .p = p };
  _cleanup_free_ struct reg_upload_job **order = xcalloc (n + 1, sizeof *order);
  _cleanup_free_ struct up **act = NULL;
  size_t next = 0, n_act = 0;
  int max = o && o->jobs > 0 ? o->jobs : 1;
  int ret = 0;
  char sbuf[20];

  u.retries = o && o->retries >= 0        ? o->retries
              : repo->c->cfg.retries >= 0 ? (int)repo->c->cfg.retries
                                          : DEFAULT_RETRIES;
  act = xcalloc ((size_t)max, sizeof *act);
  for (size_t i = 0; i < n; i++)
    {
      if (digest_check (jobs[i].digest, err) < 0)
        return -1;
      if (jobs[i].size < 0)
        return err_set (err, 0, "blob %s has a negative size", jobs[i].digest);
      jobs[i].result = UPLOAD_PENDING;
      order[i] = &jobs[i];
    }
  /* The big blobs first: they set the total time. */
  qsort (order, n, sizeof *order, cmp_size_desc);
  u.multi = http_multi_new (repo->c->http);

  while (ret == 0 && (next < n || n_act))
    {
      int running, numfds, timeout_ms = 1000;
      CURLMsg *msg;
      int64_t t;

      while (ret == 0 && n_act < (size_t)max && next < n)
        {
          struct reg_upload_job *job = order[next++];
          struct up *up = xcalloc (1, sizeof *up);
          char label[16];
          up->job = job;
          up->u = &u;
          up->fd = -1;
          up->chunk = o && o->chunk_size > 0 ? o->chunk_size : 0;
          for (char *const *m = job->mount_from; m && *m; m++)
            if (strcmp (*m, repo->path))
              {
                up->mount_src = *m;
                break;
              }
          snprintf (label, sizeof label, "%.12s", digest_hex (job->digest));
          up->pid = progress_add (p, label, job->size);
          up->step = S_HEAD;
          act[n_act++] = up;
          if (up_launch (up, err) < 0)
            {
              if (!u.denied)
                err_wrap (err, "push blob %s",
                          digest_short (job->digest, sbuf));
              ret = -1;
            }
        }
      if (ret < 0 || !n_act)
        break;

      curl_multi_perform (u.multi, &running);
      while ((msg = curl_multi_info_read (u.multi, &running)))
        {
          struct http_xfer *x = NULL;
          struct up *up = NULL;
          if (msg->msg != CURLMSG_DONE)
            continue;
          curl_easy_getinfo (msg->easy_handle, CURLINFO_PRIVATE, (char **)&x);
          for (size_t i = 0; i < n_act; i++)
            if (act[i]->x == x)
              up = act[i];
          if (!up)
            continue;
          int r = up_done (up, msg->data.result, err);
          if (r < 0)
            {
              if (!u.denied)
                err_wrap (err, "push blob %s",
                          digest_short (up->job->digest, sbuf));
              ret = -1;
              break;
            }
          if (r == 1)
            {
              for (size_t i = 0; i < n_act; i++)
                if (act[i] == up)
                  act[i] = act[--n_act];
              up_free (up);
            }
        }
      if (ret < 0 || !n_act)
        continue;

      /* Requests whose pause is over go back on the wire. */
      t = http_now_ns ();
      for (size_t i = 0; i < n_act && ret == 0; i++)
        {
          struct up *up = act[i];
          if (!up->wake_ns)
            continue;
          if (up->wake_ns <= t)
            {
              int r = up->x ? up_resend (up, err) : up_launch (up, err);
              if (r < 0)
                {
                  err_wrap (err, "push blob %s",
                            digest_short (up->job->digest, sbuf));
                  ret = -1;
                }
            }
          else if ((up->wake_ns - t) / 1000000 < timeout_ms)
            timeout_ms = (int)((up->wake_ns - t) / 1000000) + 1;
        }
      if (ret == 0)
        curl_multi_poll (u.multi, NULL, 0, timeout_ms, &numfds);
    }

  for (size_t i = 0; i < n_act; i++)
    {
      up_clear_request (act[i]);
      up_cancel (act[i]);
      up_free (act[i]);
    }
  curl_multi_cleanup (u.multi);
  return ret;
}
