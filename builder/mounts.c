/* RUN --mount, with BuildKit's keys (reference/build-mounts.md):
 *
 *   bind    a stage, an image or the context at target, read-only unless
 *           rw (writes then go to a throw-away overlay upper dir)
 *   cache   a directory kept under <root>/cache/mounts between builds
 *   tmpfs   an empty tmpfs (size)
 *   secret  a --secret as a file on a tmpfs made for the step
 *   ssh     the agent socket of --ssh (or $SSH_AUTH_SOCK)
 *
 * The step's cache text gets each mount's definition, and a bind's source
 * content (context: a checksum as COPY's; stage or image: its key), never
 * what a cache or secret mount holds. What the runtime created as mount
 * points for targets is removed from the upper dir before it becomes the
 * layer (build_mounts_clean). */
#include "builder/build_int.h"
#include "layers/overlay.h"
#include "layers/ovl.h"
#include "layers/store.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/human.h"
#include "lib/path.h"
#include "lib/rundir.h"
#include "lib/strbuf.h"
#include "lib/xalloc.h"
#include "runtime/plan.h"
#include "runtime/runopts.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#define MOUNTS_DIR "cache/mounts"

static const char *const type_names[] = { [BM_BIND] = "bind",
                                          [BM_CACHE] = "cache",
                                          [BM_TMPFS] = "tmpfs",
                                          [BM_SECRET] = "secret",
                                          [BM_SSH] = "ssh" };
static const char *const sharing_names[] = {
  [BM_SHARED] = "shared", [BM_PRIVATE] = "private", [BM_LOCKED] = "locked"
};

static void
mount_release (struct build_mount *m)
{
  free (m->target);
  free (m->id);
  free (m->from);
  free (m->source);
  free (m->env);
}

void
build_mounts_release (struct build_mounts *ms)
{
  for (size_t i = 0; i < ms->n; i++)
    {
      struct build_mount *m = &ms->v[i];
      if (m->lock_fd >= 0)
        close (m->lock_fd);
      if (m->view_open)
        build_view_close (&m->view);
      if (m->have_img)
        build_state_release (&m->img);
      mount_release (m);
    }
  for (size_t i = 0; ms->mounted && ms->mounted[i]; i++)
    umount2 (ms->mounted[i], MNT_DETACH);
  strv_free (ms->mounted);
  free (ms->v);
  memset (ms, 0, sizeof *ms);
}

static int
parse_bool (const char *k, const char *v, bool *out, struct err **err)
{
  if (!v || !strcmp (v, "true") || !strcmp (v, "1"))
    *out = true;
  else if (!strcmp (v, "false") || !strcmp (v, "0"))
    *out = false;
  else
    return err_set (err, 0, "invalid value '%s' for '%s'", v, k);
  return 0;
}

static int
parse_num (const char *k, const char *v, int base, long long max,
           long long *out, struct err **err)
{
  char *end;
  errno = 0;
  long long n = v ? strtoll (v, &end, base) : -1;
  if (!v || !*v || *end || errno || n < 0 || n > max)
    return err_set (err, 0, "invalid value '%s' for '%s'", v ? v : "", k);
  *out = n;
  return 0;
}

