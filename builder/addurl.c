/* ADD <http(s) URL>: the file is downloaded once per build into the
 * build's temp dir (url-<sha256 of the URL>), checked against
 * --checksum=sha256:<hex>, given mode 0600 and the mtime of its
 * Last-Modified (BuildKit, reference/buildfile.md "ADD"); it is not
 * extracted. Its cache text is the URL, the content's digest and the
 * answer's ETag and Last-Modified.
 *
 * ADD <git URL>: cloned once per build into git-<sha256 of the URL and
 * --keep-git-dir> (builder/git.h); its cache text names the commit. */
#include "builder/build_int.h"
#include "builder/git.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct sink
{
  int fd;
  struct digester d;
};

static int
sink_write (void *ctx, const void *data, size_t len, struct err **err)
{
  struct sink *s = ctx;
  digester_update (&s->d, data, len);
  if (fs_write_all (s->fd, data, len) < 0)
    return err_set (err, errno, "write the download");
  return 0;
}

/* "Sun, 06 Nov 1994 08:49:37 GMT" (RFC 7231), or -1. */
static time_t
http_date (const char *s)
{
  struct tm tm = { 0 };
  const char *end = s ? strptime (s, "%a, %d %b %Y %H:%M:%S GMT", &tm) : NULL;
  return end && !*end ? timegm (&tm) : (time_t)-1;
}

int
build_url_fetch (struct build *b, const char *url, const char *checksum,
                 char **path, char **key, struct err **err)
{
  char uh[DIGEST_STR_LEN + 1], got[DIGEST_STR_LEN + 1];
  digest_buf (url, strlen (url), uh);
  _cleanup_free_ char *p = xasprintf ("%s/url-%s", b->tmp, digest_hex (uh));
  _cleanup_free_ char *meta = xasprintf ("%s.key", p);
  _cleanup_free_ char *etag = NULL, *lm = NULL, *text = NULL;
  size_t len;
  struct err *e = NULL;

  if (checksum
      && (strncmp (checksum, "sha256:", 7) || !digest_is_sha256 (checksum)))
    return err_set (err, 0, "--checksum '%s': use sha256:<64 hex digits>",
                    checksum);
  /* fetched already by this build (the key, then the layer) */
  if (fs_read_file (AT_FDCWD, meta, 1 << 16, &text, &len, &e) == 0)
    {
      /* "url=<url> <digest> ..." */
      const char *sp = strchr (text, ' ');
      if (checksum && (!sp || strncmp (sp + 1, checksum, strlen (checksum))))
        return err_set (
            err, 0, "ADD '%s': checksum mismatch: expected %s, got %.*s", url,
            checksum, sp ? (int)strcspn (sp + 1, " ") : 0, sp ? sp + 1 : "");
      *path = steal_pointer (&p);
      *key = steal_pointer (&text);
      return 0;
    }
  err_free (e);
  struct sink s
      = { .fd = open (p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600) };
  if (s.fd < 0)
    return err_set (err, errno, "create '%s'", p);
  digester_init (&s.d);
  int r = build_fetch_url (url, !b->o->no_tls_verify, sink_write, &s, &etag,
                           &lm, err);
  digester_final (&s.d, got);
  digester_release (&s.d);
  close (s.fd);
  if (r < 0)
    return err_wrap (err, "ADD '%s'", url);
  if (checksum && strcmp (checksum, got))
    return err_set (err, 0, "ADD '%s': checksum mismatch: expected %s, got %s",
                    url, checksum, got);
  time_t mt = http_date (lm);
  if (mt != (time_t)-1)
    {
      struct timespec ts[2] = { { .tv_sec = mt }, { .tv_sec = mt } };
      utimensat (AT_FDCWD, p, ts, 0);
    }
  text = xasprintf ("url=%s %s etag=%s last-modified=%s", url, got,
                    etag ? etag : "", lm ? lm : "");
  if (fs_write_file_replace (AT_FDCWD, meta, text, strlen (text), 0600, err)
      < 0)
    return -1;
  *path = steal_pointer (&p);
  *key = steal_pointer (&text);
  return 0;
}

char *
build_url_name (const char *url)
{
  /* the last path segment, without query or fragment */
  const char *p = strstr (url, "://");
  p = p ? p + 3 : url;
  size_t end = strcspn (p, "?#"), start = 0;
  while (end > 0 && p[end - 1] == '/')
    end--;
  for (size_t i = 0; i < end; i++)
    if (p[i] == '/')
      start = i + 1;
  return start ? xstrndup (p + start, end - start) : NULL;
}

int
build_git_fetch (struct build *b, const char *spec, bool keep_git_dir,
                 char **path, char **key, struct err **err)
{
  _cleanup_free_ char *id = xasprintf ("%s\n%d", spec, keep_git_dir);
  char h[DIGEST_STR_LEN + 1];
  digest_buf (id, strlen (id), h);
  _cleanup_free_ char *dir = xasprintf ("%s/git-%s", b->tmp, digest_hex (h));
  _cleanup_free_ char *meta = xasprintf ("%s.key", dir);
  _cleanup_free_ char *text = NULL;
  struct err *e = NULL;
  char *nl;
  /* cloned already by this build (the key, then the layer): "path\nkey" */
  if (fs_read_file (AT_FDCWD, meta, 1 << 16, &text, NULL, &e) == 0
      && (nl = strchr (text, '\n')))
    {
      *path = xstrndup (text, (size_t)(nl - text));
      *key = xstrdup (nl + 1);
      return 0;
    }
  err_free (e);
  if (build_git_checkout (spec, dir, keep_git_dir, !b->o->no_tls_verify, path,
                          key, err)
      < 0)
    return err_wrap (err, "ADD '%s'", spec);
  free (text);
  text = xasprintf ("%s\n%s", *path, *key);
  return fs_write_file_replace (AT_FDCWD, meta, text, strlen (text), 0600, err);
}
