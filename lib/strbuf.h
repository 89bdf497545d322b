/* A growable string (git's strbuf). Invariants: buf is never NULL after
 * STRBUF_INIT/strbuf_init, it is always NUL-terminated, len is authoritative
 * (embedded NULs allowed); ownership leaves only through strbuf_detach(). */
#ifndef IMGTOOL_STRBUF_H
#define IMGTOOL_STRBUF_H

#include <stdarg.h>
#include <stddef.h>

struct strbuf
{
  char *buf;
  size_t len;
  size_t alloc;
};

extern char strbuf_slopbuf[];
#define STRBUF_INIT                                                            \
  {                                                                            \
    .buf = strbuf_slopbuf                                                      \
  }

void strbuf_init (struct strbuf *sb, size_t hint);
void strbuf_release (struct strbuf *sb);
char *strbuf_detach (struct strbuf *sb, size_t *len);
void strbuf_grow (struct strbuf *sb, size_t extra);
void strbuf_add (struct strbuf *sb, const void *data, size_t len);
void strbuf_addstr (struct strbuf *sb, const char *s);
void strbuf_addch (struct strbuf *sb, int c);
void strbuf_addf (struct strbuf *sb, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));
void strbuf_vaddf (struct strbuf *sb, const char *fmt, va_list ap);
void strbuf_reset (struct strbuf *sb);
void strbuf_setlen (struct strbuf *sb, size_t len);

static inline void
strbuf_releasep (struct strbuf *sb)
{
  strbuf_release (sb);
}
#define _cleanup_strbuf_ __attribute__ ((cleanup (strbuf_releasep)))

#endif