/* One key=value of a --mount. */
static int
parse_key (struct build_mount *m, const char *k, const char *v,
           struct err **err)
{
  long long n;
  bool bv;
#define STR(field)                                                             \
  do                                                                           \
    {                                                                          \
      if (!v)                                                                  \
        return err_set (err, 0, "'%s' needs a value", k);                      \
      free (m->field);                                                         \
      m->field = xstrdup (v);                                                  \
    }                                                                          \
  while (0)
  if (!strcmp (k, "target") || !strcmp (k, "dst") || !strcmp (k, "destination"))
    STR (target);
  else if (!strcmp (k, "source") || !strcmp (k, "src"))
    STR (source);
  else if (!strcmp (k, "from"))
    STR (from);
  else if (!strcmp (k, "id"))
    STR (id);
  else if (!strcmp (k, "env"))
    STR (env);
  else if (!strcmp (k, "ro") || !strcmp (k, "readonly"))
    {
      if (parse_bool (k, v, &bv, err) < 0)
        return -1;
      m->rw = !bv;
      m->rw_set = true;
    }
  else if (!strcmp (k, "rw") || !strcmp (k, "readwrite"))
    {
      if (parse_bool (k, v, &bv, err) < 0)
        return -1;
      m->rw = bv;
      m->rw_set = true;
    }
  else if (!strcmp (k, "required"))
    return parse_bool (k, v, &m->required, err);
  else if (!strcmp (k, "sharing"))
    {
      size_t i;
      for (i = 0; i < ARRAY_SIZE (sharing_names); i++)
        if (v && !strcmp (v, sharing_names[i]))
          break;
      if (i == ARRAY_SIZE (sharing_names))
        return err_set (err, 0,
                        "invalid sharing '%s': use shared, private or locked",
                        v ? v : "");
      m->sharing = (enum build_mount_sharing)i;
    }
  else if (!strcmp (k, "mode"))
    {
      if (parse_num (k, v, 8, 07777, &n, err) < 0)
        return -1;
      m->mode = (int)n;
    }
  else if (!strcmp (k, "uid") || !strcmp (k, "gid"))
    {
      if (parse_num (k, v, 10, UINT32_MAX - 1, &n, err) < 0)
        return -1;
      *(k[0] == 'u' ? &m->uid : &m->gid) = n;
    }
  else if (!strcmp (k, "size"))
    {
      int64_t sz;
      if (!v || human_size_parse (v, &sz) < 0 || sz < 0)
        return err_set (err, 0, "invalid value '%s' for 'size'", v ? v : "");
      m->size = sz;
    }
  else
    return err_set (err, 0, "unknown key '%s'", k);
#undef STR
  return 0;
}

static int
parse_one (const struct build_state *st, const char *spec, size_t n_ssh,
           struct build_mount *m, struct err **err)
{
  _cleanup_free_ char *copy = xstrdup (spec);
  char *save = NULL;
  const char *type = "bind";
  memset (m, 0, sizeof *m);
  m->mode = m->uid = m->gid = -1;
  m->lock_fd = -1;
  for (char *f = strtok_r (copy, ",", &save); f;
       f = strtok_r (NULL, ",", &save))
    {
      char *eq = strchr (f, '=');
      if (eq)
        *eq = '\0';
      if (!strcmp (f, "type"))
        {
          type = eq ? eq + 1 : "";
          continue;
        }
      if (parse_key (m, f, eq ? eq + 1 : NULL, err) < 0)
        return -1;
    }
  size_t t;
  for (t = 0; t < ARRAY_SIZE (type_names); t++)
    if (!strcmp (type, type_names[t]))
      break;
  if (t == ARRAY_SIZE (type_names))
    return err_set (err, 0,
                    "unknown mount type '%s': use bind, cache, tmpfs, "
                    "secret or ssh",
                    type);
  m->type = (enum build_mount_type)t;
  if (m->type == BM_SECRET && !m->id && m->target)
    {
      /* BuildKit: the id defaults to the target's base name */
      const char *sl = strrchr (m->target, '/');
      m->id = xstrdup (sl ? sl + 1 : m->target);
    }
  if (m->type == BM_SECRET && !m->id)
    return err_set (err, 0, "a secret mount needs an id or a target");
  if (m->type == BM_SECRET && !m->target && !m->env)
    m->target = xasprintf ("/run/secrets/%s", m->id);
  if (m->type == BM_SSH)
    {
      if (!m->id)
        m->id = xstrdup ("default");
      if (!m->target)
        m->target = xasprintf ("/run/buildkit/ssh_agent.%zu", n_ssh);
    }
  if (m->type == BM_SECRET || m->type == BM_SSH)
    {
      if (m->mode < 0)
        m->mode = m->type == BM_SECRET ? 0400 : 0600;
    }
  if (!m->target && !(m->type == BM_SECRET && m->env))
    return err_set (err, 0, "a %s mount needs a target", type);
  if (m->target)
    {
      /* a relative target is in the WORKDIR */
      const char *wd = build_config_str (st->doc, "WorkingDir");
      _cleanup_free_ char *abs
          = m->target[0] == '/'
                ? xstrdup (m->target)
                : xasprintf ("%s/%s", wd && *wd ? wd : "/", m->target);
      free (m->target);
      m->target = path_clean (abs);
      if (!strcmp (m->target, "/"))
        return err_set (err, 0, "invalid mount target '/'");
    }
  if (m->type == BM_CACHE && !m->id)
    m->id = xstrdup (m->target);
  if ((m->type == BM_TMPFS || m->type == BM_SECRET || m->type == BM_SSH)
      && m->from)
    return err_set (err, 0, "a %s mount takes no 'from'", type);
  return 0;
}

