/* Snapshots: unpacked layers keyed by chain ID (see snapshot.h). */
#include "layers/snapshot.h"
#include "layers/apply.h"
#include "layers/image.h"
#include "layers/store.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/log.h"
#include "lib/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#define LOCKS_DIR ".locks"
#define TMP_PREFIX "tmp-"

struct snapshot_tx
{
  int snap_fd; /* snapshots/ */
  int lock_fd;
  int dir_fd; /* the temp dir */
  char hex[DIGEST_HEX_LEN + 1];
  char tmp[sizeof TMP_PREFIX + DIGEST_HEX_LEN];
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

bool
snapshot_exists (struct store *s, const char *chain_id)
{
  struct stat st;
  _cleanup_free_ char *rel = NULL;
  if (!digest_is_sha256 (chain_id))
    return false;
  rel = xasprintf ("snapshots/%s", digest_hex (chain_id));
  return fstatat (s->root_fd, rel, &st, AT_SYMLINK_NOFOLLOW) == 0
         && S_ISDIR (st.st_mode);
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
    fs_rm_rf (tx->snap_fd, tx->tmp, &ignored);
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
  snprintf (tx->tmp, sizeof tx->tmp, TMP_PREFIX "%s", tx->hex);
  tx->chain_id = xstrdup (chain_id);
  tx->diff_id = diff_id ? xstrdup (diff_id) : NULL;
  if (snapshot_exists (s, chain_id)) /* made while we waited */
    {
      tx_free (tx, false);
      return 1;
    }
  /* a tmp dir here was left by a killed process: we hold the lock */
  if (fs_rm_rf (snap_fd, tx->tmp, err) < 0)
    goto fail;
  if (mkdirat (snap_fd, tx->tmp, 0755) < 0)
    {
      err_set (err, errno, "create '%s'", tx->tmp);
      goto fail;
    }
  if ((tx->dir_fd = fs_open_dir (snap_fd, tx->tmp, err)) < 0)
    goto fail;
  /* ownership needs CAP_CHOWN: a rootless store keeps the caller's */
  o.keep_owner = geteuid () == 0;
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
  if (layer_unpacker_finish (tx->u, diff_id, err) < 0)
    goto fail;
  if (tx->diff_id && strcmp (diff_id, tx->diff_id))
    {
      err_set (err, 0, "diff_id mismatch: the layer is '%s', the image "
                       "config says '%s'",
               diff_id, tx->diff_id);
      goto fail;
    }
  /* the rename must not become durable before the files it names */
  if (syncfs (tx->dir_fd) < 0)
    {
      err_set (err, errno, "sync '%s'", tx->tmp);
      goto fail;
    }
  if (renameat (tx->snap_fd, tx->tmp, tx->snap_fd, tx->hex) < 0)
    {
      err_set (err, errno, "rename '%s' into place", tx->tmp);
      goto fail;
    }
  if (fsync (tx->snap_fd) < 0)
    {
      err_set (err, errno, "sync the snapshots directory");
      goto fail;
    }
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
      if (snapshot_tx_feed (tx, buf, (size_t) n, err) < 0)
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
is_hex64 (const char *s)
{
  size_t i = 0;
  for (; s[i]; i++)
    if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
      return false;
  return i == DIGEST_HEX_LEN;
}

static bool
kept (char *const *keep, const char *hex)
{
  for (; keep && *keep; keep++)
    if (digest_is_sha256 (*keep) && !strcmp (digest_hex (*keep), hex))
      return true;
  return false;
}

int
snapshot_remove_unused (struct store *s, char *const *keep, size_t *removed,
                        struct err **err)
{
  _cleanup_close_ int snap_fd = open_snapshots (s, err);
  _cleanup_closedir_ DIR *d = NULL;
  struct dirent *de;
  size_t count = 0;
  if (snap_fd < 0)
    return -1;
  if (!(d = fdopendir (fcntl (snap_fd, F_DUPFD_CLOEXEC, 0))))
    return err_set (err, errno, "read '%s/snapshots'", s->root);
  while ((de = readdir (d)))
    {
      const char *name = de->d_name;
      bool tmp = !strncmp (name, TMP_PREFIX, strlen (TMP_PREFIX));
      const char *hex = tmp ? name + strlen (TMP_PREFIX) : name;
      int lock_fd;
      if (!is_hex64 (hex) || (!tmp && kept (keep, hex)))
        continue;
      lock_fd = lock_chain (snap_fd, hex, false, err);
      if (lock_fd == -2)
        continue; /* being made right now */
      if (lock_fd < 0)
        return -1;
      int rc = fs_rm_rf (snap_fd, name, err);
      if (rc == 0 && !tmp)
        {
          _cleanup_free_ char *lock = xasprintf (LOCKS_DIR "/%s", hex);
          unlinkat (snap_fd, lock, 0);
          count++;
        }
      close (lock_fd);
      if (rc < 0)
        return err_wrap (err, "remove snapshot '%s'", hex);
    }
  if (removed)
    *removed = count;
  return 0;
}

int
snapshot_begin_unnamed (struct store *s, struct snapshot_tx **tx,
                        struct err **err)
{
  unsigned char rnd[DIGEST_HEX_LEN / 2];
  char id[DIGEST_STR_LEN + 1] = "sha256:";
  if (getrandom (rnd, sizeof rnd, 0) != (ssize_t) sizeof rnd)
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
  if (faccessat (tx->snap_fd, hex, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
    {
      tx_free (tx, true); /* made by someone else meanwhile */
      return 1;
    }
  /* a tmp dir of that name was left by a killed process: we hold its lock */
  snprintf (tmp, sizeof tmp, TMP_PREFIX "%s", hex);
  if (fs_rm_rf (tx->snap_fd, tmp, err) < 0)
    goto fail;
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
