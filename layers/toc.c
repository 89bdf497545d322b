/* Seekable layers' tables of contents: locate, parse, check (toc.h).
 * The formats' facts: containers/storage pkg/chunked/internal/minimal
 * (zstd:chunked) and stargz-snapshotter estargz/ (eStargz); summarised in
 * docs/architecture.md. */
#include "layers/toc.h"
#include "layers/decompress.h"
#include "layers/tar.h"
#include "lib/base64.h"
#include "lib/err.h"
#include "lib/human.h"
#include "lib/strbuf.h"
#include "lib/xalloc.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static const uint8_t zstd_skippable_magic[4] = { 0x50, 0x2a, 0x4d, 0x18 };
static const uint8_t zstd_chunked_magic[8]
    = { 0x47, 0x4e, 0x55, 0x6c, 0x49, 0x6e, 0x55, 0x78 }; /* "GNUlInUx" */

const char *
toc_format_name (enum toc_format f)
{
  switch (f)
    {
    case TOC_ZSTD_CHUNKED:
      return "zstd:chunked";
    case TOC_ESTARGZ:
      return "estargz";
    default:
      return "none";
    }
}

/* ---- numbers ---------------------------------------------------------- */

static uint64_t
le64 (const uint8_t *p)
{
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--)
    v = v << 8 | p[i];
  return v;
}

static uint32_t
le32 (const uint8_t *p)
{
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16
         | (uint32_t)p[3] << 24;
}

/* "a:b:c" with exactly n decimal fields; 0 or -1. */
static int
parse_fields (const char *s, uint64_t *out, size_t n)
{
  for (size_t i = 0; i < n; i++)
    {
      if (*s < '0' || *s > '9')
        return -1;
      errno = 0;
      char *end;
      unsigned long long v = strtoull (s, &end, 10);
      if (errno)
        return -1;
      out[i] = v;
      s = end;
      if (i + 1 < n && *s++ != ':')
        return -1;
    }
  return *s ? -1 : 0;
}

/* [off, off + len) inside [0, limit)? */
static bool
range_ok (uint64_t off, uint64_t len, uint64_t limit)
{
  return off <= limit && len <= limit - off;
}

/* ---- locating --------------------------------------------------------- */

int
toc_locate_annotations (const char *annotations_json, struct toc_location *loc,
                        struct err **err)
{
  memset (loc, 0, sizeof *loc);
  if (!annotations_json)
    return 0;
  json_t *a = json_loads (annotations_json, 0, NULL);
  if (!json_is_object (a))
    {
      json_decref (a);
      return err_set (err, 0, "toc: layer annotations are not a json object");
    }
  const char *zpos
      = json_string_value (json_object_get (a, TOC_ANN_ZSTD_POSITION));
  const char *zsum
      = json_string_value (json_object_get (a, TOC_ANN_ZSTD_CHECKSUM));
  const char *zts
      = json_string_value (json_object_get (a, TOC_ANN_ZSTD_TARSPLIT));
  const char *sdig
      = json_string_value (json_object_get (a, TOC_ANN_ESTARGZ_DIGEST));
  const char *susz
      = json_string_value (json_object_get (a, TOC_ANN_ESTARGZ_USIZE));
  int rc = 0;
  if (zpos || zsum)
    {
      uint64_t f[4], ts[3];
      loc->format = TOC_ZSTD_CHUNKED;
      if (!zpos || parse_fields (zpos, f, 4) < 0 || f[3] != 1 || f[1] == 0)
        rc = err_set (err, 0, "toc: bad annotation %s '%s'",
                      TOC_ANN_ZSTD_POSITION, zpos ? zpos : "");
      else if (!zsum || !digest_is_sha256 (zsum))
        rc = err_set (err, 0, "toc: bad annotation %s '%s'",
                      TOC_ANN_ZSTD_CHECKSUM, zsum ? zsum : "");
      else if (zts && parse_fields (zts, ts, 3) < 0)
        rc = err_set (err, 0, "toc: bad annotation %s '%s'",
                      TOC_ANN_ZSTD_TARSPLIT, zts);
      else
        {
          loc->offset = f[0];
          loc->length = f[1];
          loc->uncompressed_length = f[2];
          snprintf (loc->digest, sizeof loc->digest, "%s", zsum);
          if (zts)
            {
              loc->tarsplit_offset = ts[0];
              loc->tarsplit_length = ts[1];
              loc->tarsplit_uncompressed_length = ts[2];
            }
          rc = 1;
        }
    }
  else if (sdig)
    {
      uint64_t usz = 0;
      loc->format = TOC_ESTARGZ;
      if (!digest_is_sha256 (sdig))
        rc = err_set (err, 0, "toc: bad annotation %s '%s'",
                      TOC_ANN_ESTARGZ_DIGEST, sdig);
      else if (susz && parse_fields (susz, &usz, 1) < 0)
        rc = err_set (err, 0, "toc: bad annotation %s '%s'",
                      TOC_ANN_ESTARGZ_USIZE, susz);
      else
        {
          snprintf (loc->digest, sizeof loc->digest, "%s", sdig);
          loc->uncompressed_size = usz;
          rc = 1;
        }
    }
  json_decref (a);
  if (rc < 0)
    memset (loc, 0, sizeof *loc);
  return rc;
}

