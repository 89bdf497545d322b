/* zstd:chunked's tar-split (vbatts/tar-split's JSON lines, zstd-compressed
 * in a skippable frame): one object per line, in tar order, with
 * "position" counting from 0:
 *   {"type":2,"payload":"<base64 raw bytes>","position":N}  headers, padding
 *   {"type":1,"name":"<path>","size":S,"payload":"<base64 crc64>",
 *    "position":N}                                         a file's content
 * ("name_raw" holds the name in base64 when it is not UTF-8). With the
 * files' contents it rebuilds the exact tar, so the diff_id. */
#include "layers/tarsplit.h"
#include "layers/decompress.h"
#include "layers/toc.h"
#include "lib/base64.h"
#include "lib/err.h"
#include "lib/strbuf.h"
#include "lib/xalloc.h"

#include <inttypes.h>
#include <jansson.h>
#include <pthread.h>
#include <string.h>

/* One line may hold a segment of headers: a few KiB, at most a pax header
 * of a long xattr. */
#define TARSPLIT_LINE_MAX (16u << 20)

struct walk
{
  struct strbuf line;
  int64_t position;
  toc_tarsplit_cb cb;
  void *arg;
};

static int
walk_line (struct walk *w, struct err **err)
{
  json_error_t je;
  json_t *o = json_loadb (w->line.buf, w->line.len, 0, &je);
  int rc = -1;
  json_int_t type = json_integer_value (json_object_get (o, "type"));
  json_t *pos = json_object_get (o, "position");
  const char *payload = json_string_value (json_object_get (o, "payload"));
  if (!json_is_object (o))
    err_set (err, 0, "toc: tar-split line %" PRId64 " is not json: %s",
             w->position, je.text);
  else if (!json_is_integer (pos) || json_integer_value (pos) != w->position)
    err_set (err, 0, "toc: tar-split entry %" PRId64 " is out of order",
             w->position);
  else if (type == 2)
    {
      size_t len = 0;
      char *raw = payload ? base64_decode (payload, &len) : NULL;
      if (!raw)
        err_set (err, 0, "toc: tar-split entry %" PRId64 " has a bad payload",
                 w->position);
      else
        rc = w->cb (w->arg, (const uint8_t *)raw, len, NULL, 0, err);
      free (raw);
    }
  else if (type == 1)
    {
      const char *name = json_string_value (json_object_get (o, "name"));
      const char *name_raw
          = json_string_value (json_object_get (o, "name_raw"));
      json_t *size = json_object_get (o, "size");
      char *decoded
          = name_raw ? base64_decode (name_raw, &(size_t){ 0 }) : NULL;
      if (decoded)
        name = decoded;
      if (!name || !name[0] || (size && !json_is_integer (size))
          || json_integer_value (size) < 0)
        err_set (err, 0, "toc: tar-split entry %" PRId64 " is malformed",
                 w->position);
      else
        rc = w->cb (w->arg, NULL, 0, name, (uint64_t)json_integer_value (size),
                    err);
      free (decoded);
    }
  else
    err_set (err, 0, "toc: tar-split entry %" PRId64 " has unknown type",
             w->position);
  json_decref (o);
  w->position++;
  return rc;
}

static int
walk_sink (void *arg, const uint8_t *buf, size_t len, struct err **err)
{
  struct walk *w = arg;
  while (len)
    {
      const uint8_t *nl = memchr (buf, '\n', len);
      size_t n = nl ? (size_t)(nl - buf) : len;
      if (n > TARSPLIT_LINE_MAX - w->line.len)
        return err_set (err, 0, "toc: tar-split line longer than %u bytes",
                        TARSPLIT_LINE_MAX);
      strbuf_add (&w->line, buf, n);
      buf += n;
      len -= n;
      if (nl)
        {
          buf++, len--;
          if (w->line.len && walk_line (w, err) < 0)
            return -1;
          strbuf_reset (&w->line);
        }
    }
  return 0;
}

