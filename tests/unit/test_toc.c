/* Seekable layers: write zstd:chunked and eStargz with layers/seekable.c
 * (through the tar writer), find and parse their TOCs with layers/toc.c,
 * read every file back through them, rebuild the tar from the tar-split,
 * and refuse TOCs that lie. */
#include "layers/decompress.h"
#include "layers/seekable.h"
#include "layers/tarwriter.h"
#include "layers/toc.h"
#include "lib/err.h"
#include "lib/strbuf.h"
#include "lib/xalloc.h"
#include "test.h"

#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>
#include <zstd.h>

static int
mem_write (void *ctx, const void *data, size_t len, struct err **err)
{
  strbuf_add (ctx, data, len);
  return 0;
}

#define BIG (5u << 20) /* > eStargz's 4 MiB chunk, many CDC chunks */
static uint8_t *big;

static void
make_big (void)
{
  uint64_t x = 42;
  big = xmalloc (BIG);
  for (size_t i = 0; i < BIG; i++)
    {
      x = x * 6364136223846793005ULL + 1442695040888963407ULL;
      big[i] = (uint8_t)(x >> 56);
    }
}

static int
add (struct tar_writer *tw, enum tar_type type, const char *path,
     const char *link, const void *data, size_t size, struct tar_xattr *xa,
     size_t n_xa)
{
  struct tar_entry e = { .type = type,
                         .path = (char *)path,
                         .linkpath = (char *)link,
                         .size = size,
                         .mode = type == TAR_DIR ? 0755 : 0640,
                         .uid = 1000,
                         .gid = 1001,
                         .mtime = 1700000000,
                         .devmajor = type == TAR_CHR ? 1 : 0,
                         .devminor = type == TAR_CHR ? 3 : 0,
                         .xattrs = xa,
                         .n_xattrs = n_xa };
  struct err *err = NULL;
  int rc = tarw_header (tw, &e, &err);
  if (rc == 0 && size)
    rc = tarw_data (tw, data, size, &err);
  err_free (err);
  return rc;
}

/* A layer of every entry type, in format c. */
static int
write_layer (enum layer_compression c, struct strbuf *blob,
             struct layer_result *res)
{
  struct layer_sink sink = { mem_write, blob, false };
  struct err *err = NULL;
  struct tar_xattr xa = { (char *)"user.k", (char *)"v\001", 2 };
  struct tar_writer *tw = tarw_new (c, 0, &sink, &err);
  int rc = tw ? 0 : -1;
  rc = rc ?: add (tw, TAR_DIR, "d", NULL, NULL, 0, NULL, 0);
  rc = rc ?: add (tw, TAR_REG, "d/a", NULL, "hello\n", 6, &xa, 1);
  rc = rc ?: add (tw, TAR_REG, "big", NULL, big, BIG, NULL, 0);
  rc = rc ?: add (tw, TAR_REG, "empty", NULL, NULL, 0, NULL, 0);
  rc = rc ?: add (tw, TAR_SYMLINK, "d/s", "a", NULL, 0, NULL, 0);
  rc = rc ?: add (tw, TAR_HARDLINK, "h", "d/a", NULL, 0, NULL, 0);
  rc = rc ?: add (tw, TAR_CHR, "null", NULL, NULL, 0, NULL, 0);
  rc = rc ?: add (tw, TAR_FIFO, "p", NULL, NULL, 0, NULL, 0);
  if (rc == 0 && tarw_finish (tw, res, &err) < 0)
    rc = -1;
  if (err)
    printf ("# %s\n", err->msg);
  err_free (err);
  tarw_free (tw);
  return rc;
}

static struct toc *
open_toc (const struct strbuf *b, struct toc_location *loc, struct err **err)
{
  size_t n = b->len < TOC_FOOTER_MAX ? b->len : TOC_FOOTER_MAX;
  if (toc_locate_footer ((uint8_t *)b->buf + b->len - n, n, b->len, loc, err)
      <= 0)
    return NULL;
  return toc_parse (loc, (uint8_t *)b->buf + loc->offset, loc->length, b->len,
                    err);
}

