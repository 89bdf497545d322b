/* COPY and ADD (and WORKDIR's directory): sources matched in the context
 * (through .dockerignore), another stage or an image, written straight
 * into a layer by layers/copy.c, with the rules of
 * reference/buildfile.md "COPY": a directory source copies its contents,
 * several sources need a destination ending in "/", a file copied onto an
 * existing directory goes inside it, the destination's symlinks are
 * resolved inside the image, missing parents are created; ADD extracts
 * local tar archives (plain, gzip, zstd). The cache text of a step holds
 * the checksums of its sources' contents and modes, never their mtimes. */
#include "layers/copy.h"
#include "builder/build_int.h"
#include "builder/git.h"
#include "layers/apply.h"
#include "layers/decompress.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/path.h"
#include "lib/strbuf.h"
#include "lib/xalloc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Open path inside root_fd as if it were "/" (symlinks followed, never
 * out of it). */
static int
open_in (int root_fd, const char *path, int flags)
{
  struct open_how how = { .flags = (uint64_t)(flags | O_CLOEXEC),
                          .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS };
  return (int)syscall (SYS_openat2, root_fd, path, &how, sizeof how);
}

static bool
has_meta (const char *p)
{
  return strpbrk (p, "*?[") != NULL;
}

/* A source as the context sees it: no leading "/", no way above the
 * root ("../x" is "x"), trailing "/" ignored. */
static char *
clean_source (const char *src)
{
  _cleanup_free_ char *abs = xasprintf ("/%s", src);
  char *p = path_clean (abs); /* ".." at the root goes */
  if (!strcmp (p, "/"))
    {
      free (p);
      return xstrdup (".");
    }
  memmove (p, p + 1, strlen (p));
  return p;
}

/* ---- what a source set is ---- */

struct srcs
{
  int root_fd;                /* context, or another stage's view */
  const struct bf_ignore *ig; /* the context's .dockerignore, or NULL */
  char **paths;               /* matched, relative to root_fd */
  char **urls;                /* ADD's http(s) sources */
  char **gits;                /* ADD's git sources (builder/git.h) */
  size_t n_args;              /* sources named (heredocs included) */
  bool wild;                  /* a wildcard was used */
};

static bool
ignored (const struct srcs *s, const char *path)
{
  return s->ig && strcmp (path, ".") && bf_ignore_match (s->ig, path);
}

static int
cmp_str (const void *a, const void *b)
{
  return strcmp (*(char *const *)a, *(char *const *)b);
}

/* Expand the pattern components comps[i..] below dir (relative). */
static int
glob_walk (struct srcs *s, const char *dir, char **comps, size_t i,
           struct err **err)
{
  if (!comps[i])
    {
      if (!ignored (s, dir))
        strv_push (&s->paths, xstrdup (dir));
      return 0;
    }
  _cleanup_close_ int dfd = open_in (s->root_fd, dir, O_RDONLY | O_DIRECTORY);
  if (dfd < 0)
    return 0; /* not a directory: no match */
  if (!has_meta (comps[i]))
    {
      struct stat st;
      _cleanup_free_ char *next = strcmp (dir, ".")
                                      ? xasprintf ("%s/%s", dir, comps[i])
                                      : xstrdup (comps[i]);
      if (fstatat (dfd, comps[i], &st, AT_SYMLINK_NOFOLLOW) < 0)
        return 0;
      return glob_walk (s, next, comps, i + 1, err);
    }
  DIR *d = fdopendir (fcntl (dfd, F_DUPFD_CLOEXEC, 0));
  if (!d)
    return err_set (err, errno, "read '%s'", dir);
  _cleanup_strv_ char **names = xcalloc (1, sizeof (char *));
  struct dirent *de;
  while ((de = readdir (d)))
    if (strcmp (de->d_name, ".") && strcmp (de->d_name, "..")
        && bf_glob_match (comps[i], de->d_name))
      strv_push (&names, xstrdup (de->d_name));
  closedir (d);
  qsort (names, strv_len (names), sizeof (char *), cmp_str);
  for (size_t k = 0; names[k]; k++)
    {
      _cleanup_free_ char *next = strcmp (dir, ".")
                                      ? xasprintf ("%s/%s", dir, names[k])
                                      : xstrdup (names[k]);
      if (glob_walk (s, next, comps, i + 1, err) < 0)
        return -1;
    }
  return 0;
}

