/* Unit tests for runtime/logfile.c (docker's json-file log: entries,
 * 16 KiB parts, rotation, reading back), the log options, and
 * lib/human.c's --since/--until times and Go durations. */
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/human.h"
#include "lib/strbuf.h"
#include "lib/xalloc.h"
#include "runtime/logfile.h"
#include "runtime/state.h"
#include "tests/unit/test.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static char tmp[] = "/tmp/test_logfile.XXXXXX";

/* The entries of a file: "stream:text|" each, text as read back. */
static char *
entries (const char *path, size_t *count)
{
  struct strbuf out = STRBUF_INIT, text = STRBUF_INIT;
  _cleanup_free_ char *buf = NULL;
  struct err *e = NULL;
  size_t len = 0, n = 0;
  if (fs_read_file (AT_FDCWD, path, 1 << 24, &buf, &len, &e) < 0)
    {
      err_free (e);
      *count = 0;
      return strbuf_detach (&out, NULL);
    }
  for (char *l = buf, *nl; (nl = memchr (l, '\n', len - (size_t)(l - buf)));
       l = nl + 1)
    {
      struct rt_log_entry en;
      if (rt_log_entry_parse (l, (size_t)(nl - l), &en, &text))
        {
          strbuf_addf (&out, "%d:", en.stream);
          strbuf_add (&out, en.text, en.len);
          strbuf_addch (&out, '|');
        }
      n++;
    }
  strbuf_release (&text);
  *count = n;
  return strbuf_detach (&out, NULL);
}

static void
test_write_read (void)
{
  _cleanup_free_ char *path = xasprintf ("%s/a.log", tmp);
  struct err *e = NULL;
  struct rt_log *l = rt_log_open (path, NULL, &e);
  _cleanup_free_ char *got = NULL, *raw = NULL;
  size_t n;
  CHECK (l != NULL, "open a log");
  rt_log_write (l, 1, "one\ntw", 6);
  rt_log_write (l, 2, "err\n", 4);
  rt_log_write (l, 1, "o\nthree", 7);
  rt_log_close (l);
  got = entries (path, &n);
  CHECK_STR (got, "1:one\n|2:err\n|1:two\n|1:three|",
             "lines as entries, a chunk's split kept whole, the rest flushed "
             "at close without a newline");
  CHECK (fs_read_file (AT_FDCWD, path, 4096, &raw, NULL, &e) == 0
             && !strncmp (raw,
                          "{\"log\":\"one\\n\",\"stream\":\"stdout\","
                          "\"time\":\"",
                          39),
         "docker's key order: log, stream, time");
}

static void
test_long_line (void)
{
  _cleanup_free_ char *path = xasprintf ("%s/long.log", tmp);
  _cleanup_free_ char *big = xmalloc (40001), *got = NULL;
  struct err *e = NULL;
  struct rt_log *l = rt_log_open (path, NULL, &e);
  size_t n;
  memset (big, 'x', 40000);
  big[40000] = '\n';
  rt_log_write (l, 1, big, 20000);
  rt_log_write (l, 1, big + 20000, 20001);
  rt_log_close (l);
  got = entries (path, &n);
  CHECK (n == 3, "a 40000-byte line: 3 entries (got %zu)", n);
  CHECK (strlen (got) == 40001 + 3 * 3, "the bytes all there");
  CHECK (got[2 + 16384] == '|' && got[2 + 16384 - 1] == 'x',
         "the first part is 16384 bytes without a newline");
}

static void
test_escape (void)
{
  _cleanup_free_ char *path = xasprintf ("%s/esc.log", tmp);
  _cleanup_free_ char *raw = NULL, *got = NULL;
  static const char in[] = "q\"b\\<&>\t\x01\xff\xe2\x80\xa8\xc3\xa9\n";
  struct err *e = NULL;
  struct rt_log *l = rt_log_open (path, NULL, &e);
  size_t n;
  rt_log_write (l, 1, in, sizeof in - 1);
  rt_log_close (l);
  fs_read_file (AT_FDCWD, path, 4096, &raw, NULL, &e);
  CHECK (raw
             && !strncmp (raw,
                          "{\"log\":\"q\\\"b\\\\\\u003c\\u0026\\u003e\\t"
                          "\\u0001\\ufffd\\u2028\xc3\xa9\\n\"",
                          57),
         "escaped as Go's encoder: <>& \\u, invalid UTF-8 as U+FFFD, "
         "U+2028 escaped, valid UTF-8 kept");
  got = entries (path, &n);
  CHECK_STR (got, "1:q\"b\\<&>\t\x01\xef\xbf\xbd\xe2\x80\xa8\xc3\xa9\n|",
             "read back");
}

