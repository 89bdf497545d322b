/* A layer served from its TOC, contents fetched on first read
 * (layers/lazy.h). Nodes live in one array (inode = index + 1); a hash
 * of (parent, name) finds a child, a sorted vector per directory lists
 * them. */
#include "layers/lazy.h"
#include "layers/decompress.h"
#include "layers/digest.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#define WH_PREFIX ".wh."
#define WH_OPAQUE ".wh..wh..opq"

struct node
{
  char *name;    /* last component ("" for the root) */
  size_t parent; /* index */
  char type;
  uint32_t mode, uid, gid;
  uint64_t size;
  int64_t mtime;
  dev_t rdev;
  char *link, *digest;
  struct lazy_chunk *chunks;
  size_t nchunks;
  size_t target; /* a hardlink's node, else itself */
  uint32_t nlink;
  bool opaque;
  size_t *kids; /* directories: children, sorted at seal */
  size_t nkids;
  int fd;        /* checked contents, or -1 */
  bool fetching; /* another thread fetches it now */
};

struct lazy_layer
{
  struct node *n;
  size_t len, cap;
  size_t *hash; /* index + 1, 0 = empty; cap is a power of 2 */
  size_t hcap;
  int tmp_fd;
  lazy_fetch_fn fetch;
  void *fetch_arg;
  pthread_mutex_t lock;
  pthread_cond_t done;
  size_t fetched;
};

static uint64_t
hash_of (size_t parent, const char *name)
{
  uint64_t h = 1469598103934665603ull ^ parent;
  for (const unsigned char *p = (const unsigned char *)name; *p; p++)
    h = (h ^ *p) * 1099511628211ull;
  return h;
}

static void
hash_put (struct lazy_layer *l, size_t idx)
{
  size_t m = l->hcap - 1;
  for (size_t i = hash_of (l->n[idx].parent, l->n[idx].name) & m;;
       i = (i + 1) & m)
    if (!l->hash[i])
      {
        l->hash[i] = idx + 1;
        return;
      }
}

static void
hash_grow (struct lazy_layer *l)
{
  if (l->len * 2 < l->hcap)
    return;
  free (l->hash);
  l->hcap = l->hcap ? l->hcap * 2 : 64;
  l->hash = xcalloc (l->hcap, sizeof *l->hash);
  for (size_t i = 1; i < l->len; i++)
    hash_put (l, i);
}

/* The child's index, or 0 (the root is nobody's child). */
static size_t
find (const struct lazy_layer *l, size_t parent, const char *name)
{
  size_t m = l->hcap - 1;
  for (size_t i = hash_of (parent, name) & m; l->hash[i]; i = (i + 1) & m)
    {
      const struct node *c = &l->n[l->hash[i] - 1];
      if (c->parent == parent && !strcmp (c->name, name))
        return l->hash[i] - 1;
    }
  return 0;
}

static size_t
node_new (struct lazy_layer *l, size_t parent, const char *name)
{
  struct node *c;
  if (l->len == l->cap)
    {
      l->cap = l->cap ? l->cap * 2 : 64;
      l->n = xrealloc (l->n, l->cap * sizeof *l->n);
    }
  c = &l->n[l->len];
  *c = (struct node){ .name = xstrdup (name),
                      .parent = parent,
                      .type = 'd',
                      .mode = 0755,
                      .target = l->len,
                      .nlink = 1,
                      .fd = -1 };
  l->len++;
  if (l->len > 1)
    {
      hash_grow (l);
      hash_put (l, l->len - 1);
    }
  return l->len - 1;
}

struct lazy_layer *
lazy_layer_new (int tmp_fd, lazy_fetch_fn fetch, void *fetch_arg)
{
  struct lazy_layer *l = xcalloc (1, sizeof *l);
  l->tmp_fd = tmp_fd;
  l->fetch = fetch;
  l->fetch_arg = fetch_arg;
  pthread_mutex_init (&l->lock, NULL);
  pthread_cond_init (&l->done, NULL);
  node_new (l, 0, "");
  hash_grow (l);
  return l;
}

static void
node_clear (struct node *c)
{
  free (c->link);
  free (c->digest);
  free (c->chunks);
  c->link = c->digest = NULL;
  c->chunks = NULL;
  c->nchunks = 0;
}

void
lazy_layer_free (struct lazy_layer *l)
{
  if (!l)
    return;
  for (size_t i = 0; i < l->len; i++)
    {
      node_clear (&l->n[i]);
      free (l->n[i].name);
      free (l->n[i].kids);
      if (l->n[i].fd >= 0)
        close (l->n[i].fd);
    }
  free (l->n);
  free (l->hash);
  pthread_mutex_destroy (&l->lock);
  pthread_cond_destroy (&l->done);
  free (l);
}