static int
cmp_target (const void *a, const void *b)
{
  const struct build_mount *x = a, *y = b;
  if (!x->target || !y->target)
    return !x->target - !y->target;
  return strcmp (x->target, y->target);
}

int
build_mounts_parse (const struct build_state *st, const struct bf_instr *x,
                    struct build_mounts *ms, struct err **err)
{
  size_t n_ssh = 0;
  memset (ms, 0, sizeof *ms);
  for (size_t i = 0; i < x->n_flags; i++)
    {
      if (strcmp (x->flags[i].name, "mount"))
        continue;
      ms->v = xrealloc (ms->v, (ms->n + 1) * sizeof *ms->v);
      struct build_mount *m = &ms->v[ms->n];
      int r = parse_one (st, x->flags[i].value ? x->flags[i].value : "", n_ssh,
                         m, err);
      ms->n++;
      if (r < 0)
        {
          err_wrap (err, "RUN --mount '%s'",
                    x->flags[i].value ? x->flags[i].value : "");
          m->lock_fd = -1;
          build_mounts_release (ms);
          return -1;
        }
      n_ssh += m->type == BM_SSH;
    }
  /* a parent before what is mounted inside it, as BuildKit sorts them */
  if (ms->n)
    qsort (ms->v, ms->n, sizeof *ms->v, cmp_target);
  return 0;
}

void
build_mounts_froms (const struct bf_instr *x, char ***out)
{
  for (size_t i = 0; i < x->n_flags; i++)
    {
      const char *v = x->flags[i].value;
      if (strcmp (x->flags[i].name, "mount") || !v)
        continue;
      for (const char *p = v; (p = strstr (p, "from=")); p += 5)
        if (p == v || p[-1] == ',')
          strv_push (out, xstrndup (p + 5, strcspn (p + 5, ",")));
    }
}

/* The stage, image or context a bind or cache mount reads: its root as a
 * host directory (*dir), the fd to resolve in, and its identity for the
 * key (NULL: the context, hashed by content). */
static int
open_from (struct build *b, struct build_mount *m, const char **dir,
           int *root_fd, const char **key, struct err **err)
{
  if (!m->from)
    {
      *dir = b->o->context_dir;
      *root_fd = b->context_fd;
      *key = NULL;
      return 0;
    }
  struct bf_stage *fs = build_from_stage (b, m->from, SIZE_MAX);
  struct build_state *src;
  if (fs)
    src = &b->stages[fs->index];
  else
    {
      if (build_image_state (b, m->from, NULL, &m->img, err) < 0)
        return err_wrap (err, "from '%s'", m->from);
      m->have_img = true;
      src = &m->img;
    }
  *key = src->key;
  if (!dir)
    return 0;
  if (build_view_open (b, src, &m->view, err) < 0)
    return -1;
  m->view_open = true;
  *dir = m->view.mnt ? m->view.mnt : b->empty_dir;
  *root_fd = m->view.fd;
  return 0;
}