/* The 64-byte payload of zstd:chunked's footer frame. */
static int
footer_zstd (const uint8_t *p, uint64_t blob_size, struct toc_location *f,
             struct err **err)
{
  uint64_t limit = blob_size - TOC_ZSTD_FOOTER_SIZE;
  f->format = TOC_ZSTD_CHUNKED;
  f->offset = le64 (p);
  f->length = le64 (p + 8);
  f->uncompressed_length = le64 (p + 16);
  uint64_t type = le64 (p + 24);
  f->tarsplit_offset = le64 (p + 32);
  f->tarsplit_length = le64 (p + 40);
  f->tarsplit_uncompressed_length = le64 (p + 48);
  if (type != 1)
    return err_set (
        err, 0, "toc: zstd:chunked footer has manifest type %" PRIu64 ", not 1",
        type);
  if (f->length == 0 || !range_ok (f->offset, f->length, limit)
      || !range_ok (f->tarsplit_offset, f->tarsplit_length, limit))
    return err_set (err, 0, "toc: zstd:chunked footer points outside the blob");
  return 1;
}

/* eStargz's footer: an empty gzip member whose extra field holds
 * "%016xSTARGZ" (51 bytes: in an "SG" subfield; 47: legacy, bare). */
static int
footer_estargz (const uint8_t *tail, size_t n, uint64_t blob_size,
                struct toc_location *f)
{
  static const size_t sizes[] = { 51, 47 };
  for (size_t i = 0; i < 2; i++)
    {
      size_t fs = sizes[i];
      if (n < fs)
        continue;
      const uint8_t *p = tail + n - fs;
      if (p[0] != 0x1f || p[1] != 0x8b || p[2] != 8 || !(p[3] & 4))
        continue;
      const uint8_t *x = p + 12;
      if (fs == 51)
        {
          if (p[10] != 26 || p[11] != 0 || x[0] != 'S' || x[1] != 'G'
              || x[2] != 22 || x[3] != 0)
            continue;
          x += 4;
        }
      else if (p[10] != 22 || p[11] != 0)
        continue;
      if (memcmp (x + 16, "STARGZ", 6) != 0)
        continue;
      char hex[17];
      memcpy (hex, x, 16);
      hex[16] = 0;
      char *end;
      errno = 0;
      unsigned long long off = strtoull (hex, &end, 16);
      if (errno || *end || hex[0] == '-' || hex[0] == '+')
        continue;
      f->format = TOC_ESTARGZ;
      f->offset = off;
      f->length = off < blob_size - fs ? blob_size - fs - off : 0;
      return 1;
    }
  return 0;
}

