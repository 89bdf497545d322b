#include "lib/strbuf.h"
#include "lib/xalloc.h"

#include <stdio.h>
#include <string.h>

char strbuf_slopbuf[1];

void
strbuf_init (struct strbuf *sb, size_t hint)
{
  sb->buf = strbuf_slopbuf;
  sb->len = sb->alloc = 0;
  if (hint)
    strbuf_grow (sb, hint);
}

void
strbuf_release (struct strbuf *sb)
{
  if (sb->alloc)
    free (sb->buf);
  strbuf_init (sb, 0);
}

char *
strbuf_detach (struct strbuf *sb, size_t *len)
{
  char *r;
  strbuf_grow (sb, 0);
  r = sb->buf;
  if (len)
    *len = sb->len;
  strbuf_init (sb, 0);
  return r;
}

void
strbuf_grow (struct strbuf *sb, size_t extra)
{
  size_t need;
  int fresh = !sb->alloc;
  if (!size_add_ok (sb->len, extra, &need) || !size_add_ok (need, 1, &need))
    abort ();
  if (fresh)
    sb->buf = NULL;
  sb->buf = xgrow (sb->buf, &sb->alloc, need, 1);
  if (fresh)
    sb->buf[0] = '\0';
}

void
strbuf_add (struct strbuf *sb, const void *data, size_t len)
{
  strbuf_grow (sb, len);
  memcpy (sb->buf + sb->len, data, len);
  strbuf_setlen (sb, sb->len + len);
}

void
strbuf_addstr (struct strbuf *sb, const char *s)
{
  strbuf_add (sb, s, strlen (s));
}

void
strbuf_addch (struct strbuf *sb, int c)
{
  char ch = (char)c;
  strbuf_add (sb, &ch, 1);
}

void
strbuf_vaddf (struct strbuf *sb, const char *fmt, va_list ap)
{
  va_list cp;
  int n;
  va_copy (cp, ap);
  n = vsnprintf (NULL, 0, fmt, cp);
  va_end (cp);
  if (n < 0)
    abort ();
  strbuf_grow (sb, (size_t)n);
  vsnprintf (sb->buf + sb->len, (size_t)n + 1, fmt, ap);
  strbuf_setlen (sb, sb->len + (size_t)n);
}

void
strbuf_addf (struct strbuf *sb, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  strbuf_vaddf (sb, fmt, ap);
  va_end (ap);
}

void
strbuf_reset (struct strbuf *sb)
{
  strbuf_setlen (sb, 0);
}

void
strbuf_setlen (struct strbuf *sb, size_t len)
{
  if (!sb->alloc)
    {
      if (len)
        abort ();
      return;
    }
  sb->len = len;
  sb->buf[len] = '\0';
}
