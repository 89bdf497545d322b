/* Blob sources for cross-repository mounts: see registry/sources.h. */
#include "registry/sources.h"
#include "layers/digest.h"
#include "layers/store.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/log.h"
#include "lib/strbuf.h"
#include "lib/xalloc.h"
#include "registry/blob.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>

#define SOURCES_DIR "sources"
#define SOURCES_FILE_MAX 16384

static char **
read_lines (struct store *s, const char *digest)
{
  _cleanup_free_ char *path
      = xasprintf (SOURCES_DIR "/%s", digest_hex (digest));
  _cleanup_free_ char *buf = NULL;
  struct err *e = NULL;
  char **v = NULL;
  size_t len;
  if (fs_read_file (s->root_fd, path, SOURCES_FILE_MAX, &buf, &len, &e) < 0)
    {
      err_free (e); /* none yet, or unreadable: no hint */
      return NULL;
    }
  for (char *rest = buf, *line; (line = strsep (&rest, "\n"));)
    if (*line)
      strv_push (&v, xstrdup (line));
  return v;
}

int
reg_source_record (struct store *s, const char *digest, const char *domain,
                   const char *repo, struct err **err)
{
  _cleanup_strv_ char **old = NULL;
  _cleanup_free_ char *entry = xasprintf ("%s/%s", domain, repo);
  _cleanup_free_ char *path = NULL;
  _cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;
  size_t kept = 1;
  if (!digest_is_sha256 (digest))
    return 0;
  old = read_lines (s, digest);
  if (old && !strcmp (old[0], entry))
    return 0; /* already the newest */
  strbuf_addf (&sb, "%s\n", entry);
  for (char **p = old; p && *p && kept < REG_SOURCES_MAX; p++)
    if (strcmp (*p, entry))
      {
        strbuf_addf (&sb, "%s\n", *p);
        kept++;
      }
  if (fs_mkdir_p (s->root_fd, SOURCES_DIR, 0700, err) < 0)
    return -1;
  path = xasprintf (SOURCES_DIR "/%s", digest_hex (digest));
  /* Two writers at once may lose a line: it is only a hint. */
  return fs_write_file_atomic (s->root_fd, path, sb.buf, sb.len, 0600, err);
}

char **
reg_source_lookup (struct store *s, const char *digest, const char *domain)
{
  _cleanup_strv_ char **lines = NULL;
  char **out = xcalloc (1, sizeof *out);
  size_t dl = strlen (domain);
  if (!digest_is_sha256 (digest))
    return out;
  lines = read_lines (s, digest);
  for (char **p = lines; p && *p; p++)
    if (!strncmp (*p, domain, dl) && (*p)[dl] == '/' && (*p)[dl + 1])
      strv_push (&out, xstrdup (*p + dl + 1));
  return out;
}

void
reg_sources_record_pull (struct store *s, const char *domain, const char *repo,
                         const struct reg_blob_job *jobs, size_t n)
{
  for (size_t i = 0; i < n; i++)
    {
      struct err *e = NULL;
      if (reg_source_record (s, jobs[i].digest, domain, repo, &e) < 0)
        {
          log_debug ("record the source of %s: %s", jobs[i].digest, e->msg);
          err_free (e);
        }
    }
}