int
toc_locate_footer (const uint8_t *tail, size_t n, uint64_t blob_size,
                   struct toc_location *loc, struct err **err)
{
  struct toc_location f = { 0 };
  int rc = 0;
  if (n > blob_size)
    return err_set (err, 0, "toc: footer longer than the blob");
  if (n >= TOC_ZSTD_FOOTER_SIZE)
    {
      const uint8_t *p = tail + n - TOC_ZSTD_FOOTER_SIZE;
      if (memcmp (p, zstd_skippable_magic, 4) == 0 && le32 (p + 4) == 64
          && memcmp (p + 8 + 56, zstd_chunked_magic, 8) == 0)
        rc = footer_zstd (p + 8, blob_size, &f, err);
    }
  if (rc == 0)
    rc = footer_estargz (tail, n, blob_size, &f);
  if (rc <= 0)
    return rc;
  if (f.format == TOC_ESTARGZ && f.length == 0)
    return err_set (err, 0, "toc: estargz footer points outside the blob");
  if (loc->format != TOC_NONE && loc->format != f.format)
    return err_set (err, 0, "toc: the layer's footer is %s, its annotations %s",
                    toc_format_name (f.format), toc_format_name (loc->format));
  if (loc->length
      && (loc->offset != f.offset || loc->length != f.length
          || loc->tarsplit_offset != f.tarsplit_offset
          || loc->tarsplit_length != f.tarsplit_length))
    return err_set (err, 0,
                    "toc: the footer and the annotations disagree on where "
                    "the toc is");
  f.uncompressed_size = loc->uncompressed_size;
  if (!f.uncompressed_length)
    f.uncompressed_length = loc->uncompressed_length;
  memcpy (f.digest, loc->digest, sizeof f.digest);
  *loc = f;
  return 1;
}

/* ---- decompressing small things ---------------------------------------- */

struct capped
{
  struct strbuf sb;
  size_t cap;
};

static int
capped_sink (void *arg, const uint8_t *buf, size_t len, struct err **err)
{
  struct capped *c = arg;
  if (len > c->cap - c->sb.len)
    return err_set (err, 0, "larger than %zu bytes", c->cap);
  strbuf_add (&c->sb, buf, len);
  return 0;
}

/* Decompress all of buf (zstd or gzip, as `want` says) into out, at most cap
 * bytes. */
static int
decompress_all (enum layer_compression want, const uint8_t *buf, size_t len,
                size_t cap, struct strbuf *out, struct err **err)
{
  if (layer_compression_sniff (buf, len) != want)
    return err_set (err, 0, "not %s data",
                    want == LAYER_ZSTD ? "zstd" : "gzip");
  struct capped c = { .sb = STRBUF_INIT, .cap = cap };
  struct layer_decomp *d = layer_decomp_new (capped_sink, &c);
  int rc = layer_decomp_feed (d, buf, len, err);
  if (rc == 0)
    rc = layer_decomp_finish (d, err);
  layer_decomp_free (d);
  if (rc < 0)
    strbuf_release (&c.sb);
  else
    *out = c.sb;
  return rc;
}

/* ---- parsing ------------------------------------------------------------ */

/* The TOC tar entry of an eStargz layer. */
struct tocjson
{
  bool in_toc;
  bool seen;
  struct strbuf json;
};

static int
tocjson_entry (void *arg, const struct tar_entry *e, struct err **err)
{
  struct tocjson *t = arg;
  const char *n = e->path;
  while (n[0] == '.' && n[1] == '/')
    n += 2;
  t->in_toc
      = !t->seen && e->type == TAR_REG && strcmp (n, TOC_ESTARGZ_NAME) == 0;
  if (!t->in_toc)
    return err_set (err, 0, "toc: estargz toc member holds '%s', not %s",
                    e->path, TOC_ESTARGZ_NAME);
  if (e->size > TOC_MAX_SIZE)
    return err_set (err, 0, "toc: %s is larger than %u bytes", TOC_ESTARGZ_NAME,
                    TOC_MAX_SIZE);
  t->seen = true;
  return 0;
}

static int
tocjson_data (void *arg, const uint8_t *buf, size_t len, struct err **err)
{
  struct tocjson *t = arg;
  strbuf_add (&t->json, buf, len);
  return 0;
}

static int
tocjson_end (void *arg, struct err **err)
{
  return 0;
}

static int
estargz_json (const struct strbuf *tarbytes, struct strbuf *json,
              struct err **err)
{
  static const struct tar_callbacks cb
      = { tocjson_entry, tocjson_data, tocjson_end };
  struct tocjson t = { .json = STRBUF_INIT };
  struct tar_reader *r = tar_reader_new (&cb, &t);
  int rc
      = tar_reader_feed (r, (const uint8_t *)tarbytes->buf, tarbytes->len, err);
  if (rc == 0)
    rc = tar_reader_finish (r, err);
  tar_reader_free (r);
  if (rc == 0 && !t.seen)
    rc = err_set (err, 0, "toc: estargz toc member holds no %s",
                  TOC_ESTARGZ_NAME);
  if (rc < 0)
    strbuf_release (&t.json);
  else
    *json = t.json;
  return rc;
}

