/* Lazy start in the monitor (service/lazy.h): each lower dir of the plan
 * that is a lazy layer (its snapshot missing, a chain record in the
 * store, layers/lazystore.h) is mounted through FUSE (service/lazyfs.c)
 * from its TOC, and the mount stands in for the snapshot while the
 * container starts. Contents come by Range requests on first read; a
 * thread downloads the whole blob meanwhile (resumable, as a pull does)
 * and unpacks it as the layer's ordinary snapshot for the next container.
 * Nothing outlives the monitor: its threads end with it, the mounts are
 * detached at exit (a kill -9 leaves a dead mount, which the next lazy
 * start removes). */
#include "service/lazy.h"
#include "layers/lazy.h"
#include "layers/lazystore.h"
#include "layers/snapshot.h"
#include "layers/store.h"
#include "layers/toc.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/log.h"
#include "lib/progress.h"
#include "lib/xalloc.h"
#include "registry/blob.h"
#include "registry/lazypull.h"
#include "registry/session.h"
#include "runtime/container.h"
#include "runtime/plan.h"
#include "service/lazyfs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

/* A connection to the layer's registry, one per concurrent fetch. */
struct conn
{
  struct conn *next;
  struct reg_client c;
  struct reg_repo r;
};

struct served
{
  struct served *next;
  struct store st;
  struct lazy_record rec;
  char *chain_id, *diff_id;
  char *snap, *mnt; /* the lower dir it stands for; its mount */
  struct lazy_layer *layer;
  struct lazyfs *fs;
  pthread_mutex_t lock;
  struct conn *idle;
};

static struct served *served; /* this process's, for the exit handler */
static pid_t owner;

static int
conn_open (struct served *sv, struct conn **out, struct err **err)
{
  struct reg_client_opts co = { .config_path = sv->rec.config_path,
                                .no_tls_verify = sv->rec.no_tls_verify,
                                .cert_dir = sv->rec.cert_dir };
  struct conn *k = xcalloc (1, sizeof *k);
  if (reg_client_init (&k->c, &co, err) < 0)
    {
      free (k);
      return -1;
    }
  if (reg_repo_init (&k->r, &k->c, sv->rec.endpoint, sv->rec.cred_domain,
                     sv->rec.path, "pull", err)
      < 0)
    {
      reg_client_release (&k->c);
      free (k);
      return -1;
    }
  *out = k;
  return 0;
}

/* lazy_fetch_fn: a Range request on an idle connection (or a new one). */
static int
fetch (void *arg, uint64_t off, uint64_t len, uint8_t *buf, struct err **err)
{
  struct served *sv = arg;
  struct conn *k;
  int r;
  pthread_mutex_lock (&sv->lock);
  if ((k = sv->idle))
    sv->idle = k->next;
  pthread_mutex_unlock (&sv->lock);
  if (!k && conn_open (sv, &k, err) < 0)
    return -1;
  r = reg_lazy_fetch (&k->r, sv->rec.digest, off, len, buf, err);
  pthread_mutex_lock (&sv->lock);
  k->next = sv->idle;
  sv->idle = k;
  pthread_mutex_unlock (&sv->lock);
  return r;
}

/* The message outside: the container's reader gets EIO. */
static void
fetch_failed (void *arg, const char *msg)
{
  struct served *sv = arg;
  char sbuf[20];
  log_warn ("lazy layer %s: %s", digest_short (sv->rec.digest, sbuf), msg);
}

/* The background download: the whole blob (resuming a partial one), then
 * its snapshot. A failure only means the next pull or run does it. */
static void *
complete (void *arg)
{
  struct served *sv = arg;
  struct reg_blob_job job = { .digest = sv->rec.digest,
                              .size = sv->rec.size,
                              .media_type = sv->rec.media_type };
  struct progress *p = progress_new (stderr, true, "Downloading");
  struct err *err = NULL;
  struct conn *k = NULL;
  char sbuf[20];
  if (conn_open (sv, &k, &err) < 0
      || reg_blobs_fetch (&k->r, &sv->st, &job, 1, 1, p, &err) < 0
      || snapshot_create_from_blob (&sv->st, sv->chain_id, sv->rec.digest,
                                    sv->diff_id, &err)
             < 0)
    {
      log_info ("lazy layer %s: %s", digest_short (sv->rec.digest, sbuf),
                err->msg);
      err_free (err);
    }
  else
    log_debug ("lazy layer %s: complete", digest_short (sv->rec.digest, sbuf));
  progress_free (p);
  if (k)
    {
      pthread_mutex_lock (&sv->lock);
      k->next = sv->idle;
      sv->idle = k;
      pthread_mutex_unlock (&sv->lock);
    }
  return NULL;
}

static void
stop_all (void)
{
  if (getpid () != owner)
    return;
  for (struct served *sv = served; sv; sv = sv->next)
    {
      lazyfs_stop (sv->fs);
      rmdir (sv->mnt);
    }
}

