/* The HTTP transport of the registry client (libcurl), shared by pull and
 * push.
 *
 * - TLS verification is on. A registry's CA comes from --cert-dir, else
 *   /etc/docker/certs.d/HOST[:PORT]/ca.crt or /etc/containers/certs.d/...,
 *   else the system store; client.cert/client.key in that directory are
 *   used for client authentication.
 * - Connections are kept alive and reused (one curl share for DNS, TLS
 *   sessions and connections).
 * - A stalled connection fails after the configured timeout (connect
 *   timeout, and no byte for that long), and a trickling one once a body
 *   averages less than min-transfer-rate over min-transfer-window, so
 *   nothing hangs for ever.
 * - 429/5xx/broken connections are retried with backoff (Retry-After
 *   honoured).
 * - Redirects are followed here, not by curl: Authorization is sent only to
 *   the origin (scheme, host, port) of the request URL, never to a CDN.
 *
 * http_do() runs one request to the end. blob.c drives several transfers
 * at once on a curl multi handle with the http_xfer_* pieces below. */
#ifndef IMGTOOL_REG_HTTP_H
#define IMGTOOL_REG_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/strbuf.h"

struct err;
struct reg_config;
struct reg_http;

struct http_request
{
  const char *method; /* NULL: GET */
  const char *url;
  const char *auth;     /* Authorization value, for the url's origin only */
  const char *accept;   /* Accept header or NULL */
  char *const *headers; /* more "Name: value" lines, NULL-terminated */
  /* A request body in memory (POST/PUT/PATCH), or streamed: */
  const void *body;
  size_t body_len;
  size_t (*read) (void *ctx, char *buf, size_t len); /* 0 at the end */
  int (*rewind) (void *ctx); /* to send the body again on a retry */
  int64_t upload_len;        /* streamed body size, -1 for chunked */
  /* The body of a 2xx answer goes here when set (else to resp->body). A
   * callback that fails stops the transfer; its error is kept. */
  int (*write) (void *ctx, const void *data, size_t len, struct err **err);
  void *ctx;
  int64_t range_start; /* > 0: "Range: bytes=N-" */
  const char *range;   /* else a Range value of its own ("bytes=0-9,20-29") */
  size_t max_body;     /* cap on a buffered body; 0: 1 MiB */
  bool no_retry;       /* fail on the first 429/5xx/broken connection */
};

struct http_response
{
  long status;
  char *url; /* the URL that answered (after redirects) */
  struct strbuf body;
  char *content_type;  /* without parameters */
  char *boundary;      /* its boundary parameter (multipart/byteranges) */
  char *digest;        /* Docker-Content-Digest */
  char *location;      /* Location (as sent, unresolved) */
  char *content_range; /* Content-Range */
  char *range;         /* Range (upload status) */
  char *retry_after;
  char *etag, *last_modified; /* ETag, Last-Modified (build's ADD URL) */
  char *link_next;         /* the URL of Link: <URL>; rel="next" (pagination) */
  char **www_authenticate; /* every WWW-Authenticate header */
  int64_t content_length;  /* -1 when unknown */
  int64_t chunk_min;       /* OCI-Chunk-Min-Length (upload POST), 0: none */
  bool body_too_large;
};

void http_response_release (struct http_response *r);

struct reg_http *http_new (const struct reg_config *cfg, bool tls_verify,
                           const char *cert_dir);
void http_free (struct reg_http *h);

/* Verification off and plain HTTP allowed for this host[:port]? */
bool http_host_insecure (const struct reg_http *h, const char *host);

/* Run a request: redirects followed, retries done. A non-2xx status is not
 * an error here (resp->status says it); transport failures are, with a
 * message naming the host. */
int http_do (struct reg_http *h, const struct http_request *req,
             struct http_response *resp, struct err **err);

/* The registry's error for a non-2xx response, for messages:
 * "404 not found: manifest unknown". Caller frees. */
char *http_error_text (const struct http_response *r);

/* The monotonic clock, in ns, that retries and the transfer watch use. */
int64_t http_now_ns (void);

/* The URL of the rel="next" link in a Link header value (RFC 8288:
 * `<url>; rel="next", <url2>; rel="prev"`), or NULL. Caller frees. */
char *http_link_next (const char *value);

/* Resolve a (possibly relative) URL against base; caller frees. */
char *http_url_resolve (const char *base, const char *rel);
/* Do two URLs share scheme, host and port? */
bool http_same_origin (const char *a, const char *b);
/* "host:port" of a URL (as written), or NULL; caller frees. */
char *http_url_host (const char *url);

/* --- one transfer driven by a caller's curl multi loop (blob.c) --- */
struct http_xfer;

enum http_next
{
  HTTP_DONE,     /* resp is final */
  HTTP_REDIRECT, /* re-add the handle: it now asks the new location */
  HTTP_RETRY,    /* re-add after *delay_ms (http_xfer_restart first) */
  HTTP_FAIL,     /* *err is set */
};

/* req (and what it points to) must outlive the transfer. */
struct http_xfer *http_xfer_new (struct reg_http *h,
                                 const struct http_request *req,
                                 struct http_response *resp);
void *http_xfer_easy (struct http_xfer *x); /* CURL * */
/* (Re)configure the handle for the next attempt; call before adding it. */
int http_xfer_prepare (struct http_xfer *x, struct err **err);
/* The transfer ended with curl code rc: decide what comes next. */
enum http_next http_xfer_finish (struct http_xfer *x, int rc, long *delay_ms,
                                 struct err **err);
/* Did the write callback see any byte in this attempt? */
bool http_xfer_wrote (const struct http_xfer *x);
/* Did this attempt end for moving slower than min-transfer-rate? Its bytes
 * are no progress that earns a fresh retry budget. */
bool http_xfer_too_slow (const struct http_xfer *x);
void http_xfer_free (struct http_xfer *x);
void *http_multi_new (struct reg_http *h); /* CURLM * with our settings */

#endif
