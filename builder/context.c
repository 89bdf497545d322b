/* Build contexts that are not a directory (reference/build-mounts.md
 * section 8), made into one under <root>/tmp/context-XXXXXX:
 *
 *   -          stdin: a tar (plain, gzip or zstd, told by its first bytes:
 *              a compression magic or a tar header) is the context; else
 *              stdin is the Buildfile and the context is empty (buildx)
 *   FILE       a tar file (plain, gzip, zstd)
 *   http(s)://  a tar downloaded (streamed into the directory)
 *   git URL    a checkout of its #ref:subdir (builder/git.h)
 *
 * The tar is unpacked by layers/apply.c: never outside the directory. */
#include "builder/builder.h"
#include "builder/git.h"
#include "layers/apply.h"
#include "layers/decompress.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/xalloc.h"
#include "registry/http.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Buildfiles bigger than this are not plausible (as cmd/build.c). */
#define CONTEXT_TEXT_MAX (8u << 20)

void
build_context_release (struct build_context *c)
{
  if (c->tmp)
    {
      struct err *e = NULL;
      fs_rm_rf (AT_FDCWD, c->tmp, &e);
      err_free (e);
    }
  free (c->tmp);
  free (c->git_dir);
  free (c->text);
  memset (c, 0, sizeof *c);
}

bool
build_context_is_url (const char *spec)
{
  return !strncmp (spec, "http://", 7) || !strncmp (spec, "https://", 8);
}

/* A tar header: "ustar" at 257, or a valid checksum (v7 tars). */
static bool
looks_like_tar (const unsigned char *p, size_t n)
{
  if (n < 512)
    return false;
  if (!memcmp (p + 257, "ustar", 5))
    return true;
  unsigned sum = 0, want;
  char field[9];
  for (size_t i = 0; i < 512; i++)
    sum += (i >= 148 && i < 156) ? ' ' : p[i];
  memcpy (field, p + 148, 8);
  field[8] = '\0';
  char *end;
  want = (unsigned)strtoul (field, &end, 8);
  return end != field && want == sum && p[0];
}

static int
make_dir (const char *root, struct build_context *c, struct err **err)
{
  _cleanup_free_ char *tmp = xasprintf ("%s/tmp", root);
  if (fs_mkdir_p (AT_FDCWD, tmp, 0700, err) < 0)
    return -1;
  c->tmp = xasprintf ("%s/context-XXXXXX", tmp);
  if (!mkdtemp (c->tmp))
    {
      int e = errno;
      free (c->tmp);
      c->tmp = NULL;
      return err_set (err, e, "create a directory in '%s'", tmp);
    }
  c->dir = c->tmp;
  return 0;
}

static int
feed (void *ctx, const void *data, size_t len, struct err **err)
{
  return layer_unpacker_feed (ctx, data, len, err);
}

static struct layer_unpacker *
unpacker (struct build_context *c, struct err **err)
{
  struct apply_opts ao
      = { .whiteouts = APPLY_WHITEOUT_DELETE, .keep_owner = geteuid () == 0 };
  _cleanup_close_ int dfd = open (c->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0)
    {
      err_set (err, errno, "open '%s'", c->dir);
      return NULL;
    }
  return layer_unpacker_new (dfd, &ao, err);
}

static int
finish (struct layer_unpacker *u, int r, struct err **err)
{
  char diff_id[DIGEST_STR_LEN + 1];
  if (r == 0)
    r = layer_unpacker_finish (u, diff_id, err);
  layer_unpacker_free (u);
  return r;
}

/* Unpack fd (its first n bytes already read into head). */
static int
unpack_fd (struct build_context *c, int fd, const void *head, size_t n,
           struct err **err)
{
  struct layer_unpacker *u = unpacker (c, err);
  char buf[1 << 16];
  ssize_t got;
  int r = 0;
  if (!u)
    return -1;
  if (n)
    r = layer_unpacker_feed (u, head, n, err);
  while (r == 0 && (got = read (fd, buf, sizeof buf)) != 0)
    {
      if (got < 0 && errno == EINTR)
        continue;
      if (got < 0)
        r = err_set (err, errno, "read the context");
      else
        r = layer_unpacker_feed (u, buf, (size_t)got, err);
    }
  return finish (u, r, err);
}