/* "line 0" .. "line 99" logged with c; the files it made */
static char **
log_100_lines (const char *path, const struct rt_log_config *c)
{
  struct err *e = NULL;
  struct rt_log *l = rt_log_open (path, c, &e);
  for (int i = 0; i < 100; i++)
    {
      char line[32];
      int len = snprintf (line, sizeof line, "line %d\n", i);
      rt_log_write (l, 1, line, (size_t)len);
    }
  rt_log_close (l);
  err_free (e);
  return rt_log_files (path);
}

static void
test_rotation (void)
{
  _cleanup_free_ char *path = xasprintf ("%s/rot.log", tmp);
  struct rt_log_config c = { .max_size = 300, .max_file = 3 };
  struct err *e = NULL;
  _cleanup_strv_ char **files = log_100_lines (path, &c);
  struct strbuf all = STRBUF_INIT;
  bool small = true;
  CHECK (strv_len (files) == 3, "max-file 3: three files (got %zu)",
         strv_len (files));
  CHECK (files[0] && !strcmp (files[0] + strlen (files[0]) - 2, ".2")
             && !strcmp (files[2], path),
         "oldest first: .2, .1, then the current one");
  for (size_t i = 0; files[i]; i++)
    {
      struct stat st;
      size_t n;
      _cleanup_free_ char *got = entries (files[i], &n);
      stat (files[i], &st);
      if (st.st_size > 300 + 80)
        small = false;
      strbuf_addstr (&all, got);
    }
  CHECK (small, "no file is past max-size by more than one entry");
  CHECK (strstr (all.buf, "1:line 99\n|") && !strstr (all.buf, "line 0\n"),
         "the newest kept, the oldest dropped");
  {
    /* in order: each line number one more than the one before */
    int prev = -1;
    bool ordered = true;
    for (char *p = all.buf; (p = strstr (p, "line ")); p += 5)
      {
        int v = atoi (p + 5);
        if (prev >= 0 && v != prev + 1)
          ordered = false;
        prev = v;
      }
    CHECK (ordered, "read back in order without a gap");
  }
  strbuf_release (&all);

  {
    _cleanup_free_ char *p1 = xasprintf ("%s/one.log", tmp);
    _cleanup_free_ char *r1 = xasprintf ("%s/one.log.1", tmp);
    struct rt_log_config c1 = { .max_size = 100, .max_file = 1 };
    struct rt_log *l1 = rt_log_open (p1, &c1, &e);
    for (int i = 0; i < 20; i++)
      rt_log_write (l1, 2, "abcdefghij\n", 11);
    rt_log_close (l1);
    CHECK (access (r1, F_OK) < 0, "max-file 1: the file starts again");
  }
}

/* compress: the rotated files are .gz, read back whole and in order */
static void
test_compress (void)
{
  _cleanup_free_ char *path = xasprintf ("%s/gz.log", tmp);
  struct rt_log_config c = { .max_size = 300, .max_file = 3, .compress = true };
  struct err *e = NULL;
  _cleanup_strv_ char **files = log_100_lines (path, &c);
  struct strbuf all = STRBUF_INIT;
  CHECK (strv_len (files) == 3 && strstr (files[0], ".2.gz")
             && strstr (files[1], ".1.gz") && !strcmp (files[2], path),
         "compress: .2.gz, .1.gz, then the current one");
  for (size_t i = 0; files[i]; i++)
    {
      int fd = rt_log_open_read (files[i], &e);
      _cleanup_free_ char *text = NULL;
      CHECK (fd >= 0 && fs_read_fd (fd, 1 << 20, &text, NULL, &e) == 0,
             "%s reads back", files[i]);
      if (text)
        strbuf_addstr (&all, text);
      if (fd >= 0)
        close (fd);
      err_clear (&e);
    }
  CHECK (strstr (all.buf, "\"log\":\"line 99\\n\"")
             && strstr (all.buf, "\"log\":\"line 90\\n\""),
         "the compressed files hold json-file entries");
  strbuf_release (&all);
}

/* attrs: after rt_log_set_attrs, between stream and time */
static void
test_attrs (void)
{
  _cleanup_free_ char *path = xasprintf ("%s/attrs.log", tmp);
  _cleanup_free_ char *text = NULL;
  struct err *e = NULL;
  struct rt_log *l = rt_log_open (path, NULL, &e);
  rt_log_set_attrs (l, "{\"tag\":\"web\"}");
  rt_log_write (l, 2, "x\n", 2);
  rt_log_close (l);
  fs_read_file (AT_FDCWD, path, 4096, &text, NULL, &e);
  CHECK (text
             && !strncmp (text,
                          "{\"log\":\"x\\n\",\"stream\":\"stderr\","
                          "\"attrs\":{\"tag\":\"web\"},\"time\":\"",
                          57),
         "attrs between stream and time, as docker's");
  err_free (e);
}

