#include "lib/err.h"
#include "lib/xalloc.h"

#include <stdarg.h>
#include <string.h>

int
err_set (struct err **err, int errnum, const char *fmt, ...)
{
  va_list ap;
  char *msg;
  if (!err || *err)
    return -1;
  va_start (ap, fmt);
  if (vasprintf (&msg, fmt, ap) < 0)
    abort ();
  va_end (ap);
  *err = xcalloc (1, sizeof **err);
  (*err)->errnum = errnum;
  (*err)->exit = 1;
  if (errnum)
    {
      (*err)->msg = xasprintf ("%s: %s", msg, strerror (errnum));
      free (msg);
    }
  else
    (*err)->msg = msg;
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
