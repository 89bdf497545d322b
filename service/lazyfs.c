/* FUSE over a lazy layer (service/lazyfs.h), libfuse3's low-level API.
 * Everything but a read is answered from the TOC on the session's thread;
 * a read goes to a worker, which fetches the file (once) and replies. The
 * layer never changes, so the kernel may cache entries, attributes and
 * pages for as long as it likes. */
#define FUSE_USE_VERSION 31
#include "service/lazyfs.h"
#include "layers/lazy.h"
#include "lib/err.h"
#include "lib/log.h"
#include "lib/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <fuse_lowlevel.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#define WORKERS 4
#define FOREVER 86400.0 /* seconds the kernel may cache what we answer */
#define OPAQUE_XATTR "trusted.overlay.opaque"

struct job
{
  struct job *next;
  fuse_req_t req;
  uint64_t ino;
  size_t size;
  off_t off;
};

struct lazyfs
{
  struct lazy_layer *l;
  struct fuse_session *se;
  char *mnt;
  lazyfs_error_fn on_error;
  void *arg;
  pthread_t loop;
  pthread_mutex_t lock;
  pthread_cond_t more;
  struct job *head, **tail;
};

static struct lazyfs *
fs_of (fuse_req_t req)
{
  return fuse_req_userdata (req);
}

static void
op_lookup (fuse_req_t req, fuse_ino_t parent, const char *name)
{
  struct lazyfs *fs = fs_of (req);
  struct fuse_entry_param e = { 0 };
  e.ino = lazy_lookup (fs->l, parent, name);
  if (!e.ino || !lazy_stat (fs->l, e.ino, &e.attr))
    {
      fuse_reply_err (req, ENOENT);
      return;
    }
  e.attr_timeout = e.entry_timeout = FOREVER;
  fuse_reply_entry (req, &e);
}

static void
op_getattr (fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
  struct stat st;
  if (!lazy_stat (fs_of (req)->l, ino, &st))
    fuse_reply_err (req, ENOENT);
  else
    fuse_reply_attr (req, &st, FOREVER);
}

static void
op_readlink (fuse_req_t req, fuse_ino_t ino)
{
  const char *t = lazy_readlink (fs_of (req)->l, ino);
  if (!t)
    fuse_reply_err (req, EINVAL);
  else
    fuse_reply_readlink (req, t);
}

static void
op_readdir (fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
            struct fuse_file_info *fi)
{
  struct lazyfs *fs = fs_of (req);
  _cleanup_free_ char *buf = xmalloc (size);
  size_t used = 0;
  struct stat st;
  if (!lazy_stat (fs->l, ino, &st) || !S_ISDIR (st.st_mode))
    {
      fuse_reply_err (req, ENOTDIR);
      return;
    }
  /* off: the index of the next entry */
  for (size_t i = (size_t)off;; i++)
    {
      const char *name;
      uint64_t child;
      size_t n;
      if (!lazy_dirent (fs->l, ino, i, &name, &child))
        break;
      lazy_stat (fs->l, child, &st);
      n = fuse_add_direntry (req, buf + used, size - used, name, &st,
                             (off_t)i + 1);
      if (n > size - used)
        break;
      used += n;
    }
  fuse_reply_buf (req, buf, used);
}

static void
op_open (fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
  if ((fi->flags & O_ACCMODE) != O_RDONLY)
    {
      fuse_reply_err (req, EROFS);
      return;
    }
  fi->keep_cache = 1;
  fuse_reply_open (req, fi);
}

static void
op_read (fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
         struct fuse_file_info *fi)
{
  struct lazyfs *fs = fs_of (req);
  struct job *j = xcalloc (1, sizeof *j);
  *j = (struct job){ .req = req, .ino = ino, .size = size, .off = off };
  pthread_mutex_lock (&fs->lock);
  *fs->tail = j;
  fs->tail = &j->next;
  pthread_cond_signal (&fs->more);
  pthread_mutex_unlock (&fs->lock);
}

/* Only overlay's opaque mark: the TOC's own xattrs are not served (an
 * image could forge overlay metadata with them, layers/apply.c). */
static void
op_getxattr (fuse_req_t req, fuse_ino_t ino, const char *name, size_t size)
{
  if (strcmp (name, OPAQUE_XATTR) || !lazy_opaque (fs_of (req)->l, ino))
    fuse_reply_err (req, ENODATA);
  else if (!size)
    fuse_reply_xattr (req, 1);
  else
    fuse_reply_buf (req, "y", 1);
}