static int
check_digest (const char *what, const void *buf, size_t len, const char *want,
              struct err **err)
{
  char got[DIGEST_STR_LEN + 1];
  if (!want[0])
    return 0;
  digest_buf (buf, len, got);
  if (strcmp (got, want) != 0)
    return err_set (err, 0, "toc: %s digest mismatch: %s, expected %s", what,
                    got, want);
  return 0;
}

struct toc *
toc_parse (const struct toc_location *loc, const uint8_t *buf, size_t len,
           uint64_t blob_size, struct err **err)
{
  struct strbuf plain = STRBUF_INIT, json = STRBUF_INIT;
  struct toc *t = NULL;
  if (loc->format == TOC_NONE || loc->length == 0)
    {
      err_set (err, 0, "toc: location unknown");
      return NULL;
    }
  if (len != loc->length || len > TOC_MAX_SIZE
      || !range_ok (loc->offset, loc->length, blob_size))
    {
      err_set (err, 0,
               "toc: %zu bytes at offset %" PRIu64
               " do not fit a toc of %" PRIu64 " in a blob of %" PRIu64,
               len, loc->offset, loc->length, blob_size);
      return NULL;
    }
  if (loc->format == TOC_ZSTD_CHUNKED)
    {
      /* zstd:chunked's digest is of the compressed bytes */
      if (check_digest ("zstd:chunked manifest", buf, len, loc->digest, err)
          < 0)
        return NULL;
      if (decompress_all (LAYER_ZSTD, buf, len, TOC_MAX_SIZE, &json, err) < 0)
        {
          err_wrap (err, "toc: zstd:chunked manifest");
          return NULL;
        }
      if (loc->uncompressed_length && json.len != loc->uncompressed_length)
        {
          err_set (err, 0,
                   "toc: zstd:chunked manifest is %zu bytes, not %" PRIu64,
                   json.len, loc->uncompressed_length);
          goto out;
        }
    }
  else
    {
      if (decompress_all (LAYER_GZIP, buf, len, TOC_MAX_SIZE + 4096, &plain,
                          err)
          < 0)
        {
          err_wrap (err, "toc: estargz toc");
          return NULL;
        }
      if (estargz_json (&plain, &json, err) < 0)
        goto out;
      /* eStargz's digest is of the JSON */
      if (check_digest (TOC_ESTARGZ_NAME, json.buf, json.len, loc->digest, err)
          < 0)
        goto out;
    }
  t = toc_parse_json (loc, json.buf, json.len, blob_size, err);
out:
  strbuf_release (&plain);
  strbuf_release (&json);
  return t;
}

static enum toc_type
type_of (const char *s)
{
  static const char *const names[] = {
    [TOC_REG] = "reg",         [TOC_DIR] = "dir",
    [TOC_SYMLINK] = "symlink", [TOC_HARDLINK] = "hardlink",
    [TOC_CHAR] = "char",       [TOC_BLOCK] = "block",
    [TOC_FIFO] = "fifo",       [TOC_CHUNK] = "chunk",
  };
  for (size_t i = 0; s && i < sizeof names / sizeof *names; i++)
    if (strcmp (s, names[i]) == 0)
      return (enum toc_type)i;
  return (enum toc_type) - 1;
}

/* path.Clean("/" + name) without the leading "/", "." for the root; NULL
 * when a ".." component would climb (refused, not resolved). */
static char *
normalise (const char *name)
{
  struct strbuf sb = STRBUF_INIT;
  const char *p = name;
  while (*p)
    {
      while (*p == '/')
        p++;
      const char *e = strchrnul (p, '/');
      size_t n = (size_t)(e - p);
      if (n == 2 && p[0] == '.' && p[1] == '.')
        {
          strbuf_release (&sb);
          return NULL;
        }
      if (n && !(n == 1 && p[0] == '.'))
        {
          if (sb.len)
            strbuf_addch (&sb, '/');
          strbuf_add (&sb, p, n);
        }
      p = e;
    }
  if (!sb.len)
    strbuf_addch (&sb, '.');
  return strbuf_detach (&sb, NULL);
}

/* A non-negative integer member (0 when missing); -1 when it is something
 * else. */
static int
get_u64 (json_t *o, const char *key, uint64_t max, uint64_t *out)
{
  json_t *v = json_object_get (o, key);
  *out = 0;
  if (!v || json_is_null (v))
    return 0;
  if (!json_is_integer (v) || json_integer_value (v) < 0
      || (uint64_t)json_integer_value (v) > max)
    return -1;
  *out = (uint64_t)json_integer_value (v);
  return 0;
}

