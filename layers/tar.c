/* A streaming tar reader (see tar.h). Written here rather than taken from
 * libarchive because apply.c needs a push-style reader (pull feeds it from
 * curl's callbacks, and libarchive's reader pulls) and full control over
 * what each header means before anything touches the filesystem. */
#include "layers/tar.h"
#include "lib/err.h"
#include "lib/strbuf.h"
#include "lib/xalloc.h"

#include <errno.h>
#include <string.h>

#define BLOCK 512
#define PAX_MAX (16u << 20)      /* a pax header bigger than this is hostile */
#define LONGNAME_MAX (64u << 10) /* GNU 'L'/'K' names */

enum state
{
  ST_HEADER,
  ST_DATA,
  ST_META,
  ST_SKIP,
  ST_ZERO, /* one zero block seen: the next must be zero too */
  ST_END,
};

struct tar_reader
{
  struct tar_callbacks cb;
  void *arg;
  enum state state;
  uint8_t hdr[BLOCK];
  size_t hdr_len;
  uint64_t remaining; /* data or meta bytes left in the entry */
  uint64_t skip;      /* padding (or ignored bytes) to skip next */
  char meta_kind;     /* 'x', 'L' or 'K' while in ST_META */
  char pending;       /* the last such header, until an entry takes it */
  struct strbuf meta;
  /* from pax and GNU headers, for the next entry */
  char *pax_path, *pax_linkpath, *gnu_path, *gnu_linkpath;
  bool has_size, has_uid, has_gid, has_mtime;
  uint64_t pax_size;
  uint32_t pax_uid, pax_gid;
  int64_t pax_mtime;
  uint32_t pax_mtime_nsec;
  struct tar_xattr *xattrs;
  size_t n_xattrs, alloc_xattrs;
  struct tar_entry entry;
  bool in_entry;
};

struct tar_reader *
tar_reader_new (const struct tar_callbacks *cb, void *arg)
{
  struct tar_reader *r = xcalloc (1, sizeof *r);
  r->cb = *cb;
  r->arg = arg;
  strbuf_init (&r->meta, 0);
  return r;
}

static void
clear_pending (struct tar_reader *r)
{
  free (r->pax_path);
  free (r->pax_linkpath);
  free (r->gnu_path);
  free (r->gnu_linkpath);
  r->pax_path = r->pax_linkpath = r->gnu_path = r->gnu_linkpath = NULL;
  r->has_size = r->has_uid = r->has_gid = r->has_mtime = false;
  for (size_t i = 0; i < r->n_xattrs; i++)
    {
      free (r->xattrs[i].name);
      free (r->xattrs[i].value);
    }
  r->n_xattrs = 0;
}

static void
clear_entry (struct tar_reader *r)
{
  free (r->entry.path);
  free (r->entry.linkpath);
  memset (&r->entry, 0, sizeof r->entry);
  clear_pending (r);
  r->in_entry = false;
}

void
tar_reader_free (struct tar_reader *r)
{
  if (!r)
    return;
  clear_entry (r);
  free (r->xattrs);
  strbuf_release (&r->meta);
  free (r);
}

/* An octal field (leading spaces allowed, ended by NUL or space) or a
 * GNU base-256 one (high bit of the first byte set; negative refused). */
static int
parse_num (const uint8_t *f, size_t n, uint64_t *out)
{
  uint64_t v = 0;
  size_t i = 0;
  if (f[0] & 0x80)
    {
      if (f[0] & 0x40)
        return -1; /* negative */
      v = f[0] & 0x3f;
      for (i = 1; i < n; i++)
        {
          if (v >> 56)
            return -1;
          v = (v << 8) | f[i];
        }
      *out = v;
      return 0;
    }
  while (i < n && (f[i] == ' ' || f[i] == '\0')) /* as Go: trim both */
    i++;
  for (; i < n && f[i] >= '0' && f[i] <= '7'; i++)
    {
      if (v >> 61)
        return -1;
      v = v * 8 + (uint64_t)(f[i] - '0');
    }
  for (; i < n; i++)
    if (f[i] != ' ' && f[i] != '\0')
      return -1;
  *out = v;
  return 0;
}

