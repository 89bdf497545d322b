/* Byte ranges: see registry/byteranges.h. */
#include "registry/byteranges.h"
#include "lib/err.h"
#include "lib/strbuf.h"
#include "lib/xalloc.h"

#include <errno.h>
#include <stdbool.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* A part's header lines are short; a longer line is not a server's. */
#define LINE_MAX_LEN 8192

size_t
byteranges_coalesce (struct byterange *r, size_t n, uint64_t gap)
{
  size_t k = 0;
  for (size_t i = 0; i < n; i++)
    {
      if (k && r[i].off <= r[k - 1].off + r[k - 1].len + gap)
        {
          uint64_t end = r[i].off + r[i].len;
          if (end > r[k - 1].off + r[k - 1].len)
            r[k - 1].len = end - r[k - 1].off;
          continue;
        }
      r[k++] = r[i];
    }
  return k;
}

char *
byteranges_header (const struct byterange *r, size_t n)
{
  struct strbuf sb = STRBUF_INIT;
  strbuf_addstr (&sb, "bytes=");
  for (size_t i = 0; i < n; i++)
    strbuf_addf (&sb, "%s%" PRIu64 "-%" PRIu64, i ? "," : "", r[i].off,
                 r[i].off + r[i].len - 1);
  return strbuf_detach (&sb, NULL);
}

size_t
byteranges_split (uint64_t size, size_t max_parts, uint64_t min_part,
                  struct byterange *out)
{
  uint64_t part;
  size_t n = 0;
  if (!size || !max_parts)
    return 0;
  if (min_part < 1)
    min_part = 1;
  part = (size + max_parts - 1) / max_parts;
  if (part < min_part)
    part = min_part;
  for (uint64_t off = 0; off < size && n < max_parts; off += part)
    {
      out[n].off = off;
      out[n].len = size - off < part || n + 1 == max_parts ? size - off : part;
      n++;
    }
  return n;
}

static int
parse_u64 (const char *s, char **end, uint64_t *v)
{
  unsigned long long x;
  if (*s < '0' || *s > '9')
    return -1;
  errno = 0;
  x = strtoull (s, end, 10);
  if (errno)
    return -1;
  *v = x;
  return 0;
}

int
byteranges_content_range (const char *v, struct byterange *r, int64_t *total)
{
  uint64_t a, b, t;
  char *end;
  if (!v || strncasecmp (v, "bytes ", 6))
    return -1;
  v += 6;
  while (*v == ' ')
    v++;
  if (parse_u64 (v, &end, &a) < 0 || *end != '-')
    return -1;
  if (parse_u64 (end + 1, &end, &b) < 0 || *end != '/' || b < a)
    return -1;
  if (!strcmp (end + 1, "*"))
    *total = -1;
  else if (parse_u64 (end + 1, &end, &t) < 0 || *end || b >= t
           || t > INT64_MAX)
    return -1;
  else
    *total = (int64_t)t;
  r->off = a;
  r->len = b - a + 1;
  return 0;
}

enum state
{
  S_LINES, /* between parts: blank lines, a preamble, a delimiter */
  S_HEADERS,
  S_BODY,
  S_DONE, /* after the closing delimiter: the epilogue is ignored */
};

struct byteranges_parser
{
  char *delim; /* "--" boundary */
  byteranges_fn fn;
  void *ctx;
  enum state st;
  struct strbuf line;
  struct byterange part; /* the current part's range */
  bool have_range;
  uint64_t done; /* bytes of the part delivered */
};

struct byteranges_parser *
byteranges_parser_new (const char *boundary, byteranges_fn fn, void *ctx)
{
  struct byteranges_parser *p = xcalloc (1, sizeof *p);
  p->delim = xasprintf ("--%s", boundary);
  p->fn = fn;
  p->ctx = ctx;
  strbuf_init (&p->line, 256);
  return p;
}

void
byteranges_parser_free (struct byteranges_parser *p)
{
  if (!p)
    return;
  strbuf_release (&p->line);
  free (p->delim);
  free (p);
}

/* One whole line (without its CR LF) outside a part's body. */
static int
on_line (struct byteranges_parser *p, const char *l, struct err **err)
{
  size_t dl = strlen (p->delim);
  if (p->st == S_LINES)
    {
      if (!strncmp (l, p->delim, dl))
        {
          if (!strcmp (l + dl, "--"))
            p->st = S_DONE;
          else if (!l[dl + strspn (l + dl, " \t")])
            {
              p->st = S_HEADERS;
              p->have_range = false;
            }
        }
      return 0; /* blank lines, a preamble */
    }
  /* S_HEADERS */
  if (!*l)
    {
      if (!p->have_range)
        return err_set (err, 0, "multipart answer: a part has no "
                                "Content-Range");
      p->st = S_BODY;
      p->done = 0;
      return 0;
    }
  if (!strncasecmp (l, "content-range:", 14))
    {
      int64_t total;
      const char *v = l + 14;
      while (*v == ' ' || *v == '\t')
        v++;
      if (byteranges_content_range (v, &p->part, &total) < 0)
        return err_set (err, 0, "multipart answer: bad Content-Range '%s'",
                        v);
      p->have_range = true;
    }
  return 0;
}

int
byteranges_parser_feed (struct byteranges_parser *p, const void *data,
                        size_t len, struct err **err)
{
  const char *s = data;
  while (len)
    {
      if (p->st == S_DONE)
        return 0;
      if (p->st == S_BODY)
        {
          uint64_t left = p->part.len - p->done;
          size_t n = len < left ? len : (size_t)left;
          if (n && p->fn (p->ctx, p->part.off + p->done, s, n, err) < 0)
            return -1;
          p->done += n;
          s += n;
          len -= n;
          if (p->done == p->part.len)
            p->st = S_LINES; /* the CR LF that ends it, then a delimiter */
          continue;
        }
      const char *nl = memchr (s, '\n', len);
      size_t n = nl ? (size_t)(nl - s) : len;
      if (p->line.len + n > LINE_MAX_LEN)
        return err_set (err, 0, "multipart answer: a line is too long");
      strbuf_add (&p->line, s, n);
      s += n;
      len -= n;
      if (!nl)
        break;
      s++, len--; /* the LF */
      if (p->line.len && p->line.buf[p->line.len - 1] == '\r')
        strbuf_setlen (&p->line, p->line.len - 1);
      int rc = on_line (p, p->line.buf, err);
      strbuf_setlen (&p->line, 0);
      if (rc < 0)
        return -1;
    }
  return 0;
}

int
byteranges_parser_end (struct byteranges_parser *p, struct err **err)
{
  if (p->st != S_DONE)
    return err_set (err, 0, "multipart answer ended early");
  return 0;
}