/* docker's ExtraAttributes and tag over a record */
static void
test_attrs_of_record (void)
{
  struct rt_record rec = { 0 };
  char *labels[] = { (char *)"team=blue", (char *)"x=1", NULL };
  char *env[] = { (char *)"APP_A=1", (char *)"OTHER=2", (char *)"NO=3",
                  (char *)"PATH=/bin", NULL };
  char *cmd[] = { (char *)"sh", (char *)"-c", (char *)"true", NULL };
  _cleanup_free_ char *a = NULL, *none = NULL;
  rec.id = (char *)"0123456789abcdef0123456789abcdef0123456789abcdef0123456789a"
                   "bcdef";
  rec.name = (char *)"web";
  rec.image = (char *)"busybox:1";
  rec.image_id = (char *)"sha256:fedcba9876543210fedcba9876543210fedcba98"
                         "76543210fedcba9876543210";
  rec.labels = labels;
  rec.command = cmd;
  rec.plan.env = env;
  none = rt_log_attrs (&rec);
  CHECK (!none, "no attrs without the options");
  rec.log.labels = (char *)"team,missing";
  rec.log.env = (char *)"OTHER";
  rec.log.env_regex = (char *)"^APP_";
  rec.log.tag = (char *)"{{.Name}}/{{.ID}}/{{.ImageID}}/{{.ImageName}}/"
                        "{{.Command}}";
  a = rt_log_attrs (&rec);
  CHECK (a
             && !strcmp (a, "{\"APP_A\":\"1\",\"OTHER\":\"2\",\"tag\":"
                            "\"web/0123456789ab/fedcba987654/busybox:1/sh -c "
                            "true\",\"team\":\"blue\"}"),
         "labels, env, env-regex and the tag, keys sorted (got %s)",
         a ? a : "NULL");
}

static void
test_config (void)
{
  struct rt_log_config c;
  struct err *e = NULL;
  char *ok[] = { (char *)"max-size=10m", (char *)"max-file=3", NULL };
  char *bad_size[] = { (char *)"max-size=abc", NULL };
  char *zero[] = { (char *)"max-file=0", NULL };
  char *unknown[] = { (char *)"colour=blue", NULL };
  CHECK (rt_log_config_parse (NULL, ok, &c, &e) == 0 && c.max_size == 10000000
             && c.max_file == 3 && !strcmp (c.driver, "json-file"),
         "max-size in decimal units (10m = 10^7), max-file");
  rt_log_config_release (&c);
  CHECK (rt_log_config_parse ("k8s-file", NULL, &c, &e) == 0
             && rt_log_config_readable (&c),
         "k8s-file: a file that logs reads");
  rt_log_config_release (&c);
  CHECK (rt_log_config_parse ("none", NULL, &c, &e) == 0
             && !rt_log_config_readable (&c),
         "none: nothing to read");
  rt_log_config_release (&c);
  CHECK (rt_log_config_parse (NULL, bad_size, &c, &e) < 0 && e->exit == 125,
         "a bad max-size: exit 125");
  err_clear (&e);
  CHECK (rt_log_config_parse (NULL, zero, &c, &e) < 0
             && strstr (e->msg, "max-file cannot be less than 1"),
         "max-file 0: docker's message");
  err_clear (&e);
  CHECK (rt_log_config_parse (NULL, unknown, &c, &e) < 0
             && strstr (e->msg, "unknown log opt 'colour'"),
         "an unknown option is named");
  err_clear (&e);
  CHECK (rt_log_config_parse ("syslog", NULL, &c, &e) < 0,
         "an unknown driver is refused");
  err_clear (&e);
  {
    char *gz[] = { (char *)"max-size=1k", (char *)"max-file=2",
                   (char *)"compress=true", NULL };
    char *gz1[] = { (char *)"max-size=1k", (char *)"compress=true", NULL };
    char *gzbad[] = { (char *)"compress=yes", NULL };
    char *attrs[] = { (char *)"labels=a,b", (char *)"env-regex=^A",
                      (char *)"tag={{.Name}}", NULL };
    char *badre[] = { (char *)"env-regex=(", NULL };
    char *badtag[] = { (char *)"tag={{.Name", NULL };
    CHECK (rt_log_config_parse (NULL, gz, &c, &e) == 0 && c.compress,
           "compress=true with max-size and max-file 2");
    rt_log_config_release (&c);
    CHECK (rt_log_config_parse (NULL, gz1, &c, &e) < 0
               && strstr (e->msg, "compress cannot be true when max-file is "
                                  "less than 2"),
           "compress with one file: docker's message");
    err_clear (&e);
    CHECK (rt_log_config_parse (NULL, gzbad, &c, &e) < 0,
           "compress must be a bool");
    err_clear (&e);
    CHECK (rt_log_config_parse (NULL, attrs, &c, &e) == 0
               && !strcmp (c.labels, "a,b") && !strcmp (c.env_regex, "^A")
               && !strcmp (c.tag, "{{.Name}}"),
           "labels, env-regex and tag kept as given");
    rt_log_config_release (&c);
    CHECK (rt_log_config_parse (NULL, badre, &c, &e) < 0 && e->exit == 125
               && strstr (e->msg, "env-regex"),
           "a regex that does not compile is refused");
    err_clear (&e);
    CHECK (rt_log_config_parse (NULL, badtag, &c, &e) < 0
               && strstr (e->msg, "invalid log opt tag"),
           "a tag that does not parse is refused");
    err_clear (&e);
  }
}

