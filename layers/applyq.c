/* Regular files written by worker threads: see applyq.h. */
#include "layers/applyq.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

struct applyq_dir
{
  int fd;
  atomic_uint refs;
  unsigned worker; /* every file of the directory goes to this one */
};

struct jxattr
{
  char *name;
  void *value;
  size_t len;
};

struct applyq_job
{
  struct applyq_job *next;
  struct applyq_dir *dir;
  char *base, *path;
  uint32_t mode, uid, gid;
  bool chown;
  struct timespec mtime;
  uint8_t *data;
  size_t len, size;
  struct jxattr *xattrs;
  size_t n_xattrs, alloc_xattrs;
};

struct worker
{
  struct applyq *q;
  pthread_t thread;
  pthread_cond_t work;
  struct applyq_job *head, *tail;
  bool idle; /* waiting on work: the producer wakes only such a one */
};

struct applyq
{
  pthread_mutex_t mu;
  pthread_cond_t done;
  unsigned waiters; /* threads waiting on done: workers signal only then */
  struct worker *w;
  unsigned n;
  size_t bytes, max_bytes; /* queued file data */
  size_t pending;          /* queued or being written */
  bool stop;
  char *failed;  /* the first worker error */
  int umask_now; /* the process's umask, -1 if unknown */
  uid_t euid;    /* asked once: each is a system call */
  gid_t egid;
};

static atomic_uint dir_seq;

struct applyq_dir *
applyq_dir_new (int fd)
{
  struct applyq_dir *d = xcalloc (1, sizeof *d);
  d->fd = fd;
  atomic_init (&d->refs, 1);
  d->worker = atomic_fetch_add (&dir_seq, 1);
  return d;
}

int
applyq_dir_fd (const struct applyq_dir *d)
{
  return d->fd;
}

void
applyq_dir_put (struct applyq_dir *d)
{
  if (d && atomic_fetch_sub (&d->refs, 1) == 1)
    {
      close (d->fd);
      free (d);
    }
}

struct applyq_job *
applyq_job_new (struct applyq_dir *dir, const char *base, const char *path,
                uint32_t mode, bool chown, uint32_t uid, uint32_t gid,
                struct timespec mtime, uint64_t size)
{
  struct applyq_job *j = xcalloc (1, sizeof *j);
  atomic_fetch_add (&dir->refs, 1);
  j->dir = dir;
  j->base = xstrdup (base);
  j->path = xstrdup (path);
  j->mode = mode;
  j->chown = chown;
  j->uid = uid;
  j->gid = gid;
  j->mtime = mtime;
  j->size = (size_t)size;
  j->data = size ? xmalloc ((size_t)size) : NULL;
  return j;
}

void
applyq_job_xattr (struct applyq_job *j, const char *name, const void *value,
                  size_t len)
{
  j->xattrs
      = xgrow (j->xattrs, &j->alloc_xattrs, j->n_xattrs + 1, sizeof *j->xattrs);
  j->xattrs[j->n_xattrs].name = xstrdup (name);
  j->xattrs[j->n_xattrs].value = xmalloc (len ? len : 1);
  memcpy (j->xattrs[j->n_xattrs].value, value, len);
  j->xattrs[j->n_xattrs].len = len;
  j->n_xattrs++;
}

void
applyq_job_data (struct applyq_job *j, const void *buf, size_t len)
{
  if (len > j->size - j->len) /* the tar reader never passes more */
    len = j->size - j->len;
  memcpy (j->data + j->len, buf, len);
  j->len += len;
}

void
applyq_job_free (struct applyq_job *j)
{
  if (!j)
    return;
  applyq_dir_put (j->dir);
  for (size_t i = 0; i < j->n_xattrs; i++)
    {
      free (j->xattrs[i].name);
      free (j->xattrs[i].value);
    }
  free (j->xattrs);
  free (j->data);
  free (j->base);
  free (j->path);
  free (j);
}

/* The same work as apply.c's serial path, with as few system calls as
 * `tar -x`: the file is created with its final permissions when the
 * umask keeps them and no chown follows (chown clears setuid/setgid), so
 * no fchmod; no fchown when the owner is already ours. */
static int
write_job (const struct applyq *q, struct applyq_job *j, struct err **err)
{
  int dfd = j->dir->fd;
  mode_t perm = j->mode & 07777;
  bool exact
      = q->umask_now >= 0 && !(perm & ~0777) && !(perm & (mode_t)q->umask_now);
  bool chown = j->chown && (j->uid != q->euid || j->gid != q->egid);
  /* why 0600 otherwise: nobody else may open it before it is finished */
  mode_t create = exact && !chown ? perm : 0600;
  int fd
      = openat (dfd, j->base,
                O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, create);
  struct timespec ts[2] = { j->mtime, j->mtime };
  int rc = -1;
  if (fd < 0 && errno == EEXIST)
    {
      /* only a whiteout of a lower name can be there (the caller queues
       * names this layer has not made, and drains before a second one) */
      struct stat st;
      if (fstatat (dfd, j->base, &st, AT_SYMLINK_NOFOLLOW) == 0
          && !S_ISDIR (st.st_mode) && unlinkat (dfd, j->base, 0) == 0)
        fd = openat (dfd, j->base,
                     O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                     create);
    }
  if (fd < 0)
    return err_set (err, errno, "create '%s'", j->path);
  if (j->len && fs_write_all (fd, j->data, j->len) < 0)
    err_set (err, errno, "write '%s'", j->path);
  else if (chown && fchown (fd, j->uid, j->gid) < 0)
    err_set (err, errno, "chown '%s'", j->path);
  /* after chown, which clears setuid/setgid; before xattrs (chown drops
   * security.capability) */
  else if (create != perm && fchmod (fd, perm) < 0)
    err_set (err, errno, "chmod '%s'", j->path);
  else
    {
      rc = 0;
      for (size_t i = 0; i < j->n_xattrs && rc == 0; i++)
        if (fsetxattr (fd, j->xattrs[i].name, j->xattrs[i].value,
                       j->xattrs[i].len, 0)
                < 0
            && errno != EOPNOTSUPP)
          rc = err_set (err, errno, "set xattr '%s' on '%s'", j->xattrs[i].name,
                        j->path);
      if (rc == 0 && futimens (fd, ts) < 0)
        rc = err_set (err, errno, "set times of '%s'", j->path);
    }
  close (fd);
  return rc;
}