/* Walk a TOC path: "./a/b/" -> components, ".." refused. The node of the
 * parent directory (made as needed) and the last component (in *last,
 * caller frees; NULL for the root itself). */
static int
walk (struct lazy_layer *l, const char *path, size_t *parent, char **last,
      struct err **err)
{
  _cleanup_free_ char *copy = xstrdup (path);
  char *save = NULL, *comp, *prev = NULL;
  size_t dir = 0;
  for (comp = strtok_r (copy, "/", &save); comp;
       comp = strtok_r (NULL, "/", &save))
    {
      if (!strcmp (comp, "."))
        continue;
      if (!strcmp (comp, ".."))
        return err_set (err, 0, "TOC entry '%s' leaves the layer", path);
      if (prev)
        {
          size_t c = find (l, dir, prev);
          if (!c)
            c = node_new (l, dir, prev);
          else if (l->n[c].type != 'd')
            return err_set (err, 0, "TOC entry '%s' is below a non-directory",
                            path);
          dir = c;
        }
      prev = comp;
    }
  *parent = dir;
  *last = prev ? xstrdup (prev) : NULL;
  return 0;
}

static bool
type_ok (char t)
{
  return t && strchr ("fdlhcbp", t);
}

int
lazy_layer_add (struct lazy_layer *l, const struct lazy_entry *e,
                struct err **err)
{
  _cleanup_free_ char *name = NULL;
  size_t parent, idx;
  struct node *c;
  if (!type_ok (e->type))
    return err_set (err, 0, "TOC entry '%s' has an unknown type", e->name);
  if (walk (l, e->name, &parent, &name, err) < 0)
    return -1;
  if (name && !strcmp (name, WH_OPAQUE))
    {
      l->n[parent].opaque = true;
      return 0;
    }
  if (!name)
    idx = 0;
  else
    {
      bool wh = !strncmp (name, WH_PREFIX, strlen (WH_PREFIX));
      const char *real = wh ? name + strlen (WH_PREFIX) : name;
      if (!*real)
        return err_set (err, 0, "TOC entry '%s' is an empty whiteout", e->name);
      idx = find (l, parent, real);
      if (!idx)
        idx = node_new (l, parent, real);
      c = &l->n[idx];
      node_clear (c);
      if (wh)
        {
          /* as layers/apply.c makes it for overlay */
          c->type = 'c';
          c->mode = 0600;
          c->uid = c->gid = 0;
          c->rdev = makedev (0, 0);
          c->size = 0;
          return 0;
        }
    }
  c = &l->n[idx];
  if (c->type == 'd' && e->type != 'd' && c->nkids)
    return err_set (err, 0, "TOC entry '%s' replaces a directory", e->name);
  node_clear (c);
  c->type = e->type;
  c->mode = e->mode & 07777;
  c->uid = e->uid;
  c->gid = e->gid;
  c->size = e->type == 'f' ? e->size : 0;
  c->mtime = e->mtime;
  c->rdev = makedev (e->dev_major, e->dev_minor);
  if ((e->type == 'l' || e->type == 'h') && !e->link)
    return err_set (err, 0, "TOC entry '%s' has no link target", e->name);
  c->link = e->link ? xstrdup (e->link) : NULL;
  if (e->type == 'f' && c->size)
    {
      uint64_t at = 0;
      if (!e->digest || digest_check (e->digest, err) < 0 || !e->nchunks)
        {
          err_clear (err);
          return err_set (err, 0, "TOC entry '%s' has no content digest",
                          e->name);
        }
      for (size_t i = 0; i < e->nchunks; i++)
        {
          if (e->chunks[i].uoff != at || !e->chunks[i].len)
            return err_set (err, 0, "TOC entry '%s' has chunks out of order",
                            e->name);
          at += e->chunks[i].ulen;
        }
      if (at != c->size)
        return err_set (err, 0, "TOC entry '%s': chunks do not add up to %llu",
                        e->name, (unsigned long long)c->size);
      c->digest = xstrdup (e->digest);
      c->chunks = xmalloc (e->nchunks * sizeof *e->chunks);
      memcpy (c->chunks, e->chunks, e->nchunks * sizeof *e->chunks);
      c->nchunks = e->nchunks;
    }
  return 0;
}

static int
cmp_kid (const void *a, const void *b, void *arg)
{
  const struct lazy_layer *l = arg;
  return strcmp (l->n[*(const size_t *)a].name, l->n[*(const size_t *)b].name);
}