static int
parse_dec (const char *s, size_t n, uint64_t *out)
{
  uint64_t v = 0;
  if (n == 0)
    return -1;
  for (size_t i = 0; i < n; i++)
    {
      if (s[i] < '0' || s[i] > '9')
        return -1;
      if (__builtin_mul_overflow (v, 10, &v)
          || __builtin_add_overflow (v, (uint64_t)(s[i] - '0'), &v))
        return -1;
    }
  *out = v;
  return 0;
}

/* "[-]SECONDS[.FRACTION]" */
static int
parse_time (const char *s, size_t n, int64_t *sec, uint32_t *nsec)
{
  bool neg = n && s[0] == '-';
  const char *dot;
  uint64_t whole, frac = 0;
  size_t digits = 0;
  if (neg)
    s++, n--;
  dot = memchr (s, '.', n);
  if (parse_dec (s, dot ? (size_t)(dot - s) : n, &whole) < 0
      || whole > INT64_MAX / 2)
    return -1;
  if (dot)
    for (const char *p = dot + 1; p < s + n; p++)
      {
        if (*p < '0' || *p > '9')
          return -1;
        if (digits++ < 9)
          frac = frac * 10 + (uint64_t)(*p - '0');
      }
  for (; digits < 9; digits++)
    frac *= 10;
  if (neg && frac)
    {
      /* -1.25 is 1.75 s before -1 */
      *sec = -(int64_t)whole - 1;
      *nsec = (uint32_t)(1000000000u - frac);
    }
  else
    {
      *sec = neg ? -(int64_t)whole : (int64_t)whole;
      *nsec = (uint32_t)frac;
    }
  return 0;
}

static char *
dup_path (const char *v, size_t n, struct err **err)
{
  if (memchr (v, '\0', n))
    {
      err_set (err, 0, "invalid tar header: NUL in a path");
      return NULL;
    }
  return xstrndup (v, n);
}

static int
parse_pax (struct tar_reader *r, struct err **err)
{
  const char *p = r->meta.buf, *end = p + r->meta.len;
  while (p < end)
    {
      const char *sp = memchr (p, ' ', (size_t)(end - p));
      uint64_t reclen;
      if (!sp || parse_dec (p, (size_t)(sp - p), &reclen) < 0
          || reclen > (uint64_t)(end - p) || reclen < (uint64_t)(sp - p) + 3
          || p[reclen - 1] != '\n')
        return err_set (err, 0, "invalid pax header");
      const char *key = sp + 1, *rec_end = p + reclen - 1;
      const char *eq = memchr (key, '=', (size_t)(rec_end - key));
      if (!eq)
        return err_set (err, 0, "invalid pax header");
      size_t klen = (size_t)(eq - key), vlen = (size_t)(rec_end - eq - 1);
      const char *v = eq + 1;
#define KEY_IS(s) (klen == sizeof (s) - 1 && !memcmp (key, s, klen))
      if (KEY_IS ("path"))
        {
          free (r->pax_path);
          if (!(r->pax_path = dup_path (v, vlen, err)))
            return -1;
        }
      else if (KEY_IS ("linkpath"))
        {
          free (r->pax_linkpath);
          if (!(r->pax_linkpath = dup_path (v, vlen, err)))
            return -1;
        }
      else if (KEY_IS ("size"))
        {
          if (parse_dec (v, vlen, &r->pax_size) < 0)
            return err_set (err, 0, "invalid pax size");
          r->has_size = true;
        }
      else if (KEY_IS ("uid") || KEY_IS ("gid"))
        {
          uint64_t id;
          if (parse_dec (v, vlen, &id) < 0 || id > UINT32_MAX - 1)
            return err_set (err, 0, "invalid pax %.*s", (int)klen, key);
          if (key[0] == 'u')
            r->pax_uid = (uint32_t)id, r->has_uid = true;
          else
            r->pax_gid = (uint32_t)id, r->has_gid = true;
        }
      else if (KEY_IS ("mtime"))
        {
          if (parse_time (v, vlen, &r->pax_mtime, &r->pax_mtime_nsec) < 0)
            return err_set (err, 0, "invalid pax mtime");
          r->has_mtime = true;
        }
      else if (klen > 13 && !memcmp (key, "SCHILY.xattr.", 13))
        {
          struct tar_xattr *x;
          r->xattrs = xgrow (r->xattrs, &r->alloc_xattrs, r->n_xattrs + 1,
                             sizeof *r->xattrs);
          x = &r->xattrs[r->n_xattrs];
          if (!(x->name = dup_path (key + 13, klen - 13, err)))
            return -1;
          x->value = xmalloc (vlen + 1);
          memcpy (x->value, v, vlen);
          x->value[vlen] = '\0';
          x->len = vlen;
          r->n_xattrs++;
        }
      else if (klen > 11 && !memcmp (key, "GNU.sparse.", 11))
        return err_set (err, 0, "sparse files are not supported in layers");
#undef KEY_IS
      p += reclen;
    }
  return 0;
}

