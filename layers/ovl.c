/* overlayfs's on-disk form (see ovl.h). */
#include "layers/ovl.h"
#include "lib/err.h"
#include "lib/xalloc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>
#include <unistd.h>

char *
ovl_join (const char *dir, const char *name)
{
  return *dir ? xasprintf ("%s/%s", dir, name) : xstrdup (name);
}

int
ovl_xattrs (int dirfd, const char *name, const char *what, int *flags,
            struct err **err)
{
  char proc[64 + PATH_MAX], list[4096];
  *flags = 0;
  snprintf (proc, sizeof proc, "/proc/self/fd/%d/%s", dirfd, name);
  ssize_t len = llistxattr (proc, list, sizeof list);
  if (len < 0 && errno == ERANGE)
    {
      /* A long list: look the few names up directly. */
      len = 0;
      static const char *const names[]
          = { "trusted.overlay.opaque",   "user.overlay.opaque",
              "trusted.overlay.redirect", "user.overlay.redirect",
              "trusted.overlay.metacopy", "user.overlay.metacopy" };
      for (size_t i = 0; i < ARRAY_SIZE (names); i++)
        {
          size_t l = strlen (names[i]) + 1;
          if (lgetxattr (proc, names[i], NULL, 0) >= 0
              && (size_t)len + l <= sizeof list)
            {
              memcpy (list + len, names[i], l);
              len += (ssize_t)l;
            }
        }
    }
  else if (len < 0 && (errno == ENOTSUP || errno == ENODATA))
    return 0;
  else if (len < 0)
    return err_set (err, errno, "list xattrs of '%s'", what);
  for (char *k = list; k < list + len; k += strlen (k) + 1)
    {
      const char *s = !strncmp (k, "trusted.overlay.", 16) ? k + 16
                      : !strncmp (k, "user.overlay.", 13)  ? k + 13
                                                           : NULL;
      if (!s)
        continue;
      if (!strcmp (s, "opaque"))
        {
          char v[8];
          ssize_t vl = lgetxattr (proc, k, v, sizeof v);
          if (vl == 1 && v[0] == 'y')
            *flags |= OVL_OPAQUE;
        }
      else if (!strcmp (s, "redirect"))
        *flags |= OVL_REDIRECT;
      else if (!strcmp (s, "metacopy"))
        *flags |= OVL_METACOPY;
    }
  return 0;
}

static int
cmp_key (const void *a, const void *b)
{
  return strcmp (((const struct ovl_name *)a)->key,
                 ((const struct ovl_name *)b)->key);
}

void
ovl_names_free (struct ovl_name *v, size_t n)
{
  for (size_t i = 0; i < n; i++)
    {
      if (v[i].key != v[i].name)
        free (v[i].key);
      free (v[i].name);
    }
  free (v);
}

int
ovl_read_names (int fd, const char *what, struct ovl_name **out, size_t *n_out,
                struct err **err)
{
  int dfd = fcntl (fd, F_DUPFD_CLOEXEC, 0);
  if (dfd < 0)
    return err_set (err, errno, "dup '%s'", what);
  DIR *dir = fdopendir (dfd);
  if (!dir)
    {
      close (dfd);
      return err_set (err, errno, "opendir '%s'", what);
    }
  rewinddir (dir);
  struct ovl_name *v = NULL;
  size_t n = 0, alloc = 0;
  struct dirent *de;
  errno = 0;
  while ((de = readdir (dir)))
    {
      if (!strcmp (de->d_name, ".") || !strcmp (de->d_name, ".."))
        continue;
      v = xgrow (v, &alloc, n + 1, sizeof *v);
      v[n].name = xstrdup (de->d_name);
      v[n].key = v[n].name;
      struct stat st;
      if ((de->d_type == DT_CHR || de->d_type == DT_UNKNOWN)
          && fstatat (fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0
          && ovl_is_whiteout (&st))
        v[n].key = xasprintf (".wh.%s", de->d_name);
      n++;
      errno = 0;
    }
  int e = errno;
  closedir (dir);
  if (e)
    {
      ovl_names_free (v, n);
      return err_set (err, e, "read directory '%s'", what);
    }
  /* Byte order of the names entries have in the tar (strcmp compares
     unsigned bytes), so the layer is the same whatever order readdir
     gives, and whiteouts sort as the ".wh." files they become. */
  if (n)
    qsort (v, n, sizeof *v, cmp_key);
  *out = v;
  *n_out = n;
  return 0;
}

int
ovl_open_dirs (char *const *dirs, int **fds, size_t *n, struct err **err)
{
  size_t k = dirs ? strv_len (dirs) : 0;
  int *v = xcalloc (k + 1, sizeof *v);
  for (size_t i = 0; i < k; i++)
    if ((v[i] = open (dirs[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
      {
        int e = errno;
        ovl_close_dirs (v, i);
        *fds = NULL;
        *n = 0;
        return err_set (err, e, "open layer dir '%s'", dirs[i]);
      }
  *fds = v;
  *n = k;
  return 0;
}

void
ovl_close_dirs (int *fds, size_t n)
{
  for (size_t i = 0; i < n; i++)
    close (fds[i]);
  free (fds);
}

char
ovl_lower_kind (char *const *lowers, const char *name, struct stat *st)
{
  for (size_t i = 0; lowers && lowers[i]; i++)
    {
      _cleanup_close_ int fd
          = open (lowers[i], O_PATH | O_DIRECTORY | O_CLOEXEC);
      if (fd < 0 || fstatat (fd, name, st, AT_SYMLINK_NOFOLLOW) < 0)
        continue;
      if (ovl_is_whiteout (st))
        return 0;
      return S_ISDIR (st->st_mode) ? 'd' : 'o';
    }
  return 0;
}