static void *
worker_main (void *arg)
{
  struct worker *w = arg;
  struct applyq *q = w->q;
  pthread_mutex_lock (&q->mu);
  for (;;)
    {
      struct applyq_job *batch, *j;
      size_t bytes = 0, n = 0;
      char *failed = NULL;
      bool skip;
      while (!w->head && !q->stop)
        {
          w->idle = true;
          pthread_cond_wait (&w->work, &q->mu);
          w->idle = false;
        }
      if (!w->head)
        break;
      /* all that is queued for us at once: one lock round per batch */
      batch = w->head;
      w->head = w->tail = NULL;
      skip = q->failed != NULL;
      pthread_mutex_unlock (&q->mu);
      while ((j = batch))
        {
          struct err *e = NULL;
          batch = j->next;
          if (!skip && !failed && write_job (q, j, &e) < 0)
            {
              failed = xstrdup (e ? e->msg : "write failed");
              err_free (e);
            }
          bytes += j->size;
          n++;
          applyq_job_free (j);
        }
      pthread_mutex_lock (&q->mu);
      if (failed && !q->failed)
        q->failed = steal_pointer (&failed);
      free (failed);
      q->bytes -= bytes;
      q->pending -= n;
      if (q->waiters)
        pthread_cond_broadcast (&q->done);
    }
  pthread_mutex_unlock (&q->mu);
  return NULL;
}

/* The umask, read without changing it (umask(2) would, for a moment, for
 * every thread). */
static int
read_umask (void)
{
  char *s = NULL, *p;
  struct err *e = NULL;
  int um = -1;
  if (fs_read_file (AT_FDCWD, "/proc/self/status", 1 << 16, &s, NULL, &e) == 0
      && (p = strstr (s, "\nUmask:")))
    um = (int)strtol (p + 8, NULL, 8);
  err_free (e);
  free (s);
  return um;
}

struct applyq *
applyq_new (unsigned nthreads, size_t max_bytes)
{
  struct applyq *q = xcalloc (1, sizeof *q);
  pthread_mutex_init (&q->mu, NULL);
  pthread_cond_init (&q->done, NULL);
  q->max_bytes = max_bytes;
  q->umask_now = read_umask ();
  q->euid = geteuid ();
  q->egid = getegid ();
  q->w = xcalloc (nthreads, sizeof *q->w);
  for (unsigned i = 0; i < nthreads; i++)
    {
      q->w[i].q = q;
      pthread_cond_init (&q->w[i].work, NULL);
      if (pthread_create (&q->w[i].thread, NULL, worker_main, &q->w[i]))
        {
          pthread_cond_destroy (&q->w[i].work);
          break;
        }
      q->n++;
    }
  if (!q->n)
    {
      applyq_free (q);
      return NULL;
    }
  return q;
}

int
applyq_submit (struct applyq *q, struct applyq_job *j, struct err **err)
{
  struct worker *w = &q->w[j->dir->worker % q->n];
  pthread_mutex_lock (&q->mu);
  /* room for it, unless nothing is queued (a file larger than the budget
   * still goes through, alone) */
  q->waiters++;
  while (!q->failed && q->pending && q->bytes + j->size > q->max_bytes)
    pthread_cond_wait (&q->done, &q->mu);
  q->waiters--;
  if (q->failed)
    {
      err_set (err, 0, "%s", q->failed);
      pthread_mutex_unlock (&q->mu);
      applyq_job_free (j);
      return -1;
    }
  j->next = NULL;
  if (w->tail)
    w->tail->next = j;
  else
    w->head = j;
  w->tail = j;
  q->bytes += j->size;
  q->pending++;
  if (w->idle)
    pthread_cond_signal (&w->work);
  pthread_mutex_unlock (&q->mu);
  return 0;
}

int
applyq_drain (struct applyq *q, struct err **err)
{
  int rc = 0;
  pthread_mutex_lock (&q->mu);
  q->waiters++;
  while (q->pending)
    pthread_cond_wait (&q->done, &q->mu);
  q->waiters--;
  if (q->failed)
    rc = err_set (err, 0, "%s", q->failed);
  pthread_mutex_unlock (&q->mu);
  return rc;
}

void
applyq_free (struct applyq *q)
{
  if (!q)
    return;
  pthread_mutex_lock (&q->mu);
  q->stop = true;
  for (unsigned i = 0; i < q->n; i++)
    pthread_cond_signal (&q->w[i].work);
  pthread_mutex_unlock (&q->mu);
  for (unsigned i = 0; i < q->n; i++)
    {
      pthread_join (q->w[i].thread, NULL);
      pthread_cond_destroy (&q->w[i].work);
    }
  for (unsigned i = 0; i < q->n; i++)
    while (q->w[i].head)
      {
        struct applyq_job *j = q->w[i].head;
        q->w[i].head = j->next;
        applyq_job_free (j);
      }
  pthread_mutex_destroy (&q->mu);
  pthread_cond_destroy (&q->done);
  free (q->failed);
  free (q->w);
  free (q);
}