static int
finish_meta (struct tar_reader *r, struct err **err)
{
  char **dst = NULL;
  if (r->meta_kind == 'x')
    return parse_pax (r, err);
  dst = r->meta_kind == 'L' ? &r->gnu_path : &r->gnu_linkpath;
  free (*dst);
  /* GNU long names are NUL-terminated inside their data */
  *dst = xstrndup (r->meta.buf, strnlen (r->meta.buf, r->meta.len));
  return 0;
}

static bool
is_zero_block (const uint8_t *b)
{
  for (size_t i = 0; i < BLOCK; i++)
    if (b[i])
      return false;
  return true;
}

static int
checksum_ok (const uint8_t *h)
{
  uint64_t want;
  unsigned long usum = 0;
  long ssum = 0;
  if (parse_num (h + 148, 8, &want) < 0)
    return 0;
  for (size_t i = 0; i < BLOCK; i++)
    {
      uint8_t c = (i >= 148 && i < 156) ? ' ' : h[i];
      usum += c;
      ssum += (signed char)c;
    }
  return want == usum || (int64_t)want == ssum;
}

static uint64_t
padding (uint64_t size)
{
  return (BLOCK - size % BLOCK) % BLOCK;
}

static char *
field_str (const uint8_t *f, size_t n)
{
  return xstrndup ((const char *)f, strnlen ((const char *)f, n));
}

static int
start_entry (struct tar_reader *r, const uint8_t *h, uint64_t size,
             struct err **err)
{
  struct tar_entry *e = &r->entry;
  uint64_t v;
  char tf = (char)h[156];
  bool posix = !memcmp (h + 257, "ustar\0", 6);

