/* Snapshots: unpacked layers keyed by chain ID (see snapshot.h). */
#include "layers/snapshot.h"
#include "layers/apply.h"
#include "layers/image.h"
#include "layers/store.h"
#include "lib/detach.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/log.h"
#include "lib/rundir.h"
#include "lib/userns.h"
#include "lib/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define LOCKS_DIR ".locks"
#define STATE_DIR ".state"
#define FLUSH_LOCK LOCKS_DIR "/flush"
#define TRASH_DIR ".trash"
#define TRASH_LOCK LOCKS_DIR "/trash"
#define TMP_PREFIX "tmp-"
#define NONCE_LEN 16
#define BOOT_ID_MAX 64
#define MARK_UNSYNCED "unsynced "
#define MARK_SYNCED "synced "

static bool
is_hex64 (const char *s)
{
  size_t i = 0;
  for (; s[i]; i++)
    if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
      return false;
  return i == DIGEST_HEX_LEN;
}

struct snapshot_tx
{
  int snap_fd; /* snapshots/ */
  int lock_fd;
  int dir_fd; /* the temp dir */
  char hex[DIGEST_HEX_LEN + 1];
  char nonce[NONCE_LEN + 1];
  /* tmp-<hex>-<nonce> */
  char tmp[sizeof TMP_PREFIX + DIGEST_HEX_LEN + 1 + NONCE_LEN];
  char *chain_id;
  char *diff_id; /* expected, or NULL */
  struct layer_unpacker *u;
  bool unnamed; /* begun under a random name: its lock file goes too */
};

/* snapshots/, created 0700 (why: layers hold setuid binaries and
 * devices that only containers should reach). */
static int
open_snapshots (struct store *s, struct err **err)
{
  if (mkdirat (s->root_fd, "snapshots", 0700) < 0 && errno != EEXIST)
    return err_set (err, errno, "create '%s/snapshots'", s->root);
  return fs_open_dir (s->root_fd, "snapshots", err);
}

char *
snapshot_path (struct store *s, const char *chain_id)
{
  return xasprintf ("%s/snapshots/%s", s->root, digest_hex (chain_id));
}

/* --- durability: boot IDs and markers -----------------------------------
 *
 * A snapshot is never flushed on the path of the command that makes it.
 * Each has a marker, snapshots/.state/<hex>, written just before the
 * snapshot's dir is renamed into place: "unsynced <boot-id> <nonce>" at
 * first, "synced <boot-id>" once a flush that began after the snapshot was
 * complete has returned. A snapshot counts as there only when its dir and
 * its marker are, and the marker says synced or names this boot: files of
 * this boot survive kill -9 without any sync (the page cache keeps them),
 * while an unsynced snapshot seen after a reboot may have lost data with
 * the power, so it is unpacked again from its blob (the blobs themselves
 * are fsynced before they are renamed into place). */

static int to_trash (int snap_fd, const char *name, struct err **err);

static char boot_id_override[BOOT_ID_MAX];
static char boot_id_buf[BOOT_ID_MAX];
static pthread_once_t boot_id_once = PTHREAD_ONCE_INIT;
static atomic_uint made_here;    /* snapshots this process committed */
static atomic_uint trashed_here; /* dirs this process moved to the trash */

void
snapshot_test_set_boot_id (const char *id)
{
  snprintf (boot_id_override, sizeof boot_id_override, "%s", id ? id : "");
}