/* Mounts of monitors that are gone (kill -9): detached and removed. */
static void
remove_dead_mounts (int dir)
{
  DIR *d = fdopendir (dup (dir));
  struct dirent *de;
  if (!d)
    return;
  while ((de = readdir (d)))
    {
      const char *dot = strrchr (de->d_name, '.');
      long pid = dot ? strtol (dot + 1, NULL, 10) : 0;
      if (pid <= 0 || (kill ((pid_t)pid, 0) < 0 && errno == EPERM)
          || kill ((pid_t)pid, 0) == 0)
        continue;
      _cleanup_free_ char *path
          = xasprintf ("/proc/self/fd/%d/%s", dir, de->d_name);
      umount2 (path, MNT_DETACH);
      unlinkat (dir, de->d_name, AT_REMOVEDIR);
    }
  closedir (d);
}

static int
serve (struct svc *s, char **lower, const char *hex, struct err **err)
{
  struct served *sv = xcalloc (1, sizeof *sv);
  _cleanup_close_ int mdir = -1;
  _cleanup_free_ char *blob = NULL;
  struct toc *t;
  pthread_t bg;
  pthread_attr_t attr;
  sigset_t all, old;
  pthread_mutex_init (&sv->lock, NULL);
  if (store_open (&sv->st, s->root, err) < 0)
    return -1; /* sv leaks on this rare path: the start fails */
  if (lazy_chain_get (&sv->st, hex, &blob, &sv->diff_id, err) != 0
      || lazy_record_get (&sv->st, blob, &sv->rec, err) != 0)
    return *err ? -1 : err_set (err, 0, "lazy layer %s has no record", hex);
  sv->chain_id = xasprintf ("sha256:%s", hex);
  if (!(t = lazy_record_toc (&sv->st, &sv->rec, err))
      || !(sv->layer = lazy_layer_new (t, sv->st.tmp_fd, fetch, sv, err)))
    return err_wrap (err, "lazy layer %s", blob);
  if ((mdir = lazy_dir_open (&sv->st, "mnt", err)) < 0)
    return -1;
  remove_dead_mounts (mdir);
  sv->mnt = xasprintf ("%s/lazy/mnt/%s.%d", s->root, hex, (int)getpid ());
  if (mkdir (sv->mnt, 0700) < 0 && errno != EEXIST)
    return err_set (err, errno, "make '%s'", sv->mnt);
  if (lazyfs_start (sv->layer, sv->mnt, fetch_failed, sv, &sv->fs, err) < 0)
    {
      rmdir (sv->mnt);
      return -1;
    }
  if (!served)
    {
      owner = getpid ();
      atexit (stop_all);
    }
  sv->next = served;
  served = sv;
  sv->snap = *lower;
  *lower = xstrdup (sv->mnt);
  /* its signals are the main thread's */
  pthread_attr_init (&attr);
  pthread_attr_setdetachstate (&attr, PTHREAD_CREATE_DETACHED);
  sigfillset (&all);
  pthread_sigmask (SIG_SETMASK, &all, &old);
  if (pthread_create (&bg, &attr, complete, sv) != 0)
    log_info ("lazy layer %s: no background download", hex);
  pthread_sigmask (SIG_SETMASK, &old, NULL);
  pthread_attr_destroy (&attr);
  return 0;
}

/* The plan's lower dirs back as they were (the record keeps those). */
static void
restore (char **lowers)
{
  for (size_t i = 0; lowers && lowers[i]; i++)
    for (struct served *sv = served; sv; sv = sv->next)
      if (!strcmp (lowers[i], sv->mnt))
        {
          free (lowers[i]);
          lowers[i] = xstrdup (sv->snap);
        }
}

int
svc_lazy_rt_start (struct svc *s, struct rt_plan *p, const struct rt_stdio *io,
                   struct rt_container *ct, struct err **err)
{
  int r;
  for (size_t i = 0; p->lower_dirs && p->lower_dirs[i]; i++)
    {
      const char *slash = strrchr (p->lower_dirs[i], '/');
      _cleanup_free_ char *chain_rec = NULL;
      if (!slash || access (p->lower_dirs[i], F_OK) == 0)
        continue;
      chain_rec = xasprintf ("%s/lazy/chain/%s", s->root, slash + 1);
      if (access (chain_rec, F_OK) < 0)
        continue;
      /* a layer this process serves already (a restart): its mount */
      struct served *sv = served;
      while (sv && strcmp (sv->snap, p->lower_dirs[i]))
        sv = sv->next;
      if (sv)
        {
          free (p->lower_dirs[i]);
          p->lower_dirs[i] = xstrdup (sv->mnt);
        }
      else if (serve (s, &p->lower_dirs[i], slash + 1, err) < 0)
        {
          restore (p->lower_dirs);
          return err_wrap (err, "serve a lazily pulled layer");
        }
    }
  r = rt_start (p, io, ct, err);
  restore (p->lower_dirs);
  return r;
}