static int
from_stdin (const char *root, struct build_context *c, struct err **err)
{
  unsigned char head[1024];
  size_t n = 0;
  while (n < sizeof head)
    {
      ssize_t got = read (0, head + n, sizeof head - n);
      if (got < 0 && errno == EINTR)
        continue;
      if (got < 0)
        return err_set (err, errno, "read the context from stdin");
      if (got == 0)
        break;
      n += (size_t)got;
    }
  if (make_dir (root, c, err) < 0)
    return -1;
  if (layer_compression_sniff (head, n) != LAYER_UNCOMPRESSED
      || looks_like_tar (head, n))
    return unpack_fd (c, 0, head, n, err) < 0
               ? err_wrap (err, "unpack the context from stdin")
               : 0;
  /* a Buildfile, and an empty context */
  _cleanup_free_ char *rest = NULL;
  size_t len = 0;
  if (fs_read_fd (0, CONTEXT_TEXT_MAX, &rest, &len, err) < 0)
    return err_wrap (err, "read the Buildfile from stdin");
  c->text = xmalloc (n + len + 1);
  memcpy (c->text, head, n);
  memcpy (c->text + n, rest, len);
  c->len = n + len;
  c->text[c->len] = '\0';
  return 0;
}

int
build_fetch_url (const char *url, bool tls_verify,
                 int (*write) (void *ctx, const void *data, size_t len,
                               struct err **err),
                 void *ctx, char **etag, char **last_modified, struct err **err)
{
  struct reg_http *h = http_new (NULL, tls_verify, NULL);
  struct http_response resp = { 0 };
  struct http_request req = { .url = url, .write = write, .ctx = ctx };
  int r = http_do (h, &req, &resp, err);
  if (r == 0 && (resp.status < 200 || resp.status > 299))
    r = err_set (err, 0, "'%s': status %ld", url, resp.status);
  if (r == 0 && etag)
    *etag = steal_pointer (&resp.etag);
  if (r == 0 && last_modified)
    *last_modified = steal_pointer (&resp.last_modified);
  http_response_release (&resp);
  http_free (h);
  return r;
}

static int
from_git (const char *root, const char *spec, bool tls_verify,
          struct build_context *c, struct err **err)
{
  _cleanup_free_ char *key = NULL;
  if (make_dir (root, c, err) < 0
      || build_git_checkout (spec, c->tmp, false, tls_verify, &c->git_dir, &key,
                             err)
             < 0)
    return err_wrap (err, "build context '%s'", spec);
  c->dir = c->git_dir;
  return 0;
}

static int
from_url (const char *root, const char *url, bool tls_verify,
          struct build_context *c, struct err **err)
{
  struct layer_unpacker *u;
  if (make_dir (root, c, err) < 0 || !(u = unpacker (c, err)))
    return -1;
  int r = build_fetch_url (url, tls_verify, feed, u, NULL, NULL, err);
  r = finish (u, r, err);
  return r < 0 ? err_wrap (err, "build context '%s'", url) : 0;
}

int
build_context_open (const char *root, const char *spec, bool tls_verify,
                    struct build_context *c, struct err **err)
{
  struct stat st;
  memset (c, 0, sizeof *c);
  if (!strcmp (spec, "-"))
    return from_stdin (root, c, err);
  if (build_git_is_url (spec))
    return from_git (root, spec, tls_verify, c, err);
  if (build_context_is_url (spec))
    return from_url (root, spec, tls_verify, c, err);
  if (stat (spec, &st) < 0)
    return err_set (err, errno, "build context '%s'", spec);
  if (S_ISDIR (st.st_mode))
    {
      c->dir = spec;
      return 0;
    }
  _cleanup_close_ int fd = open (spec, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return err_set (err, errno, "build context '%s'", spec);
  if (make_dir (root, c, err) < 0 || unpack_fd (c, fd, NULL, 0, err) < 0)
    return err_wrap (err, "build context '%s'", spec);
  return 0;
}
