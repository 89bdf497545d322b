/* zstd:chunked's tar-split (vbatts/tar-split's JSON lines, zstd-compressed
 * in a skippable frame): one object per line, in tar order, with
 * "position" counting from 0:
 *   {"type":2,"payload":"<base64 raw bytes>","position":N}  headers, padding
 *   {"type":1,"name":"<path>","size":S,"payload":"<base64 crc64>",
 *    "position":N}                                         a file's content
 * ("name_raw" holds the name in base64 when it is not UTF-8). With the
 * files' contents it rebuilds the exact tar, so the diff_id. */
#include "layers/decompress.h"
#include "layers/toc.h"
#include "lib/base64.h"
#include "lib/err.h"
#include "lib/strbuf.h"
#include "lib/xalloc.h"

#include <inttypes.h>
#include <jansson.h>
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
