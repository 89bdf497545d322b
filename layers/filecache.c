/* The content-addressed file cache: see layers/filecache.h. */
#include "layers/filecache.h"
#include "layers/digest.h"
#include "layers/snapshot.h"
#include "layers/store.h"
#include "layers/toc.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/log.h"
#include "lib/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CACHE_DIR "files/sha256"

/* The cache directory's fd (made when create), or -1. */
static int
cache_dir (struct store *s, bool create, struct err **err)
{
  int fd = openat (s->root_fd, CACHE_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0 || !create || errno != ENOENT)
    {
      if (fd < 0 && (create || errno != ENOENT))
        err_set (err, errno, "open '%s/%s'", s->root, CACHE_DIR);
      return fd;
    }
  if ((mkdirat (s->root_fd, "files", 0700) < 0 && errno != EEXIST)
      || (mkdirat (s->root_fd, CACHE_DIR, 0700) < 0 && errno != EEXIST))
    {
      err_set (err, errno, "make '%s/%s'", s->root, CACHE_DIR);
      return -1;
    }
  fd = openat (s->root_fd, CACHE_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    err_set (err, errno, "open '%s/%s'", s->root, CACHE_DIR);
  return fd;
}

bool
filecache_has (struct store *s, const char *digest)
{
  _cleanup_free_ char *p = NULL;
  if (!digest_is_sha256 (digest))
    return false;
  p = xasprintf (CACHE_DIR "/%s", digest_hex (digest));
  return faccessat (s->root_fd, p, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
}

int
filecache_open (struct store *s, const char *digest)
{
  _cleanup_free_ char *p = NULL;
  if (!digest_is_sha256 (digest))
    {
      errno = EINVAL;
      return -1;
    }
  p = xasprintf (CACHE_DIR "/%s", digest_hex (digest));
  return openat (s->root_fd, p, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
}

void
filecache_drop (struct store *s, const char *digest)
{
  _cleanup_free_ char *p = NULL;
  if (!digest_is_sha256 (digest))
    return;
  p = xasprintf (CACHE_DIR "/%s", digest_hex (digest));
  unlinkat (s->root_fd, p, 0);
}

/* Link one file of the snapshot (root_fd) as the entry for e's digest:
 * 1 added, 0 left out. */
static int
add_one (int root_fd, int dir_fd, const struct toc_entry *e)
{
  char proc[64];
  struct stat st;
  int fd = fs_open_in_root (root_fd, e->name, O_PATH | O_NOFOLLOW, 0);
  int ok = 0;
  if (fd < 0)
    return 0;
  /* Through /proc/self/fd: linkat's AT_EMPTY_PATH wants
   * CAP_DAC_READ_SEARCH, which a rootless store's owner lacks. */
  snprintf (proc, sizeof proc, "/proc/self/fd/%d", fd);
  if (fstat (fd, &st) == 0 && S_ISREG (st.st_mode)
      && (uint64_t)st.st_size == e->size
      && linkat (AT_FDCWD, proc, dir_fd, digest_hex (e->digest),
                 AT_SYMLINK_FOLLOW)
             == 0)
    ok = 1;
  close (fd);
  return ok;
}

int
filecache_add (struct store *s, const char *chain_id, const struct toc *t,
               struct err **err)
{
  _cleanup_free_ char *path = snapshot_path (s, chain_id);
  int root_fd, dir_fd, added = 0;
  root_fd = open (path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (root_fd < 0)
    return err_set (err, errno, "open '%s'", path);
  if ((dir_fd = cache_dir (s, true, err)) < 0)
    {
      close (root_fd);
      return -1;
    }
  for (size_t i = 0; i < t->n_entries; i++)
    {
      const struct toc_entry *e = &t->entries[i];
      if (e->type != TOC_REG || !e->size || !digest_is_sha256 (e->digest)
          || toc_lookup (t, e->name) != e
          || faccessat (dir_fd, digest_hex (e->digest), F_OK,
                        AT_SYMLINK_NOFOLLOW)
                 == 0)
        continue;
      added += add_one (root_fd, dir_fd, e);
    }
  close (dir_fd);
  close (root_fd);
  return added;
}

struct prune
{
  size_t removed;
};

static int
prune_one (void *ctx, int dirfd, const char *name, struct err **err)
{
  struct prune *p = ctx;
  struct stat st;
  if (fstatat (dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return 0;
  /* A link count of 1: no snapshot holds the file any more. */
  if ((!S_ISREG (st.st_mode) || st.st_nlink <= 1)
      && unlinkat (dirfd, name, 0) == 0)
    p->removed++;
  return 0;
}

int
filecache_prune (struct store *s, size_t *removed, struct err **err)
{
  struct prune p = { 0 };
  int rc = 0;
  if (faccessat (s->root_fd, CACHE_DIR, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
    rc = fs_dir_each (s->root_fd, CACHE_DIR, prune_one, &p, err);
  if (removed)
    *removed = p.removed;
  return rc < 0 ? -1 : 0;
}