  memset (e, 0, sizeof *e);
  switch (tf)
    {
    case '0':
    case '\0':
    case '7':
      e->type = TAR_REG;
      break;
    case '1':
      e->type = TAR_HARDLINK;
      break;
    case '2':
      e->type = TAR_SYMLINK;
      break;
    case '3':
      e->type = TAR_CHR;
      break;
    case '4':
      e->type = TAR_BLK;
      break;
    case '5':
      e->type = TAR_DIR;
      break;
    case '6':
      e->type = TAR_FIFO;
      break;
    default:
      return err_set (err, 0, "unsupported tar entry type '%c'", tf);
    }
  if (r->pax_path)
    e->path = steal_pointer (&r->pax_path);
  else if (r->gnu_path)
    e->path = steal_pointer (&r->gnu_path);
  else if (posix && h[345])
    {
      _cleanup_free_ char *prefix = field_str (h + 345, 155);
      _cleanup_free_ char *name = field_str (h, 100);
      e->path = xasprintf ("%s/%s", prefix, name);
    }
  else
    e->path = field_str (h, 100);
  if (e->type == TAR_HARDLINK || e->type == TAR_SYMLINK)
    {
      if (r->pax_linkpath)
        e->linkpath = steal_pointer (&r->pax_linkpath);
      else if (r->gnu_linkpath)
        e->linkpath = steal_pointer (&r->gnu_linkpath);
      else
        e->linkpath = field_str (h + 157, 100);
    }
  /* old tars mark directories with a trailing slash only */
  if (e->type == TAR_REG && tf != '7' && *e->path
      && e->path[strlen (e->path) - 1] == '/')
    e->type = TAR_DIR;

  if (parse_num (h + 100, 8, &v) < 0)
    return err_set (err, 0, "invalid tar header for '%s'", e->path);
  e->mode = (uint32_t)(v & 07777);
  if (r->has_uid)
    e->uid = r->pax_uid;
  else if (parse_num (h + 108, 8, &v) < 0 || v > UINT32_MAX - 1)
    return err_set (err, 0, "invalid uid for '%s'", e->path);
  else
    e->uid = (uint32_t)v;
  if (r->has_gid)
    e->gid = r->pax_gid;
  else if (parse_num (h + 116, 8, &v) < 0 || v > UINT32_MAX - 1)
    return err_set (err, 0, "invalid gid for '%s'", e->path);
  else
    e->gid = (uint32_t)v;
  if (r->has_mtime)
    {
      e->mtime = r->pax_mtime;
      e->mtime_nsec = r->pax_mtime_nsec;
    }
  else if (parse_num (h + 136, 12, &v) < 0 || v > INT64_MAX)
    return err_set (err, 0, "invalid mtime for '%s'", e->path);
  else
    e->mtime = (int64_t)v;
  if (e->type == TAR_CHR || e->type == TAR_BLK)
    {
      uint64_t maj, min;
      if (parse_num (h + 329, 8, &maj) < 0 || parse_num (h + 337, 8, &min) < 0
          || maj > 0xfff || min > 0xfffff)
        return err_set (err, 0, "invalid device number for '%s'", e->path);
      e->devmajor = (uint32_t)maj;
      e->devminor = (uint32_t)min;
    }
  /* like Go's archive/tar: only regular files carry data */
  e->size = e->type == TAR_REG ? size : 0;
  e->xattrs = r->xattrs;
  e->n_xattrs = r->n_xattrs;
  r->in_entry = true;
  r->pending = 0;

  if (r->cb.entry (r->arg, e, err) < 0)
    return -1;
  if (e->size > 0)
    {
      r->remaining = e->size;
      r->state = ST_DATA;
    }
  else
    {
      /* header-only types have no data whatever their size says (Go) */
      int rc = r->cb.entry_end (r->arg, err);
      clear_entry (r);
      if (rc < 0)
        return -1;
      r->state = ST_HEADER;
    }
  return 0;
}

/* A pax or GNU long-name header describes the entry after it: the end of
 * the archive right after one means the entry was lost. */
static int
pending_error (struct tar_reader *r, struct err **err)
{
  return err_set (err, 0,
                  "invalid tar stream: a %s header with no entry "
                  "after it",
                  r->pending == 'x' ? "pax" : "GNU long name");
}

