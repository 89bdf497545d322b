/* A container's log in docker's json-file form (logfile.h). */
#include "runtime/logfile.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/human.h"
#include "lib/strbuf.h"
#include "lib/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* docker's copier buffer: a longer line is logged in parts */
#define LOG_LINE_MAX 16384
/* the most files rotation keeps (docker has no limit; a sane bound) */
#define LOG_MAX_FILES 1000

/* ------------------------------------------------------------ options */

/* docker's units.FromHumanSize: decimal multiples, "10m" = 10^7. */
static int
decimal_size (const char *s, int64_t *out)
{
  static const char units[] = "kmgtp";
  char *end;
  double v, mul = 1;
  const char *u;
  errno = 0;
  v = strtod (s, &end);
  if (end == s || errno || v < 0)
    return -1;
  if (*end && (u = strchr (units, *end | 0x20)))
    {
      for (long i = 0; i <= u - units; i++)
        mul *= 1000;
      end++;
      if ((*end | 0x20) == 'i')
        end++;
      if ((*end | 0x20) == 'b')
        end++;
    }
  else if ((*end | 0x20) == 'b')
    end++;
  if (*end || v * mul > 9e18)
    return -1;
  *out = (int64_t)(v * mul);
  return 0;
}

/* Go's strconv.ParseBool */
static int
parse_bool (const char *v, bool *out)
{
  static const char *const t[] = { "1", "t", "T", "TRUE", "true", "True" };
  static const char *const f[] = { "0", "f", "F", "FALSE", "false", "False" };
  for (size_t i = 0; i < sizeof t / sizeof *t; i++)
    if (!strcmp (v, t[i]) || !strcmp (v, f[i]))
      {
        *out = !strcmp (v, t[i]);
        return 0;
      }
  return -1;
}

/* labels, labels-regex, env, env-regex, tag: kept as given */
static bool
attr_opt (struct rt_log_config *c, const char *kv, size_t klen, const char *v)
{
  struct
  {
    const char *key;
    char **to;
  } keys[] = { { "labels", &c->labels },
               { "labels-regex", &c->labels_regex },
               { "env", &c->env },
               { "env-regex", &c->env_regex },
               { "tag", &c->tag } };
  for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
    if (strlen (keys[i].key) == klen && !strncmp (kv, keys[i].key, klen))
      {
        free (*keys[i].to);
        *keys[i].to = xstrdup (v);
        return true;
      }
  return false;
}

int
rt_log_config_parse (const char *driver, char *const *opts,
                     struct rt_log_config *out, struct err **err)
{
  memset (out, 0, sizeof *out);
  out->max_file = 1;
  if (driver && !strcmp (driver, "k8s-file"))
    driver = "json-file"; /* podman's file driver: the same job here */
  if (driver && strcmp (driver, "json-file") && strcmp (driver, "none"))
    {
      err_set (err, 0,
               "unknown log driver '%s': expected json-file, k8s-file "
               "or none",
               driver);
      return err_exit (err, 125);
    }
  out->driver = xstrdup (driver ? driver : "json-file");
  for (size_t i = 0; opts && opts[i]; i++)
    {
      const char *eq = strchr (opts[i], '='), *v = eq ? eq + 1 : "";
      size_t klen = eq ? (size_t)(eq - opts[i]) : strlen (opts[i]);
      if (!strcmp (out->driver, "none"))
        {
          err_set (err, 0, "unknown log opt '%.*s' for none log driver",
                   (int)klen, opts[i]);
          goto fail;
        }
      if (!eq)
        {
          err_set (err, 0, "invalid log opt '%s': expected KEY=VALUE", opts[i]);
          goto fail;
        }
      if (klen == 8 && !strncmp (opts[i], "max-size", 8))
        {
          if (!strcmp (v, "-1"))
            out->max_size = 0;
          else if (decimal_size (v, &out->max_size) < 0)
            {
              err_set (err, 0, "invalid log opt max-size '%s'", v);
              goto fail;
            }
          else if (out->max_size == 0)
            {
              err_set (err, 0, "max-size must be a positive number");
              goto fail;
            }
        }
      else if (klen == 8 && !strncmp (opts[i], "max-file", 8))
        {
          char *end;
          long n = strtol (v, &end, 10);
          if (!*v || *end)
            {
              err_set (err, 0, "invalid log opt max-file '%s'", v);
              goto fail;
            }
          if (n < 1)
            {
              err_set (err, 0, "max-file cannot be less than 1");
              goto fail;
            }
          out->max_file = n > LOG_MAX_FILES ? LOG_MAX_FILES : (int)n;
        }
      else if (klen == 8 && !strncmp (opts[i], "compress", 8))
        {
          if (parse_bool (v, &out->compress) < 0)
            {
              err_set (err, 0, "invalid log opt compress '%s'", v);
              goto fail;
            }
        }
      else if (!attr_opt (out, opts[i], klen, v))
        {
          err_set (err, 0, "unknown log opt '%.*s' for %s log driver",
                   (int)klen, opts[i], out->driver);
          goto fail;
        }
    }
  /* docker's words */
  if (out->compress && (out->max_file < 2 || !out->max_size))
    {
      err_set (err, 0,
               "compress cannot be true when max-file is less than 2 "
               "or max-size is not set");
      goto fail;
    }
  if (rt_log_attrs_check (out, err) < 0)
    goto fail;
  return 0;
fail:
  rt_log_config_release (out);
  return err_exit (err, 125);
}