static int
hash_sink (void *arg, const uint8_t *buf, size_t len, struct err **err)
{
  digester_update (arg, buf, len);
  return 0;
}

static void
digest_of_decompressed (const struct strbuf *b, char out[DIGEST_STR_LEN + 1])
{
  struct digester d;
  struct err *err = NULL;
  digester_init (&d);
  struct layer_decomp *x = layer_decomp_new (hash_sink, &d);
  if (layer_decomp_feed (x, b->buf, b->len, &err) < 0
      || layer_decomp_finish (x, &err) < 0)
    strcpy (out, "error");
  else
    digester_final (&d, out);
  layer_decomp_free (x);
  digester_release (&d);
  err_free (err);
}

static int
mem_sink (void *arg, const uint8_t *buf, size_t len, struct err **err)
{
  strbuf_add (arg, buf, len);
  return 0;
}

/* A file's content read through the TOC; NULL and *why on failure. */
static char *
read_file (const struct toc *t, const struct strbuf *b, const char *name,
           size_t *len, char **why)
{
  const struct toc_entry *e = toc_lookup (t, name);
  struct strbuf out = STRBUF_INIT;
  struct err *err = NULL;
  *why = NULL;
  if (!e)
    {
      *why = xstrdup ("no entry");
      return NULL;
    }
  if (toc_entry_decompress (t, e, (uint8_t *)b->buf, b->len, 0, mem_sink, &out,
                            &err)
      < 0)
    {
      *why = xstrdup (err->msg);
      err_free (err);
      strbuf_release (&out);
      return NULL;
    }
  return strbuf_detach (&out, len);
}

struct rebuild
{
  const struct toc *t;
  const struct strbuf *b;
  struct digester d;
};

static int
rebuild_cb (void *arg, const uint8_t *raw, size_t raw_len, const char *name,
            uint64_t size, struct err **err)
{
  struct rebuild *r = arg;
  if (!name)
    {
      digester_update (&r->d, raw, raw_len);
      return 0;
    }
  if (!size)
    return 0;
  const struct toc_entry *e = toc_lookup (r->t, name);
  if (!e)
    return err_set (err, 0, "no '%s'", name);
  return toc_entry_decompress (r->t, e, (uint8_t *)r->b->buf, r->b->len, 0,
                               hash_sink, &r->d, err);
}

static void
check_common (const char *fmt, const struct toc *t, const struct strbuf *b)
{
  size_t len;
  char *why;
  const struct toc_entry *e = toc_lookup (t, "./d/a/");
  CHECK (e && e->type == TOC_REG && e->size == 6 && e->uid == 1000
             && e->gid == 1001 && e->mode == 0640 && e->mtime_sec == 1700000000,
         "%s: lookup normalises the path; metadata of d/a", fmt);
  CHECK (e && e->n_xattrs == 1 && !strcmp (e->xattrs[0].name, "user.k")
             && e->xattrs[0].len == 2
             && !memcmp (e->xattrs[0].value, "v\001", 2),
         "%s: xattr decoded", fmt);
  e = toc_lookup (t, "/d");
  CHECK (e && e->type == TOC_DIR && e->mode == 0755, "%s: directory", fmt);
  e = toc_lookup (t, "d/s");
  CHECK (e && e->type == TOC_SYMLINK && !strcmp (e->link_name, "a"),
         "%s: symlink", fmt);
  e = toc_lookup (t, "h");
  CHECK (e && e->type == TOC_HARDLINK && !strcmp (e->link_name, "d/a"),
         "%s: hardlink", fmt);
  e = toc_lookup (t, "null");
  CHECK (e && e->type == TOC_CHAR && e->dev_major == 1 && e->dev_minor == 3,
         "%s: char device", fmt);
  e = toc_lookup (t, "p");
  CHECK (e && e->type == TOC_FIFO, "%s: fifo", fmt);
  e = toc_lookup (t, "empty");
  CHECK (e && e->type == TOC_REG && e->size == 0 && e->n_chunks == 0,
         "%s: empty file", fmt);
  CHECK (toc_lookup (t, "nope") == NULL, "%s: missing path", fmt);
  e = toc_lookup (t, "big");
  CHECK (e && e->n_chunks > 1, "%s: big file in %zu chunks", fmt,
         e ? e->n_chunks : 0);
  char *data = read_file (t, b, "big", &len, &why);
  CHECK (data && len == BIG && !memcmp (data, big, BIG),
         "%s: big file read back through the toc (%s)", fmt, why ? why : "");
  free (data);
  free (why);
  data = read_file (t, b, "d/a", &len, &why);
  CHECK (data && len == 6 && !memcmp (data, "hello\n", 6),
         "%s: small file read back", fmt);
  free (data);
  free (why);
}

