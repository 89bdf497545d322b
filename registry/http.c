/* libcurl transport: see registry/http.h. */
#include "registry/http.h"
#include "lib/err.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "registry/config.h"

#include <ctype.h>
#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#ifndef IMGTOOL_VERSION
#define IMGTOOL_VERSION "0.1.0"
#endif
#define USER_AGENT "imgtool/" IMGTOOL_VERSION
#define MAX_REDIRECTS 10
#define DEFAULT_MAX_BODY (1u << 20)
#define RECV_BUFFER (256 * 1024)

struct reg_http
{
  CURLSH *share;
  const struct reg_config *cfg;
  bool tls_verify;
  char *cert_dir;
  long timeout;
  long retries;
  long min_rate, min_window;
};

/* Why the progress watch (xferinfo_cb) stopped a transfer. */
enum watch_stop
{
  WATCH_OK,
  WATCH_STALL, /* no byte moved for the timeout */
  WATCH_SLOW,  /* a body moved slower than min-transfer-rate */
};

struct http_xfer
{
  struct reg_http *h;
  const struct http_request *req;
  struct http_response *resp;
  CURL *curl;
  struct curl_slist *hdrs;
  char *url;
  const char *method;
  bool send_auth;
  bool wrote;
  int attempt;
  int timeouts;
  int redirects;
  size_t body_off;
  /* the progress watch: when a byte last moved, and the rate window */
  int64_t moved_ns, win_ns;
  curl_off_t moved, win_bytes;
  enum watch_stop stop;
  long slow_rate;
  struct err *cb_err;
  char errbuf[CURL_ERROR_SIZE];
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void
curl_init_once (void)
{
  if (curl_global_init (CURL_GLOBAL_DEFAULT) != 0)
    abort ();
}

struct reg_http *
http_new (const struct reg_config *cfg, bool tls_verify, const char *cert_dir)
{
  struct reg_http *h = xcalloc (1, sizeof *h);
  pthread_once (&curl_once, curl_init_once);
  h->share = curl_share_init ();
  curl_share_setopt (h->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
  curl_share_setopt (h->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
  curl_share_setopt (h->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
  h->cfg = cfg;
  h->tls_verify = tls_verify;
  h->cert_dir = cert_dir ? xstrdup (cert_dir) : NULL;
  h->timeout = cfg && cfg->timeout > 0 ? cfg->timeout : 30;
  h->retries = cfg ? cfg->retries : 3;
  h->min_rate = cfg ? cfg->min_rate : 1024;
  h->min_window = cfg && cfg->min_window > 0 ? cfg->min_window : 30;
  return h;
}

void
http_free (struct reg_http *h)
{
  if (!h)
    return;
  curl_share_cleanup (h->share);
  free (h->cert_dir);
  free (h);
}

void *
http_multi_new (struct reg_http *h)
{
  (void)h;
  return curl_multi_init ();
}

bool
http_host_insecure (const struct reg_http *h, const char *host)
{
  return !h->tls_verify || reg_config_is_insecure (h->cfg, host);
}

void
http_response_release (struct http_response *r)
{
  free (r->url);
  strbuf_release (&r->body);
  free (r->content_type);
  free (r->boundary);
  free (r->digest);
  free (r->location);
  free (r->content_range);
  free (r->range);
  free (r->retry_after);
  free (r->etag);
  free (r->last_modified);
  free (r->link_next);
  strv_free (r->www_authenticate);
  memset (r, 0, sizeof *r);
  r->body = (struct strbuf)STRBUF_INIT;
  r->content_length = -1;
}

/* --- URLs --- */

char *
http_url_resolve (const char *base, const char *rel)
{
  CURLU *u = curl_url ();
  char *s = NULL, *out = NULL;
  if (curl_url_set (u, CURLUPART_URL, base, 0) == CURLUE_OK
      && curl_url_set (u, CURLUPART_URL, rel, 0) == CURLUE_OK
      && curl_url_get (u, CURLUPART_URL, &s, 0) == CURLUE_OK)
    out = xstrdup (s);
  curl_free (s);
  curl_url_cleanup (u);
  return out;
}

static char *
url_part (const char *url, CURLUPart part, unsigned flags)
{
  CURLU *u = curl_url ();
  char *s = NULL, *out = NULL;
  if (curl_url_set (u, CURLUPART_URL, url, 0) == CURLUE_OK
      && curl_url_get (u, part, &s, flags) == CURLUE_OK)
    out = xstrdup (s);
  curl_free (s);
  curl_url_cleanup (u);
  return out;
}

char *
http_url_host (const char *url)
{
  _cleanup_free_ char *host = url_part (url, CURLUPART_HOST, 0);
  _cleanup_free_ char *port = url_part (url, CURLUPART_PORT, 0);
  if (!host)
    return NULL;
  return port ? xasprintf ("%s:%s", host, port) : steal_pointer (&host);
}

bool
http_same_origin (const char *a, const char *b)
{
  _cleanup_free_ char *sa = url_part (a, CURLUPART_SCHEME, 0);
  _cleanup_free_ char *sb = url_part (b, CURLUPART_SCHEME, 0);
  _cleanup_free_ char *ha = url_part (a, CURLUPART_HOST, 0);
  _cleanup_free_ char *hb = url_part (b, CURLUPART_HOST, 0);
  _cleanup_free_ char *pa = url_part (a, CURLUPART_PORT, CURLU_DEFAULT_PORT);
  _cleanup_free_ char *pb = url_part (b, CURLUPART_PORT, CURLU_DEFAULT_PORT);
  return sa && sb && ha && hb && pa && pb && !strcasecmp (sa, sb)
         && !strcasecmp (ha, hb) && !strcmp (pa, pb);
}

/* --- TLS material per host --- */

static bool
is_file (const char *dir, const char *name)
{
  _cleanup_free_ char *p = xasprintf ("%s/%s", dir, name);
  struct stat st;
  return stat (p, &st) == 0 && S_ISREG (st.st_mode);
}

/* The directory holding a host's CA and client certificate, if any. */
static char *
cert_dir_for (const struct reg_http *h, const char *host)
{
  static const char *const roots[]
      = { "/etc/docker/certs.d", "/etc/containers/certs.d" };
  struct stat st;
  if (h->cert_dir)
    return xstrdup (h->cert_dir);
  for (size_t i = 0; i < ARRAY_SIZE (roots); i++)
    {
      char *d = xasprintf ("%s/%s", roots[i], host);
      if (stat (d, &st) == 0 && S_ISDIR (st.st_mode))
        return d;
      free (d);
    }
  return NULL;
}

/* ca.crt, else the first *.crt; client.cert+client.key, else a *.cert with
 * its *.key (docker's certs.d layout). */
static void
tls_files (const char *dir, char **ca, char **cert, char **key)
{
  _cleanup_closedir_ DIR *d = NULL;
  struct dirent *de;
  *ca = *cert = *key = NULL;
  if (is_file (dir, "ca.crt"))
    *ca = xasprintf ("%s/ca.crt", dir);
  if (is_file (dir, "client.cert") && is_file (dir, "client.key"))
    {
      *cert = xasprintf ("%s/client.cert", dir);
      *key = xasprintf ("%s/client.key", dir);
    }
  if ((*ca && *cert) || !(d = opendir (dir)))
    return;
  while ((de = readdir (d)))
    {
      size_t n = strlen (de->d_name);
      if (!*ca && n > 4 && !strcmp (de->d_name + n - 4, ".crt"))
        *ca = xasprintf ("%s/%s", dir, de->d_name);
      else if (!*cert && n > 5 && !strcmp (de->d_name + n - 5, ".cert"))
        {
          _cleanup_free_ char *k
              = xasprintf ("%.*s.key", (int)(n - 5), de->d_name);
          if (is_file (dir, k))
            {
              *cert = xasprintf ("%s/%s", dir, de->d_name);
              *key = xasprintf ("%s/%s", dir, k);
            }
        }
    }
}

/* --- callbacks --- */

static void
reset_response (struct http_response *r)
{
  char *url = steal_pointer (&r->url);
  http_response_release (r);
  r->url = url;
}

static char *
trim (const char *s, size_t n)
{
  while (n && isspace ((unsigned char)*s))
    s++, n--;
  while (n && isspace ((unsigned char)s[n - 1]))
    n--;
  return xstrndup (s, n);
}

char *
http_link_next (const char *v)
{
  while (v && (v = strchr (v, '<')))
    {
      const char *end = strchr (v, '>');
      const char *params, *stop;
      if (!end)
        return NULL;
      params = end + 1;
      stop = params + strcspn (params, ",");
      /* rel="next", rel=next, or a rel list that holds next */
      for (const char *p = params; p < stop; p++)
        if (!strncasecmp (p, "rel=", 4))
          {
            const char *r = p + 4 + (p[4] == '"');
            size_t n = strcspn (r, "\"; ,");
            if (r + n <= stop && n == 4 && !strncasecmp (r, "next", 4))
              return xstrndup (v + 1, (size_t)(end - v - 1));
          }
      v = stop;
    }
  return NULL;
}

/* A parameter's value in a header value ("type/sub; a=1; b=\"x\""), or
 * NULL. Caller frees. */
static char *
http_param (const char *v, const char *name)
{
  size_t nl = strlen (name);
  for (const char *p = strchr (v, ';'); p; p = strchr (p + 1, ';'))
    {
      const char *q = p + 1;
      while (isspace ((unsigned char)*q))
        q++;
      if (strncasecmp (q, name, nl) || q[nl] != '=')
        continue;
      q += nl + 1;
      if (*q == '"')
        return xstrndup (q + 1, strcspn (q + 1, "\""));
      return trim (q, strcspn (q, ";"));
    }
  return NULL;
}

static size_t
header_cb (char *buf, size_t size, size_t nitems, void *ud)
{
  struct http_xfer *x = ud;
  struct http_response *r = x->resp;
  size_t n = size * nitems;
  const char *colon;
  if (n >= 5 && !strncmp (buf, "HTTP/", 5))
    {
      /* A new response (after a 100 Continue or an interim one). */
      const char *sp = memchr (buf, ' ', n);
      reset_response (r);
      r->status = sp ? strtol (sp + 1, NULL, 10) : 0;
      return n;
    }
  colon = memchr (buf, ':', n);
  if (!colon)
    return n;
  size_t kl = (size_t)(colon - buf);
  _cleanup_free_ char *v = trim (colon + 1, n - kl - 1);
#define IS(name) (kl == strlen (name) && !strncasecmp (buf, name, kl))
  if (IS ("content-type"))
    {
      free (r->content_type);
      free (r->boundary);
      r->boundary = http_param (v, "boundary");
      v[strcspn (v, ";")] = '\0';
      r->content_type = trim (v, strlen (v));
    }
  else if (IS ("docker-content-digest"))
    free (r->digest), r->digest = steal_pointer (&v);
  else if (IS ("location"))
    free (r->location), r->location = steal_pointer (&v);
  else if (IS ("content-range"))
    free (r->content_range), r->content_range = steal_pointer (&v);
  else if (IS ("range"))
    free (r->range), r->range = steal_pointer (&v);
  else if (IS ("retry-after"))
    free (r->retry_after), r->retry_after = steal_pointer (&v);
  else if (IS ("etag"))
    free (r->etag), r->etag = steal_pointer (&v);
  else if (IS ("last-modified"))
    free (r->last_modified), r->last_modified = steal_pointer (&v);
  else if (IS ("www-authenticate"))
    strv_push (&r->www_authenticate, steal_pointer (&v));
  else if (IS ("link") && !r->link_next)
    r->link_next = http_link_next (v);
  else if (IS ("oci-chunk-min-length"))
    {
      char *end;
      errno = 0;
      long long l = strtoll (v, &end, 10);
      r->chunk_min = (!errno && end != v && !*end && l > 0) ? l : 0;
    }
  else if (IS ("content-length"))
    {
      char *end;
      errno = 0;
      long long l = strtoll (v, &end, 10);
      r->content_length = (!errno && end != v && !*end && l >= 0) ? l : -1;
    }
#undef IS
  return n;
}

static size_t
write_cb (char *buf, size_t size, size_t nitems, void *ud)
{
  struct http_xfer *x = ud;
  struct http_response *r = x->resp;
  size_t n = size * nitems;
  size_t max = x->req->max_body ? x->req->max_body : DEFAULT_MAX_BODY;
  if (r->status >= 200 && r->status < 300 && x->req->write)
    {
      if (x->req->write (x->req->ctx, buf, n, &x->cb_err) < 0)
        return 0;
      x->wrote = true;
      return n;
    }
  if (r->body.len + n > max)
    {
      r->body_too_large = true;
      /* A 2xx body we must keep is refused; an error page is cut. */
      return r->status >= 200 && r->status < 300 ? 0 : n;
    }
  strbuf_add (&r->body, buf, n);
  return n;
}

static size_t
read_cb (char *buf, size_t size, size_t nitems, void *ud)
{
  struct http_xfer *x = ud;
  size_t n = size * nitems;
  if (x->req->read)
    return x->req->read (x->req->ctx, buf, n);
  if (n > x->req->body_len - x->body_off)
    n = x->req->body_len - x->body_off;
  memcpy (buf, (const char *)x->req->body + x->body_off, n);
  x->body_off += n;
  return n;
}

/* curl asks to send the body again from its start, e.g. when a reused
 * keep-alive connection turned out to be closed before the request got
 * through. */
static int
seek_cb (void *ud, curl_off_t offset, int origin)
{
  struct http_xfer *x = ud;
  if (origin != SEEK_SET || offset != 0)
    return CURL_SEEKFUNC_CANTSEEK;
  if (!x->req->read)
    x->body_off = 0;
  else if (!x->req->rewind || x->req->rewind (x->req->ctx) < 0)
    return CURL_SEEKFUNC_CANTSEEK;
  return CURL_SEEKFUNC_OK;
}

int64_t
http_now_ns (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Stops a transfer that stalls (nothing moved for http-timeout seconds)
 * or trickles (a body averaging less than min-transfer-rate over
 * min-transfer-window seconds): either would hold a command for ever,
 * since a trickle passes any "no bytes" test. curl calls this at least
 * once a second. */
static int
xferinfo_cb (void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
             curl_off_t ulnow)
{
  struct http_xfer *x = ud;
  const struct reg_http *h = x->h;
  int64_t now = http_now_ns ();
  curl_off_t moved = dlnow + ulnow;
  (void)dltotal;
  if (!x->moved_ns || moved != x->moved)
    {
      x->moved_ns = now;
      x->moved = moved;
    }
  else if (now - x->moved_ns >= h->timeout * 1000000000LL)
    {
      x->stop = WATCH_STALL;
      return 1;
    }
  /* The rate counts while a body moves: from its first byte, and not
   * while a request that is all sent waits for its answer. */
  if (!h->min_rate || !moved || (ultotal > 0 && ulnow >= ultotal && !dlnow))
    {
      x->win_ns = 0;
      return 0;
    }
  if (!x->win_ns)
    {
      x->win_ns = now;
      x->win_bytes = moved;
    }
  else if (now - x->win_ns >= h->min_window * 1000000000LL)
    {
      long rate
          = (long)((moved - x->win_bytes) * 1000000000LL / (now - x->win_ns));
      if (rate < h->min_rate)
        {
          x->stop = WATCH_SLOW;
          x->slow_rate = rate;
          return 1;
        }
      x->win_ns = now;
      x->win_bytes = moved;
    }
  return 0;
}

bool
http_xfer_too_slow (const struct http_xfer *x)
{
  return x->stop == WATCH_SLOW;
}

/* --- transfers --- */

struct http_xfer *
http_xfer_new (struct reg_http *h, const struct http_request *req,
               struct http_response *resp)
{
  struct http_xfer *x = xcalloc (1, sizeof *x);
  x->h = h;
  x->req = req;
  x->resp = resp;
  x->curl = curl_easy_init ();
  if (!x->curl)
    abort ();
  x->url = xstrdup (req->url);
  x->method = req->method ? req->method : "GET";
  x->send_auth = req->auth != NULL;
  resp->body = (struct strbuf)STRBUF_INIT;
  resp->content_length = -1;
  return x;
}

void *
http_xfer_easy (struct http_xfer *x)
{
  return x->curl;
}

bool
http_xfer_wrote (const struct http_xfer *x)
{
  return x->wrote;
}

void
http_xfer_free (struct http_xfer *x)
{
  if (!x)
    return;
  curl_easy_cleanup (x->curl);
  curl_slist_free_all (x->hdrs);
  free (x->url);
  err_free (x->cb_err);
  free (x);
}

static void
add_header (struct http_xfer *x, const char *line)
{
  struct curl_slist *l = curl_slist_append (x->hdrs, line);
  if (!l)
    abort ();
  x->hdrs = l;
}

int
http_xfer_prepare (struct http_xfer *x, struct err **err)
{
  const struct http_request *req = x->req;
  struct reg_http *h = x->h;
  CURL *c = x->curl;
  _cleanup_free_ char *host = http_url_host (x->url);
  _cleanup_free_ char *dir = NULL, *ca = NULL, *cert = NULL, *key = NULL;
  bool head = !strcmp (x->method, "HEAD");

  if (!host)
    return err_set (err, 0, "bad URL '%s'", x->url);
  curl_easy_reset (c);
  curl_slist_free_all (x->hdrs);
  x->hdrs = NULL;
  reset_response (x->resp);
  free (x->resp->url);
  x->resp->url = xstrdup (x->url);
  x->wrote = false;
  x->body_off = 0;
  x->moved_ns = x->win_ns = 0;
  x->moved = x->win_bytes = 0;
  x->stop = WATCH_OK;
  err_clear (&x->cb_err);
  x->errbuf[0] = '\0';

  curl_easy_setopt (c, CURLOPT_URL, x->url);
  curl_easy_setopt (c, CURLOPT_SHARE, h->share);
  curl_easy_setopt (c, CURLOPT_USERAGENT, USER_AGENT);
  curl_easy_setopt (c, CURLOPT_ERRORBUFFER, x->errbuf);
  curl_easy_setopt (c, CURLOPT_NOSIGNAL, 1L);
  /* Only the web: no file://, no other protocol from a redirect. */
  curl_easy_setopt (c, CURLOPT_PROTOCOLS_STR, "http,https");
  /* We follow redirects ourselves so Authorization never leaves the
   * registry's origin. */
  curl_easy_setopt (c, CURLOPT_FOLLOWLOCATION, 0L);
  /* HTTP/1.1 with parallel keep-alive connections beats one h2 pipe for
   * big blobs (peers.md). */
  curl_easy_setopt (c, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
  /* A registry that stops answering, or trickles, fails in bounded
   * time. */
  curl_easy_setopt (c, CURLOPT_CONNECTTIMEOUT, h->timeout);
  curl_easy_setopt (c, CURLOPT_XFERINFOFUNCTION, xferinfo_cb);
  curl_easy_setopt (c, CURLOPT_XFERINFODATA, x);
  curl_easy_setopt (c, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt (c, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt (c, CURLOPT_HEADERFUNCTION, header_cb);
  curl_easy_setopt (c, CURLOPT_HEADERDATA, x);
  curl_easy_setopt (c, CURLOPT_WRITEFUNCTION, write_cb);
  curl_easy_setopt (c, CURLOPT_WRITEDATA, x);
  curl_easy_setopt (c, CURLOPT_PRIVATE, x);
  if (req->write)
    curl_easy_setopt (c, CURLOPT_BUFFERSIZE, (long)RECV_BUFFER);

  if (http_host_insecure (h, host))
    {
      /* The user marked this registry insecure (config or
       * --tls-verify=false): no verification for it alone. */
      curl_easy_setopt (c, CURLOPT_SSL_VERIFYPEER, 0L);
      curl_easy_setopt (c, CURLOPT_SSL_VERIFYHOST, 0L);
    }
  else
    {
      /* Verification stays on: the registry proves who it is. */
      curl_easy_setopt (c, CURLOPT_SSL_VERIFYPEER, 1L);
      curl_easy_setopt (c, CURLOPT_SSL_VERIFYHOST, 2L);
    }
  if ((dir = cert_dir_for (h, host)))
    {
      tls_files (dir, &ca, &cert, &key);
      if (ca)
        curl_easy_setopt (c, CURLOPT_CAINFO, ca);
      if (cert)
        {
          curl_easy_setopt (c, CURLOPT_SSLCERT, cert);
          curl_easy_setopt (c, CURLOPT_SSLKEY, key);
        }
    }

  if (req->accept)
    {
      _cleanup_free_ char *l = xasprintf ("Accept: %s", req->accept);
      add_header (x, l);
    }
  if (req->auth && x->send_auth)
    {
      _cleanup_free_ char *l = xasprintf ("Authorization: %s", req->auth);
      add_header (x, l);
    }
  for (char *const *p = req->headers; p && *p; p++)
    add_header (x, *p);
  if (req->range_start > 0 || req->range)
    {
      _cleanup_free_ char *l
          = req->range_start > 0
                ? xasprintf ("Range: bytes=%lld-", (long long)req->range_start)
                : xasprintf ("Range: %s", req->range);
      add_header (x, l);
    }
  add_header (x, "Expect:"); /* no 100-continue round trip */
  curl_easy_setopt (c, CURLOPT_HTTPHEADER, x->hdrs);

  if (head)
    curl_easy_setopt (c, CURLOPT_NOBODY, 1L);
  else if (req->read || req->body)
    {
      if (req->read && req->rewind && x->attempt > 0
          && req->rewind (req->ctx) < 0)
        return err_set (err, 0, "cannot send the request body again");
      curl_easy_setopt (c, CURLOPT_UPLOAD, 1L);
      curl_easy_setopt (c, CURLOPT_READFUNCTION, read_cb);
      curl_easy_setopt (c, CURLOPT_READDATA, x);
      curl_easy_setopt (c, CURLOPT_SEEKFUNCTION, seek_cb);
      curl_easy_setopt (c, CURLOPT_SEEKDATA, x);
      curl_easy_setopt (
          c, CURLOPT_INFILESIZE_LARGE,
          (curl_off_t)(req->read ? req->upload_len : (int64_t)req->body_len));
      if (strcmp (x->method, "PUT"))
        curl_easy_setopt (c, CURLOPT_CUSTOMREQUEST, x->method);
    }
  else if (!strcmp (x->method, "POST") || !strcmp (x->method, "PUT")
           || !strcmp (x->method, "PATCH"))
    {
      curl_easy_setopt (c, CURLOPT_POSTFIELDS, "");
      curl_easy_setopt (c, CURLOPT_POSTFIELDSIZE, 0L);
      curl_easy_setopt (c, CURLOPT_CUSTOMREQUEST, x->method);
    }
  else if (strcmp (x->method, "GET"))
    curl_easy_setopt (c, CURLOPT_CUSTOMREQUEST, x->method);
  return 0;
}

static const char *
curl_reason (struct http_xfer *x, int rc)
{
  const char *s = x->errbuf[0] ? x->errbuf : curl_easy_strerror (rc);
  static const char *const prefixes[]
      = { "SSL certificate problem: ", "SSL: ", "OpenSSL SSL_connect: " };
  for (size_t i = 0; i < ARRAY_SIZE (prefixes); i++)
    if (!strncmp (s, prefixes[i], strlen (prefixes[i])))
      return s + strlen (prefixes[i]);
  return s;
}

static void
transport_error (struct http_xfer *x, int rc, struct err **err)
{
  _cleanup_free_ char *host = http_url_host (x->url);
  long os_errno = 0, vr = 0;
  int unreachable = 0;
  curl_easy_getinfo (x->curl, CURLINFO_OS_ERRNO, &os_errno);
  switch (rc)
    {
    case CURLE_PEER_FAILED_VERIFICATION:
      curl_easy_getinfo (x->curl, CURLINFO_SSL_VERIFYRESULT, &vr);
      err_set (err, 0, "tls: certificate verify failed for %s: %s", host,
               vr ? X509_verify_cert_error_string (vr) : curl_reason (x, rc));
      break;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CIPHER:
      err_set (err, 0, "tls: handshake with %s failed: %s", host,
               curl_reason (x, rc));
      break;
    case CURLE_COULDNT_CONNECT:
      err_set (err, 0, "connect to %s: %s", host,
               os_errno ? strerror ((int)os_errno) : curl_reason (x, rc));
      unreachable = 1;
      break;
    case CURLE_COULDNT_RESOLVE_HOST:
      err_set (err, 0, "resolve %s: host not found", host);
      unreachable = 1;
      break;
    case CURLE_OPERATION_TIMEDOUT:
      err_set (err, 0, "%s stopped answering: nothing for %ld seconds", host,
               x->h->timeout);
      unreachable = 1;
      break;
    case CURLE_ABORTED_BY_CALLBACK:
      if (x->stop == WATCH_SLOW)
        {
          err_set (err, 0,
                   "%s: transfer too slow: %ld B/s over the last %ld s, "
                   "below min-transfer-rate %ld B/s",
                   host, x->slow_rate, x->h->min_window, x->h->min_rate);
          break;
        }
      err_set (err, 0, "%s: %s", host, curl_reason (x, rc));
      break;
    case CURLE_WRITE_ERROR:
      if (x->cb_err)
        {
          *err = steal_pointer (&x->cb_err);
          break;
        }
      if (x->resp->body_too_large)
        {
          err_set (err, 0, "%s: response too large", host);
          break;
        }
      /* fall through */
    default:
      err_set (err, 0, "%s: %s", host, curl_reason (x, rc));
    }
  if (unreachable && err && *err)
    (*err)->unreachable = 1;
}

static bool
retryable_code (int rc)
{
  switch (rc)
    {
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_OPERATION_TIMEDOUT:
      return true;
    default:
      return false;
    }
}

static long
backoff_ms (int attempt, const char *retry_after)
{
  long ms = 250L << (attempt < 6 ? attempt : 6);
  if (retry_after && *retry_after)
    {
      char *end;
      long s = strtol (retry_after, &end, 10);
      if (end == retry_after)
        {
          time_t t = curl_getdate (retry_after, NULL);
          s = t > 0 ? (long)(t - time (NULL)) : -1;
        }
      if (s >= 0)
        ms = (s > 60 ? 60 : s) * 1000L;
    }
  return ms > 60000 ? 60000 : ms;
}

enum http_next
http_xfer_finish (struct http_xfer *x, int rc, long *delay_ms, struct err **err)
{
  const struct http_request *req = x->req;
  struct http_response *r = x->resp;
  bool can_retry = !req->no_retry && x->attempt < x->h->retries;
  *delay_ms = 0;

  if (rc == CURLE_ABORTED_BY_CALLBACK && x->stop == WATCH_STALL)
    rc = CURLE_OPERATION_TIMEDOUT;
  if (rc != CURLE_OK)
    {
      transport_error (x, rc, err);
      /* A stall is retried once: the next one would likely stall too. */
      if (rc == CURLE_OPERATION_TIMEDOUT && x->timeouts++ > 0)
        can_retry = false;
      /* Too slow is retried while the budget lasts (then it fails). */
      if (!(retryable_code (rc) || x->stop == WATCH_SLOW) || !can_retry
          || (req->read && !req->rewind))
        return HTTP_FAIL;
      *delay_ms = backoff_ms (x->attempt++, NULL);
      log_debug ("%s; retrying in %ld ms", (*err)->msg, *delay_ms);
      return HTTP_RETRY;
    }
  if (r->status >= 300 && r->status < 400 && r->status != 304 && r->location)
    {
      _cleanup_free_ char *next = http_url_resolve (x->url, r->location);
      _cleanup_free_ char *next_host = next ? http_url_host (next) : NULL;
      if (!next || !next_host)
        return err_set (err, 0, "bad redirect to '%s'", r->location), HTTP_FAIL;
      if (++x->redirects > MAX_REDIRECTS)
        return err_set (err, 0, "too many redirects from '%s'", req->url),
               HTTP_FAIL;
      /* Never downgrade a verified registry to plain HTTP by redirect. */
      if (!strncasecmp (next, "http:", 5) && !strncasecmp (x->url, "https:", 6)
          && !http_host_insecure (x->h, next_host))
        return err_set (err, 0, "refusing redirect to plain http '%s'", next),
               HTTP_FAIL;
      /* The registry's token is for the registry: a CDN gets none. */
      x->send_auth = req->auth && http_same_origin (next, req->url);
      if (r->status == 303)
        x->method = "GET";
      log_debug ("redirect %ld to %s%s", r->status, next,
                 x->send_auth ? "" : " (without credentials)");
      free (x->url);
      x->url = steal_pointer (&next);
      return HTTP_REDIRECT;
    }
  if ((r->status == 429 || r->status == 500 || r->status == 502
       || r->status == 503 || r->status == 504)
      && can_retry && !(req->read && !req->rewind))
    {
      *delay_ms = backoff_ms (x->attempt++, r->retry_after);
      log_debug ("%s answered %ld; retrying in %ld ms", req->url, r->status,
                 *delay_ms);
      return HTTP_RETRY;
    }
  return HTTP_DONE;
}

int
http_do (struct reg_http *h, const struct http_request *req,
         struct http_response *resp, struct err **err)
{
  struct http_xfer *x = http_xfer_new (h, req, resp);
  int ret = -1;
  for (;;)
    {
      long delay;
      struct err *e = NULL;
      enum http_next next;
      if (http_xfer_prepare (x, err) < 0)
        break;
      log_debug ("%s %s", x->method, x->url);
      next = http_xfer_finish (x, curl_easy_perform (x->curl), &delay, &e);
      if (next == HTTP_DONE)
        {
          ret = 0;
          break;
        }
      if (next == HTTP_FAIL || (next == HTTP_RETRY && x->wrote))
        {
          *err = e;
          break;
        }
      err_free (e);
      if (delay > 0)
        {
          struct timespec ts = { delay / 1000, (delay % 1000) * 1000000L };
          while (nanosleep (&ts, &ts) < 0 && errno == EINTR)
            ;
        }
    }
  http_xfer_free (x);
  return ret;
}

char *
http_error_text (const struct http_response *r)
{
  json_t *j = NULL, *errs, *e0;
  const char *msg = NULL, *code = NULL;
  const char *reason;
  char *out;
  switch (r->status)
    {
    case 400:
      reason = "bad request";
      break;
    case 401:
      reason = "unauthorized";
      break;
    case 403:
      reason = "denied";
      break;
    case 404:
      reason = "not found";
      break;
    case 405:
      reason = "method not allowed";
      break;
    case 413:
      reason = "too large";
      break;
    case 416:
      reason = "range not satisfiable";
      break;
    case 429:
      reason = "too many requests";
      break;
    case 500:
      reason = "internal server error";
      break;
    case 502:
      reason = "bad gateway";
      break;
    case 503:
      reason = "service unavailable";
      break;
    case 504:
      reason = "gateway timeout";
      break;
    default:
      reason = "unexpected status";
      break;
    }
  if (r->body.len)
    j = json_loadb (r->body.buf, r->body.len, 0, NULL);
  errs = json_object_get (j, "errors");
  if ((e0 = json_array_get (errs, 0)))
    {
      msg = json_string_value (json_object_get (e0, "message"));
      code = json_string_value (json_object_get (e0, "code"));
    }
  else if (j)
    msg = json_string_value (json_object_get (j, "details"));
  if (msg && *msg)
    out = xasprintf ("%ld %s: %s", r->status, reason, msg);
  else if (code)
    out = xasprintf ("%ld %s: %s", r->status, reason, code);
  else
    out = xasprintf ("%ld %s", r->status, reason);
  json_decref (j);
  /* One line, lowercase-ish as the registry wrote it. */
  for (char *p = out; *p; p++)
    if (*p == '\n' || *p == '\r')
      *p = ' ';
  return out;
}