void
rt_log_config_release (struct rt_log_config *c)
{
  free (c->driver);
  free (c->labels);
  free (c->labels_regex);
  free (c->env);
  free (c->env_regex);
  free (c->tag);
  memset (c, 0, sizeof *c);
}

bool
rt_log_config_readable (const struct rt_log_config *c)
{
  return !c->driver || strcmp (c->driver, "none") != 0;
}

/* ------------------------------------------------------------- writer */

struct rt_log
{
  char *path;
  int fd;
  int64_t size;     /* of the current file */
  int64_t max_size; /* 0: no cap */
  int max_file;
  bool compress;
  char *attrs;           /* ",\"attrs\":{...}" or NULL */
  struct strbuf part[2]; /* unterminated line of stdout, stderr */
  int64_t part_time[2];  /* when its first part came (docker's rule) */
  bool cont[2];          /* a long line's parts are being logged */
};

static int
open_current (struct rt_log *l, struct err **err)
{
  struct stat st;
  /* 0640 as docker's; the directory (0700) keeps it private */
  l->fd = open (l->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
  if (l->fd < 0)
    return err_set (err, errno, "open log '%s'", l->path);
  l->size = fstat (l->fd, &st) == 0 ? st.st_size : 0;
  return 0;
}

struct rt_log *
rt_log_open (const char *path, const struct rt_log_config *c, struct err **err)
{
  struct rt_log *l = xcalloc (1, sizeof *l);
  l->path = xstrdup (path);
  l->max_size = c ? c->max_size : 0;
  l->max_file = c && c->max_file > 0 ? c->max_file : 1;
  l->compress = c && c->compress;
  strbuf_init (&l->part[0], 0);
  strbuf_init (&l->part[1], 0);
  if (open_current (l, err) < 0)
    {
      rt_log_close (l);
      return NULL;
    }
  return l;
}

/* docker's rotation: drop the oldest, shift .i to .i+1, the current file
 * becomes .1, a new one starts (with one file: it starts again empty). */
static void
rotate (struct rt_log *l)
{
  struct err *e = NULL;
  close (l->fd);
  l->fd = -1;
  if (l->max_file < 2)
    unlink (l->path);
  else
    {
      _cleanup_free_ char *last = xasprintf ("%s.%d", l->path, l->max_file - 1);
      _cleanup_free_ char *last_gz = xasprintf ("%s.gz", last);
      unlink (last);
      unlink (last_gz);
      for (int i = l->max_file - 2; i >= 1; i--)
        for (int gz = 0; gz < 2; gz++)
          {
            const char *x = gz ? ".gz" : "";
            _cleanup_free_ char *from = xasprintf ("%s.%d%s", l->path, i, x);
            _cleanup_free_ char *to = xasprintf ("%s.%d%s", l->path, i + 1, x);
            rename (from, to);
          }
      {
        _cleanup_free_ char *to = xasprintf ("%s.1", l->path);
        rename (l->path, to);
        /* docker compresses .1 into .1.gz then removes .1 (here at
         * once: the monitor is between two entries) */
        if (l->compress && rt_log_gzip (to, &e) < 0)
          err_clear (&e); /* kept uncompressed: still read back */
      }
    }
  if (open_current (l, &e) < 0)
    err_free (e); /* the output goes unlogged, the container runs on */
}

static int64_t
now_ns (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void
rt_log_time_format (int64_t ns, bool fixed, char *buf, size_t len)
{
  time_t sec = (time_t)(ns / 1000000000);
  long frac = (long)(ns % 1000000000);
  char digits[16];
  struct tm tm;
  size_t n;
  if (frac < 0)
    frac += 1000000000, sec--;
  gmtime_r (&sec, &tm);
  n = strftime (buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf (digits, sizeof digits, ".%09ld", frac);
  if (!fixed)
    {
      /* Go's RFC3339Nano: trailing zeros go, and the dot with them */
      size_t d = strlen (digits);
      while (d > 1 && digits[d - 1] == '0')
        digits[--d] = '\0';
      if (d == 1)
        digits[0] = '\0';
    }
  snprintf (buf + n, len - n, "%sZ", digits);
}

/* The length of the valid UTF-8 sequence at s (at most n bytes), or 0. */
static size_t
utf8_len (const unsigned char *s, size_t n)
{
  size_t len;
  uint32_t c;
  if (s[0] < 0x80)
    return 1;
  if ((s[0] & 0xe0) == 0xc0)
    len = 2, c = s[0] & 0x1f;
  else if ((s[0] & 0xf0) == 0xe0)
    len = 3, c = s[0] & 0x0f;
  else if ((s[0] & 0xf8) == 0xf0)
    len = 4, c = s[0] & 0x07;
  else
    return 0;
  if (len > n)
    return 0;
  for (size_t i = 1; i < len; i++)
    {
      if ((s[i] & 0xc0) != 0x80)
        return 0;
      c = c << 6 | (s[i] & 0x3f);
    }
  if ((len == 2 && c < 0x80) || (len == 3 && c < 0x800)
      || (len == 4 && (c < 0x10000 || c > 0x10ffff))
      || (c >= 0xd800 && c <= 0xdfff))
    return 0;
  return len;
}

/* A JSON string as Go's encoder writes it: <, > and & escaped, invalid
 * UTF-8 as U+FFFD, U+2028/2029 escaped. */
static void
json_quote (struct strbuf *sb, const char *text, size_t len)
{
  const unsigned char *s = (const unsigned char *)text;
  strbuf_addch (sb, '"');
  for (size_t i = 0; i < len;)
    {
      unsigned char ch = s[i];
      size_t n;
      if (ch == '"' || ch == '\\')
        {
          strbuf_addch (sb, '\\');
          strbuf_addch (sb, (char)ch);
          i++;
        }
      else if (ch == '\n')
        strbuf_addstr (sb, "\\n"), i++;
      else if (ch == '\r')
        strbuf_addstr (sb, "\\r"), i++;
      else if (ch == '\t')
        strbuf_addstr (sb, "\\t"), i++;
      else if (ch < 0x20 || ch == '<' || ch == '>' || ch == '&')
        strbuf_addf (sb, "\\u%04x", ch), i++;
      else if (!(n = utf8_len (s + i, len - i)))
        strbuf_addstr (sb, "\\ufffd"), i++;
      else if (n == 3 && s[i] == 0xe2 && s[i + 1] == 0x80
               && (s[i + 2] == 0xa8 || s[i + 2] == 0xa9))
        strbuf_addf (sb, "\\u202%c", s[i + 2] == 0xa8 ? '8' : '9'), i += 3;
      else
        strbuf_add (sb, text + i, n), i += n;
    }
  strbuf_addch (sb, '"');
}

static void
log_entry (struct rt_log *l, int stream, int64_t when, const char *text,
           size_t len)
{
  struct strbuf sb = STRBUF_INIT;
  char t[48];
  if (l->fd < 0)
    return;
  if (l->max_size && l->size >= l->max_size)
    {
      rotate (l);
      if (l->fd < 0)
        return;
    }
  rt_log_time_format (when, false, t, sizeof t);
  strbuf_addstr (&sb, "{\"log\":");
  json_quote (&sb, text, len);
  strbuf_addf (&sb, ",\"stream\":\"%s\"%s,\"time\":\"%s\"}\n",
               stream == 2 ? "stderr" : "stdout", l->attrs ? l->attrs : "", t);
  if (fs_write_all (l->fd, sb.buf, sb.len) == 0)
    l->size += (int64_t)sb.len;
  strbuf_release (&sb);
}

void
rt_log_write (struct rt_log *l, int stream, const char *buf, size_t len)
{
  int i = stream == 2;
  struct strbuf *part = &l->part[i];
  while (len)
    {
      const char *nl = memchr (buf, '\n', len);
      size_t n = nl ? (size_t)(nl - buf) + 1 : len;
      if (n > LOG_LINE_MAX - part->len)
        n = LOG_LINE_MAX - part->len, nl = NULL;
      if (!part->len && !l->cont[i])
        l->part_time[i] = now_ns ();
      strbuf_add (part, buf, n);
      if (nl || part->len >= LOG_LINE_MAX)
        {
          /* a whole line, or a part of a long one: the parts share the
           * first one's time */
          log_entry (l, stream, l->part_time[i], part->buf, part->len);
          strbuf_reset (part);
          l->cont[i] = !nl;
        }
      buf += n;
      len -= n;
    }
}

void
rt_log_set_attrs (struct rt_log *l, const char *attrs)
{
  free (l->attrs);
  l->attrs = attrs ? xasprintf (",\"attrs\":%s", attrs) : NULL;
}

void
rt_log_close (struct rt_log *l)
{
  if (!l)
    return;
  for (int i = 0; i < 2; i++)
    {
      if (l->part[i].len)
        log_entry (l, i + 1, l->part_time[i], l->part[i].buf, l->part[i].len);
      strbuf_release (&l->part[i]);
    }
  if (l->fd >= 0)
    close (l->fd);
  free (l->attrs);
  free (l->path);
  free (l);
}

/* ------------------------------------------------------------- reader */

bool
rt_log_entry_parse (const char *line, size_t len, struct rt_log_entry *e,
                    struct strbuf *buf)
{
  json_t *o = json_loadb (line, len, JSON_ALLOW_NUL, NULL);
  json_t *log = json_object_get (o, "log");
  const char *stream = json_string_value (json_object_get (o, "stream"));
  const char *time = json_string_value (json_object_get (o, "time"));
  bool ok = false;
  if (json_is_string (log) && stream && time
      && human_time_parse (time, 0, &e->time_ns) == 0)
    {
      e->stream = !strcmp (stream, "stderr") ? 2 : 1;
      strbuf_reset (buf);
      strbuf_add (buf, json_string_value (log), json_string_length (log));
      e->text = buf->buf;
      e->len = buf->len;
      ok = true;
    }
  json_decref (o);
  return ok;
}

char **
rt_log_files (const char *path)
{
  char **v = xcalloc (1, sizeof *v);
  int n = 0;
  /* the rotated ones are numbered without gaps from 1 */
  for (;;)
    {
      _cleanup_free_ char *p = xasprintf ("%s.%d", path, n + 1);
      _cleanup_free_ char *gz = xasprintf ("%s.gz", p);
      if ((access (p, F_OK) < 0 && access (gz, F_OK) < 0) || n >= LOG_MAX_FILES)
        break;
      n++;
    }
  for (int i = n; i >= 1; i--)
    {
      char *p = xasprintf ("%s.%d", path, i);
      if (access (p, F_OK) < 0)
        {
          char *gz = xasprintf ("%s.gz", p);
          free (p);
          p = gz;
        }
      strv_push (&v, p);
    }
  if (access (path, F_OK) == 0)
    strv_push (&v, xstrdup (path));
  return v;
}
