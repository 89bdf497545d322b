/* A tiny in-memory tar writer for the unit tests (ustar headers, pax
 * records for long names and xattrs, GNU long names), and gzip/zstd
 * wrappers. Header-only: each test program includes it once. */
#ifndef IMGTOOL_TEST_TARBUILD_H
#define IMGTOOL_TEST_TARBUILD_H

#include "lib/strbuf.h"
#include "lib/xalloc.h"

#include <stdio.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

struct tb
{
  struct strbuf sb;
};

struct ent
{
  char type; /* tar typeflag */
  const char *name;
  const char *link;
  unsigned mode, uid, gid;
  long long mtime;
  const char *data;
  unsigned major, minor;
  const char *xattr_name, *xattr_value;
  int gnu_longname; /* use a GNU 'L' record instead of pax for the name */
};

static __attribute__ ((unused)) void
octal (char *f, size_t n, unsigned long long v)
{
  /* n - 1 octal digits, then NUL; caller's values fit */
  f[n - 1] = '\0';
  for (size_t i = n - 1; i-- > 0; v >>= 3)
    f[i] = (char)('0' + (v & 7));
}

static __attribute__ ((unused)) void
header (struct tb *t, char type, const char *name, const char *link,
        unsigned mode, unsigned uid, unsigned gid, long long mtime, size_t size,
        unsigned major, unsigned minor)
{
  char h[512] = { 0 };
  unsigned sum = 0;
  strncpy (h, name, 100);
  octal (h + 100, 8, mode);
  octal (h + 108, 8, uid);
  octal (h + 116, 8, gid);
  octal (h + 124, 12, size);
  octal (h + 136, 12, (unsigned long long)mtime);
  h[156] = type;
  if (link)
    strncpy (h + 157, link, 100);
  memcpy (h + 257,
          "ustar\0"
          "00",
          8);
  octal (h + 329, 8, major);
  octal (h + 337, 8, minor);
  memset (h + 148, ' ', 8);
  for (int i = 0; i < 512; i++)
    sum += (unsigned char)h[i];
  snprintf (h + 148, 8, "%06o", sum);
  strbuf_add (&t->sb, h, 512);
}

static __attribute__ ((unused)) void
body (struct tb *t, const char *data, size_t len)
{
  static const char zeros[512];
  strbuf_add (&t->sb, data, len);
  strbuf_add (&t->sb, zeros, (512 - len % 512) % 512);
}

static __attribute__ ((unused)) void
pax_rec (struct strbuf *sb, const char *key, const char *val)
{
  size_t n = strlen (key) + strlen (val) + 3, len = n + 1;
  while (snprintf (NULL, 0, "%zu", len) + n != len)
    len++;
  strbuf_addf (sb, "%zu %s=%s\n", len, key, val);
}

static __attribute__ ((unused)) void
add (struct tb *t, const struct ent *e)
{
  size_t size = e->data ? strlen (e->data) : 0;
  const char *name = e->name;
  struct strbuf pax = STRBUF_INIT;
  if (strlen (e->name) > 100 && e->gnu_longname)
    {
      header (t, 'L', "././@LongLink", NULL, 0, 0, 0, 0, strlen (e->name) + 1,
              0, 0);
      body (t, e->name, strlen (e->name) + 1);
      name = "longname-placeholder";
    }
  else if (strlen (e->name) > 100)
    pax_rec (&pax, "path", e->name);
  if (e->xattr_name)
    {
      char key[256];
      snprintf (key, sizeof key, "SCHILY.xattr.%s", e->xattr_name);
      pax_rec (&pax, key, e->xattr_value);
    }
  if (pax.len)
    {
      header (t, 'x', "PaxHeader", NULL, 0, 0, 0, 0, pax.len, 0, 0);
      body (t, pax.buf, pax.len);
    }
  strbuf_release (&pax);
  header (t, e->type, name, e->link, e->mode ? e->mode : 0644, e->uid, e->gid,
          e->mtime ? e->mtime : 1600000000, e->type == '0' ? size : 0, e->major,
          e->minor);
  if (e->type == '0' && size)
    body (t, e->data, size);
}

static __attribute__ ((unused)) void
tb_end (struct tb *t)
{
  static const char zeros[1024];
  strbuf_add (&t->sb, zeros, sizeof zeros);
}

#define TAR(...)                                                               \
  ({                                                                           \
    static const struct ent ents_[] = { __VA_ARGS__ };                         \
    struct tb t_ = { STRBUF_INIT };                                            \
    for (size_t i_ = 0; i_ < ARRAY_SIZE (ents_); i_++)                         \
      add (&t_, &ents_[i_]);                                                   \
    tb_end (&t_);                                                              \
    t_.sb;                                                                     \
  })

static __attribute__ ((unused)) struct strbuf
gzip_buf (const struct strbuf *in)
{
  struct strbuf out = STRBUF_INIT;
  z_stream z = { 0 };
  strbuf_grow (&out, in->len + 1024);
  deflateInit2 (&z, 6, Z_DEFLATED, 16 + 15, 8, Z_DEFAULT_STRATEGY);
  z.next_in = (Bytef *)in->buf;
  z.avail_in = (uInt)in->len;
  z.next_out = (Bytef *)out.buf;
  z.avail_out = (uInt)(out.alloc - 1);
  deflate (&z, Z_FINISH);
  strbuf_setlen (&out, z.total_out);
  deflateEnd (&z);
  return out;
}

static __attribute__ ((unused)) struct strbuf
zstd_buf (const struct strbuf *in)
{
  struct strbuf out = STRBUF_INIT;
  size_t cap = ZSTD_compressBound (in->len);
  strbuf_grow (&out, cap);
  strbuf_setlen (&out, ZSTD_compress (out.buf, cap, in->buf, in->len, 3));
  return out;
}

#endif