static bool
is_heredoc_src (const struct bf_instr *x, const char *arg)
{
  return x->n_heredocs && !strncmp (arg, "<<", 2);
}

/* The heredoc a "<<NAME" source names. */
static const struct bf_heredoc *
heredoc_of (const struct bf_instr *x, const char *arg)
{
  const char *w = arg + 2 + (arg[2] == '-');
  size_t n = strlen (w);
  if (n >= 2 && (w[0] == '"' || w[0] == '\'') && w[n - 1] == w[0])
    w++, n -= 2;
  for (size_t i = 0; i < x->n_heredocs; i++)
    if (strlen (x->heredocs[i].name) == n
        && !strncmp (x->heredocs[i].name, w, n))
      return &x->heredocs[i];
  return NULL;
}

/* ADD --keep-git-dir[=true] */
static bool
keep_git_dir (const struct bf_instr *x)
{
  const char *v = bf_flag (x, "keep-git-dir");
  return v && !strcmp (v, "true");
}

static int
match_sources (const struct bf_instr *x, struct srcs *s, struct err **err)
{
  size_t n = strv_len (x->args);
  s->paths = xcalloc (1, sizeof (char *));
  s->urls = xcalloc (1, sizeof (char *));
  s->gits = xcalloc (1, sizeof (char *));
  s->n_args = n - 1;
  for (size_t i = 0; i + 1 < n; i++)
    {
      const char *arg = x->args[i];
      if (is_heredoc_src (x, arg))
        continue;
      bool http = !strncmp (arg, "http://", 7) || !strncmp (arg, "https://", 8);
      if (x->kind == BF_ADD && build_git_is_url (arg))
        {
          strv_push (&s->gits, xstrdup (arg));
          continue;
        }
      if (http && x->kind == BF_ADD)
        {
          strv_push (&s->urls, xstrdup (arg));
          continue;
        }
      if (http || build_git_is_url (arg))
        return err_set (err, 0, "COPY '%s': COPY does not take URLs: use ADD",
                        arg);
      _cleanup_free_ char *p = clean_source (arg);
      if (has_meta (p))
        {
          s->wild = true;
          _cleanup_strv_ char **comps = xcalloc (1, sizeof (char *));
          char *save = NULL;
          for (char *c = strtok_r (p, "/", &save); c;
               c = strtok_r (NULL, "/", &save))
            strv_push (&comps, xstrdup (c));
          if (glob_walk (s, ".", comps, 0, err) < 0)
            return -1;
          continue;
        }
      _cleanup_close_ int fd = open_in (s->root_fd, p, O_PATH);
      if (fd < 0 || ignored (s, p))
        return err_set (err, 0, "%s '%s': not found in the %s%s",
                        bf_kind_name (x->kind), arg,
                        s->ig ? "build context" : "source stage",
                        fd >= 0 ? " (excluded by .dockerignore)" : "");
      strv_push (&s->paths, steal_pointer (&p));
    }
  return 0;
}

static void
srcs_release (struct srcs *s)
{
  strv_free (s->paths);
  strv_free (s->urls);
  strv_free (s->gits);
  s->paths = NULL;
  s->urls = NULL;
  s->gits = NULL;
}

/* ---- checksums for the cache ---- */

static int
hash_fd (int fd, struct digester *d, const char *path, off_t size,
         struct err **err)
{
  static char buf[1 << 16];
  /* st_size bytes, as the layer takes them (a file that grew is cut
     there): no read past them just to see the end */
  while (size > 0)
    {
      size_t want = size < (off_t)sizeof buf ? (size_t)size : sizeof buf;
      ssize_t n = read (fd, buf, want);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return err_set (err, errno, "read '%s'", path);
      if (n == 0)
        return 0;
      digester_update (d, buf, (size_t)n);
      size -= n;
    }
  return 0;
}

/* One entry: path, type+mode, size, and the content or link target
 * (BuildKit's tarsum fields less owners, which COPY from the context
 * replaces, and less mtime). */