/* A digest member: "" when missing; -1 when not a sha256 digest. */
static int
get_digest (json_t *o, const char *key, char out[DIGEST_STR_LEN + 1])
{
  json_t *v = json_object_get (o, key);
  out[0] = 0;
  if (!v || (json_is_string (v) && !json_string_value (v)[0]))
    return 0;
  if (!json_is_string (v) || !digest_is_sha256 (json_string_value (v)))
    return -1;
  memcpy (out, json_string_value (v), DIGEST_STR_LEN + 1);
  return 0;
}

/* RFC 3339 with the fraction kept as nanoseconds. */
static int
get_time (json_t *o, int64_t *sec, uint32_t *nsec)
{
  const char *s = json_string_value (json_object_get (o, "modtime"));
  time_t t;
  *sec = 0;
  *nsec = 0;
  if (!s)
    return 0;
  if (rfc3339_parse (s, &t) < 0)
    return -1;
  *sec = t;
  const char *dot = strchr (s, '.');
  if (dot && strchr (s, 'T') < dot)
    {
      uint32_t ns = 0;
      int digits = 0;
      for (const char *p = dot + 1; *p >= '0' && *p <= '9'; p++)
        if (digits < 9)
          ns = ns * 10 + (uint32_t)(*p - '0'), digits++;
      for (; digits < 9; digits++)
        ns *= 10;
      *nsec = ns;
    }
  return 0;
}

static int
get_xattrs (json_t *o, struct toc_entry *e)
{
  json_t *x = json_object_get (o, "xattrs");
  const char *k;
  json_t *v;
  if (!x || json_is_null (x))
    return 0;
  if (!json_is_object (x))
    return -1;
  e->xattrs = xcalloc (json_object_size (x) + 1, sizeof *e->xattrs);
  json_object_foreach (x, k, v)
  {
    size_t len;
    char *val = json_is_string (v) ? base64_decode (json_string_value (v), &len)
                                   : NULL;
    if (!val)
      return -1;
    struct toc_xattr *xa = &e->xattrs[e->n_xattrs++];
    xa->name = xstrdup (k);
    xa->value = (uint8_t *)val;
    xa->len = len;
  }
  return 0;
}

static void
entry_release (struct toc_entry *e)
{
  free (e->name);
  free (e->link_name);
  for (size_t i = 0; i < e->n_xattrs; i++)
    {
      free (e->xattrs[i].name);
      free (e->xattrs[i].value);
    }
  free (e->xattrs);
  free (e->chunks);
}

void
toc_free (struct toc *t)
{
  if (!t)
    return;
  for (size_t i = 0; i < t->n_entries; i++)
    entry_release (&t->entries[i]);
  free (t->entries);
  free (t->by_name);
  free (t);
}

/* A chunk as the JSON gives it, before its end is known. */
static int
add_chunk (struct toc_entry *e, json_t *o, enum toc_format fmt, uint64_t limit)
{
  struct toc_chunk c = { 0 };
  uint64_t chunk_size;
  if (get_u64 (o, "offset", limit, &c.offset) < 0
      || get_u64 (o, "chunkOffset", e->size, &c.file_offset) < 0
      || get_u64 (o, "chunkSize", e->size, &chunk_size) < 0
      || get_u64 (o, "innerOffset", UINT32_MAX, &c.inner_offset) < 0
      || get_digest (o, "chunkDigest", c.digest) < 0)
    return -1;
  const char *ct = json_string_value (json_object_get (o, "chunkType"));
  if (ct && ct[0] && strcmp (ct, "zeros") != 0)
    return -1;
  c.zeros = ct && ct[0];
  if (fmt == TOC_ESTARGZ || e->n_chunks)
    /* eStargz: chunkSize 0 means "to the end of the file" */
    c.size = chunk_size ? chunk_size : e->size - c.file_offset;
  else
    c.size = chunk_size; /* fixed up once all chunks are known */
  e->chunks = xrealloc (e->chunks, (e->n_chunks + 1) * sizeof *e->chunks);
  e->chunks[e->n_chunks++] = c;
  return 0;
}