/* The TOC's JSON, and a parse of it changed by one replacement. */
static char *
toc_json (const struct strbuf *b, const struct toc_location *loc)
{
  const uint8_t *p = (uint8_t *)b->buf + loc->offset;
  unsigned long long n = ZSTD_getFrameContentSize (p, loc->length);
  char *out = xmalloc ((size_t)n + 1);
  size_t r = ZSTD_decompress (out, (size_t)n, p, loc->length);
  out[ZSTD_isError (r) ? 0 : r] = 0;
  return out;
}

static char *
replace (const char *s, const char *from, const char *to)
{
  const char *at = strstr (s, from);
  if (!at)
    return xstrdup (s);
  return xasprintf ("%.*s%s%s", (int)(at - s), s, to, at + strlen (from));
}

static struct toc *
parse_lie (const char *json, const struct toc_location *loc, uint64_t size,
           char **why)
{
  struct err *err = NULL;
  struct toc *t = toc_parse_json (loc, json, strlen (json), size, &err);
  *why = err ? xstrdup (err->msg) : NULL;
  err_free (err);
  return t;
}

static void
test_zstd_chunked (void)
{
  struct strbuf b = STRBUF_INIT;
  struct layer_result res = { 0 };
  struct toc_location loc = { 0 };
  struct err *err = NULL;
  char got[DIGEST_STR_LEN + 1];
  CHECK (write_layer (LAYER_ZSTD_CHUNKED, &b, &res) == 0,
         "zstd:chunked: layer written");
  CHECK_STR (res.media_type, MT_OCI_LAYER_ZSTD, "zstd:chunked: media type");
  digest_buf (b.buf, b.len, got);
  CHECK_STR (res.digest, got, "zstd:chunked: blob digest");
  digest_of_decompressed (&b, got);
  CHECK_STR (res.diff_id, got,
             "zstd:chunked: an ordinary zstd reader gets the tar (diff_id)");
  struct toc *t = open_toc (&b, &loc, &err);
  CHECK (t != NULL, "zstd:chunked: toc found by the footer and parsed (%s)",
         err ? err->msg : "");
  if (!t)
    return;
  CHECK (t->format == TOC_ZSTD_CHUNKED && t->n_entries == 8,
         "zstd:chunked: format and entries");
  check_common ("zstd:chunked", t, &b);
  /* every chunk is its own frame, inside the blob, before the TOC */
  const struct toc_entry *e = toc_lookup (t, "big");
  bool frames = true;
  for (size_t i = 0; e && i < e->n_chunks; i++)
    frames = frames && e->chunks[i].end <= loc.offset
             && ZSTD_findFrameCompressedSize (b.buf + e->chunks[i].offset,
                                              e->chunks[i].end
                                                  - e->chunks[i].offset)
                    == e->chunks[i].end - e->chunks[i].offset;
  CHECK (frames, "zstd:chunked: each chunk is exactly one zstd frame");

  /* tar-split: the exact tar again */
  struct rebuild r = { .t = t, .b = &b };
  digester_init (&r.d);
  int rc = toc_tarsplit_walk (t, (uint8_t *)b.buf + loc.tarsplit_offset,
                              loc.tarsplit_length, rebuild_cb, &r, &err);
  digester_final (&r.d, got);
  digester_release (&r.d);
  CHECK (rc == 0 && !strcmp (got, res.diff_id),
         "zstd:chunked: tar from tar-split + toc files has the diff_id");
  /* a tar-split whose bytes were changed is refused */
  b.buf[loc.tarsplit_offset + 10] ^= 1;
  err_clear (&err);
  r = (struct rebuild){ .t = t, .b = &b };
  digester_init (&r.d);
  rc = toc_tarsplit_walk (t, (uint8_t *)b.buf + loc.tarsplit_offset,
                          loc.tarsplit_length, rebuild_cb, &r, &err);
  digester_release (&r.d);
  CHECK (rc < 0 && strstr (err->msg, "tar-split digest mismatch"),
         "zstd:chunked: a changed tar-split is refused");
  b.buf[loc.tarsplit_offset + 10] ^= 1;
  err_clear (&err);

  /* annotations, derived from the blob, locate the same TOC */
  int fd = memfd_create ("layer", 0);
  CHECK (fd >= 0 && write (fd, b.buf, b.len) == (ssize_t)b.len, "memfd");
  char *ann = seekable_annotations (fd, b.len, &err);
  close (fd);
  struct toc_location aloc;
  CHECK (ann && toc_locate_annotations (ann, &aloc, &err) == 1
             && aloc.offset == loc.offset && aloc.length == loc.length
             && aloc.tarsplit_offset == loc.tarsplit_offset
             && !strcmp (aloc.digest, t->toc_digest),
         "zstd:chunked: annotations locate the toc, with its digest");
  size_t n = TOC_FOOTER_MAX;
  CHECK (toc_locate_footer ((uint8_t *)b.buf + b.len - n, n, b.len, &aloc, &err)
             == 1,
         "zstd:chunked: footer agrees with the annotations");
  /* a TOC whose digest is not the annotation's is refused */
  aloc.digest[10] = aloc.digest[10] == '0' ? '1' : '0';
  struct toc *bad = toc_parse (&aloc, (uint8_t *)b.buf + aloc.offset,
                               aloc.length, b.len, &err);
  CHECK (!bad && err && strstr (err->msg, "digest mismatch"),
         "zstd:chunked: a toc that is not the annotated one is refused: %s",
         err ? err->msg : "");
  toc_free (bad);
  err_clear (&err);
  free (ann);
  /* annotations that disagree with the footer */
  struct toc_location wrong = loc;
  wrong.offset += 1;
  CHECK (
      toc_locate_footer ((uint8_t *)b.buf + b.len - n, n, b.len, &wrong, &err)
          < 0,
      "zstd:chunked: a footer that disagrees with the annotations is "
      "refused");
  err_clear (&err);

  /* TOCs that lie */
  char *json = toc_json (&b, &loc), *lie, *why;
  e = toc_lookup (t, "d/a");
  const struct toc_entry *eb = toc_lookup (t, "big");
  char from[64], to[64];
  /* big's first chunk said to start at d/a's frame: parses (the range is
     inside the data), but the bytes there are not the chunk */
  snprintf (from, sizeof from, "\"offset\":%llu,",
            (unsigned long long)eb->chunks[0].offset);
  snprintf (to, sizeof to, "\"offset\":%llu,",
            (unsigned long long)e->chunks[0].offset);
  lie = replace (json, from, to);
  struct toc *lt = parse_lie (lie, &loc, b.len, &why);
  size_t len;
  char *data = lt ? read_file (lt, &b, "big", &len, &why) : NULL;
  CHECK (lt && !data && why && strstr (why, "toc: chunk at offset"),
         "zstd:chunked: a wrong offset is refused on read: %s", why ? why : "");
  free (data), free (why), free (lie), toc_free (lt);
  /* a range past the TOC */
  snprintf (from, sizeof from, "\"offset\":%llu,",
            (unsigned long long)e->chunks[0].offset);
  snprintf (to, sizeof to, "\"offset\":%llu,",
            (unsigned long long)loc.offset + 100);
  lie = replace (json, from, to);
  lt = parse_lie (lie, &loc, b.len, &why);
  CHECK (!lt && why && strstr (why, "outside the layer's data"),
         "zstd:chunked: a range outside the data is refused at parse: %s",
         why ? why : "");
  free (why), free (lie), toc_free (lt);
  /* a wrong file digest */
  char *d = xasprintf ("\"digest\":\"%s\"", e->digest);
  lie = replace (json, d,
                 "\"digest\":\"sha256:"
                 "0000000000000000000000000000000000000000000000000000000000000"
                 "000\"");
  lt = parse_lie (lie, &loc, b.len, &why);
  data = lt ? read_file (lt, &b, "d/a", &len, &why) : NULL;
  CHECK (lt && !data && why && strstr (why, "digest mismatch"),
         "zstd:chunked: a wrong digest is refused on read: %s", why ? why : "");
  free (data), free (why), free (lie), free (d), toc_free (lt);
  /* big's digest wrong, its chunks' right: the whole file's check */
  d = xasprintf ("\"digest\":\"%s\"", eb->digest);
  lie = replace (json, d,
                 "\"digest\":\"sha256:"
                 "1111111111111111111111111111111111111111111111111111111111111"
                 "111\"");
  lt = parse_lie (lie, &loc, b.len, &why);
  data = lt ? read_file (lt, &b, "big", &len, &why) : NULL;
  CHECK (lt && !data && why && strstr (why, "'big' digest mismatch"),
         "zstd:chunked: a wrong file digest (chunks right) is refused: %s",
         why ? why : "");
  free (data), free (why), free (lie), free (d), toc_free (lt);
  /* one chunk's digest wrong, the file's right: refused at that chunk,
     before its bytes are passed on (a lazy read serves chunks) */
  d = xasprintf ("\"chunkDigest\":\"%s\"", eb->chunks[1].digest);
  lie = replace (json, d,
                 "\"chunkDigest\":\"sha256:"
                 "2222222222222222222222222222222222222222222222222222222222222"
                 "222\"");
  lt = parse_lie (lie, &loc, b.len, &why);
  data = lt ? read_file (lt, &b, "big", &len, &why) : NULL;
  CHECK (lt && !data && why && strstr (why, "toc: chunk at offset"),
         "zstd:chunked: a wrong chunk digest is refused: %s", why ? why : "");
  free (data), free (why), free (lie), free (d), toc_free (lt);
  /* a name that climbs out */
  lie = replace (json, "\"name\":\"d/a\"", "\"name\":\"../../etc/passwd\"");
  lt = parse_lie (lie, &loc, b.len, &why);
  CHECK (!lt && why && strstr (why, "not a path in the layer"),
         "zstd:chunked: a name with .. is refused: %s", why ? why : "");
  free (why), free (lie), toc_free (lt);
  /* chunks that do not cover the file */
  lie = replace (json, "\"chunkOffset\":", "\"chunkOffset\":1");
  lt = parse_lie (lie, &loc, b.len, &why);
  CHECK (!lt && why && strstr (why, "chunks"),
         "zstd:chunked: chunks that do not cover the file are refused: %s",
         why ? why : "");
  free (why), free (lie), toc_free (lt);
  /* a footer pointing outside the blob */
  struct strbuf cut = STRBUF_INIT;
  strbuf_add (&cut, b.buf + b.len - 200, 200);
  struct toc_location cl = { 0 };
  CHECK (toc_locate_footer ((uint8_t *)cut.buf + 200 - n, n, 200, &cl, &err) < 0
             && strstr (err->msg, "outside"),
         "zstd:chunked: a footer pointing outside the blob is refused");
  err_clear (&err);
  strbuf_release (&cut);
  free (json);
  toc_free (t);
  strbuf_release (&b);
}