int
lazy_layer_seal (struct lazy_layer *l, struct err **err)
{
  size_t *caps = xcalloc (l->len, sizeof *caps);
  for (size_t i = 1; i < l->len; i++)
    {
      struct node *p = &l->n[l->n[i].parent];
      if (p->nkids == caps[l->n[i].parent])
        {
          caps[l->n[i].parent] = caps[l->n[i].parent] * 2 + 4;
          p->kids = xrealloc (p->kids, caps[l->n[i].parent] * sizeof *p->kids);
        }
      p->kids[p->nkids++] = i;
    }
  free (caps);
  for (size_t i = 0; i < l->len; i++)
    if (l->n[i].nkids > 1)
      qsort_r (l->n[i].kids, l->n[i].nkids, sizeof (size_t), cmp_kid, l);
  /* a hardlink is its target's inode: same attributes, same contents */
  for (size_t i = 1; i < l->len; i++)
    {
      struct node *c = &l->n[i];
      size_t parent, t;
      _cleanup_free_ char *last = NULL;
      if (c->type != 'h')
        continue;
      if (walk (l, c->link, &parent, &last, err) < 0)
        return -1;
      t = last ? find (l, parent, last) : 0;
      if (!t || l->n[t].type == 'h' || l->n[t].type == 'd')
        return err_set (err, 0, "hardlink '%s' to '%s': no such file", c->name,
                        c->link);
      c->target = t;
      l->n[t].nlink++;
    }
  return 0;
}

static const struct node *
node_of (const struct lazy_layer *l, uint64_t ino)
{
  if (ino < 1 || ino > l->len)
    return NULL;
  return &l->n[l->n[ino - 1].target];
}

uint64_t
lazy_lookup (const struct lazy_layer *l, uint64_t dir, const char *name)
{
  const struct node *d = node_of (l, dir);
  size_t c;
  if (!d || d->type != 'd')
    return 0;
  c = find (l, dir - 1, name);
  return c ? c + 1 : 0;
}

bool
lazy_stat (const struct lazy_layer *l, uint64_t ino, struct stat *st)
{
  const struct node *c = node_of (l, ino);
  static const mode_t fmt[128]
      = { ['f'] = S_IFREG, ['d'] = S_IFDIR, ['l'] = S_IFLNK,
          ['c'] = S_IFCHR, ['b'] = S_IFBLK, ['p'] = S_IFIFO };
  if (!c)
    return false;
  memset (st, 0, sizeof *st);
  /* a hardlink answers with its target's inode number */
  st->st_ino = (ino_t)(c - l->n) + 1;
  st->st_mode = fmt[(unsigned char)c->type] | c->mode;
  st->st_nlink = c->type == 'd' ? 2 : c->nlink;
  st->st_uid = c->uid;
  st->st_gid = c->gid;
  st->st_size = c->type == 'l' ? (off_t)strlen (c->link) : (off_t)c->size;
  st->st_blksize = 4096;
  st->st_blocks = (st->st_size + 511) / 512;
  st->st_rdev = c->rdev;
  st->st_mtim.tv_sec = st->st_atim.tv_sec = st->st_ctim.tv_sec = c->mtime;
  return true;
}

const char *
lazy_readlink (const struct lazy_layer *l, uint64_t ino)
{
  const struct node *c = node_of (l, ino);
  return c && c->type == 'l' ? c->link : NULL;
}

bool
lazy_opaque (const struct lazy_layer *l, uint64_t ino)
{
  const struct node *c = node_of (l, ino);
  return c && c->type == 'd' && c->opaque;
}

bool
lazy_dirent (const struct lazy_layer *l, uint64_t ino, size_t i,
             const char **name, uint64_t *child)
{
  const struct node *d = node_of (l, ino);
  if (!d || d->type != 'd' || i >= d->nkids)
    return false;
  *name = l->n[d->kids[i]].name;
  *child = d->kids[i] + 1;
  return true;
}

char *
lazy_path (const struct lazy_layer *l, uint64_t ino)
{
  char *path = xstrdup ("");
  if (ino < 1 || ino > l->len)
    return path;
  for (size_t i = ino - 1; i; i = l->n[i].parent)
    {
      char *old = path;
      path = xasprintf ("%s%s%s", l->n[i].name, *old ? "/" : "", old);
      free (old);
    }
  return path;
}

size_t
lazy_fetched_files (const struct lazy_layer *l)
{
  return l->fetched;
}

/* --- fetching one file's contents --- */

struct fill
{
  const struct node *c;
  size_t chunk;  /* the chunk being fed */
  uint64_t at;   /* blob offset of the next byte the fetch sends */
  uint64_t out;  /* uncompressed bytes written */
  uint64_t want; /* uncompressed bytes the current chunk must make */
  struct layer_decomp *dec;
  struct digester dg;
  int fd;
};