static int
hash_entry (struct srcs *s, int dfd, const char *name, const char *rel,
            struct digester *d, struct err **err)
{
  struct stat st;
  char hdr[64];
  if (fstatat (dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return err_set (err, errno, "stat '%s'", rel);
  if (S_ISDIR (st.st_mode) && ignored (s, rel)
      && !bf_ignore_has_exceptions (s->ig))
    return 0;
  bool skip_self = ignored (s, rel);
  if (!skip_self)
    {
      digester_update (d, rel, strlen (rel) + 1);
      snprintf (hdr, sizeof hdr, "%o %lld", (unsigned)st.st_mode,
                S_ISREG (st.st_mode) ? (long long)st.st_size : 0LL);
      digester_update (d, hdr, strlen (hdr) + 1);
    }
  if (S_ISLNK (st.st_mode) && !skip_self)
    {
      char target[PATH_MAX];
      ssize_t n = readlinkat (dfd, name, target, sizeof target);
      if (n < 0)
        return err_set (err, errno, "read link '%s'", rel);
      digester_update (d, target, (size_t)n);
    }
  else if (S_ISREG (st.st_mode) && !skip_self)
    {
      _cleanup_close_ int fd
          = openat (dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
      if (fd < 0 || hash_fd (fd, d, rel, st.st_size, err) < 0)
        return fd < 0 ? err_set (err, errno, "open '%s'", rel) : -1;
    }
  else if (S_ISDIR (st.st_mode))
    {
      _cleanup_close_ int cfd
          = openat (dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      DIR *dir = cfd >= 0 ? fdopendir (fcntl (cfd, F_DUPFD_CLOEXEC, 0)) : NULL;
      if (!dir)
        return err_set (err, errno, "read '%s'", rel);
      _cleanup_strv_ char **names = xcalloc (1, sizeof (char *));
      struct dirent *de;
      while ((de = readdir (dir)))
        if (strcmp (de->d_name, ".") && strcmp (de->d_name, ".."))
          strv_push (&names, xstrdup (de->d_name));
      closedir (dir);
      qsort (names, strv_len (names), sizeof (char *), cmp_str);
      for (size_t i = 0; names[i]; i++)
        {
          _cleanup_free_ char *crel = strcmp (rel, ".")
                                          ? xasprintf ("%s/%s", rel, names[i])
                                          : xstrdup (names[i]);
          if (hash_entry (s, cfd, names[i], crel, d, err) < 0)
            return -1;
        }
    }
  return 0;
}

/* The checksum of one matched source (followed if a symlink, as COPY
 * does): the source itself as its parent sees it, through its resolved
 * parent directory. */
static int
source_checksum (struct srcs *s, const char *path, char out[DIGEST_STR_LEN + 1],
                 struct err **err)
{
  struct digester d;
  struct stat st;
  int r = 0;
  _cleanup_close_ int pfd = open_in (s->root_fd, path, O_PATH);
  if (pfd < 0 || fstat (pfd, &st) < 0)
    return err_set (err, errno, "open '%s'", path);
  digester_init (&d);
  if (S_ISDIR (st.st_mode))
    {
      /* hash the children; the directory's own mode goes first */
      char hdr[32];
      snprintf (hdr, sizeof hdr, "%o", (unsigned)st.st_mode);
      digester_update (&d, hdr, strlen (hdr) + 1);
      _cleanup_close_ int dfd
          = open_in (s->root_fd, path, O_RDONLY | O_DIRECTORY);
      DIR *dir = dfd >= 0 ? fdopendir (fcntl (dfd, F_DUPFD_CLOEXEC, 0)) : NULL;
      if (!dir)
        r = err_set (err, errno, "read '%s'", path);
      _cleanup_strv_ char **names = xcalloc (1, sizeof (char *));
      struct dirent *de;
      while (dir && (de = readdir (dir)))
        if (strcmp (de->d_name, ".") && strcmp (de->d_name, ".."))
          strv_push (&names, xstrdup (de->d_name));
      if (dir)
        closedir (dir);
      qsort (names, strv_len (names), sizeof (char *), cmp_str);
      for (size_t i = 0; r == 0 && names[i]; i++)
        {
          _cleanup_free_ char *crel = strcmp (path, ".")
                                          ? xasprintf ("%s/%s", path, names[i])
                                          : xstrdup (names[i]);
          r = hash_entry (s, dfd, names[i], crel, &d, err);
        }
    }
  else
    {
      char hdr[64];
      snprintf (hdr, sizeof hdr, "%o %lld", (unsigned)st.st_mode,
                (long long)st.st_size);
      digester_update (&d, hdr, strlen (hdr) + 1);
      _cleanup_close_ int fd = open_in (s->root_fd, path, O_RDONLY);
      if (fd < 0)
        r = err_set (err, errno, "open '%s'", path);
      else
        r = hash_fd (fd, &d, path, st.st_size, err);
    }
  digester_final (&d, out);
  digester_release (&d);
  return r;
}

int
build_context_checksum (struct build *b, const char *path,
                        char out[DIGEST_STR_LEN + 1], struct err **err)
{
  struct srcs s = { .root_fd = b->context_fd, .ig = b->ignore };
  _cleanup_free_ char *p = clean_source (path);
  return source_checksum (&s, p, out, err);
}

/* ---- --from, --chown, --chmod ---- */

struct copy_src_root
{
  struct build_view view;
  struct build_state img; /* --from=image */
  bool have_img;
  const char *stage_key; /* the identity of what is copied from */
  char img_key[DIGEST_STR_LEN + 1];
};

static int
open_src_root (struct build *b, const struct bf_instr *x,
               struct copy_src_root *r, struct srcs *s, struct err **err)
{
  const char *from = bf_flag (x, "from");
  memset (r, 0, sizeof *r);
  r->view.fd = -1;
  if (!from)
    {
      s->root_fd = b->context_fd;
      s->ig = b->ignore;
      return 0;
    }
  struct bf_stage *fs = build_from_stage (b, from, SIZE_MAX);
  struct build_state *src;
  if (fs)
    src = &b->stages[fs->index];
  else
    {
      if (build_image_state (b, from, NULL, &r->img, err) < 0)
        return err_wrap (err, "%s --from '%s'", bf_kind_name (x->kind), from);
      r->have_img = true;
      src = &r->img;
    }
  r->stage_key = src->key;
  if (build_view_open (b, src, &r->view, err) < 0)
    return -1;
  s->root_fd = r->view.fd;
  s->ig = NULL;
  return 0;
}

static void
close_src_root (struct copy_src_root *r)
{
  build_view_close (&r->view);
  if (r->have_img)
    build_state_release (&r->img);
}

static int
parse_chmod (const char *v, struct tarfs_override *ov, struct err **err)
{
  char *end;
  unsigned long m;
  if (!v)
    return 0;
  m = strtoul (v, &end, 8);
  if (!*v || *end || m > 07777)
    return err_set (err, 0, "--chmod '%s': only octal modes are supported", v);
  ov->chmod = true;
  ov->mode = (uint32_t)m;
  return 0;
}

int
build_copy_key (struct build *b, struct build_state *st,
                const struct bf_instr *x, char **text, struct err **err)
{
  struct copy_src_root r;
  struct srcs s = { 0 };
  struct strbuf sb = STRBUF_INIT;
  _cleanup_free_ char *head = build_instr_text (x, st->scope.shell);
  int ret = -1;

  if (open_src_root (b, x, &r, &s, err) < 0)
    goto out;
  if (match_sources (x, &s, err) < 0)
    goto out;
  strbuf_addf (&sb, "%s\nworkdir=%s\n", head,
               build_config_str (st->doc, "WorkingDir")
                   ? build_config_str (st->doc, "WorkingDir")
                   : "/");
  if (r.stage_key)
    strbuf_addf (&sb, "from=%s\n", r.stage_key);
  for (size_t i = 0; s.paths[i]; i++)
    {
      char sum[DIGEST_STR_LEN + 1];
      if (r.stage_key)
        {
          /* another stage's content is fixed by its own key */
          strbuf_addf (&sb, "src=%s\n", s.paths[i]);
          continue;
        }
      if (source_checksum (&s, s.paths[i], sum, err) < 0)
        goto out;
      strbuf_addf (&sb, "src=%s %s\n", s.paths[i], sum);
    }
  for (size_t i = 0; s.urls[i]; i++)
    {
      _cleanup_free_ char *path = NULL, *key = NULL;
      if (build_url_fetch (b, s.urls[i], bf_flag (x, "checksum"), &path, &key,
                           err)
          < 0)
        goto out;
      strbuf_addf (&sb, "%s\n", key);
    }
  for (size_t i = 0; s.gits[i]; i++)
    {
      _cleanup_free_ char *path = NULL, *key = NULL;
      if (build_git_fetch (b, s.gits[i], keep_git_dir (x), &path, &key, err)
          < 0)
        goto out;
      strbuf_addf (&sb, "%s\n", key);
    }
  for (size_t i = 0; i < x->n_heredocs; i++)
    {
      char sum[DIGEST_STR_LEN + 1];
      digest_buf (x->heredocs[i].body, strlen (x->heredocs[i].body), sum);
      strbuf_addf (&sb, "heredoc=%s %s\n", x->heredocs[i].name, sum);
    }
  *text = strbuf_detach (&sb, NULL);
  ret = 0;
out:
  if (ret < 0)
    strbuf_release (&sb);
  srcs_release (&s);
  close_src_root (&r);
  return ret;
}

/* ---- the layer ---- */

static enum layer_copy_filter
ignore_filter (void *ctx, const char *path, bool is_dir)
{
  const struct bf_ignore *ig = ctx;
  if (!bf_ignore_match (ig, path))
    return LAYER_COPY_INCLUDE;
  if (is_dir && bf_ignore_has_exceptions (ig))
    return LAYER_COPY_EXCLUDE;
  return LAYER_COPY_EXCLUDE_SUBTREE;
}

/* Add every missing directory of path (absolute, resolved) to the layer. */
static int
ensure_dirs (int root_fd, struct layer_copy *c, const char *path, uint64_t uid,
             uint64_t gid, int64_t mtime, struct err **err)
{
  size_t len = strlen (path);
  bool missing = false;
  for (size_t i = 2; i <= len; i++)
    {
      if (i < len && path[i] != '/')
        continue;
      _cleanup_free_ char *prefix = xstrndup (path, i);
      struct stat st;
      if (!missing)
        {
          if (fstatat (root_fd, prefix + 1, &st, AT_SYMLINK_NOFOLLOW) < 0)
            {
              if (errno != ENOENT)
                return err_set (err, errno, "stat '%s' in the image", prefix);
              missing = true;
            }
          else if (!S_ISDIR (st.st_mode))
            return err_set (err, ENOTDIR, "create '%s' in the image", path);
        }
      if (missing)
        layer_copy_add_dir (c, prefix, 0755, uid, gid, mtime);
    }
  return 0;
}

/* Is the file a tar archive (plain, gzip or zstd)? Reads its start. */
struct sniff
{
  uint8_t buf[512];
  size_t n;
};

static int
sniff_sink (void *arg, const uint8_t *buf, size_t len, struct err **err)
{
  struct sniff *sn = arg;
  size_t k = len < sizeof sn->buf - sn->n ? len : sizeof sn->buf - sn->n;
  memcpy (sn->buf + sn->n, buf, k);
  sn->n += k;
  return 0;
}

static bool
is_tar_archive (int fd)
{
  uint8_t head[1 << 16];
  ssize_t n = pread (fd, head, sizeof head, 0);
  struct sniff sn = { .n = 0 };
  if (n < 4)
    return false;
  enum layer_compression c = layer_compression_sniff (head, (size_t)n);
  if (c == LAYER_GZIP || c == LAYER_ZSTD)
    {
      struct err *e = NULL;
      struct layer_decomp *d = layer_decomp_new (sniff_sink, &sn);
      layer_decomp_feed (d, head, (size_t)n, &e);
      layer_decomp_free (d);
      err_free (e);
    }
  else
    {
      sn.n = (size_t)n < sizeof sn.buf ? (size_t)n : sizeof sn.buf;
      memcpy (sn.buf, head, sn.n);
    }
  return sn.n >= 263 && !memcmp (sn.buf + 257, "ustar", 5);
}

struct copy_ctx
{
  struct build *b;
  const struct bf_instr *x;
  struct layer_copy *c;
  struct build_view dview; /* the destination stage */
  struct tarfs_override ov;
  bool chown_given;
  uint64_t uid, gid;
  int64_t now;
};

static int
add_archive (struct copy_ctx *cc, int fd, const char *src, const char *dest,
             struct err **err)
{
  _cleanup_free_ char *dir = build_tmpdir (cc->b, "add", err);
  if (!dir)
    return -1;
  chmod (dir, 0755);
  _cleanup_close_ int dfd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  struct apply_opts ao
      = { .whiteouts = APPLY_WHITEOUT_DELETE, .keep_owner = true };
  char diff_id[DIGEST_STR_LEN + 1];
  if (dfd < 0 || lseek (fd, 0, SEEK_SET) < 0)
    return err_set (err, errno, "open '%s'", dir);
  if (layer_apply_fd (dfd, fd, &ao, diff_id, NULL, err) < 0)
    return err_wrap (err, "ADD: extract '%s'", src);
  struct tarfs_override ov = cc->ov;
  ov.chown = cc->chown_given; /* the archive's owners stay otherwise */
  if (ensure_dirs (cc->dview.fd, cc->c, dest, cc->uid, cc->gid, cc->now, err)
      < 0)
    return -1;
  return layer_copy_add_path (cc->c, dfd, ".", dest,
                              ov.chown || ov.chmod ? &ov : NULL, NULL, NULL,
                              err);
}

static char *
join (const char *dir, const char *name)
{
  return strcmp (dir, "/") ? xasprintf ("%s/%s", dir, name)
                           : xasprintf ("/%s", name);
}

static const char *
base_name (const char *p)
{
  const char *s = strrchr (p, '/');
  return s ? s + 1 : p;
}

int
build_copy_layer (struct build *b, struct build_state *st,
                  const struct bf_instr *x, struct build_layer *layer,
                  bool *has_layer, struct err **err)
{
  struct copy_src_root r;
  struct srcs s = { 0 };
  struct copy_ctx cc = { .b = b, .x = x, .now = build_now (b) };
  const char *chown = bf_flag (x, "chown");
  const char *dest_arg = x->args[strv_len (x->args) - 1];
  const char *wd = build_config_str (st->doc, "WorkingDir");
  _cleanup_free_ char *dest = NULL, *rdest = NULL;
  bool exists, is_dir, into_dir;
  int ret = -1;

  *has_layer = false;
  cc.dview.fd = -1;
  r.view.fd = -1;
  r.have_img = false;
  if (parse_chmod (bf_flag (x, "chmod"), &cc.ov, err) < 0)
    return err_wrap (err, "%s:%d", b->plan->file, x->line);
  if (open_src_root (b, x, &r, &s, err) < 0 || match_sources (x, &s, err) < 0)
    goto out;
  if (bf_flag (x, "keep-git-dir") && !s.gits[0])
    {
      err_set (err, 0, "%s:%d: ADD --keep-git-dir needs a git source",
               b->plan->file, x->line);
      goto out;
    }
  if (chown)
    {
      if (build_user_ids (b, st, chown, &cc.uid, &cc.gid, err) < 0)
        {
          err_wrap (err, "--chown '%s'", chown);
          goto out;
        }
      cc.chown_given = true;
    }
  /* files from the context belong to root unless --chown says otherwise;
     from a stage or an image they keep their owners */
  cc.ov.chown = chown || !bf_flag (x, "from");
  cc.ov.uid = cc.uid;
  cc.ov.gid = cc.gid;

  {
    size_t dl = strlen (dest_arg);
    into_dir = (dl && dest_arg[dl - 1] == '/') || !strcmp (dest_arg, ".")
               || (dl >= 2 && !strcmp (dest_arg + dl - 2, "/."));
    dest = dest_arg[0] == '/' ? xstrdup (dest_arg)
                              : join (wd && *wd ? wd : "/", dest_arg);
  }
  size_t n_items = strv_len (s.paths) + x->n_heredocs;
  if ((s.n_args > 1 || (s.wild && n_items > 1)) && !into_dir)
    {
      err_set (err, 0,
               "%s:%d: %s with more than one source needs a "
               "destination that is a directory and ends with a /",
               b->plan->file, x->line, bf_kind_name (x->kind));
      goto out;
    }
  if (build_view_open (b, st, &cc.dview, err) < 0)
    goto out;
  if (build_resolve (cc.dview.fd, dest, &rdest, &exists, &is_dir, err) < 0)
    goto out;
  if (exists && !is_dir && into_dir)
    {
      err_set (err, ENOTDIR, "%s:%d: destination '%s'", b->plan->file, x->line,
               dest_arg);
      goto out;
    }
  if (exists && is_dir)
    into_dir = true;
  cc.c = layer_copy_new (&b->lopts);
  layer_copy_set_base (cc.c, cc.dview.fd, cc.now);
  if (into_dir
      && ensure_dirs (cc.dview.fd, cc.c, rdest, cc.uid, cc.gid, cc.now, err)
             < 0)
    goto out;
  for (size_t i = 0; s.paths[i]; i++)
    {
      const char *p = s.paths[i];
      struct stat sst;
      _cleanup_close_ int fd = open_in (s.root_fd, p, O_RDONLY);
      if (fd < 0 || fstat (fd, &sst) < 0)
        {
          err_set (err, errno, "open '%s'", p);
          goto out;
        }
      unsigned char head[8];
      enum build_legacy_comp lc
          = x->kind == BF_ADD && S_ISREG (sst.st_mode)
                    && pread (fd, head, sizeof head, 0) == (ssize_t)sizeof head
                ? build_legacy_sniff (head, sizeof head)
                : BUILD_COMP_NONE;
      if (lc != BUILD_COMP_NONE)
        {
          /* a bzip2 or xz file: extracted when it holds a tar */
          _cleanup_free_ char *tp = xasprintf ("%s/plain-%u", b->tmp, b->seq++);
          _cleanup_close_ int tfd
              = open (tp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
          if (tfd < 0)
            {
              err_set (err, errno, "create '%s'", tp);
              goto out;
            }
          unlink (tp);
          struct err *de = NULL;
          if (build_legacy_decompress (lc, fd, tfd, &de) == 0
              && is_tar_archive (tfd))
            {
              if (add_archive (&cc, tfd, p, rdest, err) < 0)
                goto out;
              continue;
            }
          err_free (de);
        }
      if (x->kind == BF_ADD && S_ISREG (sst.st_mode) && is_tar_archive (fd))
        {
          if (add_archive (&cc, fd, p, rdest, err) < 0)
            goto out;
          continue;
        }
      _cleanup_free_ char *target = NULL;
      if (S_ISDIR (sst.st_mode))
        target = xstrdup (rdest);
      else
        target = into_dir ? join (rdest, base_name (p)) : xstrdup (rdest);
      if (!into_dir)
        {
          _cleanup_free_ char *parent = xstrdup (target);
          char *sl = strrchr (parent, '/');
          if (sl && sl != parent)
            {
              *sl = '\0';
              if (ensure_dirs (cc.dview.fd, cc.c, parent, cc.uid, cc.gid,
                               cc.now, err)
                  < 0)
                goto out;
            }
        }
      if (layer_copy_add_path (cc.c, s.root_fd, p, target, &cc.ov,
                               s.ig ? ignore_filter : NULL, (void *)s.ig, err)
          < 0)
        goto out;
    }
  if (bf_flag (x, "checksum") && (s.paths[0] || !s.urls[0]))
    {
      err_set (err, 0, "--checksum needs http(s) sources only");
      goto out;
    }
  for (size_t i = 0; s.urls[i]; i++)
    {
      /* mode 0600 and root's unless --chmod/--chown (BuildKit) */
      _cleanup_free_ char *path = NULL, *key = NULL, *name = NULL;
      _cleanup_free_ char *target = NULL;
      struct tarfs_override ov = cc.ov;
      if (build_url_fetch (b, s.urls[i], bf_flag (x, "checksum"), &path, &key,
                           err)
          < 0)
        goto out;
      if (into_dir && !(name = build_url_name (s.urls[i])))
        {
          err_set (err, 0, "cannot tell a file name from '%s': give one",
                   s.urls[i]);
          goto out;
        }
      target = into_dir ? join (rdest, name) : xstrdup (rdest);
      if (!ov.chmod)
        ov.chmod = true, ov.mode = 0600;
      ov.chown = true;
      char *sl = strrchr (target, '/');
      if (sl && sl != target)
        {
          *sl = '\0';
          int rr = ensure_dirs (cc.dview.fd, cc.c, target, cc.uid, cc.gid,
                                cc.now, err);
          *sl = '/';
          if (rr < 0)
            goto out;
        }
      _cleanup_close_ int tfd
          = open (b->tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (tfd < 0)
        {
          err_set (err, errno, "open '%s'", b->tmp);
          goto out;
        }
      if (layer_copy_add_path (cc.c, tfd, base_name (path), target, &ov, NULL,
                               NULL, err)
          < 0)
        goto out;
    }
  for (size_t i = 0; s.gits[i]; i++)
    {
      /* the checkout's files into the destination, as a directory's */
      _cleanup_free_ char *path = NULL, *key = NULL;
      _cleanup_close_ int gfd = -1;
      if (build_git_fetch (b, s.gits[i], keep_git_dir (x), &path, &key, err) < 0
          || ensure_dirs (cc.dview.fd, cc.c, rdest, cc.uid, cc.gid, cc.now, err)
                 < 0)
        goto out;
      gfd = open (path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (gfd < 0)
        {
          err_set (err, errno, "open '%s'", path);
          goto out;
        }
      if (layer_copy_add_path (cc.c, gfd, ".", rdest, &cc.ov, NULL, NULL, err)
          < 0)
        goto out;
    }
  for (size_t i = 0; x->args[i]; i++)
    {
      if (!x->args[i + 1] || !is_heredoc_src (x, x->args[i]))
        continue;
      const struct bf_heredoc *h = heredoc_of (x, x->args[i]);
      if (!h)
        {
          err_set (err, 0, "%s:%d: no heredoc for '%s'", b->plan->file, x->line,
                   x->args[i]);
          goto out;
        }
      _cleanup_free_ char *target
          = into_dir ? join (rdest, h->name) : xstrdup (rdest);
      layer_copy_add_data (cc.c, target, h->body, strlen (h->body),
                           cc.ov.chmod ? cc.ov.mode : 0644, cc.uid, cc.gid,
                           cc.now);
    }
  {
    struct layer_result res;
    if (layer_copy_commit (cc.c, b->store, &res, err) < 0)
      goto out;
    if (res.tar_size > 1024)
      {
        *has_layer = true;
        *layer
            = (struct build_layer){ xstrdup (res.digest), xstrdup (res.diff_id),
                                    xstrdup (res.media_type), res.size };
      }
  }
  ret = 0;
out:
  if (ret < 0 && *err && !strstr ((*err)->msg, b->plan->file))
    err_wrap (err, "%s:%d: %s", b->plan->file, x->line, bf_kind_name (x->kind));
  layer_copy_free (cc.c);
  build_view_close (&cc.dview);
  srcs_release (&s);
  close_src_root (&r);
  return ret;
}

int
build_workdir_layer (struct build *b, struct build_state *st, const char *dir,
                     struct build_layer *layer, bool *has_layer,
                     struct err **err)
{
  struct build_view v;
  _cleanup_free_ char *rdir = NULL;
  bool exists, is_dir;
  uint64_t uid = 0, gid = 0;
  const char *user = build_config_str (st->doc, "User");
  int ret = -1;

  *has_layer = false;
  if (!strcmp (dir, "/"))
    return 0;
  if (build_view_open (b, st, &v, err) < 0)
    return -1;
  if (build_resolve (v.fd, dir, &rdir, &exists, &is_dir, err) < 0)
    goto out;
  if (exists)
    {
      ret = is_dir ? 0 : err_set (err, ENOTDIR, "WORKDIR '%s'", dir);
      goto out;
    }
  /* BuildKit: the directory belongs to the current USER */
  if (user && *user && build_user_ids (b, st, user, &uid, &gid, err) < 0)
    goto out;
  {
    struct layer_copy *c = layer_copy_new (&b->lopts);
    struct layer_result res;
    layer_copy_set_base (c, v.fd, build_now (b));
    ret = ensure_dirs (v.fd, c, rdir, uid, gid, build_now (b), err);
    if (ret == 0)
      ret = layer_copy_commit (c, b->store, &res, err);
    layer_copy_free (c);
    if (ret == 0)
      {
        *has_layer = true;
        *layer
            = (struct build_layer){ xstrdup (res.digest), xstrdup (res.diff_id),
                                    xstrdup (res.media_type), res.size };
      }
  }
out:
  build_view_close (&v);
  return ret;
}