static int
parse_entry (json_t *o, struct toc *t, uint64_t limit, struct err **err)
{
  const char *name = json_string_value (json_object_get (o, "name"));
  const char *type = json_string_value (json_object_get (o, "type"));
  enum toc_type ty = type_of (type);
  char *norm = name ? normalise (name) : NULL;
  if (!norm)
    return err_set (err, 0, "toc: entry name '%s' is not a path in the layer",
                    name ? name : "");
  if ((int)ty < 0)
    {
      err_set (err, 0, "toc: '%s' has unknown type '%s'", norm,
               type ? type : "");
      free (norm);
      return -1;
    }
  if (ty == TOC_CHUNK)
    {
      struct toc_entry *prev
          = t->n_entries ? &t->entries[t->n_entries - 1] : NULL;
      int rc = 0;
      if (!prev || prev->type != TOC_REG || strcmp (prev->name, norm) != 0)
        rc = err_set (err, 0, "toc: chunk of '%s' does not follow its file",
                      norm);
      else if (add_chunk (prev, o, t->format, limit) < 0)
        rc = err_set (err, 0, "toc: '%s' has a malformed chunk", norm);
      free (norm);
      return rc;
    }
  t->entries = xrealloc (t->entries, (t->n_entries + 1) * sizeof *t->entries);
  struct toc_entry *e = &t->entries[t->n_entries++];
  memset (e, 0, sizeof *e);
  e->type = ty;
  e->name = norm;
  uint64_t mode, uid, gid, maj, min, end;
  const char *link = json_string_value (json_object_get (o, "linkName"));
  if (get_u64 (o, "mode", UINT32_MAX, &mode) < 0
      || get_u64 (o, "uid", UINT32_MAX, &uid) < 0
      || get_u64 (o, "gid", UINT32_MAX, &gid) < 0
      || get_u64 (o, "devMajor", UINT32_MAX, &maj) < 0
      || get_u64 (o, "devMinor", UINT32_MAX, &min) < 0
      || get_u64 (o, "size", INT64_MAX, &e->size) < 0
      || get_digest (o, "digest", e->digest) < 0
      || get_time (o, &e->mtime_sec, &e->mtime_nsec) < 0
      || get_xattrs (o, e) < 0)
    return err_set (err, 0, "toc: '%s' has a malformed field", norm);
  e->mode = (uint32_t)mode & 07777;
  e->uid = (uint32_t)uid;
  e->gid = (uint32_t)gid;
  e->dev_major = (uint32_t)maj;
  e->dev_minor = (uint32_t)min;
  if (ty == TOC_SYMLINK || ty == TOC_HARDLINK)
    {
      if (!link || !link[0])
        return err_set (err, 0, "toc: link '%s' has no target", norm);
      e->link_name = ty == TOC_HARDLINK ? normalise (link) : xstrdup (link);
      if (!e->link_name)
        return err_set (err, 0, "toc: hardlink '%s' points outside the layer",
                        norm);
    }
  if (ty != TOC_REG)
    {
      e->size = 0;
      e->digest[0] = 0;
      return 0;
    }
  if (e->size == 0)
    return 0;
  if (add_chunk (e, o, t->format, limit) < 0
      || get_u64 (o, "endOffset", limit, &end) < 0)
    return err_set (err, 0, "toc: '%s' has a malformed field", norm);
  /* zstd:chunked gives the file's end in its first entry: keep it in the
   * first chunk's end until all chunks are known */
  e->chunks[0].end = end;
  return 0;
}

/* Ends of chunk ranges and sizes of zstd:chunked's single chunks, then the
 * checks that every file's chunks cover it exactly, inside the blob, before
 * the TOC. */