static const struct build_secret *
find_secret (const struct build_opts *o, const char *id)
{
  for (size_t i = o->n_secrets; i-- > 0;)
    if (!strcmp (o->secrets[i].id, id))
      return &o->secrets[i];
  return NULL;
}

int
build_mounts_key (struct build *b, struct build_mounts *ms, struct strbuf *sb,
                  struct err **err)
{
  for (size_t i = 0; i < ms->n; i++)
    {
      struct build_mount *m = &ms->v[i];
      const char *key = NULL, *dir = NULL;
      int root_fd = -1;
      strbuf_addf (&*sb, "\nmount=%s target=%s", type_names[m->type],
                   m->target ? m->target : "");
      switch (m->type)
        {
        case BM_BIND:
        case BM_CACHE:
          if ((m->type == BM_BIND || m->from)
              && open_from (b, m, m->from ? NULL : &dir, &root_fd, &key, err)
                     < 0)
            return -1;
          strbuf_addf (sb, " source=%s rw=%d", m->source ? m->source : "/",
                       m->rw);
          if (m->type == BM_CACHE)
            strbuf_addf (sb, " id=%s sharing=%s mode=%o uid=%lld gid=%lld",
                         m->id, sharing_names[m->sharing],
                         m->mode < 0 ? 0755 : m->mode, (long long)m->uid,
                         (long long)m->gid);
          if (key)
            strbuf_addf (sb, " from=%s", key);
          else if (m->type == BM_BIND)
            {
              /* the context's files, by content, as COPY's sources */
              char sum[DIGEST_STR_LEN + 1];
              if (build_context_checksum (b, m->source ? m->source : "/", sum,
                                          err)
                  < 0)
                return -1;
              strbuf_addf (sb, " context=%s", sum);
            }
          break;
        case BM_TMPFS:
          strbuf_addf (sb, " size=%lld", (long long)m->size);
          break;
        case BM_SECRET:
        case BM_SSH:
          /* the definition only: a secret's value is never in a key */
          strbuf_addf (sb,
                       " id=%s env=%s required=%d mode=%o uid=%lld gid=%lld",
                       m->id, m->env ? m->env : "", m->required, m->mode,
                       (long long)m->uid, (long long)m->gid);
          break;
        }
    }
  return 0;
}

/* ---- setting them up for a step ---- */

static void
add_mount (struct rt_plan *p, enum rt_mount_kind kind, const char *source,
           const char *target, bool ro, char *options)
{
  p->mounts = xrealloc (p->mounts, (p->n_mounts + 1) * sizeof *p->mounts);
  p->mounts[p->n_mounts++]
      = (struct rt_mount){ .kind = kind,
                           .source = source ? xstrdup (source) : NULL,
                           .destination = xstrdup (target),
                           .readonly = ro,
                           .options = options };
}

/* A writable copy-on-write view of dir (rw binds): an overlay whose upper
 * dir goes with the step. */
static char *
rw_view (struct build *b, struct build_mounts *ms, const char *dir,
         const char *step_dir, struct err **err)
{
  unsigned k = b->seq++;
  _cleanup_free_ char *up = xasprintf ("%s/bind-up-%u", step_dir, k);
  _cleanup_free_ char *wk = xasprintf ("%s/bind-work-%u", step_dir, k);
  char *mnt = xasprintf ("%s/bind-%u", step_dir, k);
  char *const lowers[] = { (char *)dir, NULL };
  if (mkdir (up, 0755) < 0 || mkdir (wk, 0700) < 0 || mkdir (mnt, 0755) < 0)
    err_set (err, errno, "create a directory in '%s'", step_dir);
  else if (layer_overlay_mount (lowers, up, wk, mnt, 0, err) == 0)
    {
      strv_push (&ms->mounted, xstrdup (mnt));
      return mnt;
    }
  free (mnt);
  return NULL;
}