static void
test_estargz (void)
{
  struct strbuf b = STRBUF_INIT;
  struct layer_result res = { 0 };
  struct toc_location loc = { 0 };
  struct err *err = NULL;
  char got[DIGEST_STR_LEN + 1];
  CHECK (write_layer (LAYER_ESTARGZ, &b, &res) == 0, "estargz: layer written");
  CHECK_STR (res.media_type, MT_OCI_LAYER_GZIP, "estargz: media type");
  digest_of_decompressed (&b, got);
  CHECK_STR (res.diff_id, got,
             "estargz: an ordinary gzip reader gets the tar (diff_id)");
  struct toc *t = open_toc (&b, &loc, &err);
  CHECK (t != NULL, "estargz: toc found by the 51-byte footer and parsed (%s)",
         err ? err->msg : "");
  if (!t)
    return;
  CHECK (t->format == TOC_ESTARGZ && t->n_entries == 8,
         "estargz: format and entries");
  check_common ("estargz", t, &b);
  CHECK (toc_lookup (t, "big")->n_chunks == 2,
         "estargz: 5 MiB in chunks of 4 MiB");
  int fd = memfd_create ("layer", 0);
  CHECK (fd >= 0 && write (fd, b.buf, b.len) == (ssize_t)b.len, "memfd");
  char *ann = seekable_annotations (fd, b.len, &err);
  close (fd);
  char *usize = xasprintf ("\"%s\":\"%llu\"", TOC_ANN_ESTARGZ_USIZE,
                           (unsigned long long)res.tar_size);
  CHECK (ann && strstr (ann, usize),
         "estargz: uncompressed-size annotation is the tar's size (%s)",
         ann ? ann : "");
  struct toc_location aloc;
  CHECK (ann && toc_locate_annotations (ann, &aloc, &err) == 1
             && aloc.format == TOC_ESTARGZ && aloc.length == 0
             && !strcmp (aloc.digest, t->toc_digest),
         "estargz: annotations give the digest, the footer the place");
  size_t n = TOC_FOOTER_MAX;
  CHECK (toc_locate_footer ((uint8_t *)b.buf + b.len - n, n, b.len, &aloc, &err)
                 == 1
             && aloc.offset == loc.offset,
         "estargz: footer completes the annotations");
  /* a TOC that is not the one the annotation names */
  aloc.digest[9] = aloc.digest[9] == '0' ? '1' : '0';
  struct toc *bad = toc_parse (&aloc, (uint8_t *)b.buf + aloc.offset,
                               aloc.length, b.len, &err);
  CHECK (!bad && err && strstr (err->msg, "digest mismatch"),
         "estargz: a toc that is not the annotated one is refused");
  toc_free (bad);
  err_clear (&err);
  /* a chunk's bytes changed in the blob: refused on read */
  const struct toc_entry *e = toc_lookup (t, "big");
  b.buf[e->chunks[1].offset + 30] ^= 0x55;
  size_t len;
  char *why;
  char *data = read_file (t, &b, "big", &len, &why);
  CHECK (!data && why, "estargz: corrupt content is refused: %s",
         why ? why : "");
  free (data), free (why);
  free (usize);
  free (ann);
  toc_free (t);
  strbuf_release (&b);
}