static void
op_listxattr (fuse_req_t req, fuse_ino_t ino, size_t size)
{
  size_t n = lazy_opaque (fs_of (req)->l, ino) ? sizeof OPAQUE_XATTR : 0;
  if (!size)
    fuse_reply_xattr (req, n);
  else if (size < n)
    fuse_reply_err (req, ERANGE);
  else
    fuse_reply_buf (req, OPAQUE_XATTR, n);
}

static const struct fuse_lowlevel_ops ops = {
  .lookup = op_lookup,
  .getattr = op_getattr,
  .readlink = op_readlink,
  .readdir = op_readdir,
  .open = op_open,
  .read = op_read,
  .getxattr = op_getxattr,
  .listxattr = op_listxattr,
};

static void
serve_read (struct lazyfs *fs, struct job *j)
{
  struct err *err = NULL;
  int fd = lazy_content_fd (fs->l, j->ino, &err);
  _cleanup_free_ char *buf = NULL;
  ssize_t n;
  if (fd < 0)
    {
      if (fs->on_error)
        fs->on_error (fs->arg, err->msg);
      err_free (err);
      fuse_reply_err (j->req, EIO);
      return;
    }
  buf = xmalloc (j->size ? j->size : 1);
  n = pread (fd, buf, j->size, j->off);
  if (n < 0)
    fuse_reply_err (j->req, EIO);
  else
    fuse_reply_buf (j->req, buf, (size_t)n);
}

static __attribute__ ((noreturn)) void *
worker (void *arg)
{
  struct lazyfs *fs = arg;
  for (;;)
    {
      struct job *j;
      pthread_mutex_lock (&fs->lock);
      while (!fs->head)
        pthread_cond_wait (&fs->more, &fs->lock);
      j = fs->head;
      fs->head = j->next;
      if (!fs->head)
        fs->tail = &fs->head;
      pthread_mutex_unlock (&fs->lock);
      serve_read (fs, j);
      free (j);
    }
}

static void *
loop (void *arg)
{
  struct lazyfs *fs = arg;
  fuse_session_loop (fs->se);
  return NULL;
}

/* Threads that take no signal: the monitor's are its main thread's. */
static int
spawn (pthread_t *t, void *(*fn) (void *), void *arg)
{
  sigset_t all, old;
  int r;
  sigfillset (&all);
  pthread_sigmask (SIG_SETMASK, &all, &old);
  r = pthread_create (t, NULL, fn, arg);
  pthread_sigmask (SIG_SETMASK, &old, NULL);
  return r;
}

int
lazyfs_start (struct lazy_layer *l, const char *mnt, lazyfs_error_fn on_error,
              void *arg, struct lazyfs **out, struct err **err)
{
  char *argv[] = { (char *)"imgtool", (char *)"-o",
                   (char *)"ro,allow_other,default_permissions,nosuid,nodev,"
                           "fsname=imgtool-lazy,subtype=imgtool",
                   NULL };
  struct fuse_args args = FUSE_ARGS_INIT (3, argv);
  struct lazyfs *fs = xcalloc (1, sizeof *fs);
  pthread_t w;
  fs->l = l;
  fs->mnt = xstrdup (mnt);
  fs->on_error = on_error;
  fs->arg = arg;
  fs->tail = &fs->head;
  pthread_mutex_init (&fs->lock, NULL);
  pthread_cond_init (&fs->more, NULL);
  fs->se = fuse_session_new (&args, &ops, sizeof ops, fs);
  if (!fs->se)
    {
      err_set (err, 0, "start a FUSE session for '%s'", mnt);
      goto fail;
    }
  if (fuse_session_mount (fs->se, mnt) != 0)
    {
      err_set (err, 0, "mount the lazy layer on '%s' (FUSE)", mnt);
      goto fail;
    }
  if (spawn (&fs->loop, loop, fs) != 0)
    {
      err_set (err, errno, "start the FUSE thread");
      fuse_session_unmount (fs->se);
      goto fail;
    }
  for (int i = 0; i < WORKERS; i++)
    if (spawn (&w, worker, fs) == 0)
      pthread_detach (w);
  *out = fs;
  return 0;
fail:
  if (fs->se)
    fuse_session_destroy (fs->se);
  free (fs->mnt);
  free (fs);
  return -1;
}
