#include "lib/err.h"
#include "lib/strbuf.h"
#include "lib/xalloc.h"

#include <stdarg.h>
#include <string.h>

/* *err from fmt and ap (err_set, err_fail). */
static void
set_v (struct err **err, int errnum, int status, const char *fmt, va_list ap)
{
  char *msg;
  if (vasprintf (&msg, fmt, ap) < 0)
    abort ();
  *err = xcalloc (1, sizeof **err);
  (*err)->errnum = errnum;
  (*err)->exit = status;
  if (errnum)
    {
      (*err)->msg = xasprintf ("%s: %s", msg, strerror (errnum));
      free (msg);
    }
  else
    (*err)->msg = msg;
}

int
err_set (struct err **err, int errnum, const char *fmt, ...)
{
  va_list ap;
  if (!err || *err)
    return -1;
  va_start (ap, fmt);
  set_v (err, errnum, 1, fmt, ap);
  va_end (ap);
  return -1;
}

int
err_wrap (struct err **err, const char *fmt, ...)
{
  va_list ap;
  char *ctx, *msg;
  if (!err || !*err)
    return -1;
  va_start (ap, fmt);
  if (vasprintf (&ctx, fmt, ap) < 0)
    abort ();
  va_end (ap);
  msg = xasprintf ("%s: %s", ctx, (*err)->msg);
  free (ctx);
  free ((*err)->msg);
  (*err)->msg = msg;
  return -1;
}

int
err_fail (struct err **err, int status, const char *fmt, ...)
{
  va_list ap;
  if (!err || *err)
    return -1;
  va_start (ap, fmt);
  set_v (err, 0, status, fmt, ap);
  va_end (ap);
  return -1;
}

int
err_exit (struct err **err, int status)
{
  if (err && *err)
    (*err)->exit = status;
  return -1;
}

void
err_free (struct err *e)
{
  if (!e)
    return;
  free (e->msg);
  free (e);
}

void
err_clear (struct err **err)
{
  if (err)
    {
      err_free (*err);
      *err = NULL;
    }
}

/* Back from p (at most to start) to the first byte of a UTF-8 sequence. */
static size_t
utf8_start (const char *s, size_t p)
{
  while (p > 0 && ((unsigned char)s[p] & 0xc0) == 0x80)
    p--;
  return p;
}

char *
err_line (const char *msg)
{
  struct strbuf sb = STRBUF_INIT;
  size_t head, tail;
  char *out;
  for (const unsigned char *p = (const unsigned char *)msg; *p; p++)
    if (*p == '\n' || *p == '\r' || *p == '\t')
      strbuf_addf (&sb, "\\%c", *p == '\n' ? 'n' : *p == '\r' ? 'r' : 't');
    else if (*p < 0x20 || *p == 0x7f)
      strbuf_addf (&sb, "\\x%02x", *p);
    else
      strbuf_addch (&sb, (char)*p);
  if (sb.len <= ERR_LINE_MAX)
    return strbuf_detach (&sb, NULL);
  head = utf8_start (sb.buf, ERR_LINE_MAX * 2 / 3);
  tail = utf8_start (sb.buf, sb.len - ERR_LINE_MAX / 3);
  out = xasprintf ("%.*s…%s", (int)head, sb.buf, sb.buf + tail);
  strbuf_release (&sb);
  return out;
}