static void
test_not_seekable (void)
{
  struct strbuf b = STRBUF_INIT;
  struct layer_result res = { 0 };
  struct toc_location loc = { 0 };
  struct err *err = NULL;
  CHECK (write_layer (LAYER_GZIP, &b, &res) == 0, "plain gzip layer");
  size_t n = TOC_FOOTER_MAX;
  CHECK (toc_locate_footer ((uint8_t *)b.buf + b.len - n, n, b.len, &loc, &err)
             == 0,
         "plain gzip: no footer");
  CHECK (toc_locate_annotations (NULL, &loc, &err) == 0
             && toc_locate_annotations ("{\"a\":\"b\"}", &loc, &err) == 0,
         "no annotations: not seekable");
  CHECK (toc_locate_annotations ("{\"" TOC_ANN_ZSTD_POSITION "\":\"1:2\"}",
                                 &loc, &err)
             < 0,
         "malformed zstd:chunked annotation refused");
  err_clear (&err);
  CHECK_STR (toc_format_name (TOC_ESTARGZ), "estargz", "format names");
  strbuf_release (&b);
}

int
main (void)
{
  make_big ();
  test_zstd_chunked ();
  test_estargz ();
  test_not_seekable ();
  free (big);
  printf ("1..%d\n", test_n);
  return test_failed ? 1 : 0;
}