static void
test_times (void)
{
  const int64_t now = 1700000000LL * 1000000000;
  int64_t ns, d;
  char buf[48];
  CHECK (human_time_parse ("10m", now, &ns) == 0
             && ns == now - 600LL * 1000000000,
         "a duration is before now");
  CHECK (human_time_parse ("1h30m", now, &ns) == 0
             && ns == now - 5400LL * 1000000000,
         "1h30m");
  CHECK (human_time_parse ("2024-05-01T10:00:00.5Z", now, &ns) == 0
             && ns == 1714557600LL * 1000000000 + 500000000,
         "RFC 3339 with a fraction");
  CHECK (human_time_parse ("2024-05-01T12:00:00+02:00", now, &ns) == 0
             && ns == 1714557600LL * 1000000000,
         "RFC 3339 with an offset");
  CHECK (human_time_parse ("1714557600", now, &ns) == 0
             && ns == 1714557600LL * 1000000000,
         "Unix seconds");
  CHECK (human_time_parse ("1714557600.25", now, &ns) == 0
             && ns == 1714557600LL * 1000000000 + 250000000,
         "Unix seconds with nanoseconds");
  setenv ("TZ", "UTC", 1);
  CHECK (human_time_parse ("2024-05-01", now, &ns) == 0
             && ns == 1714521600LL * 1000000000,
         "a date alone (the local zone)");
  CHECK (human_time_parse ("2024-05-01T10:00", now, &ns) == 0
             && ns == 1714557600LL * 1000000000,
         "date and minutes");
  CHECK (human_time_parse ("2999-01-01T00:00:00Z", now, &ns) == 0 && ns > now,
         "after 2262: later than anything");
  CHECK (human_time_parse ("yesterday", now, &ns) < 0, "rubbish is refused");
  CHECK (human_time_parse ("", now, &ns) < 0, "empty is refused");
  CHECK (human_duration_parse ("1.5s", &d) == 0 && d == 1500000000,
         "Go duration 1.5s");
  CHECK (human_duration_parse ("500ms", &d) == 0 && d == 500000000,
         "Go duration 500ms");
  CHECK (human_duration_parse ("10", &d) < 0, "a number without a unit");
  rt_log_time_format (1714557600LL * 1000000000 + 120000000, false, buf,
                      sizeof buf);
  CHECK_STR (buf, "2024-05-01T10:00:00.12Z", "RFC3339Nano trims zeros");
  rt_log_time_format (1714557600LL * 1000000000, false, buf, sizeof buf);
  CHECK_STR (buf, "2024-05-01T10:00:00Z", "and the dot with them");
  rt_log_time_format (1714557600LL * 1000000000 + 120000000, true, buf,
                      sizeof buf);
  CHECK_STR (buf, "2024-05-01T10:00:00.120000000Z", "fixed width for -t");
}

int
main (void)
{
  if (!mkdtemp (tmp))
    return 1;
  test_write_read ();
  test_long_line ();
  test_escape ();
  test_rotation ();
  test_compress ();
  test_attrs ();
  test_attrs_of_record ();
  test_config ();
  test_times ();
  {
    struct err *e = NULL;
    fs_rm_rf (AT_FDCWD, tmp, &e);
    err_free (e);
  }
  return test_done ();
}
