/* The store: OCI image layout + imgtool's working dirs (see store.h). */
#include "layers/store.h"
#include "lib/bytepipe.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/log.h"
#include "lib/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <linux/fs.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#define INDEX_PATH "oci/index.json"
#define INDEX_MAX_SIZE (64u << 20)
#define IO_CHUNK (256u << 10)
/* Writeback of a blob being written starts every WRITEBACK_STEP bytes, so
 * the fsync before the rename has little left to wait for. */
#define WRITEBACK_STEP (8u << 20)
/* O_DIRECT mode: the first DIRECT_START bytes are gathered in memory (a
 * small blob is written buffered at the commit); past that, an I/O thread
 * writes from a page-aligned ring (lib/bytepipe) in pieces that are
 * multiples of DIRECT_ALIGN (a multiple of any block size the kernel asks
 * for), while the caller goes on producing. */
#define DIRECT_START (1u << 20)
#define DIRECT_ALIGN 4096u
#define DIRECT_RING (8u << 20)
#define DIRECT_CHUNK (2u << 20)

struct blob_writer
{
  int fd;
  int tmp_fd; /* the store's tmp dir (borrowed) */
  char *tmp_name;
  char *expect;
  uint64_t size;
  uint64_t flushed;    /* writeback started up to here */
  unsigned char *dbuf; /* O_DIRECT mode: the bytes not yet queued */
  size_t dlen;
  struct bytepipe *io; /* O_DIRECT mode: the I/O thread, once started */
  uint64_t doff;       /* the I/O thread's file offset */
  struct digester d;
  bool holes; /* bytes were written past size (blob_writer_pwrite) */
};

/* Marks a partial file written out of order: it may have holes, so a
 * later writer must not resume from its end (writer_rehash). */
#define HOLES_XATTR "user.imgtool.holes"

static const char oci_layout[] = "{\"imageLayoutVersion\":\"1.0.0\"}";
static const char empty_index[] = "{\"schemaVersion\":2,\"mediaType\":\""
                                  "application/vnd.oci.image.index.v1+json"
                                  "\",\"manifests\":[]}";

/* Mark dirfd/path a top of directory hierarchies (chattr +T): ext4's
 * Orlov allocator then puts each directory made in it (a snapshot, a
 * build's or a pull's temp dir) in a block group of its own choosing
 * instead of its parent's. Where many files were deleted lately, as in a
 * busy store, ext4 without a journal skips every recently freed inode
 * when it allocates one: unpacking 1,000 files cost 0.3-1 s in the
 * store's group on the shared VM, 30-40 ms in a spread one; the ~20 files
 * of each container (its record, /etc files, upper and work dirs), made
 * and removed by every `run --rm`, cost ~1 ms of a 13 ms start in one
 * group. Best effort: other file systems have no such flag. */
