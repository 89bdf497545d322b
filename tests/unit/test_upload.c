/* Unit tests for the pure parts of registry/upload.c: upload locations,
 * the Range header of an upload, chunk planning. */
#include "lib/xalloc.h"
#include "registry/http.h"
#include "registry/upload.h"
#include "tests/unit/test.h"

#include <stdlib.h>

static void
test_location (void)
{
  static const struct
  {
    const char *req, *loc, *want;
  } cases[] = {
    /* relative to the registry's origin */
    { "http://127.0.0.1:5000/v2/a/b/blobs/uploads/",
      "/v2/a/b/blobs/uploads/u1?_state=xyz",
      "http://127.0.0.1:5000/v2/a/b/blobs/uploads/u1?_state=xyz" },
    /* relative to the request's path */
    { "https://r.example/v2/a/blobs/uploads/", "u2",
      "https://r.example/v2/a/blobs/uploads/u2" },
    /* absolute, another host (object storage): taken as is */
    { "https://r.example/v2/a/blobs/uploads/",
      "https://s3.example/bucket/up?X-Amz-Signature=abc",
      "https://s3.example/bucket/up?X-Amz-Signature=abc" },
    /* a PATCH's answer replaces the URL, query and all */
    { "http://h:1/v2/a/blobs/uploads/u1?_state=old",
      "/v2/a/blobs/uploads/u1?_state=new",
      "http://h:1/v2/a/blobs/uploads/u1?_state=new" },
  };
  for (size_t i = 0; i < ARRAY_SIZE (cases); i++)
    {
      char *got = upload_location (cases[i].req, cases[i].loc);
      CHECK_STR (got, cases[i].want, "location '%s' from '%s'", cases[i].loc,
                 cases[i].req);
      free (got);
    }
  CHECK (upload_location ("http://h/v2/", NULL) == NULL, "no Location: NULL");
  CHECK (upload_location ("http://h/v2/", "") == NULL, "empty Location: NULL");
}

static void
test_digest_param (void)
{
  static const char d[] = "sha256:"
                          "0123456789abcdef0123456789abcdef0123456789abcdef0"
                          "123456789abcdef";
  static const struct
  {
    const char *url, *want_sep;
  } cases[] = {
    { "http://h/v2/a/blobs/uploads/u1", "?" },
    { "http://h/v2/a/blobs/uploads/u1?_state=x", "&" },
    { "http://h/v2/a/blobs/uploads/u1?", "" },
    { "http://h/v2/a/blobs/uploads/u1?a=1&", "" },
  };
  for (size_t i = 0; i < ARRAY_SIZE (cases); i++)
    {
      char *got = upload_url_with_digest (cases[i].url, d);
      char *want
          = xasprintf ("%s%sdigest=%s", cases[i].url, cases[i].want_sep, d);
      CHECK_STR (got, want, "digest added to '%s'", cases[i].url);
      free (got);
      free (want);
    }
}

static void
test_range (void)
{
  static const struct
  {
    const char *in;
    int64_t want;
  } cases[] = {
    { "0-1048575", 1048576 },       /* distribution-spec */
    { "bytes=0-1048575", 1048576 }, /* the older API text */
    { "0-0", 0 },                   /* the reference registry, empty upload */
    { NULL, 0 },                    /* no Range: nothing yet */
    { "", 0 },
    { "5-10", -1 }, /* always from 0 */
    { "0-", -1 },
    { "0-x", -1 },
    { "bytes 0-10", -1 },
    { "0-10/20", -1 },
    { "0--5", -1 },
    { "0-99999999999999999999", -1 },
  };
  for (size_t i = 0; i < ARRAY_SIZE (cases); i++)
    CHECK (upload_range_parse (cases[i].in) == cases[i].want,
           "range '%s' holds %lld bytes", cases[i].in ? cases[i].in : "(none)",
           (long long)cases[i].want);
}

static void
test_chunks (void)
{
  /* 10 bytes in chunks of 4: 4, 4, 2 */
  int64_t off = 0, lens[8];
  size_t n = 0;
  while (off < 10 && n < ARRAY_SIZE (lens))
    {
      lens[n] = upload_chunk_len (10, off, 4, 0);
      off += lens[n++];
    }
  CHECK (n == 3 && lens[0] == 4 && lens[1] == 4 && lens[2] == 2,
         "10 bytes in chunks of 4: 4, 4, 2");
  CHECK (upload_chunk_len (10, 0, 0, 0) == 10, "no chunk size: all at once");
  CHECK (upload_chunk_len (100, 0, 4, 30) == 30,
         "a chunk is raised to the registry's minimum");
  CHECK (upload_chunk_len (100, 90, 4, 30) == 10,
         "the last chunk may be below the minimum");
  CHECK (upload_chunk_len (100, 100, 4, 0) == 0, "nothing left: 0");
  CHECK (upload_chunk_len (100, 37, 50, 0) == 50,
         "resumed from an odd offset: a whole chunk");
  CHECK (upload_chunk_len (100, 120, 50, 0) == 0, "past the end: 0");
}

/* The next page of a tag list (http_link_next, RFC 8288 Link). */
static void
test_link_next (void)
{
  char *u = http_link_next ("</v2/a/tags/list?n=2&last=b>; rel=\"next\"");
  CHECK_STR (u, "/v2/a/tags/list?n=2&last=b", "rel=\"next\" gives its URL");
  free (u);
  u = http_link_next (
      "<https://r/x?last=a>; rel=\"prev\", <https://r/x?last=c>; "
      "rel=next");
  CHECK_STR (u, "https://r/x?last=c", "the next one among several links");
  free (u);
  CHECK (http_link_next ("</x>; rel=\"prev\"") == NULL, "no next link: NULL");
  CHECK (http_link_next ("</x>; rel=\"nextish\"") == NULL,
         "rel must be next exactly");
  CHECK (http_link_next ("<broken") == NULL, "a broken value: NULL");
}

int
main (void)
{
  test_link_next ();
  test_location ();
  test_digest_param ();
  test_range ();
  test_chunks ();
  return test_done ();
}
