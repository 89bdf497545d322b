/* Unit tests for registry/byteranges.c: Range planning and the
 * multipart/byteranges parser (fed whole and one byte at a time). */
#include "lib/err.h"
#include "lib/strbuf.h"
#include "lib/xalloc.h"
#include "registry/byteranges.h"
#include "tests/unit/test.h"

#include <inttypes.h>
#include <stdlib.h>

static void
test_plan (void)
{
  struct byterange r[] = { { 0, 10 }, { 12, 4 }, { 100, 1 }, { 101, 9 } };
  size_t n = byteranges_coalesce (r, 4, 2);
  char *h;
  CHECK (n == 2, "coalesce: gaps of at most 2 bytes merge (%zu)", n);
  CHECK (r[0].off == 0 && r[0].len == 16, "... the first spans 0-15");
  CHECK (r[1].off == 100 && r[1].len == 10, "... adjacent ones merge too");
  h = byteranges_header (r, n);
  CHECK_STR (h, "bytes=0-15,100-109", "Range header");
  free (h);

  struct byterange p[8];
  n = byteranges_split (100, 4, 1, p);
  CHECK (n == 4 && p[0].len == 25 && p[3].off == 75 && p[3].len == 25,
         "split 100 in 4");
  n = byteranges_split (101, 4, 1, p);
  CHECK (n == 4 && p[3].off == 78 && p[3].len == 23,
         "split 101 in 4: the last takes the rest");
  n = byteranges_split (100, 8, 40, p);
  CHECK (n == 3 && p[2].off == 80 && p[2].len == 20,
         "split: parts of at least min_part (%zu)", n);
  CHECK (byteranges_split (0, 4, 1, p) == 0, "split of nothing");
}

static void
test_content_range (void)
{
  struct byterange r;
  int64_t t;
  CHECK (byteranges_content_range ("bytes 10-19/100", &r, &t) == 0
             && r.off == 10 && r.len == 10 && t == 100,
         "Content-Range");
  CHECK (byteranges_content_range ("bytes 0-0/*", &r, &t) == 0 && t == -1,
         "... with an unknown total");
  static const char *const bad[]
      = { "bytes 5-4/10", "bytes 0-10/10", "bytes -1-3/10",
          "items 0-1/2",  "bytes 0-1/2x",  "bytes 0-/2" };
  for (size_t i = 0; i < ARRAY_SIZE (bad); i++)
    CHECK (byteranges_content_range (bad[i], &r, &t) < 0, "refused: '%s'",
           bad[i]);
}

struct got
{
  struct strbuf sb;
  uint64_t end; /* where the last piece ended: the next one joins it */
};

static int
collect (void *ctx, uint64_t off, const void *data, size_t len,
         struct err **err)
{
  struct got *g = ctx;
  if (g->sb.len && off == g->end)
    strbuf_setlen (&g->sb, g->sb.len - 1);
  else
    strbuf_addf (&g->sb, "[%" PRIu64 ":", off);
  strbuf_add (&g->sb, data, len);
  g->end = off + len;
  strbuf_addch (&g->sb, ']');
  return 0;
}

/* Feed body in pieces of step bytes (0: whole); the parts' bytes as
 * "[off:data]..." or the error. */
static char *
parse (const char *body, size_t step)
{
  struct got g = { STRBUF_INIT, 0 };
  struct err *err = NULL;
  struct byteranges_parser *p = byteranges_parser_new ("XyZ", collect, &g);
  size_t len = strlen (body), i = 0;
  int rc = 0;
  while (rc == 0 && i < len)
    {
      size_t n = step && len - i > step ? step : len - i;
      rc = byteranges_parser_feed (p, body + i, n, &err);
      i += n;
    }
  if (rc == 0)
    rc = byteranges_parser_end (p, &err);
  byteranges_parser_free (p);
  if (rc < 0)
    {
      strbuf_release (&g.sb);
      char *m = xasprintf ("error: %s", err->msg);
      err_free (err);
      return m;
    }
  return strbuf_detach (&g.sb, NULL);
}

static void
test_parser (void)
{
  /* as Go's http.ServeContent writes it */
  static const char go[]
      = "\r\n--XyZ\r\nContent-Range: bytes 0-3/50\r\n"
        "Content-Type: application/octet-stream\r\n\r\n"
        "ab\r\n\r\n--XyZ\r\nContent-Range: bytes 10-14/50\r\n\r\n"
        "--XyZ\r\n--XyZ--\r\n";
  const char *want = "[0:ab\r\n][10:--XyZ]";
  for (size_t step = 0; step < 4; step++)
    {
      char *got = parse (go, step);
      CHECK_STR (got, want, "multipart body fed %zu byte(s) at a time", step);
      free (got);
    }
  char *got = parse ("preamble\n--XyZ\ncontent-range: bytes 5-5/9\n\nq\n"
                     "--XyZ--\nepilogue",
                     0);
  CHECK_STR (got, "[5:q]", "LF line ends, a preamble and an epilogue");
  free (got);
  got = parse ("--XyZ\r\nContent-Type: x\r\n\r\nabc\r\n--XyZ--\r\n", 0);
  CHECK_STR (got, "error: multipart answer: a part has no Content-Range",
             "a part without Content-Range");
  free (got);
  got = parse ("--XyZ\r\nContent-Range: bytes 0-9/10\r\n\r\nabc", 0);
  CHECK_STR (got, "error: multipart answer ended early", "a cut body");
  free (got);
  got = parse ("--XyZ\r\nContent-Range: bytes 9-0/10\r\n\r\n", 0);
  CHECK_STR (got, "error: multipart answer: bad Content-Range 'bytes 9-0/10'",
             "a bad Content-Range");
  free (got);
}

int
main (void)
{
  test_plan ();
  test_content_range ();
  test_parser ();
  return test_done ();
}
