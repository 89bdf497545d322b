/* The size of a tree (du.h). */
#include "lib/du.h"
#include "lib/xalloc.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct seen
{
  struct
  {
    dev_t dev;
    ino_t ino;
  } * v;
  size_t n, alloc;
};

/* whether a file with several links was counted already (and note it) */
static bool
seen_before (struct seen *s, const struct stat *st)
{
  for (size_t i = 0; i < s->n; i++)
    if (s->v[i].dev == st->st_dev && s->v[i].ino == st->st_ino)
      return true;
  s->v = xgrow (s->v, &s->alloc, s->n + 1, sizeof *s->v);
  s->v[s->n].dev = st->st_dev;
  s->v[s->n].ino = st->st_ino;
  s->n++;
  return false;
}

static int64_t
walk (int dirfd, struct seen *s)
{
  DIR *d = fdopendir (dirfd);
  struct dirent *e;
  int64_t sum = 0;
  if (!d)
    {
      close (dirfd);
      return 0;
    }
  while ((e = readdir (d)))
    {
      struct stat st;
      if (!strcmp (e->d_name, ".") || !strcmp (e->d_name, ".."))
        continue;
      if (fstatat (dirfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        continue;
      if (S_ISDIR (st.st_mode))
        {
          int fd = openat (dirfd, e->d_name,
                           O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
          if (fd >= 0)
            sum += walk (fd, s);
        }
      else if (st.st_nlink < 2 || !seen_before (s, &st))
        sum += st.st_size;
    }
  closedir (d);
  return sum;
}

int64_t
fs_tree_size (int dirfd, const char *path)
{
  struct seen s = { 0 };
  int64_t sum;
  int fd
      = openat (dirfd, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return 0;
  sum = walk (fd, &s);
  free (s.v);
  return sum;
}
