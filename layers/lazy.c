/* A layer served from its TOC, contents fetched on first read
 * (layers/lazy.h). Nodes live in one array (inode = index + 1); a hash
 * of (parent, name) finds a child, a sorted vector per directory lists
 * them. */
#include "layers/lazy.h"
#include "layers/decompress.h"
#include "layers/digest.h"
#include "layers/toc.h"
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
  const char *link;          /* in the TOC */
  const struct toc_entry *e; /* a regular file's, for its contents */
  size_t target;             /* a hardlink's node, else itself */
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
  struct toc *toc;
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

void
lazy_layer_free (struct lazy_layer *l)
{
  if (!l)
    return;
  for (size_t i = 0; i < l->len; i++)
    {
      free (l->n[i].name);
      free (l->n[i].kids);
      if (l->n[i].fd >= 0)
        close (l->n[i].fd);
    }
  free (l->n);
  free (l->hash);
  toc_free (l->toc);
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

/* toc_type -> the letter nodes use */
static const char type_letter[] = {
  [TOC_REG] = 'f',      [TOC_DIR] = 'd',  [TOC_SYMLINK] = 'l',
  [TOC_HARDLINK] = 'h', [TOC_CHAR] = 'c', [TOC_BLOCK] = 'b',
  [TOC_FIFO] = 'p',
};

static int
add_entry (struct lazy_layer *l, const struct toc_entry *e, struct err **err)
{
  _cleanup_free_ char *name = NULL;
  size_t parent, idx;
  struct node *c;
  if ((size_t)e->type >= sizeof type_letter || !type_letter[e->type])
    return err_set (err, 0, "TOC entry '%s' has an unknown type", e->name);
  if (walk (l, e->name, &parent, &name, err) < 0)
    return -1;
  if (name && !strcmp (name, WH_OPAQUE))
    {
      l->n[parent].opaque = true;
      return 0;
    }
  idx = 0;
  if (name)
    {
      bool wh = !strncmp (name, WH_PREFIX, strlen (WH_PREFIX));
      const char *real = wh ? name + strlen (WH_PREFIX) : name;
      if (!*real)
        return err_set (err, 0, "TOC entry '%s' is an empty whiteout", e->name);
      idx = find (l, parent, real);
      if (!idx)
        idx = node_new (l, parent, real);
      if (wh)
        {
          /* as layers/apply.c makes it for overlay */
          c = &l->n[idx];
          c->type = 'c';
          c->mode = 0600;
          c->uid = c->gid = 0;
          c->rdev = makedev (0, 0);
          c->size = 0;
          c->e = NULL;
          c->link = NULL;
          return 0;
        }
    }
  c = &l->n[idx];
  c->type = type_letter[e->type];
  c->mode = e->mode & 07777;
  c->uid = e->uid;
  c->gid = e->gid;
  c->size = e->type == TOC_REG ? e->size : 0;
  c->mtime = e->mtime_sec;
  c->rdev = makedev (e->dev_major, e->dev_minor);
  c->link = e->link_name;
  c->e = e->type == TOC_REG ? e : NULL;
  if ((e->type == TOC_SYMLINK || e->type == TOC_HARDLINK) && !e->link_name)
    return err_set (err, 0, "TOC entry '%s' has no link target", e->name);
  if (e->type == TOC_REG && e->size && !e->digest[0])
    return err_set (err, 0, "TOC entry '%s' has no content digest", e->name);
  return 0;
}

static int
cmp_kid (const void *a, const void *b, void *arg)
{
  const struct lazy_layer *l = arg;
  return strcmp (l->n[*(const size_t *)a].name, l->n[*(const size_t *)b].name);
}

static int
seal (struct lazy_layer *l, struct err **err)
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

struct lazy_layer *
lazy_layer_new (struct toc *t, int tmp_fd, lazy_fetch_fn fetch, void *fetch_arg,
                struct err **err)
{
  struct lazy_layer *l = xcalloc (1, sizeof *l);
  l->toc = t;
  l->tmp_fd = tmp_fd;
  l->fetch = fetch;
  l->fetch_arg = fetch_arg;
  pthread_mutex_init (&l->lock, NULL);
  pthread_cond_init (&l->done, NULL);
  node_new (l, 0, "");
  hash_grow (l);
  for (size_t i = 0; i < t->n_entries; i++)
    if (add_entry (l, &t->entries[i], err) < 0)
      goto fail;
  if (seal (l, err) < 0)
    goto fail;
  return l;
fail:
  lazy_layer_free (l);
  return NULL;
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

/* Compressed bytes fetched at once: a run of a file's chunks up to this
 * (a bigger chunk alone), so memory stays bounded for a big file. */
#define RUN_MAX (16u << 20)

struct chunk_out
{
  uint64_t skip, left; /* inner offset still to drop; bytes still wanted */
  uint8_t *out;
};

static int
chunk_sink (void *arg, const uint8_t *buf, size_t len, struct err **err)
{
  struct chunk_out *o = arg;
  size_t n;
  if (o->skip)
    {
      n = len < o->skip ? len : (size_t)o->skip;
      o->skip -= n, buf += n, len -= n;
    }
  n = len < o->left ? len : (size_t)o->left;
  memcpy (o->out, buf, n);
  o->out += n, o->left -= n;
  return 0;
}

/* One chunk's bytes -> its c->size uncompressed bytes in out, its digest
 * checked when the TOC gives one. */
static int
chunk_decompress (const struct toc_chunk *c, const uint8_t *comp, size_t len,
                  uint8_t *out, struct err **err)
{
  struct chunk_out o = { c->inner_offset, c->size, out };
  struct layer_decomp *d = layer_decomp_new (chunk_sink, &o);
  char got[DIGEST_STR_LEN + 1];
  int r = layer_decomp_feed (d, comp, len, err) < 0
                  || layer_decomp_finish (d, err) < 0
              ? -1
              : 0;
  layer_decomp_free (d);
  if (r < 0)
    return -1;
  if (o.left)
    return err_set (err, 0, "chunk at %llu is shorter than the TOC says",
                    (unsigned long long)c->offset);
  digest_buf (out, c->size, got);
  if (c->digest[0] && strcmp (got, c->digest))
    return err_set (err, 0, "chunk at %llu: digest is %s, the TOC says %s",
                    (unsigned long long)c->offset, got, c->digest);
  return 0;
}

/* The last chunk of the run that starts at first. */
static size_t
run_end (const struct toc_entry *e, size_t first)
{
  size_t last = first;
  while (last + 1 < e->n_chunks && !e->chunks[first].zeros
         && !e->chunks[last + 1].zeros
         && e->chunks[last + 1].offset >= e->chunks[last].end
         && e->chunks[last + 1].end - e->chunks[first].offset <= RUN_MAX)
    last++;
  return last;
}

/* Fetch, decompress and check e's contents into a new O_TMPFILE. */
static int
fill (struct lazy_layer *l, const struct toc_entry *e, struct err **err)
{
  _cleanup_close_ int fd = -1;
  struct digester dg;
  char got[DIGEST_STR_LEN + 1];
  uint8_t *comp = NULL, *out = NULL;
  int ret = -1;
  fd = openat (l->tmp_fd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd < 0)
    return err_set (err, errno, "make a cache file");
  digester_init (&dg);
  for (size_t first = 0, last; first < e->n_chunks; first = last + 1)
    {
      uint64_t off = e->chunks[first].offset;
      last = run_end (e, first);
      if (!e->chunks[first].zeros)
        {
          comp = xrealloc (comp, e->chunks[last].end - off);
          if (l->fetch (l->fetch_arg, off, e->chunks[last].end - off, comp, err)
              < 0)
            goto out;
        }
      for (size_t i = first; i <= last; i++)
        {
          const struct toc_chunk *c = &e->chunks[i];
          out = xrealloc (out, c->size ? c->size : 1);
          if (c->zeros)
            memset (out, 0, c->size);
          else if (chunk_decompress (c, comp + (c->offset - off),
                                     c->end - c->offset, out, err)
                   < 0)
            goto out;
          digester_update (&dg, out, c->size);
          if (fs_write_all (fd, out, c->size) < 0)
            {
              err_set (err, errno, "write the cache");
              goto out;
            }
        }
    }
  digester_final (&dg, got);
  if (strcmp (got, e->digest))
    {
      err_set (err, 0, "content digest is %s, the TOC says %s", got, e->digest);
      goto out;
    }
  ret = steal_fd (&fd);
out:
  free (comp);
  free (out);
  digester_release (&dg);
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
  if (c->fd >= 0 || !c->e || !c->e->n_chunks)
    {
      if (c->fd < 0) /* empty: nothing to fetch */
        c->fd = openat (l->tmp_fd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
      fd = c->fd;
      pthread_mutex_unlock (&l->lock);
      return fd >= 0 ? fd : err_set (err, errno, "make a cache file");
    }
  c->fetching = true;
  pthread_mutex_unlock (&l->lock);
  fd = fill (l, c->e, err);
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