static int
fill_out (void *arg, const uint8_t *buf, size_t len, struct err **err)
{
  struct fill *f = arg;
  if (len > f->want || f->out + len > f->c->size)
    return err_set (err, 0, "chunk is longer than the TOC says");
  f->want -= len;
  if (fs_write_all (f->fd, buf, len) < 0)
    return err_set (err, errno, "write the cache");
  digester_update (&f->dg, buf, len);
  f->out += len;
  return 0;
}

static int
chunk_end (struct fill *f, struct err **err)
{
  int r = layer_decomp_finish (f->dec, err);
  layer_decomp_free (steal_pointer (&f->dec));
  if (r < 0)
    return -1;
  if (f->want)
    return err_set (err, 0, "chunk is shorter than the TOC says");
  f->chunk++;
  return 0;
}

static int
fill_in (void *arg, const void *data, size_t len, struct err **err)
{
  struct fill *f = arg;
  const char *p = data;
  while (len && f->chunk < f->c->nchunks)
    {
      const struct lazy_chunk *k = &f->c->chunks[f->chunk];
      uint64_t end = k->off + k->len;
      size_t n;
      if (f->at < k->off) /* a gap between chunks: skipped */
        {
          n = (size_t)(k->off - f->at < len ? k->off - f->at : len);
          f->at += n, p += n, len -= n;
          continue;
        }
      if (!f->dec)
        {
          f->dec = layer_decomp_new (fill_out, f);
          f->want = k->ulen;
        }
      n = (size_t)(end - f->at < len ? end - f->at : len);
      if (layer_decomp_feed (f->dec, p, n, err) < 0)
        return -1;
      f->at += n, p += n, len -= n;
      if (f->at == end && chunk_end (f, err) < 0)
        return -1;
    }
  return 0;
}

/* Fetch, decompress and check c's contents into a new O_TMPFILE. The
 * chunks of a file usually follow each other: one fetch covers a run of
 * them, gaps included. */
static int
fill (struct lazy_layer *l, const struct node *c, struct err **err)
{
  struct fill f = { .c = c };
  char got[DIGEST_STR_LEN + 1];
  int ret = -1;
  f.fd = openat (l->tmp_fd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (f.fd < 0)
    return err_set (err, errno, "make a cache file");
  digester_init (&f.dg);
  while (f.chunk < c->nchunks)
    {
      size_t first = f.chunk, last = first;
      while (last + 1 < c->nchunks
             && c->chunks[last + 1].off
                    >= c->chunks[last].off + c->chunks[last].len
             && c->chunks[last + 1].off
                        - (c->chunks[last].off + c->chunks[last].len)
                    < (64u << 10))
        last++;
      f.at = c->chunks[first].off;
      if (l->fetch (l->fetch_arg, f.at,
                    c->chunks[last].off + c->chunks[last].len - f.at, fill_in,
                    &f, err)
          < 0)
        goto out;
      if (f.chunk != last + 1)
        {
          err_set (err, 0, "fetch ended early");
          goto out;
        }
    }
  digester_final (&f.dg, got);
  if (f.out != c->size || strcmp (got, c->digest))
    {
      err_set (err, 0, "content digest is %s, the TOC says %s", got, c->digest);
      goto out;
    }
  ret = steal_fd (&f.fd);
out:
  layer_decomp_free (f.dec);
  digester_release (&f.dg);
  if (f.fd >= 0)
    close (f.fd);
  return ret;
}

int
lazy_content_fd (struct lazy_layer *l, uint64_t ino, struct err **err)
{
  struct node *c;
  int fd;
  if (ino < 1 || ino > l->len)
    return err_set (err, ENOENT, "no inode %llu", (unsigned long long)ino);
  c = &l->n[l->n[ino - 1].target];
  if (c->type != 'f')
    return err_set (err, EINVAL, "'%s' is not a regular file", c->name);
  pthread_mutex_lock (&l->lock);
  while (c->fetching)
    pthread_cond_wait (&l->done, &l->lock);
  if (c->fd >= 0 || !c->size)
    {
      if (c->fd < 0) /* empty: nothing to fetch */
        c->fd = openat (l->tmp_fd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
      fd = c->fd;
      pthread_mutex_unlock (&l->lock);
      return fd >= 0 ? fd : err_set (err, errno, "make a cache file");
    }
  c->fetching = true;
  pthread_mutex_unlock (&l->lock);
  fd = fill (l, c, err);
  pthread_mutex_lock (&l->lock);
  c->fetching = false;
  if (fd >= 0)
    {
      c->fd = fd;
      l->fetched++;
    }
  pthread_cond_broadcast (&l->done);
  pthread_mutex_unlock (&l->lock);
  if (fd < 0)
    {
      _cleanup_free_ char *path = lazy_path (l, (uint64_t)(c - l->n) + 1);
      err_wrap (err, "fetch '%s'", path);
    }
  return fd;
}