static int
finish_chunks (struct toc *t, uint64_t limit, struct err **err)
{
  /* eStargz: a chunk ends where the next distinct offset starts (entries
   * are in blob order), the last one at the TOC */
  uint64_t next = limit;
  for (size_t i = t->n_entries; t->format == TOC_ESTARGZ && i-- > 0;)
    {
      struct toc_entry *e = &t->entries[i];
      for (size_t j = e->n_chunks; j-- > 0;)
        {
          e->chunks[j].end = next;
          if (e->chunks[j].offset < next)
            next = e->chunks[j].offset;
        }
    }
  for (size_t i = 0; i < t->n_entries; i++)
    {
      struct toc_entry *e = &t->entries[i];
      if (e->type != TOC_REG || e->size == 0)
        continue;
      if (t->format == TOC_ZSTD_CHUNKED)
        {
          uint64_t file_end = e->chunks[0].end;
          if (e->n_chunks == 1)
            {
              e->chunks[0].size = e->size;
              if (!e->chunks[0].digest[0])
                memcpy (e->chunks[0].digest, e->digest, sizeof e->digest);
            }
          for (size_t j = 0; j < e->n_chunks; j++)
            e->chunks[j].end
                = j + 1 < e->n_chunks ? e->chunks[j + 1].offset : file_end;
        }
      uint64_t at = 0;
      for (size_t j = 0; j < e->n_chunks; j++)
        {
          struct toc_chunk *c = &e->chunks[j];
          if (c->file_offset != at || c->size == 0 || c->size > e->size - at)
            return err_set (err, 0,
                            "toc: '%s' chunks do not cover the file (chunk at "
                            "%" PRIu64 ")",
                            e->name, c->file_offset);
          if (c->offset == 0 || c->end <= c->offset || c->end > limit)
            return err_set (err, 0,
                            "toc: '%s' has a content range [%" PRIu64
                            ", %" PRIu64 ") outside the layer's data",
                            e->name, c->offset, c->end);
          if (!c->digest[0])
            return err_set (err, 0, "toc: '%s' has content without a digest",
                            e->name);
          at += c->size;
        }
      if (at != e->size)
        return err_set (err, 0, "toc: '%s' chunks do not cover the file",
                        e->name);
      if (!e->digest[0])
        return err_set (err, 0, "toc: '%s' has content without a digest",
                        e->name);
    }
  return 0;
}

static int
by_name_cmp (const void *a, const void *b, void *arg)
{
  const struct toc *t = arg;
  size_t x = *(const size_t *)a, y = *(const size_t *)b;
  int c = strcmp (t->entries[x].name, t->entries[y].name);
  return c ? c : (x > y) - (x < y);
}

struct toc *
toc_parse_json (const struct toc_location *loc, const char *json, size_t len,
                uint64_t blob_size, struct err **err)
{
  json_error_t je;
  json_t *root = json_loadb (json, len, 0, &je);
  struct toc *t = xcalloc (1, sizeof *t);
  t->format = loc->format;
  t->loc = *loc;
  t->blob_size = blob_size;
  /* content lies before the TOC */
  uint64_t limit = loc->length ? loc->offset : blob_size;
  if (limit > blob_size)
    limit = blob_size;
  json_t *entries = json_object_get (root, "entries");
  if (!json_is_object (root))
    err_set (err, 0, "toc: not a json object: %s", je.text);
  else if (json_integer_value (json_object_get (root, "version")) != 1)
    err_set (err, 0, "toc: unsupported version");
  else if (!json_is_array (entries))
    err_set (err, 0, "toc: no entries");
  else if (get_digest (root, "tarSplitDigest", t->tarsplit_digest) < 0)
    err_set (err, 0, "toc: bad tarSplitDigest");
  else
    {
      size_t i;
      json_t *o;
      json_array_foreach (entries, i, o)
      {
        if (!json_is_object (o) || parse_entry (o, t, limit, err) < 0)
          {
            err_set (err, 0, "toc: entry %zu is not an object", i);
            goto fail;
          }
      }
      if (finish_chunks (t, limit, err) < 0)
        goto fail;
      t->by_name = xmalloc ((t->n_entries + 1) * sizeof *t->by_name);
      for (i = 0; i < t->n_entries; i++)
        t->by_name[i] = i;
      qsort_r (t->by_name, t->n_entries, sizeof *t->by_name, by_name_cmp, t);
      json_decref (root);
      return t;
    }
fail:
  json_decref (root);
  toc_free (t);
  return NULL;
}

const struct toc_entry *
toc_lookup (const struct toc *t, const char *path)
{
  char *n = normalise (path);
  const struct toc_entry *found = NULL;
  size_t lo = 0, hi = t->n_entries;
  if (!n)
    return NULL;
  /* the last of the equal names: upper bound, then one back */
  while (lo < hi)
    {
      size_t mid = lo + (hi - lo) / 2;
      if (strcmp (t->entries[t->by_name[mid]].name, n) <= 0)
        lo = mid + 1;
      else
        hi = mid;
    }
  if (lo > 0 && strcmp (t->entries[t->by_name[lo - 1]].name, n) == 0)
    found = &t->entries[t->by_name[lo - 1]];
  free (n);
  return found;
}