/* Copy a tree (a cache mount's from=, once, when the cache is new). */
static int
copy_tree (int sfd, int dfd, struct err **err)
{
  DIR *d = fdopendir (fcntl (sfd, F_DUPFD_CLOEXEC, 0));
  struct dirent *de;
  int r = 0;
  if (!d)
    return err_set (err, errno, "read the cache's source");
  while (r == 0 && (de = readdir (d)))
    {
      struct stat st;
      const char *n = de->d_name;
      if (!strcmp (n, ".") || !strcmp (n, "..")
          || fstatat (sfd, n, &st, AT_SYMLINK_NOFOLLOW) < 0)
        continue;
      if (S_ISDIR (st.st_mode))
        {
          if (mkdirat (dfd, n, st.st_mode & 07777) < 0 && errno != EEXIST)
            r = err_set (err, errno, "create '%s'", n);
          _cleanup_close_ int s2 = openat (
              sfd, n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
          _cleanup_close_ int d2 = openat (
              dfd, n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
          if (r == 0 && (s2 < 0 || d2 < 0))
            r = err_set (err, errno, "open '%s'", n);
          if (r == 0)
            r = copy_tree (s2, d2, err);
        }
      else if (S_ISLNK (st.st_mode))
        {
          char t[PATH_MAX];
          ssize_t len = readlinkat (sfd, n, t, sizeof t - 1);
          if (len < 0)
            continue;
          t[len] = '\0';
          if (symlinkat (t, dfd, n) < 0)
            r = err_set (err, errno, "create '%s'", n);
        }
      else if (S_ISREG (st.st_mode))
        {
          _cleanup_close_ int in
              = openat (sfd, n, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
          _cleanup_close_ int out
              = openat (dfd, n, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
                        st.st_mode & 07777);
          char buf[1 << 16];
          ssize_t got;
          if (in < 0 || out < 0)
            r = err_set (err, errno, "copy '%s'", n);
          while (r == 0 && (got = read (in, buf, sizeof buf)) > 0)
            if (fs_write_all (out, buf, (size_t)got) < 0)
              r = err_set (err, errno, "copy '%s'", n);
          if (r == 0 && fchmod (out, st.st_mode & 07777) < 0)
            r = err_set (err, errno, "copy '%s'", n);
        }
      else
        continue;
      if (r == 0
          && fchownat (dfd, n, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0)
        r = err_set (err, errno, "chown '%s'", n);
    }
  closedir (d);
  return r;
}

/* A host path of source inside the root dir (symlinks resolved in it). */
static char *
source_path (const char *dir, int root_fd, const char *source, bool *is_dir,
             struct err **err)
{
  _cleanup_free_ char *res = NULL;
  bool exists;
  if (build_resolve (root_fd, source ? source : "/", &res, &exists, is_dir, err)
      < 0)
    return NULL;
  if (!exists)
    {
      err_set (err, ENOENT, "source '%s'", source ? source : "/");
      return NULL;
    }
  return strcmp (res, "/") ? xasprintf ("%s%s", dir, res) : xstrdup (dir);
}

/* The host path of the mount's source= in its from= (or the context). */
static char *
from_source (struct build *b, struct build_mount *m, bool *is_dir,
             struct err **err)
{
  const char *dir, *key;
  int root_fd;
  if (open_from (b, m, &dir, &root_fd, &key, err) < 0)
    return NULL;
  return source_path (dir, root_fd, m->source, is_dir, err);
}

static int
setup_bind (struct build *b, struct build_mounts *ms, struct build_mount *m,
            struct rt_plan *p, const char *step_dir, struct err **err)
{
  bool is_dir;
  _cleanup_free_ char *src = from_source (b, m, &is_dir, err);
  if (!src)
    return -1;
  if (m->rw && is_dir)
    {
      _cleanup_free_ char *v = rw_view (b, ms, src, step_dir, err);
      if (!v)
        return -1;
      add_mount (p, RT_MOUNT_BIND, v, m->target, false, NULL);
      return 0;
    }
  if (m->rw)
    {
      /* a writable file: a copy the step may change */
      _cleanup_free_ char *cp
          = xasprintf ("%s/bind-file-%u", step_dir, b->seq++);
      _cleanup_free_ char *data = NULL;
      size_t len;
      if (fs_read_file (AT_FDCWD, src, SIZE_MAX / 2, &data, &len, err) < 0
          || fs_write_file_atomic (AT_FDCWD, cp, data, len, 0644, err) < 0)
        return -1;
      add_mount (p, RT_MOUNT_BIND, cp, m->target, false, NULL);
      return 0;
    }
  add_mount (p, RT_MOUNT_BIND, src, m->target, true, NULL);
  return 0;
}

static int
setup_cache (struct build *b, struct build_mount *m, struct rt_plan *p,
             const char *step_dir, struct err **err)
{
  const char *ns = bf_kvs_get (&b->o->build_args, "BUILDKIT_CACHE_MOUNT_NS");
  _cleanup_free_ char *name = xasprintf ("%s/%s", ns ? ns : "", m->id);
  char sum[DIGEST_STR_LEN + 1];
  digest_buf (name, strlen (name), sum);
  const char *hex = digest_hex (sum);
  _cleanup_free_ char *lock = xasprintf ("%s.lock", hex);
  _cleanup_close_ int dfd = -1;
  _cleanup_free_ char *path = NULL;

  if (fs_mkdir_p (b->store->root_fd, MOUNTS_DIR, 0700, err) < 0)
    return -1;
  dfd = openat (b->store->root_fd, MOUNTS_DIR,
                O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0)
    return err_set (err, errno, "open '%s/" MOUNTS_DIR "'", b->o->root);
  /* the lock file sits beside the cache, never in it */
  m->lock_fd = rundir_open (dfd, lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600, err);
  if (m->lock_fd < 0)
    return err_wrap (err, "the cache's lock");
  /* shared users hold it shared (prune waits for none of them); locked
   * ones one at a time */
  if ((m->sharing == BM_LOCKED || m->sharing == BM_SHARED)
      && flock (m->lock_fd, m->sharing == BM_LOCKED ? LOCK_EX : LOCK_SH) < 0)
    return err_set (err, errno, "lock cache '%s'", m->id);
  if (m->sharing == BM_PRIVATE && flock (m->lock_fd, LOCK_EX | LOCK_NB) < 0)
    {
      /* someone has it: this step gets a directory of its own */
      path = xasprintf ("%s/cache-%u", step_dir, b->seq++);
      hex = NULL;
    }
  else
    path = xasprintf ("%s/" MOUNTS_DIR "/%s", b->o->root, hex);
  struct stat st;
  if (stat (path, &st) < 0)
    {
      /* new: made aside with its owner, mode and from= content, then
       * renamed into place */
      _cleanup_free_ char *tmp = xasprintf ("%s.new-%u", path, b->seq++);
      if (mkdir (tmp, (mode_t)(m->mode < 0 ? 0755 : m->mode)) < 0
          || chmod (tmp, (mode_t)(m->mode < 0 ? 0755 : m->mode)) < 0
          || chown (tmp, m->uid < 0 ? 0 : (uid_t)m->uid,
                    m->gid < 0 ? 0 : (gid_t)m->gid)
                 < 0)
        return err_set (err, errno, "create cache '%s'", m->id);
      if (m->from)
        {
          bool is_dir;
          _cleanup_free_ char *src = from_source (b, m, &is_dir, err);
          _cleanup_close_ int sfd
              = src ? open (src, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
          _cleanup_close_ int tfd
              = open (tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
          if (!src)
            return -1;
          if (sfd < 0 || tfd < 0)
            return err_set (err, errno, "cache '%s' from '%s'", m->id, m->from);
          if (copy_tree (sfd, tfd, err) < 0)
            return -1;
        }
      if (rename (tmp, path) < 0 && errno != EEXIST && errno != ENOTEMPTY)
        return err_set (err, errno, "create cache '%s'", m->id);
      struct err *e = NULL;
      if (access (tmp, F_OK) == 0)
        fs_rm_rf (AT_FDCWD, tmp, &e);
      err_free (e);
    }
  add_mount (p, RT_MOUNT_BIND, path, m->target, m->rw_set && !m->rw, NULL);
  return 0;
}

/* The step's secrets live on a tmpfs of its own: never on a disk. */
static char *
secrets_dir (struct build_mounts *ms, const char *step_dir, struct err **err)
{
  char *d = xasprintf ("%s/secrets", step_dir);
  if (strv_has (ms->mounted, d))
    return d;
  if (mkdir (d, 0700) < 0
      || mount ("tmpfs", d, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
                "mode=0700,size=16m")
             < 0)
    {
      err_set (err, errno, "mount a tmpfs for secrets on '%s'", d);
      free (d);
      return NULL;
    }
  strv_push (&ms->mounted, xstrdup (d));
  return d;
}

static int
setup_secret (struct build *b, struct build_mounts *ms, struct build_mount *m,
              struct rt_plan *p, const char *step_dir, struct err **err)
{
  const struct build_secret *s = find_secret (b->o, m->id);
  if (!s)
    return m->required ? err_set (err, 0,
                                  "secret '%s' is required: give it with "
                                  "--secret id=%s,src=FILE",
                                  m->id, m->id)
                       : 0;
  if (m->env)
    {
      _cleanup_free_ char *kv
          = xasprintf ("%s=%.*s", m->env, (int)s->len, s->data);
      rt_env_set (&p->env, kv);
      explicit_bzero (kv, strlen (kv));
    }
  if (!m->target)
    return 0;
  _cleanup_free_ char *d = secrets_dir (ms, step_dir, err);
  if (!d)
    return -1;
  _cleanup_free_ char *f = xasprintf ("%s/%zu", d, ms->n_secret_files++);
  _cleanup_close_ int fd
      = open (f, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0 || fs_write_all (fd, s->data, s->len) < 0
      || fchown (fd, m->uid < 0 ? 0 : (uid_t)m->uid,
                 m->gid < 0 ? 0 : (gid_t)m->gid)
             < 0
      || fchmod (fd, (mode_t)m->mode) < 0)
    return err_set (err, errno, "secret '%s'", m->id);
  add_mount (p, RT_MOUNT_BIND, f, m->target, true, NULL);
  return 0;
}

static int
setup_ssh (struct build *b, struct build_mount *m, struct rt_plan *p,
           bool *first, struct err **err)
{
  const char *sock = bf_kvs_get (&b->o->ssh, m->id);
  struct stat st;
  if (!sock)
    return m->required ? err_set (err, 0,
                                  "ssh agent '%s' is required: give it with "
                                  "--ssh %s[=SOCKET]",
                                  m->id, m->id)
                       : 0;
  if (stat (sock, &st) < 0 || !S_ISSOCK (st.st_mode))
    return err_set (err, errno ? errno : ENOTSOCK, "ssh agent socket '%s'",
                    sock);
  add_mount (p, RT_MOUNT_BIND, sock, m->target, false, NULL);
  if (*first && !rt_env_get (p->env, "SSH_AUTH_SOCK"))
    {
      _cleanup_free_ char *kv = xasprintf ("SSH_AUTH_SOCK=%s", m->target);
      rt_env_set (&p->env, kv);
    }
  *first = false;
  return 0;
}

int
build_mounts_setup (struct build *b, struct build_mounts *ms, struct rt_plan *p,
                    const char *step_dir, struct err **err)
{
  bool first_ssh = true;
  for (size_t i = 0; i < ms->n; i++)
    {
      struct build_mount *m = &ms->v[i];
      int r = 0;
      switch (m->type)
        {
        case BM_BIND:
          r = setup_bind (b, ms, m, p, step_dir, err);
          break;
        case BM_CACHE:
          r = setup_cache (b, m, p, step_dir, err);
          break;
        case BM_TMPFS:
          add_mount (p, RT_MOUNT_TMPFS, NULL, m->target, false,
                     m->size > 0
                         ? xasprintf ("exec,size=%lld", (long long)m->size)
                         : xstrdup ("exec"));
          break;
        case BM_SECRET:
          r = setup_secret (b, ms, m, p, step_dir, err);
          break;
        case BM_SSH:
          r = setup_ssh (b, m, p, &first_ssh, err);
          break;
        }
      if (r < 0)
        return err_wrap (err, "RUN --mount type=%s target '%s'",
                         type_names[m->type], m->target ? m->target : "");
    }
  return 0;
}

/* ---- what the mounts leave in the upper dir ---- */

/* An empty directory, not opaque, at name in dirfd? */
static bool
build_empty_plain_dir (int dirfd, const char *name)
{
  char v[2];
  _cleanup_close_ int fd
      = openat (dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return false;
  if (fgetxattr (fd, "trusted.overlay.opaque", v, sizeof v) > 0)
    return false;
  int dup = fcntl (fd, F_DUPFD_CLOEXEC, 0);
  DIR *d = dup >= 0 ? fdopendir (dup) : NULL;
  if (!d)
    return false;
  struct dirent *de;
  bool empty = true;
  while (empty && (de = readdir (d)))
    if (strcmp (de->d_name, ".") && strcmp (de->d_name, ".."))
      empty = false;
  closedir (d);
  return empty;
}

void
build_mounts_clean (const struct build_mounts *ms, int upper_fd,
                    char *const *lowers)
{
  /* deepest first, so a parent made only for a target goes too */
  for (size_t i = ms->n; i-- > 0;)
    {
      if (!ms->v[i].target)
        continue;
      _cleanup_free_ char *rel = xstrdup (ms->v[i].target + 1);
      bool leaf = true;
      while (*rel)
        {
          struct stat up, lo;
          bool in_lower = ovl_lower_kind (lowers, rel, &lo) != 0;
          if (fstatat (upper_fd, rel, &up, AT_SYMLINK_NOFOLLOW) < 0)
            break;
          if (S_ISREG (up.st_mode) && leaf && up.st_size == 0 && !in_lower)
            unlinkat (upper_fd, rel, 0);
          else if (S_ISDIR (up.st_mode) && build_empty_plain_dir (upper_fd, rel)
                   && (!in_lower
                       || (S_ISDIR (lo.st_mode) && lo.st_mode == up.st_mode
                           && lo.st_uid == up.st_uid
                           && lo.st_gid == up.st_gid)))
            /* made for the mount, or only copied up on the way to it */
            unlinkat (upper_fd, rel, AT_REMOVEDIR);
          else
            break;
          leaf = false;
          char *sl = strrchr (rel, '/');
          if (!sl)
            break;
          *sl = '\0';
        }
    }
}

int
build_cache_mounts_prune (struct store *s, size_t *removed, struct err **err)
{
  _cleanup_close_ int dfd
      = openat (s->root_fd, MOUNTS_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  *removed = 0;
  if (dfd < 0)
    return errno == ENOENT
               ? 0
               : err_set (err, errno, "open '%s/" MOUNTS_DIR "'", s->root);
  DIR *d = fdopendir (fcntl (dfd, F_DUPFD_CLOEXEC, 0));
  struct dirent *de;
  int r = 0;
  if (!d)
    return err_set (err, errno, "read '%s/" MOUNTS_DIR "'", s->root);
  while (r == 0 && (de = readdir (d)))
    {
      if (strlen (de->d_name) != DIGEST_HEX_LEN)
        continue;
      /* a cache a running step holds is left alone */
      _cleanup_free_ char *lock = xasprintf ("%s.lock", de->d_name);
      struct err *e = NULL;
      _cleanup_close_ int lfd
          = rundir_open (dfd, lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600, &e);
      err_free (e);
      if (lfd < 0 || flock (lfd, LOCK_EX | LOCK_NB) < 0)
        continue;
      r = fs_rm_rf (dfd, de->d_name, err);
      if (r == 0)
        (*removed)++;
    }
  closedir (d);
  return r;
}