static void
read_boot_id (void)
{
  int fd = open ("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC);
  ssize_t n = fd < 0 ? -1 : read (fd, boot_id_buf, sizeof boot_id_buf - 1);
  if (fd >= 0)
    close (fd);
  boot_id_buf[n > 0 ? n : 0] = '\0';
  boot_id_buf[strcspn (boot_id_buf, "\n ")] = '\0';
  if (!*boot_id_buf) /* no /proc: every marker then looks like another boot's */
    snprintf (boot_id_buf, sizeof boot_id_buf, "unknown");
}

static const char *
boot_id (void)
{
  if (*boot_id_override)
    return boot_id_override;
  pthread_once (&boot_id_once, read_boot_id);
  return boot_id_buf;
}

/* Read snapshots/.state/<hex> into buf ("" when missing or unreadable). */
static void
read_marker (int snap_fd, const char *hex, char *buf, size_t size)
{
  char rel[sizeof STATE_DIR + 1 + DIGEST_HEX_LEN];
  snprintf (rel, sizeof rel, STATE_DIR "/%s", hex);
  int fd = openat (snap_fd, rel, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  ssize_t n = fd < 0 ? -1 : fs_read_full (fd, buf, size - 1);
  if (fd >= 0)
    close (fd);
  buf[n > 0 ? n : 0] = '\0';
}

/* Whether a marker lets its snapshot be used in this boot. */
static bool
marker_usable (const char *m)
{
  size_t n = strlen (boot_id ());
  if (!strncmp (m, MARK_SYNCED, strlen (MARK_SYNCED)))
    return true;
  if (strncmp (m, MARK_UNSYNCED, strlen (MARK_UNSYNCED)))
    return false;
  m += strlen (MARK_UNSYNCED);
  return !strncmp (m, boot_id (), n) && m[n] == ' ';
}

/* Unsynced, of this boot: what a flush is for. */
static bool
marker_pending (const char *m)
{
  return !strncmp (m, MARK_UNSYNCED, strlen (MARK_UNSYNCED))
         && marker_usable (m);
}

static int
write_marker (int snap_fd, const char *hex, const char *text, struct err **err)
{
  char rel[sizeof STATE_DIR + 1 + DIGEST_HEX_LEN];
  if (mkdirat (snap_fd, STATE_DIR, 0700) < 0 && errno != EEXIST)
    return err_set (err, errno, "create '" STATE_DIR "'");
  snprintf (rel, sizeof rel, STATE_DIR "/%s", hex);
  /* no fsync: a marker lost in a crash makes its snapshot absent */
  return fs_write_file_replace (snap_fd, rel, text, strlen (text), 0600, err);
}

static bool
dir_exists (int snap_fd, const char *name)
{
  struct stat st;
  return fstatat (snap_fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0
         && S_ISDIR (st.st_mode);
}

static bool
usable_at (int snap_fd, const char *hex)
{
  char m[2 * BOOT_ID_MAX];
  if (!dir_exists (snap_fd, hex))
    return false;
  read_marker (snap_fd, hex, m, sizeof m);
  return marker_usable (m);
}

bool
snapshot_exists (struct store *s, const char *chain_id)
{
  _cleanup_close_ int snap_fd = -1;
  if (!digest_is_sha256 (chain_id))
    return false;
  snap_fd = openat (s->root_fd, "snapshots", O_PATH | O_DIRECTORY | O_CLOEXEC);
  return snap_fd >= 0 && usable_at (snap_fd, digest_hex (chain_id));
}

/* Lock the chain ID hex. Returns the lock fd, -2 when busy and !wait. The
 * lock file may be unlinked by snapshot_remove_unused while we wait for
 * it: fs_lock_stable then locks the new file at that name. */
static int
lock_chain (int snap_fd, const char *hex, bool wait, struct err **err)
{
  _cleanup_close_ int dfd = -1;
  int fd;
  if (mkdirat (snap_fd, LOCKS_DIR, 0700) < 0 && errno != EEXIST)
    return err_set (err, errno, "create snapshot lock directory");
  if ((dfd = fs_open_dir (snap_fd, LOCKS_DIR, err)) < 0)
    return -1;
  fd = fs_lock_stable (dfd, hex, LOCK_EX | (wait ? 0 : LOCK_NB), err);
  if (fd == -1)
    return err_wrap (err, "lock snapshot '%s'", hex);
  return fd;
}

static void
tx_free (struct snapshot_tx *tx, bool remove_tmp)
{
  struct err *ignored = NULL;
  layer_unpacker_free (tx->u);
  if (tx->dir_fd >= 0)
    close (tx->dir_fd);
  if (remove_tmp)
    to_trash (tx->snap_fd, tx->tmp, &ignored);
  err_free (ignored);
  if (tx->unnamed)
    {
      char lock[sizeof LOCKS_DIR + 1 + DIGEST_HEX_LEN];
      snprintf (lock, sizeof lock, LOCKS_DIR "/%s", tx->hex);
      unlinkat (tx->snap_fd, lock, 0);
    }
  close (tx->snap_fd);
  if (tx->lock_fd >= 0)
    close (tx->lock_fd); /* releases the lock */
  free (tx->chain_id);
  free (tx->diff_id);
  free (tx);
}

/* A random name part: each attempt's temp dir gets a name of its own, so
 * ext4's Orlov allocator (snapshots/ is a top directory) hashes it to a
 * new place rather than back into the block groups the last copy of the
 * same snapshot freed, and the marker tells this copy from another. */
static void
make_nonce (char out[NONCE_LEN + 1])
{
  static const char hexd[] = "0123456789abcdef";
  unsigned char r[NONCE_LEN / 2];
  if (getrandom (r, sizeof r, 0) != (ssize_t)sizeof r)
    {
      struct timespec ts;
      clock_gettime (CLOCK_MONOTONIC, &ts);
      uint64_t v = (uint64_t)ts.tv_nsec ^ ((uint64_t)getpid () << 32);
      memcpy (r, &v, sizeof r);
    }
  for (size_t i = 0; i < sizeof r; i++)
    {
      out[2 * i] = hexd[r[i] >> 4];
      out[2 * i + 1] = hexd[r[i] & 15];
    }
  out[NONCE_LEN] = '\0';
}

/* The chain ID of a temp dir's name (tmp-<hex> or tmp-<hex>-<nonce>) into
 * hex; false for other names. */
static bool
tmp_name_hex (const char *name, char hex[DIGEST_HEX_LEN + 1])
{
  size_t n = strlen (TMP_PREFIX);
  if (strncmp (name, TMP_PREFIX, n) || strlen (name + n) < DIGEST_HEX_LEN)
    return false;
  memcpy (hex, name + n, DIGEST_HEX_LEN);
  hex[DIGEST_HEX_LEN] = '\0';
  return is_hex64 (hex)
         && (name[n + DIGEST_HEX_LEN] == '\0'
             || name[n + DIGEST_HEX_LEN] == '-');
}

/* Remove the temp dirs of chain ID hex (the caller holds its lock). */
static int
remove_leftovers (int snap_fd, const char *hex, struct err **err)
{
  _cleanup_closedir_ DIR *d = fdopendir (fcntl (snap_fd, F_DUPFD_CLOEXEC, 0));
  struct dirent *de;
  char h[DIGEST_HEX_LEN + 1];
  if (!d)
    return err_set (err, errno, "read the snapshots directory");
  while ((de = readdir (d)))
    if (tmp_name_hex (de->d_name, h) && !strcmp (h, hex)
        && to_trash (snap_fd, de->d_name, err) < 0)
      return -1;
  return 0;
}

int
snapshot_begin (struct store *s, const char *chain_id, const char *diff_id,
                bool wait, struct snapshot_tx **out, struct err **err)
{
  struct snapshot_tx *tx;
  struct apply_opts o = APPLY_OPTS_SNAPSHOT;
  int snap_fd, lock_fd;

  *out = NULL;
  if (digest_check (chain_id, err) < 0
      || (diff_id && digest_check (diff_id, err) < 0))
    return -1;
  if (snapshot_exists (s, chain_id))
    return 1;
  if ((snap_fd = open_snapshots (s, err)) < 0)
    return -1;
  lock_fd = lock_chain (snap_fd, digest_hex (chain_id), wait, err);
  if (lock_fd < 0)
    {
      close (snap_fd);
      return lock_fd == -2 ? 2 : -1;
    }
  tx = xcalloc (1, sizeof *tx);
  tx->snap_fd = snap_fd;
  tx->lock_fd = lock_fd;
  tx->dir_fd = -1;
  memcpy (tx->hex, digest_hex (chain_id), DIGEST_HEX_LEN + 1);
  make_nonce (tx->nonce);
  snprintf (tx->tmp, sizeof tx->tmp, TMP_PREFIX "%s-%s", tx->hex, tx->nonce);
  tx->chain_id = xstrdup (chain_id);
  tx->diff_id = diff_id ? xstrdup (diff_id) : NULL;
  if (usable_at (snap_fd, tx->hex)) /* made while we waited */
    {
      tx_free (tx, false);
      return 1;
    }
  /* we hold the lock: temp dirs of this chain ID were left by killed
   * processes, and a dir at <hex> here is one a reboot made unusable */
  if (remove_leftovers (snap_fd, tx->hex, err) < 0
      || to_trash (snap_fd, tx->hex, err) < 0)
    goto fail;
  if (mkdirat (snap_fd, tx->tmp, 0755) < 0)
    {
      err_set (err, errno, "create '%s'", tx->tmp);
      goto fail;
    }
  if ((tx->dir_fd = fs_open_dir (snap_fd, tx->tmp, err)) < 0)
    goto fail;
  /* ownership needs CAP_CHOWN: a rootless store keeps the caller's; in a
   * single-id user namespace only one owner exists (podman's ignore_chown) */
  o.keep_owner = geteuid () == 0 && !userns_single ();
  /* rootless overlay is mounted with userxattr (layers/overlay.h) */
  o.userxattr = userns_active ();
  if (!(tx->u = layer_unpacker_new (tx->dir_fd, &o, err)))
    goto fail;
  *out = tx;
  return 0;
fail:
  tx_free (tx, true);
  return err_wrap (err, "snapshot '%s'", chain_id);
}

int
snapshot_tx_feed (struct snapshot_tx *tx, const void *buf, size_t len,
                  struct err **err)
{
  return layer_unpacker_feed (tx->u, buf, len, err);
}

int
snapshot_commit (struct snapshot_tx *tx, struct err **err)
{
  char diff_id[DIGEST_STR_LEN + 1];
  _cleanup_free_ char *mark = NULL;
  if (layer_unpacker_finish (tx->u, diff_id, err) < 0)
    goto fail;
  if (tx->diff_id && strcmp (diff_id, tx->diff_id))
    {
      err_set (err, 0,
               "diff_id mismatch: the layer is '%s', the image "
               "config says '%s'",
               diff_id, tx->diff_id);
      goto fail;
    }
  /* No sync here (see "durability" above): the marker, then the rename;
   * a flusher started by the command once its work is done
   * (snapshot_flush_later) makes both durable and marks it synced. */
  mark = xasprintf (MARK_UNSYNCED "%s %s\n", boot_id (), tx->nonce);
  if (write_marker (tx->snap_fd, tx->hex, mark, err) < 0)
    goto fail;
  if (renameat (tx->snap_fd, tx->tmp, tx->snap_fd, tx->hex) < 0)
    {
      err_set (err, errno, "rename '%s' into place", tx->tmp);
      goto fail;
    }
  atomic_fetch_add (&made_here, 1);
  tx_free (tx, false);
  return 0;
fail:
  err_wrap (err, "snapshot '%s'", tx->chain_id);
  tx_free (tx, true);
  return -1;
}

void
snapshot_abort (struct snapshot_tx *tx)
{
  if (tx)
    tx_free (tx, true);
}

int
snapshot_create_from_blob (struct store *s, const char *chain_id,
                           const char *blob_digest, const char *diff_id,
                           struct err **err)
{
  struct snapshot_tx *tx = NULL;
  _cleanup_close_ int fd = -1;
  _cleanup_free_ char *buf = NULL;
  int rc = snapshot_begin (s, chain_id, diff_id, true, &tx, err);
  if (rc != 0)
    return rc < 0 ? -1 : 0;
  log_debug ("snapshot %.19s: unpacking the stored blob %s", chain_id,
             blob_digest);
  if ((fd = store_blob_open (s, blob_digest, err)) < 0)
    goto fail;
  buf = xmalloc (1u << 20);
  for (;;)
    {
      ssize_t n = read (fd, buf, 1u << 20);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          err_set (err, errno, "read blob '%s'", blob_digest);
          goto fail;
        }
      if (n == 0)
        break;
      if (snapshot_tx_feed (tx, buf, (size_t)n, err) < 0)
        goto fail;
    }
  if (snapshot_commit (tx, err) < 0)
    return err_wrap (err, "unpack layer '%s'", blob_digest);
  return 0;
fail:
  snapshot_abort (tx);
  return err_wrap (err, "unpack layer '%s'", blob_digest);
}

int
snapshot_prepare_image (struct store *s, const struct image_manifest *m,
                        const struct image_config *c,
                        char ***lower_dirs_top_first, struct err **err)
{
  size_t n = strv_len (c->diff_ids);
  _cleanup_strv_ char **chain = NULL;
  char **out;
  if (n != m->n_layers)
    return err_set (err, 0,
                    "image has %zu layers but its config lists %zu diff_ids",
                    m->n_layers, n);
  if (n == 0)
    return err_set (err, 0, "image has no layers");
  for (size_t i = 0; i < n; i++)
    if (digest_check (c->diff_ids[i], err) < 0)
      return err_wrap (err, "layer %zu", i + 1);
  chain = image_chain_ids (c->diff_ids);
  for (size_t i = 0; i < n; i++)
    if (snapshot_create_from_blob (s, chain[i], m->layers[i].digest,
                                   c->diff_ids[i], err)
        < 0)
      return -1;
  out = xcalloc (n + 1, sizeof (char *));
  for (size_t i = 0; i < n; i++)
    out[i] = snapshot_path (s, chain[n - 1 - i]);
  *lower_dirs_top_first = out;
  return 0;
}

static bool
kept (char *const *keep, const char *hex)
{
  for (; keep && *keep; keep++)
    if (digest_is_sha256 (*keep) && !strcmp (digest_hex (*keep), hex))
      return true;
  return false;
}

/* Run fn(snap_fd) in a detached grandchild (its own session, stdio on
 * /dev/null, nothing else of ours open, so nobody waits for it: not the
 * caller, which reaps the child at once, not a shell reading our stdout).
 * -1 if it could not be started. */
static int
spawn_detached (int snap_fd, void (*fn) (int))
{
  pid_t pid = fork ();
  if (pid == 0)
    {
      if (fork () != 0)
        _exit (0);
      if (detach_self (snap_fd) == 3)
        fn (3);
      _exit (0);
    }
  if (pid < 0)
    return -1;
  while (waitpid (pid, NULL, 0) < 0 && errno == EINTR)
    ;
  return 0;
}

/* Let a pull or a build go first: they hold the store's gc.lock shared
 * while they write (store_writer_guard). Deleting alongside one made it
 * wait for the device (every freed block is discarded here, ~2 ms a
 * file), so the remover waits while the lock is held (10 minutes at
 * most). */
static void
yield_to_writers (int gc_fd)
{
  for (int i = 0; gc_fd >= 0 && i < 3000; i++)
    {
      if (flock (gc_fd, LOCK_EX | LOCK_NB) == 0)
        {
          flock (gc_fd, LOCK_UN);
          return;
        }
      usleep (200 * 1000);
    }
}

/* rm -rf of dirfd/name (nothing but our own trash: no symlink is followed,
 * no mount is inside), yielding every 256 names. */
static void
trash_rm (int dirfd, const char *name, int gc_fd, unsigned *n)
{
  int fd
      = openat (dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  DIR *d = fd < 0 ? NULL : fdopendir (fd);
  struct dirent *de;
  if (!d)
    {
      if (fd >= 0)
        close (fd);
      unlinkat (dirfd, name, 0);
      return;
    }
  while ((de = readdir (d)))
    {
      if (!strcmp (de->d_name, ".") || !strcmp (de->d_name, ".."))
        continue;
      if (++*n % 256 == 0)
        yield_to_writers (gc_fd);
      if (de->d_type == DT_DIR
          || (unlinkat (fd, de->d_name, 0) < 0 && errno == EISDIR))
        trash_rm (fd, de->d_name, gc_fd, n);
    }
  closedir (d);
  unlinkat (dirfd, name, AT_REMOVEDIR);
}

/* The detached remover: delete everything in snapshots/.trash/, at the
 * lowest CPU and I/O priority, after prune (or the command that moved a
 * dir there) has answered, and out of the way of pulls and builds. One at
 * a time; one that finds the lock taken leaves it to the holder, which
 * looks again after letting go. */
static void
empty_trash (int snap_fd)
{
  struct err *e = NULL;
  int gc_fd = rundir_open (snap_fd, "../gc.lock", O_RDWR | O_CLOEXEC, 0, &e);
  unsigned n = 0;
  err_clear (&e);
  setpriority (PRIO_PROCESS, 0, 19);
  /* IOPRIO_CLASS_IDLE (3) << IOPRIO_CLASS_SHIFT (13), for this process */
  syscall (SYS_ioprio_set, 1, 0, 3 << 13);
  for (int round = 0; round < 100; round++)
    {
      _cleanup_closedir_ DIR *d = NULL;
      struct dirent *de;
      bool any = false;
      int lock = fs_lock_stable (snap_fd, TRASH_LOCK, LOCK_EX | LOCK_NB, &e);
      if (lock < 0)
        break;
      int fd = openat (snap_fd, TRASH_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (fd >= 0 && !(d = fdopendir (fd)))
        close (fd);
      while (d && (de = readdir (d)))
        if (strcmp (de->d_name, ".") && strcmp (de->d_name, ".."))
          trash_rm (dirfd (d), de->d_name, gc_fd, &n);
      close (lock);
      if (d)
        {
          rewinddir (d);
          while ((de = readdir (d)))
            any |= strcmp (de->d_name, ".") && strcmp (de->d_name, "..");
        }
      if (!any)
        break;
    }
  if (gc_fd >= 0)
    close (gc_fd);
  err_free (e);
}

/* Move snapshots/<name> into snapshots/.trash/, for the detached remover:
 * 1 when moved, 0 when there was nothing at name, -1 on error. */
static int
to_trash (int snap_fd, const char *name, struct err **err)
{
  char nonce[NONCE_LEN + 1];
  _cleanup_free_ char *to = NULL;
  if (mkdirat (snap_fd, TRASH_DIR, 0700) < 0 && errno != EEXIST)
    return err_set (err, errno, "create '" TRASH_DIR "'");
  make_nonce (nonce);
  to = xasprintf (TRASH_DIR "/%s-%s", name, nonce);
  if (renameat (snap_fd, name, snap_fd, to) < 0)
    return errno == ENOENT
               ? 0
               : err_set (err, errno, "move '%s' to the trash", name);
  atomic_fetch_add (&trashed_here, 1);
  return 1;
}

/* Remove snapshots/<name> (a snapshot or a temp dir of chain ID hex)
 * unless its chain is locked: out of sight at once, its files deleted
 * later by a detached remover (snapshot_remove_unused). 1 when removed, 0
 * when busy, -1 on error. */
static int
remove_locked (int snap_fd, const char *name, const char *hex, bool snapshot,
               struct err **err)
{
  int lock_fd = lock_chain (snap_fd, hex, false, err);
  int rc;
  if (lock_fd == -2)
    return 0; /* being made right now */
  if (lock_fd < 0)
    return -1;
  rc = to_trash (snap_fd, name, err) < 0 ? -1 : 0;
  if (rc == 0 && snapshot)
    {
      char rel[sizeof LOCKS_DIR + sizeof STATE_DIR + DIGEST_HEX_LEN];
      snprintf (rel, sizeof rel, STATE_DIR "/%s", hex);
      unlinkat (snap_fd, rel, 0);
      snprintf (rel, sizeof rel, LOCKS_DIR "/%s", hex);
      unlinkat (snap_fd, rel, 0);
    }
  close (lock_fd);
  return rc < 0 ? -1 : 1;
}

int
snapshot_remove_unused (struct store *s, char *const *keep, size_t *removed,
                        struct err **err)
{
  _cleanup_close_ int snap_fd = open_snapshots (s, err);
  _cleanup_closedir_ DIR *d = NULL, *sd = NULL;
  struct dirent *de;
  size_t count = 0;
  int sfd;
  if (snap_fd < 0)
    return -1;
  if (!(d = fdopendir (fcntl (snap_fd, F_DUPFD_CLOEXEC, 0))))
    return err_set (err, errno, "read '%s/snapshots'", s->root);
  while ((de = readdir (d)))
    {
      const char *name = de->d_name;
      char hex[DIGEST_HEX_LEN + 1];
      bool tmp = tmp_name_hex (name, hex);
      int rc;
      if (!tmp && (!is_hex64 (name) || kept (keep, name)))
        continue;
      rc = remove_locked (snap_fd, name, tmp ? hex : name, !tmp, err);
      if (rc < 0)
        return err_wrap (err, "remove snapshot '%s'", tmp ? hex : name);
      if (rc > 0 && !tmp)
        count++;
    }
  /* markers whose snapshot never got renamed into place (a kill -9) */
  sfd = openat (snap_fd, STATE_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (sfd >= 0 && (sd = fdopendir (sfd)))
    while ((de = readdir (sd)))
      if (is_hex64 (de->d_name) && !dir_exists (snap_fd, de->d_name)
          && remove_locked (snap_fd, de->d_name, de->d_name, true, err) < 0)
        return -1;
  if (sfd >= 0 && !sd)
    close (sfd);
  if (removed)
    *removed = count;
  /* also what a killed remover left */
  if (spawn_detached (snap_fd, empty_trash) < 0)
    empty_trash (snap_fd);
  return 0;
}

/* --- the flush -------------------------------------------------------- */

struct pending
{
  char hex[DIGEST_HEX_LEN + 1];
  char mark[2 * BOOT_ID_MAX];
};

/* The snapshots a flush is for: in place, marked unsynced in this boot,
 * and not locked (one being made is left to its maker's flush). */
static size_t
collect_pending (int snap_fd, struct pending **out)
{
  _cleanup_closedir_ DIR *d = NULL;
  struct pending *v = NULL;
  size_t n = 0, alloc = 0;
  struct dirent *de;
  int fd = openat (snap_fd, STATE_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  *out = NULL;
  if (fd < 0 || !(d = fdopendir (fd)))
    {
      if (fd >= 0)
        close (fd);
      return 0;
    }
  while ((de = readdir (d)))
    {
      struct pending p;
      struct err *ignored = NULL;
      int lock_fd;
      if (!is_hex64 (de->d_name))
        continue;
      memcpy (p.hex, de->d_name, DIGEST_HEX_LEN + 1);
      lock_fd = lock_chain (snap_fd, p.hex, false, &ignored);
      err_free (ignored);
      if (lock_fd < 0)
        continue;
      read_marker (snap_fd, p.hex, p.mark, sizeof p.mark);
      if (marker_pending (p.mark) && dir_exists (snap_fd, p.hex))
        {
          v = xgrow (v, &alloc, n + 1, sizeof *v);
          v[n++] = p;
        }
      close (lock_fd);
    }
  *out = v;
  return n;
}

/* One flush of snapshots/'s file system, then every snapshot that was
 * complete before it began is marked synced (unless it was made again
 * meanwhile: its marker then has another nonce). */
static int
flush_round (int snap_fd, struct pending *v, size_t n, struct err **err)
{
  if (syncfs (snap_fd) < 0)
    return err_set (err, errno, "sync the snapshots");
  for (size_t i = 0; i < n; i++)
    {
      char now[2 * BOOT_ID_MAX];
      int lock_fd;
      if (!dir_exists (snap_fd, v[i].hex))
        continue; /* removed meanwhile (prune, or the whole store) */
      lock_fd = lock_chain (snap_fd, v[i].hex, true, err);
      if (lock_fd < 0)
        return -1;
      read_marker (snap_fd, v[i].hex, now, sizeof now);
      if (!strcmp (now, v[i].mark))
        {
          _cleanup_free_ char *m = xasprintf (MARK_SYNCED "%s\n", boot_id ());
          if (write_marker (snap_fd, v[i].hex, m, err) < 0)
            {
              close (lock_fd);
              return -1;
            }
        }
      close (lock_fd);
    }
  return 0;
}

static int
flush_pending_fd (int snap_fd, struct err **err)
{
  /* One flusher at a time. One that finds the lock taken leaves: the
   * holder looks again after it lets go, so what was committed before
   * this call is seen by one of the two. */
  for (int round = 0; round < 1000; round++)
    {
      struct pending *v = NULL;
      size_t n;
      int lock;
      if (mkdirat (snap_fd, LOCKS_DIR, 0700) < 0 && errno != EEXIST)
        return err_set (err, errno, "create snapshot lock directory");
      lock = fs_lock_stable (snap_fd, FLUSH_LOCK, LOCK_EX | LOCK_NB, err);
      if (lock == -2)
        return 0;
      if (lock < 0)
        return -1;
      n = collect_pending (snap_fd, &v);
      int rc = n ? flush_round (snap_fd, v, n, err) : 0;
      close (lock);
      free (v);
      if (rc < 0)
        return -1;
      n = collect_pending (snap_fd, &v);
      free (v);
      if (!n)
        return 0;
    }
  return 0;
}

int
snapshot_flush_pending (struct store *s, struct err **err)
{
  _cleanup_close_ int snap_fd = open_snapshots (s, err);
  if (snap_fd < 0 || flush_pending_fd (snap_fd, err) < 0)
    return err_wrap (err, "flush snapshots");
  return 0;
}

static void
flush_detached (int snap_fd)
{
  struct err *ignored = NULL;
  flush_pending_fd (snap_fd, &ignored);
  err_free (ignored);
}

void
snapshot_flush_later (struct store *s)
{
  struct err *ignored = NULL;
  int snap_fd;
  bool made = atomic_exchange (&made_here, 0) != 0;
  bool trashed = atomic_exchange (&trashed_here, 0) != 0;
  if (!made && !trashed)
    return;
  if ((snap_fd = open_snapshots (s, &ignored)) < 0)
    {
      err_free (ignored);
      return;
    }
  if (made)
    spawn_detached (snap_fd, flush_detached);
  if (trashed)
    spawn_detached (snap_fd, empty_trash);
  close (snap_fd);
}

int
snapshot_begin_unnamed (struct store *s, struct snapshot_tx **tx,
                        struct err **err)
{
  unsigned char rnd[DIGEST_HEX_LEN / 2];
  char id[DIGEST_STR_LEN + 1] = "sha256:";
  if (getrandom (rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd)
    return err_set (err, errno, "getrandom");
  for (size_t i = 0; i < sizeof rnd; i++)
    snprintf (id + 7 + 2 * i, 3, "%02x", rnd[i]);
  /* a random name no image has: its lock is ours alone */
  int rc = snapshot_begin (s, id, NULL, true, tx, err);
  if (rc != 0)
    return rc < 0 ? -1 : err_set (err, EEXIST, "snapshot '%s'", id);
  (*tx)->unnamed = true;
  return 0;
}

int
snapshot_commit_as (struct snapshot_tx *tx, const char *chain_id,
                    const char *diff_id, struct err **err)
{
  char hex[DIGEST_HEX_LEN + 1], tmp[sizeof tx->tmp];
  _cleanup_free_ char *old_lock = NULL;
  int lock_fd;
  if (digest_check (chain_id, err) < 0 || digest_check (diff_id, err) < 0)
    goto fail;
  memcpy (hex, digest_hex (chain_id), sizeof hex);
  if ((lock_fd = lock_chain (tx->snap_fd, hex, true, err)) < 0)
    goto fail;
  old_lock = xasprintf (LOCKS_DIR "/%s", tx->hex);
  unlinkat (tx->snap_fd, old_lock, 0);
  close (tx->lock_fd);
  tx->lock_fd = lock_fd;
  tx->unnamed = false;
  free (tx->chain_id);
  tx->chain_id = xstrdup (chain_id);
  free (tx->diff_id);
  tx->diff_id = xstrdup (diff_id);
  if (usable_at (tx->snap_fd, hex))
    {
      tx_free (tx, true); /* made by someone else meanwhile */
      return 1;
    }
  /* we hold its lock: temp dirs of that name were left by killed
   * processes, a dir at <hex> is one a reboot made unusable */
  if (remove_leftovers (tx->snap_fd, hex, err) < 0
      || to_trash (tx->snap_fd, hex, err) < 0)
    goto fail;
  snprintf (tmp, sizeof tmp, TMP_PREFIX "%s-%s", hex, tx->nonce);
  if (renameat (tx->snap_fd, tx->tmp, tx->snap_fd, tmp) < 0)
    {
      err_set (err, errno, "rename '%s'", tx->tmp);
      goto fail;
    }
  memcpy (tx->hex, hex, sizeof hex);
  memcpy (tx->tmp, tmp, sizeof tmp);
  return snapshot_commit (tx, err);
fail:
  err_wrap (err, "snapshot '%s'", chain_id);
  tx_free (tx, true);
  return -1;
}