int
toc_tarsplit_walk (const struct toc *t, const uint8_t *buf, size_t len,
                   toc_tarsplit_cb cb, void *arg, struct err **err)
{
  char got[DIGEST_STR_LEN + 1];
  if (t->format != TOC_ZSTD_CHUNKED || !t->loc.tarsplit_length)
    return err_set (err, 0, "toc: the layer has no tar-split");
  if (!t->tarsplit_digest[0])
    return err_set (err, 0, "toc: no tarSplitDigest to check the tar-split");
  if (len != t->loc.tarsplit_length)
    return err_set (err, 0, "toc: tar-split is %" PRIu64 " bytes, %zu given",
                    t->loc.tarsplit_length, len);
  digest_buf (buf, len, got);
  if (strcmp (got, t->tarsplit_digest) != 0)
    return err_set (err, 0, "toc: tar-split digest mismatch: %s, expected %s",
                    got, t->tarsplit_digest);
  if (layer_compression_sniff (buf, len) != LAYER_ZSTD)
    return err_set (err, 0, "toc: tar-split is not zstd data");
  struct walk w = { .line = STRBUF_INIT, .cb = cb, .arg = arg };
  struct layer_decomp *d = layer_decomp_new (walk_sink, &w);
  int rc = layer_decomp_feed (d, buf, len, err);
  if (rc == 0)
    rc = layer_decomp_finish (d, err);
  if (rc == 0 && w.line.len)
    rc = walk_line (&w, err);
  layer_decomp_free (d);
  strbuf_release (&w.line);
  return rc;
}

/* ---- writing ------------------------------------------------------------ */

void
tarsplit_init (struct tarsplit_writer *w)
{
  strbuf_init (&w->lines, 0);
  strbuf_init (&w->seg, 0);
  w->pos = 0;
}

void
tarsplit_release (struct tarsplit_writer *w)
{
  strbuf_release (&w->lines);
  strbuf_release (&w->seg);
}

static void
put_line (struct tarsplit_writer *w, json_t *o)
{
  json_object_set_new (o, "position", json_integer (w->pos++));
  char *s = json_dumps (o, JSON_COMPACT);
  strbuf_addstr (&w->lines, s);
  strbuf_addch (&w->lines, '\n');
  free (s);
  json_decref (o);
}

void
tarsplit_raw (struct tarsplit_writer *w, const void *p, size_t n)
{
  strbuf_add (&w->seg, p, n);
}

void
tarsplit_end (struct tarsplit_writer *w)
{
  if (!w->seg.len)
    return;
  char *b64 = base64_encode (w->seg.buf, w->seg.len);
  put_line (w, json_pack ("{s:i,s:s}", "type", 2, "payload", b64));
  free (b64);
  strbuf_reset (&w->seg);
}

void
tarsplit_file (struct tarsplit_writer *w, const char *name, uint64_t size,
               uint64_t crc)
{
  tarsplit_end (w);
  json_t *o = json_object ();
  json_object_set_new (o, "type", json_integer (1));
  json_t *n = json_string (name);
  if (n)
    json_object_set_new (o, "name", n);
  else
    {
      /* not UTF-8 */
      char *b64 = base64_encode (name, strlen (name));
      json_object_set_new (o, "name_raw", json_string (b64));
      free (b64);
    }
  if (size)
    {
      uint8_t be[8];
      for (int i = 0; i < 8; i++)
        be[i] = (uint8_t)(crc >> (56 - 8 * i));
      char *b64 = base64_encode (be, 8);
      json_object_set_new (o, "size", json_integer ((json_int_t)size));
      json_object_set_new (o, "payload", json_string (b64));
      free (b64);
    }
  else
    json_object_set_new (o, "payload", json_null ());
  put_line (w, o);
}

static uint64_t crc_table[256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static void
crc_init (void)
{
  for (unsigned i = 0; i < 256; i++)
    {
      uint64_t c = i;
      for (int k = 0; k < 8; k++)
        c = c & 1 ? (c >> 1) ^ 0xd800000000000000ULL : c >> 1;
      crc_table[i] = c;
    }
}

uint64_t
tarsplit_crc64 (uint64_t crc, const uint8_t *p, size_t n)
{
  pthread_once (&crc_once, crc_init);
  crc = ~crc;
  while (n--)
    crc = crc_table[(uint8_t)crc ^ *p++] ^ (crc >> 8);
  return ~crc;
}