static int
process_header (struct tar_reader *r, struct err **err)
{
  const uint8_t *h = r->hdr;
  uint64_t size;
  char tf;

  if (is_zero_block (h))
    {
      if (r->pending)
        return pending_error (r, err);
      r->state = r->state == ST_ZERO ? ST_END : ST_ZERO;
      return 0;
    }
  if (r->state == ST_ZERO)
    return err_set (err, 0, "invalid tar stream: data after a zero block");
  if (!checksum_ok (h))
    return err_set (err, 0, "invalid tar header checksum");
  tf = (char)h[156];
  if (parse_num (h + 124, 12, &size) < 0)
    return err_set (err, 0, "invalid size in tar header");
  if (r->has_size && tf != 'x' && tf != 'g' && tf != 'L' && tf != 'K')
    size = r->pax_size;
  if (size > INT64_MAX)
    return err_set (err, 0, "invalid size in tar header");

  switch (tf)
    {
    case 'x':
    case 'L':
    case 'K':
      if (size > (tf == 'x' ? PAX_MAX : LONGNAME_MAX))
        return err_set (err, 0, "tar %s header too large",
                        tf == 'x' ? "pax" : "long name");
      strbuf_reset (&r->meta);
      r->meta_kind = tf;
      r->pending = tf;
      r->remaining = size;
      r->skip = padding (size);
      r->state = ST_META;
      if (size == 0)
        {
          r->state = ST_HEADER;
          return finish_meta (r, err);
        }
      return 0;
    case 'g': /* global pax header: no layer writer emits one; skipped */
    case 'V': /* volume label */
      r->skip = size + padding (size);
      r->state = r->skip ? ST_SKIP : ST_HEADER;
      return 0;
    case 'S':
      return err_set (err, 0, "sparse files are not supported in layers");
    case 'M':
      return err_set (err, 0, "multi-volume archives are not supported");
    default:
      r->state = ST_HEADER;
      return start_entry (r, h, size, err);
    }
}

int
tar_reader_feed (struct tar_reader *r, const uint8_t *buf, size_t len,
                 struct err **err)
{
  while (len > 0)
    {
      size_t n;
      switch (r->state)
        {
        case ST_HEADER:
        case ST_ZERO:
          n = BLOCK - r->hdr_len;
          if (n > len)
            n = len;
          memcpy (r->hdr + r->hdr_len, buf, n);
          r->hdr_len += n;
          buf += n, len -= n;
          if (r->hdr_len == BLOCK)
            {
              r->hdr_len = 0;
              if (process_header (r, err) < 0)
                return -1;
            }
          break;
        case ST_DATA:
          n = r->remaining < len ? (size_t)r->remaining : len;
          if (r->cb.data (r->arg, buf, n, err) < 0)
            return -1;
          buf += n, len -= n;
          r->remaining -= n;
          if (r->remaining == 0)
            {
              int rc = r->cb.entry_end (r->arg, err);
              r->skip = padding (r->entry.size);
              clear_entry (r);
              if (rc < 0)
                return -1;
              r->state = r->skip ? ST_SKIP : ST_HEADER;
            }
          break;
        case ST_META:
          n = r->remaining < len ? (size_t)r->remaining : len;
          strbuf_add (&r->meta, buf, n);
          buf += n, len -= n;
          r->remaining -= n;
          if (r->remaining == 0)
            {
              if (finish_meta (r, err) < 0)
                return -1;
              r->state = r->skip ? ST_SKIP : ST_HEADER;
            }
          break;
        case ST_SKIP:
          n = r->skip < len ? (size_t)r->skip : len;
          buf += n, len -= n;
          r->skip -= n;
          if (r->skip == 0)
            r->state = ST_HEADER;
          break;
        case ST_END:
          return 0; /* the rest is the writer's record padding */
        }
    }
  return 0;
}

int
tar_reader_finish (struct tar_reader *r, struct err **err)
{
  if (r->pending && r->state == ST_HEADER && r->hdr_len == 0)
    return pending_error (r, err);
  if (r->state == ST_END
      || ((r->state == ST_HEADER || r->state == ST_ZERO) && r->hdr_len == 0
          && !r->in_entry && !r->pax_path && !r->gnu_path))
    return 0;
  return err_set (err, 0, "truncated tar stream");
}
