/* Byte ranges of a blob, without I/O: planning the ranges to ask for (a
 * Range header, coalescing near ranges, parts of one blob for parallel
 * connections), and reading the answers: a Content-Range, and a
 * multipart/byteranges body (RFC 9110 14.6) fed as it arrives.
 * registry/ranges.c and registry/blobpar.c do the requests. */
#ifndef IMGTOOL_REG_BYTERANGES_H
#define IMGTOOL_REG_BYTERANGES_H

#include <stddef.h>
#include <stdint.h>

struct err;

struct byterange
{
  uint64_t off, len; /* [off, off + len), len > 0 */
};

/* Merge ranges (sorted by off, not overlapping) whose gap is at most gap
 * bytes, in place: fewer parts for the price of the gaps' bytes. Returns
 * the new count. */
size_t byteranges_coalesce (struct byterange *r, size_t n, uint64_t gap);

/* "bytes=A-B,C-D" for r[0..n). Caller frees. */
char *byteranges_header (const struct byterange *r, size_t n);

/* Split [0, size) into at most max_parts parts of at least min_part bytes
 * (the last one takes the rest) into out[max_parts]. Returns the count. */
size_t byteranges_split (uint64_t size, size_t max_parts, uint64_t min_part,
                         struct byterange *out);

/* "bytes START-END/TOTAL" (TOTAL may be "*"): 0 with *r set and *total
 * (-1 for "*"), -1 when malformed. */
int byteranges_content_range (const char *v, struct byterange *r,
                              int64_t *total);

/* A multipart/byteranges body: each part's bytes go to fn with their
 * offset in the blob, in the order the server sent them. */
typedef int (*byteranges_fn) (void *ctx, uint64_t off, const void *data,
                              size_t len, struct err **err);
struct byteranges_parser;

struct byteranges_parser *byteranges_parser_new (const char *boundary,
                                                 byteranges_fn fn, void *ctx);
int byteranges_parser_feed (struct byteranges_parser *p, const void *data,
                            size_t len, struct err **err);
/* The body ended: an error unless its closing delimiter came. */
int byteranges_parser_end (struct byteranges_parser *p, struct err **err);
void byteranges_parser_free (struct byteranges_parser *p);

#endif
