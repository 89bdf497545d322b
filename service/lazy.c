/* Lazy start in the monitor (service/lazy.h): each lower dir of the plan
 * that is a lazy layer (its snapshot missing, a chain record in the
 * store, layers/lazystore.h) is mounted through FUSE (service/lazyfs.c)
 * from its TOC, and the mount stands in for the snapshot while the
 * container starts. Contents come by Range requests on first read; a
 * thread downloads the whole blob meanwhile (resumable, as a pull does)
 * and unpacks it as the layer's ordinary snapshot for the next container.
 *
 * The serving runs in a forked process of the monitor (the same binary,
 * no exec), not in its threads: the monitor clones the container with
 * clone3, which runs no atfork handlers, so a FUSE thread inside malloc
 * at that instant left the child waiting for the lock forever (seen).
 * Nothing outlives the monitor: the server dies with it (PDEATHSIG), the
 * mounts are detached at its exit; a kill -9 leaves a dead mount, which
 * the next lazy start removes. */
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
#include <linux/close_range.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/wait.h>
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
  pid_t server; /* the process serving it */
  pthread_mutex_t lock;
  struct conn *idle;
};

static struct served *served; /* the monitor's, for its exit handler */
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

/* Back to the idle ones. */
static void
conn_put (struct served *sv, struct conn *k)
{
  pthread_mutex_lock (&sv->lock);
  k->next = sv->idle;
  sv->idle = k;
  pthread_mutex_unlock (&sv->lock);
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
  conn_put (sv, k);
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
    conn_put (sv, k);
  return NULL;
}

/* At the monitor's exit: the servers end, their mounts go. */
static void
stop_all (void)
{
  if (getpid () != owner)
    return;
  for (struct served *sv = served; sv; sv = sv->next)
    {
      kill (sv->server, SIGKILL);
      waitpid (sv->server, NULL, 0);
      umount2 (sv->mnt, MNT_DETACH);
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
      if (pid <= 0 || kill ((pid_t)pid, 0) == 0 || errno == EPERM)
        continue;
      _cleanup_free_ char *path
          = xasprintf ("/proc/self/fd/%d/%s", dir, de->d_name);
      umount2 (path, MNT_DETACH);
      unlinkat (dir, de->d_name, AT_REMOVEDIR);
    }
  closedir (d);
}

/* The server process: the layer mounted and served, its blob downloaded,
 * until the monitor kills it (or dies: PDEATHSIG). Reports "ok" or the
 * error on ready. */
static void
server (struct svc *s, struct served *sv, const char *hex, pid_t monitor,
        int ready)
{
  struct err *err = NULL;
  _cleanup_free_ char *blob = NULL;
  struct toc *t;
  pthread_t bg;
  int null = open ("/dev/null", O_RDWR | O_CLOEXEC);
  if (prctl (PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid () != monitor
      || null < 0)
    _exit (1);
  /* nothing of the monitor's: its container's pipes (their EOF ends its
   * output), its monitor.lock, the user's stdout; stderr stays for the
   * fetch errors */
  dup2 (null, 0);
  dup2 (null, 1);
  if (dup2 (ready, 3) < 0)
    _exit (1);
  ready = 3;
  close_range (4, ~0U, 0);
  pthread_mutex_init (&sv->lock, NULL);
  if (store_open (&sv->st, s->root, &err) < 0)
    goto fail;
  if (lazy_chain_get (&sv->st, hex, &blob, &sv->diff_id, &err) != 0
      || lazy_record_get (&sv->st, blob, &sv->rec, &err) != 0)
    {
      if (!err)
        err_set (&err, 0, "lazy layer %s has no record", hex);
      goto fail;
    }
  sv->chain_id = xasprintf ("sha256:%s", hex);
  if (!(t = lazy_record_toc (&sv->st, &sv->rec, &err))
      || !(sv->layer = lazy_layer_new (t, sv->st.tmp_fd, fetch, sv, &err)))
    {
      err_wrap (&err, "lazy layer %s", blob);
      goto fail;
    }
  if (lazyfs_start (sv->layer, sv->mnt, fetch_failed, sv, &sv->fs, &err) < 0)
    goto fail;
  fs_write_all (ready, "ok", 2);
  close (ready);
  if (pthread_create (&bg, NULL, complete, sv) != 0)
    log_info ("lazy layer %s: no background download", hex);
  for (;;)
    pause ();
fail:
  fs_write_all (ready, err->msg, strlen (err->msg));
  _exit (1);
}

static int
serve (struct svc *s, char **lower, const char *hex, struct err **err)
{
  struct served *sv = xcalloc (1, sizeof *sv);
  _cleanup_close_ int mdir = -1;
  int ready[2];
  char msg[1024];
  ssize_t n;
  pid_t monitor = getpid ();
  struct store st;
  if (store_open (&st, s->root, err) < 0)
    goto fail;
  mdir = lazy_dir_open (&st, "mnt", err);
  store_release (&st);
  if (mdir < 0)
    goto fail;
  remove_dead_mounts (mdir);
  sv->mnt = xasprintf ("%s/lazy/mnt/%s.%d", s->root, hex, (int)monitor);
  if (mkdir (sv->mnt, 0700) < 0 && errno != EEXIST)
    {
      err_set (err, errno, "make '%s'", sv->mnt);
      goto fail;
    }
  if (pipe2 (ready, O_CLOEXEC) < 0)
    {
      err_set (err, errno, "pipe");
      goto fail;
    }
  fflush (NULL);
  sv->server = fork ();
  if (sv->server == 0)
    {
      close (ready[0]);
      server (s, sv, hex, monitor, ready[1]);
    }
  close (ready[1]);
  n = sv->server < 0 ? -1 : read (ready[0], msg, sizeof msg - 1);
  close (ready[0]);
  if (n != 2 || memcmp (msg, "ok", 2))
    {
      if (sv->server > 0)
        waitpid (sv->server, NULL, 0);
      msg[n > 0 ? n : 0] = 0;
      err_set (err, n < 0 ? errno : 0, "%s",
               n > 0 ? msg : "the lazy layer's server failed");
      rmdir (sv->mnt);
      goto fail;
    }
  if (!served)
    {
      owner = monitor;
      atexit (stop_all);
    }
  sv->next = served;
  served = sv;
  sv->snap = *lower;
  *lower = xstrdup (sv->mnt);
  return 0;
fail:
  free (sv->mnt);
  free (sv);
  return -1;
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