static void
mark_topdir (int dirfd, const char *path)
{
  int fd = openat (dirfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  int fl = 0;
  if (fd < 0)
    return;
  if (ioctl (fd, FS_IOC_GETFLAGS, &fl) == 0 && !(fl & FS_TOPDIR_FL))
    {
      fl |= FS_TOPDIR_FL;
      ioctl (fd, FS_IOC_SETFLAGS, &fl);
    }
  close (fd);
}

int
store_open (struct store *s, const char *root, struct err **err)
{
  static const char *const dirs[]
      = { "oci/blobs/sha256", "snapshots", "containers", "tmp" };
  memset (s, 0, sizeof *s);
  s->root_fd = s->blobs_fd = s->tmp_fd = -1;
  if (fs_mkdir_p (AT_FDCWD, root, 0711, err) < 0)
    return err_wrap (err, "open store");
  s->root = realpath (root, NULL);
  if (!s->root)
    return err_set (err, errno, "open store '%s'", root);
  s->root_fd = fs_open_dir (AT_FDCWD, s->root, err);
  if (s->root_fd < 0)
    goto fail;
  for (size_t i = 0; i < ARRAY_SIZE (dirs); i++)
    if (fs_mkdir_p (s->root_fd, dirs[i], 0700, err) < 0)
      goto fail;
  mark_topdir (s->root_fd, "snapshots");
  mark_topdir (s->root_fd, "tmp");
  mark_topdir (s->root_fd, "containers");
  /* The layout files are written once; a crash between the two leaves a
   * layout without index.json, which the next open repairs. */
  if (faccessat (s->root_fd, "oci/oci-layout", F_OK, 0) < 0
      && fs_write_file_atomic (s->root_fd, "oci/oci-layout", oci_layout,
                               strlen (oci_layout), 0644, err)
             < 0)
    goto fail;
  if (faccessat (s->root_fd, INDEX_PATH, F_OK, 0) < 0)
    {
      _cleanup_close_ int lock = fs_lock (s->root_fd, "lock", LOCK_EX, err);
      if (lock < 0)
        goto fail;
      if (faccessat (s->root_fd, INDEX_PATH, F_OK, 0) < 0
          && fs_write_file_atomic (s->root_fd, INDEX_PATH, empty_index,
                                   strlen (empty_index), 0644, err)
                 < 0)
        goto fail;
    }
  s->blobs_fd = fs_open_dir (s->root_fd, "oci/blobs/sha256", err);
  s->tmp_fd = s->blobs_fd < 0 ? -1 : fs_open_dir (s->root_fd, "tmp", err);
  if (s->tmp_fd < 0)
    goto fail;
  return 0;
fail:
  err_wrap (err, "open store '%s'", root);
  store_release (s);
  return -1;
}

void
store_release (struct store *s)
{
  if (s->root_fd >= 0)
    close (s->root_fd);
  if (s->blobs_fd >= 0)
    close (s->blobs_fd);
  if (s->tmp_fd >= 0)
    close (s->tmp_fd);
  free (s->root);
  memset (s, 0, sizeof *s);
  s->root_fd = s->blobs_fd = s->tmp_fd = -1;
}

char *
store_blob_path (struct store *s, const char *digest)
{
  return xasprintf ("%s/oci/blobs/sha256/%s", s->root, digest_hex (digest));
}

bool
store_has_blob (struct store *s, const char *digest)
{
  return store_blob_size (s, digest) >= 0;
}

int64_t
store_blob_size (struct store *s, const char *digest)
{
  struct stat st;
  if (!digest_is_sha256 (digest)
      || fstatat (s->blobs_fd, digest_hex (digest), &st, 0) < 0)
    return -1;
  return st.st_size;
}

int
store_blob_open (struct store *s, const char *digest, struct err **err)
{
  int fd;
  if (digest_check (digest, err) < 0)
    return -1;
  fd = openat (s->blobs_fd, digest_hex (digest), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return err_set (err, errno, "open blob %s", digest);
  return fd;
}

int
store_blob_read (struct store *s, const char *digest, size_t max, char **out,
                 size_t *len, struct err **err)
{
  _cleanup_free_ char *buf = NULL;
  size_t n = 0;
  char got[DIGEST_STR_LEN + 1];
  if (digest_check (digest, err) < 0)
    return -1;
  if (fs_read_file (s->blobs_fd, digest_hex (digest), max, &buf, &n, err) < 0)
    return err_wrap (err, "read blob %s", digest);
  digest_buf (buf, n, got);
  if (strcmp (got, digest))
    return err_set (err, 0,
                    "blob %s is corrupt in the store (content hashes to %s)",
                    digest, got);
  *out = steal_pointer (&buf);
  if (len)
    *len = n;
  return 0;
}

static int
writer_rehash (struct blob_writer *w, struct err **err)
{
  _cleanup_free_ char *buf = xmalloc (IO_CHUNK);
  ssize_t n;
  if (fgetxattr (w->fd, HOLES_XATTR, NULL, 0) >= 0)
    {
      /* left by a parallel download that was killed: start over */
      if (ftruncate (w->fd, 0) < 0)
        return err_set (err, errno, "truncate '%s'", w->tmp_name);
      fremovexattr (w->fd, HOLES_XATTR);
    }
  if (lseek (w->fd, 0, SEEK_SET) < 0)
    return err_set (err, errno, "seek '%s'", w->tmp_name);
  while ((n = fs_read_full (w->fd, buf, IO_CHUNK)) > 0)
    {
      digester_update (&w->d, buf, (size_t)n);
      w->size += (uint64_t)n;
    }
  if (n < 0)
    return err_set (err, errno, "read '%s'", w->tmp_name);
  return 0;
}

/* Lock tmp/<hex>.partial for w. 0 locked, 1 the blob is stored, 2 busy
 * (when !wait), -1 error. A writer we waited for may have renamed the
 * file into blobs/ (or removed it): fs_lock_stable then locks a fresh file
 * at that name, never the stored blob's inode. */
static int
writer_lock (struct store *s, struct blob_writer *w, bool wait,
             struct err **err)
{
  if (store_has_blob (s, w->expect))
    return 1;
  w->fd = fs_lock_stable (s->tmp_fd, w->tmp_name,
                          LOCK_EX | (wait ? 0 : LOCK_NB), err);
  if (w->fd == -2)
    {
      w->fd = -1;
      return 2;
    }
  if (w->fd < 0)
    return err_wrap (err, "lock temp file '%s'", w->tmp_name);
  if (store_has_blob (s, w->expect))
    {
      /* Stored while we waited; the file we hold (and just made) is an
       * empty leftover, and ours to remove under the lock. */
      unlinkat (s->tmp_fd, w->tmp_name, 0);
      close (w->fd);
      w->fd = -1;
      return 1;
    }
  return 0;
}

static int
blob_begin (struct store *s, const char *expect, bool wait,
            struct blob_writer **out, struct err **err)
{
  struct blob_writer *w;
  static unsigned counter;
  int rc = 0;
  *out = NULL;
  if (expect && digest_check (expect, err) < 0)
    return -1;
  w = xcalloc (1, sizeof *w);
  w->fd = -1;
  w->tmp_fd = s->tmp_fd;
  digester_init (&w->d);
  if (expect)
    {
      w->expect = xstrdup (expect);
      w->tmp_name = xasprintf ("%s.partial", digest_hex (expect));
      /* One writer per digest at a time: a second pull of the same blob
       * waits here, then finds the blob in place or resumes the file. */
      rc = writer_lock (s, w, wait, err);
      if (rc != 0)
        {
          free (w->tmp_name); /* not ours to unlink */
          w->tmp_name = NULL;
          store_blob_abort (w, false);
          return rc;
        }
    }
  else
    {
      w->tmp_name
          = xasprintf ("new-%d-%u-%ld", (int)getpid (),
                       __atomic_add_fetch (&counter, 1, __ATOMIC_RELAXED),
                       (long)time (NULL));
      w->fd = openat (s->tmp_fd, w->tmp_name,
                      O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
      if (w->fd < 0)
        {
          err_set (err, errno, "create temp file '%s'", w->tmp_name);
          store_blob_abort (w, false);
          return -1;
        }
    }
  if (expect && writer_rehash (w, err) < 0)
    {
      store_blob_abort (w, false);
      return -1;
    }
  *out = w;
  return 0;
}

int
store_blob_begin (struct store *s, const char *expect, struct blob_writer **out,
                  struct err **err)
{
  return blob_begin (s, expect, true, out, err);
}

int
store_blob_try_begin (struct store *s, const char *expect,
                      struct blob_writer **out, struct err **err)
{
  if (!expect)
    return err_set (err, EINVAL, "store_blob_try_begin needs a digest");
  return blob_begin (s, expect, false, out, err);
}

uint64_t
blob_writer_offset (const struct blob_writer *w)
{
  return w->size;
}

/* Leave O_DIRECT mode: the file is written buffered from here on. */
static void
direct_off (struct blob_writer *w)
{
  int fl = fcntl (w->fd, F_GETFL);
  if (fl >= 0 && (fl & O_DIRECT))
    fcntl (w->fd, F_SETFL, fl & ~O_DIRECT);
}

static int
pwrite_all (int fd, const unsigned char *p, size_t n, uint64_t off)
{
  while (n)
    {
      ssize_t k = pwrite (fd, p, n, (off_t)off);
      if (k < 0 && errno == EINTR)
        continue;
      if (k <= 0)
        return -1;
      p += k;
      n -= (size_t)k;
      off += (uint64_t)k;
    }
  return 0;
}

/* In the I/O thread: the next aligned piece, at the next offset. */
static int
direct_consume (void *ctx, const void *data, size_t len, struct err **err)
{
  struct blob_writer *w = ctx;
  if (pwrite_all (w->fd, data, len, w->doff) < 0)
    {
      /* a file system that opens O_DIRECT but refuses this write:
       * buffered from the same offset */
      if (errno != EINVAL)
        return err_set (err, errno, "write '%s'", w->tmp_name);
      direct_off (w);
      if (pwrite_all (w->fd, data, len, w->doff) < 0)
        return err_set (err, errno, "write '%s'", w->tmp_name);
    }
  w->doff += len;
  return 0;
}

static int
direct_put (struct blob_writer *w, const void *data, size_t len,
            struct err **err)
{
  if (bytepipe_put (w->io, data, len) == 0)
    return 0;
  bytepipe_join (w->io, err); /* the I/O thread's error */
  w->io = NULL;
  return -1;
}

/* Wait for the I/O thread; with ok, after it wrote everything queued. */
static int
direct_join (struct blob_writer *w, bool ok, struct err **err)
{
  return bytepipe_finish (&w->io, ok, err);
}

void
blob_writer_direct (struct blob_writer *w)
{
  int fl;
  if (w->dbuf || w->size != 0 || (fl = fcntl (w->fd, F_GETFL)) < 0
      || fcntl (w->fd, F_SETFL, fl | O_DIRECT) < 0)
    return;
  w->dbuf = xmalloc (DIRECT_START);
}

static int
direct_write (struct blob_writer *w, const unsigned char *p, size_t len,
              struct err **err)
{
  static const struct bytepipe_ops ops = { .consume = direct_consume };
  if (!w->io)
    {
      size_t n = DIRECT_START - w->dlen;
      if (n > len)
        n = len;
      memcpy (w->dbuf + w->dlen, p, n);
      w->dlen += n;
      p += n;
      len -= n;
      if (w->dlen < DIRECT_START)
        return 0;
      /* large: from here on through the I/O thread */
      if (!(w->io = bytepipe_start (DIRECT_RING, DIRECT_CHUNK, &ops, w, err)))
        return -1;
      w->doff = 0;
      w->dlen = 0;
      if (direct_put (w, w->dbuf, DIRECT_START, err) < 0)
        return -1;
    }
  /* Everything queued is a multiple of DIRECT_ALIGN, so every piece the
   * thread gets starts aligned in the (page-aligned) ring: a partial
   * block waits in dbuf for the rest of its bytes. */
  if (w->dlen)
    {
      size_t n = DIRECT_ALIGN - w->dlen;
      if (n > len)
        n = len;
      memcpy (w->dbuf + w->dlen, p, n);
      w->dlen += n;
      p += n;
      len -= n;
      if (w->dlen < DIRECT_ALIGN)
        return 0;
      w->dlen = 0;
      if (direct_put (w, w->dbuf, DIRECT_ALIGN, err) < 0)
        return -1;
    }
  size_t bulk = len & ~(size_t)(DIRECT_ALIGN - 1);
  if (bulk && direct_put (w, p, bulk, err) < 0)
    return -1;
  memcpy (w->dbuf, p + bulk, len - bulk);
  w->dlen = len - bulk;
  return 0;
}

/* At the commit: the rest, buffered, after what the I/O thread wrote. */
static int
direct_finish (struct blob_writer *w, struct err **err)
{
  bool started = w->io != NULL;
  if (direct_join (w, true, err) < 0)
    return -1;
  direct_off (w);
  if (pwrite_all (w->fd, w->dbuf, w->dlen, started ? w->doff : 0) < 0)
    return err_set (err, errno, "write '%s'", w->tmp_name);
  return 0;
}

int
blob_writer_write (struct blob_writer *w, const void *data, size_t len,
                   struct err **err)
{
  if (w->dbuf)
    {
      digester_update (&w->d, data, len);
      w->size += len;
      return direct_write (w, data, len, err);
    }
  if (fs_write_all (w->fd, data, len) < 0)
    return err_set (err, errno, "write '%s'", w->tmp_name);
  digester_update (&w->d, data, len);
  w->size += len;
  if (w->size - w->flushed >= WRITEBACK_STEP)
    {
      /* Start (not wait for) writeback; fsync at commit is what counts,
       * so a failure here is only a lost optimisation. */
      sync_file_range (w->fd, (off64_t)w->flushed,
                       (off64_t)(w->size - w->flushed), SYNC_FILE_RANGE_WRITE);
      w->flushed = w->size;
    }
  return 0;
}

int
blob_writer_pwrite (struct blob_writer *w, uint64_t off, const void *data,
                    size_t len, struct err **err)
{
  if (w->dbuf || off < w->size)
    return err_set (err, EINVAL, "write '%s' at %" PRIu64, w->tmp_name, off);
  if (!w->holes && off > w->size)
    {
      /* Where user xattrs are refused, a killed download's file fails its
       * digest once at the next commit, and is fetched again after. */
      if (fsetxattr (w->fd, HOLES_XATTR, "1", 1, 0) < 0)
        log_debug ("mark '%s': %s", w->tmp_name, strerror (errno));
      w->holes = true;
    }
  if (pwrite_all (w->fd, data, len, off) < 0)
    return err_set (err, errno, "write '%s'", w->tmp_name);
  return 0;
}

int
blob_writer_absorb (struct blob_writer *w, uint64_t end,
                    int (*fn) (void *ctx, const void *data, size_t len,
                               struct err **err),
                    void *ctx, struct err **err)
{
  _cleanup_free_ char *buf = NULL;
  while (w->size < end)
    {
      size_t want = end - w->size < IO_CHUNK ? (size_t)(end - w->size)
                                             : IO_CHUNK;
      ssize_t n;
      if (!buf)
        buf = xmalloc (IO_CHUNK);
      n = pread (w->fd, buf, want, (off_t)w->size);
      if (n <= 0)
        return err_set (err, n < 0 ? errno : EIO, "read '%s'", w->tmp_name);
      digester_update (&w->d, buf, (size_t)n);
      w->size += (uint64_t)n;
      if (fn && fn (ctx, buf, (size_t)n, err) < 0)
        return -1;
    }
  return 0;
}

int
blob_writer_reset (struct blob_writer *w, struct err **err)
{
  char discard[DIGEST_STR_LEN + 1];
  struct err *ignored = NULL;
  direct_join (w, false, &ignored);
  err_free (ignored);
  if (ftruncate (w->fd, 0) < 0 || lseek (w->fd, 0, SEEK_SET) < 0)
    return err_set (err, errno, "truncate '%s'", w->tmp_name);
  digester_final (&w->d, discard); /* also resets the context */
  if (w->holes)
    fremovexattr (w->fd, HOLES_XATTR);
  w->holes = false;
  w->size = 0;
  w->dlen = 0;
  w->flushed = 0;
  return 0;
}

int
store_blob_commit (struct store *s, struct blob_writer *w, char **out_digest,
                   struct err **err)
{
  char got[DIGEST_STR_LEN + 1];
  int ret = -1;
  digester_final (&w->d, got);
  if (w->expect && strcmp (got, w->expect))
    {
      err_set (err, 0, "digest mismatch: expected %s, got %s", w->expect, got);
      store_blob_abort (w, false);
      return -1;
    }
  if (store_has_blob (s, got))
    ret = 0; /* someone else stored it first; ours is a duplicate */
  else if (w->dbuf && direct_finish (w, err) < 0)
    ;
  else if (w->holes && fremovexattr (w->fd, HOLES_XATTR) < 0
           && errno != ENODATA && errno != ENOTSUP)
    err_set (err, errno, "unmark '%s'", w->tmp_name);
  else if (fsync (w->fd) < 0)
    err_set (err, errno, "sync '%s'", w->tmp_name);
  else if (renameat (s->tmp_fd, w->tmp_name, s->blobs_fd, digest_hex (got)) < 0)
    err_set (err, errno, "store blob %s", got);
  else
    {
      free (w->tmp_name); /* renamed away: nothing to unlink */
      w->tmp_name = NULL;
      ret = fs_fsync_dir (s->blobs_fd, digest_hex (got), err);
    }
  if (ret == 0 && out_digest)
    *out_digest = xstrdup (got);
  store_blob_abort (w, false);
  return ret;
}

void
store_blob_abort (struct blob_writer *w, bool keep)
{
  if (!w)
    return;
  if (w->io)
    {
      struct err *ignored = NULL;
      direct_join (w, false, &ignored);
      err_free (ignored);
    }
  if (w->tmp_name && !(keep && w->expect))
    unlinkat (w->tmp_fd, w->tmp_name, 0);
  if (w->fd >= 0)
    close (w->fd); /* releases the flock */
  digester_release (&w->d);
  free (w->dbuf);
  free (w->tmp_name);
  free (w->expect);
  free (w);
}

int
store_blob_put (struct store *s, const void *data, size_t len,
                const char *expect, char **out_digest, struct err **err)
{
  struct blob_writer *w;
  char got[DIGEST_STR_LEN + 1];
  digest_buf (data, len, got);
  if (expect && strcmp (expect, got))
    return err_set (err, 0, "digest mismatch: expected %s, got %s", expect,
                    got);
  if (store_has_blob (s, got))
    {
      if (out_digest)
        *out_digest = xstrdup (got);
      return 0;
    }
  if (store_blob_begin (s, NULL, &w, err) < 0)
    return -1;
  if (blob_writer_write (w, data, len, err) < 0)
    {
      store_blob_abort (w, false);
      return -1;
    }
  return store_blob_commit (s, w, out_digest, err);
}

/* ---- references in index.json ---- */

void
store_ref_release (struct store_ref *r)
{
  free (r->name);
  free (r->media_type);
  free (r->digest);
  memset (r, 0, sizeof *r);
}

void
store_refs_free (struct store_ref *refs, size_t n)
{
  for (size_t i = 0; i < n; i++)
    store_ref_release (&refs[i]);
  free (refs);
}

static json_t *
index_load (struct store *s, struct err **err)
{
  _cleanup_free_ char *buf = NULL;
  size_t len;
  json_error_t jerr;
  json_t *ix;
  if (fs_read_file (s->root_fd, INDEX_PATH, INDEX_MAX_SIZE, &buf, &len, err)
      < 0)
    return NULL;
  ix = json_loadb (buf, len, 0, &jerr);
  if (!ix || !json_is_array (json_object_get (ix, "manifests")))
    {
      json_decref (ix);
      err_set (err, 0, "store index '%s/%s' is malformed: %s", s->root,
               INDEX_PATH, jerr.text);
      return NULL;
    }
  return ix;
}

static int
index_save (struct store *s, json_t *ix, struct err **err)
{
  _cleanup_free_ char *buf = json_dumps (ix, JSON_COMPACT);
  if (!buf)
    return err_set (err, ENOMEM, "serialise store index");
  return fs_write_file_atomic (s->root_fd, INDEX_PATH, buf, strlen (buf), 0644,
                               err);
}

static const char *
entry_ref_name (json_t *entry)
{
  return json_string_value (json_object_get (
      json_object_get (entry, "annotations"), STORE_REF_ANNOTATION));
}

static int
entry_to_ref (json_t *e, struct store_ref *out)
{
  const char *name = entry_ref_name (e);
  const char *mt = json_string_value (json_object_get (e, "mediaType"));
  const char *dg = json_string_value (json_object_get (e, "digest"));
  json_t *size = json_object_get (e, "size");
  if (!name || !dg)
    return -1;
  out->name = xstrdup (name);
  out->media_type = xstrdup (mt ? mt : "");
  out->digest = xstrdup (dg);
  out->size = json_integer_value (size);
  return 0;
}

int
store_ref_set (struct store *s, const char *name, const char *media_type,
               const char *digest, int64_t size, struct err **err)
{
  _cleanup_close_ int lock = -1;
  json_t *ix, *list, *entry, *e;
  size_t i;
  int ret;
  if (digest_check (digest, err) < 0)
    return -1;
  lock = fs_lock (s->root_fd, "lock", LOCK_EX, err);
  if (lock < 0 || !(ix = index_load (s, err)))
    return err_wrap (err, "tag '%s'", name);
  list = json_object_get (ix, "manifests");
  entry = json_pack ("{s:s, s:s, s:I, s:{s:s}}", "mediaType", media_type,
                     "digest", digest, "size", (json_int_t)size, "annotations",
                     STORE_REF_ANNOTATION, name);
  json_array_foreach (list, i, e)
  {
    const char *n = entry_ref_name (e);
    if (n && !strcmp (n, name))
      break;
  }
  if (i < json_array_size (list))
    json_array_set_new (list, i, entry);
  else
    json_array_append_new (list, entry);
  ret = index_save (s, ix, err);
  json_decref (ix);
  return ret < 0 ? err_wrap (err, "tag '%s'", name) : 0;
}

int
store_ref_get (struct store *s, const char *name, struct store_ref *out,
               struct err **err)
{
  json_t *ix = index_load (s, err), *e;
  size_t i;
  int ret = 1;
  if (!ix)
    return -1;
  json_array_foreach (json_object_get (ix, "manifests"), i, e)
  {
    const char *n = entry_ref_name (e);
    if (n && !strcmp (n, name) && entry_to_ref (e, out) == 0)
      {
        ret = 0;
        break;
      }
  }
  json_decref (ix);
  return ret;
}

int
store_ref_remove (struct store *s, const char *name, struct err **err)
{
  _cleanup_close_ int lock = fs_lock (s->root_fd, "lock", LOCK_EX, err);
  json_t *ix, *list, *e;
  size_t i;
  int ret = 1;
  if (lock < 0 || !(ix = index_load (s, err)))
    return -1;
  list = json_object_get (ix, "manifests");
  json_array_foreach (list, i, e)
  {
    const char *n = entry_ref_name (e);
    if (n && !strcmp (n, name))
      {
        json_array_remove (list, i);
        ret = index_save (s, ix, err) < 0 ? -1 : 0;
        break;
      }
  }
  json_decref (ix);
  return ret;
}

int
store_ref_list (struct store *s, struct store_ref **out, size_t *n,
                struct err **err)
{
  json_t *ix = index_load (s, err), *e;
  size_t i, alloc = 0;
  struct store_ref *refs = NULL;
  *n = 0;
  if (!ix)
    return -1;
  json_array_foreach (json_object_get (ix, "manifests"), i, e)
  {
    refs = xgrow (refs, &alloc, *n + 1, sizeof *refs);
    memset (&refs[*n], 0, sizeof refs[*n]);
    if (entry_to_ref (e, &refs[*n]) == 0)
      (*n)++;
  }
  json_decref (ix);
  *out = refs;
  return 0;
}
