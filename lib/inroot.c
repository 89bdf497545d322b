/* Path resolution inside a root over a view (see inroot.h): the walk of
 * openat2(RESOLVE_IN_ROOT), done here so that it works on any view. */
#include "lib/inroot.h"
#include "lib/err.h"
#include "lib/strbuf.h"
#include "lib/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

/* The kernel's limit on symlinks in one resolution (MAXSYMLINKS). */
#define MAX_SYMLINKS 40

static int
fd_lstat (void *data, const char *rel, struct stat *st)
{
  return fstatat (*(const int *)data, rel, st, AT_SYMLINK_NOFOLLOW);
}

static ssize_t
fd_readlink (void *data, const char *rel, char *buf, size_t size)
{
  return readlinkat (*(const int *)data, rel, buf, size);
}

struct inroot_view
inroot_fd_view (const int *root_fd)
{
  return (struct inroot_view){ fd_lstat, fd_readlink, (void *)root_fd };
}

/* Split path into its components, appended to the stack *q (n entries):
 * the next component is at the end. */
static void
push_components (char ***q, size_t *n, const char *path)
{
  _cleanup_strv_ char **parts = xcalloc (1, sizeof (char *));
  _cleanup_free_ char *p = xstrdup (path);
  char *save = NULL;
  for (char *c = strtok_r (p, "/", &save); c; c = strtok_r (NULL, "/", &save))
    strv_push (&parts, xstrdup (c));
  size_t k = strv_len (parts);
  *q = xrealloc (*q, (*n + k + 1) * sizeof (char *));
  for (size_t i = 0; i < k; i++)
    (*q)[*n + i] = steal_pointer (&parts[k - 1 - i]);
  *n += k;
  (*q)[*n] = NULL;
}

int
inroot_resolve (const struct inroot_view *v, const char *path, char **out,
                bool *exists, bool *is_dir, struct err **err)
{
  char **q = NULL;
  size_t nq = 0;
  struct strbuf res = STRBUF_INIT;
  int links = 0, ret = 0;
  struct stat st = { 0 };

  *exists = true;
  *is_dir = true; /* "/" */
  push_components (&q, &nq, path);
  while (nq > 0)
    {
      _cleanup_free_ char *c = q[--nq];
      q[nq] = NULL;
      if (!strcmp (c, ".") || !*c)
        continue;
      if (!strcmp (c, ".."))
        {
          char *slash = strrchr (res.buf, '/');
          strbuf_setlen (&res, slash ? (size_t)(slash - res.buf) : 0);
          *is_dir = true;
          continue;
        }
      size_t before = res.len;
      strbuf_addf (&res, "/%s", c);
      if (!*exists)
        continue; /* below something missing: keep the rest as is */
      if (v->lstat (v->data, res.buf + 1, &st) < 0)
        {
          if (errno != ENOENT && errno != ENOTDIR)
            {
              ret = err_set (err, errno, "resolve '%s' in the image", path);
              break;
            }
          *exists = false;
          *is_dir = false;
          continue;
        }
      if (S_ISLNK (st.st_mode))
        {
          char target[PATH_MAX];
          ssize_t n
              = v->readlink (v->data, res.buf + 1, target, sizeof target - 1);
          if (n < 0 || ++links > MAX_SYMLINKS)
            {
              ret = err_set (err, n < 0 ? errno : ELOOP,
                             "resolve '%s' in the image", path);
              break;
            }
          target[n] = '\0';
          strbuf_setlen (&res, target[0] == '/' ? 0 : before);
          push_components (&q, &nq, target);
          continue;
        }
      *is_dir = S_ISDIR (st.st_mode);
      if (!*is_dir && nq > 0)
        {
          ret = err_set (err, ENOTDIR, "resolve '%s' in the image: '%s'", path,
                         res.buf);
          break;
        }
    }
  strv_free (q);
  if (ret < 0)
    {
      strbuf_release (&res);
      return -1;
    }
  if (!res.len)
    strbuf_addch (&res, '/');
  *out = strbuf_detach (&res, NULL);
  return 0;
}
