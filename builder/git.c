/* Git sources (builder/git.h): a clone with libgit2, the ref checked out
 * by force, .git removed unless kept.
 *
 * Transports are libgit2's: http(s) (smart and dumb), file:// and local
 * paths, git://, and ssh (ssh://, user@host:path) with the keys of the
 * ssh agent at $SSH_AUTH_SOCK, the host checked against
 * ~/.ssh/known_hosts by libgit2. http(s) needs no credentials (public
 * repositories); --tls-verify=false (or an insecure build) accepts any
 * certificate, as for http(s) contexts. Submodules are not fetched. */
#include "builder/git.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/xalloc.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <git2.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static bool
has_prefix (const char *s, const char *p)
{
  return !strncmp (s, p, strlen (p));
}

bool
build_git_is_url (const char *spec)
{
  size_t len;
  if (has_prefix (spec, "git://") || has_prefix (spec, "git@")
      || has_prefix (spec, "github.com/") || has_prefix (spec, "ssh://"))
    return true;
  if (!has_prefix (spec, "http://") && !has_prefix (spec, "https://")
      && !has_prefix (spec, "file://"))
    return false;
  /* docker's rule: the path (before any #fragment) ends in .git */
  len = strcspn (spec, "#");
  return len >= 4 && !strncmp (spec + len - 4, ".git", 4);
}

void
build_git_spec_release (struct build_git_spec *s)
{
  free (s->url);
  free (s->ref);
  free (s->subdir);
  s->url = s->ref = s->subdir = NULL;
}

int
build_git_parse (const char *spec, struct build_git_spec *out, struct err **err)
{
  const char *hash = strchr (spec, '#');
  size_t len = hash ? (size_t)(hash - spec) : strlen (spec);
  memset (out, 0, sizeof *out);
  out->url = has_prefix (spec, "github.com/")
                 ? xasprintf ("https://%.*s", (int)len, spec)
                 : xstrndup (spec, len);
  if (hash)
    {
      const char *colon = strchr (hash + 1, ':');
      size_t rlen = colon ? (size_t)(colon - hash - 1) : strlen (hash + 1);
      if (rlen)
        out->ref = xstrndup (hash + 1, rlen);
      if (colon && colon[1])
        out->subdir = xstrdup (colon + 1);
    }
  if (out->subdir)
    {
      /* a directory of the checkout: never outside it */
      bool up = false;
      for (const char *p = out->subdir; *p; p += strspn (p, "/"))
        {
          size_t n = strcspn (p, "/");
          up |= n == 2 && !strncmp (p, "..", 2);
          p += n;
        }
      if (out->subdir[0] == '/' || up)
        {
          err_set (err, 0, "subdirectory '%s' must be relative, without '..'",
                   out->subdir);
          build_git_spec_release (out);
          return -1;
        }
    }
  return 0;
}

/* libgit2's last message, for an error */
static const char *
git_msg (void)
{
  const git_error *e = git_error_last ();
  return e && e->message ? e->message : "failed";
}

struct callbacks
{
  bool tls_verify;
  int tries;
};

static int
credentials (git_credential **out, const char *url, const char *user,
             unsigned int allowed, void *payload)
{
  struct callbacks *cb = payload;
  (void)url;
  /* the agent's keys, once: a refusal is the answer, not a loop */
  if ((allowed & GIT_CREDENTIAL_SSH_KEY) && cb->tries++ == 0)
    return git_credential_ssh_key_from_agent (out, user ? user : "git");
  return GIT_EUSER;
}

static int
certificate (git_cert *cert, int valid, const char *host, void *payload)
{
  struct callbacks *cb = payload;
  (void)host;
  /* --tls-verify=false: any TLS certificate; ssh host keys stay
   * libgit2's to check (known_hosts) */
  if (!valid && !cb->tls_verify && cert->cert_type == GIT_CERT_X509)
    return 0;
  return GIT_PASSTHROUGH;
}

static bool
all_hex (const char *s)
{
  size_t n = strlen (s);
  for (size_t i = 0; i < n; i++)
    if (!isxdigit ((unsigned char)s[i]))
      return false;
  return n >= 4 && n <= GIT_OID_HEXSZ;
}

/* ref as a branch, a tag, a full ref name or a commit id (in that
 * order, as BuildKit), or the remote's HEAD */
static git_object *
resolve (git_repository *repo, const char *ref)
{
  _cleanup_strv_ char **specs = xcalloc (1, sizeof (char *));
  git_object *obj = NULL;
  if (!ref)
    strv_push (&specs, xstrdup ("HEAD^{commit}"));
  else
    {
      strv_push (&specs, xasprintf ("refs/remotes/origin/%s^{commit}", ref));
      strv_push (&specs, xasprintf ("refs/tags/%s^{commit}", ref));
      if (has_prefix (ref, "refs/heads/"))
        strv_push (&specs,
                   xasprintf ("refs/remotes/origin/%s^{commit}", ref + 11));
      else if (has_prefix (ref, "refs/"))
        strv_push (&specs, xasprintf ("%s^{commit}", ref));
      if (all_hex (ref))
        strv_push (&specs, xasprintf ("%s^{commit}", ref));
    }
  for (size_t i = 0; specs[i] && !obj; i++)
    if (git_revparse_single (&obj, repo, specs[i]) < 0)
      obj = NULL;
  return obj;
}

/* dir/sub, when it is a directory inside dir (symlinks resolved) */
static char *
inside (const char *dir, const char *sub, struct err **err)
{
  _cleanup_free_ char *joined = xasprintf ("%s/%s", dir, sub);
  char top[PATH_MAX], real[PATH_MAX];
  struct stat st;
  size_t n;
  if (!realpath (dir, top) || !realpath (joined, real))
    {
      err_set (err, errno, "subdirectory '%s'", sub);
      return NULL;
    }
  n = strlen (top);
  if (strncmp (real, top, n) || (real[n] && real[n] != '/'))
    {
      err_set (err, 0, "subdirectory '%s' leads out of the repository", sub);
      return NULL;
    }
  if (stat (real, &st) < 0 || !S_ISDIR (st.st_mode))
    {
      err_set (err, ENOTDIR, "subdirectory '%s'", sub);
      return NULL;
    }
  return xstrdup (real);
}

int
build_git_checkout (const char *spec, const char *dir, bool keep_git_dir,
                    bool tls_verify, char **path, char **key, struct err **err)
{
  struct build_git_spec s;
  struct callbacks cb = { .tls_verify = tls_verify };
  git_clone_options o;
  git_checkout_options co;
  git_repository *repo = NULL;
  git_object *obj = NULL;
  char hex[GIT_OID_HEXSZ + 1] = { 0 };
  int r = -1;
  if (build_git_parse (spec, &s, err) < 0)
    return -1;
  git_libgit2_init ();
  git_clone_options_init (&o, GIT_CLONE_OPTIONS_VERSION);
  git_checkout_options_init (&co, GIT_CHECKOUT_OPTIONS_VERSION);
  o.checkout_opts.checkout_strategy = GIT_CHECKOUT_NONE;
  o.fetch_opts.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_ALL;
  o.fetch_opts.callbacks.credentials = credentials;
  o.fetch_opts.callbacks.certificate_check = certificate;
  o.fetch_opts.callbacks.payload = &cb;
  if (git_clone (&repo, s.url, dir, &o) < 0)
    {
      err_set (err, 0, "clone '%s': %s", s.url, git_msg ());
      goto out;
    }
  if (!(obj = resolve (repo, s.ref)))
    {
      err_set (err, 0, "git ref '%s' not found", s.ref ? s.ref : "HEAD");
      goto out;
    }
  co.checkout_strategy = GIT_CHECKOUT_FORCE;
  if (git_checkout_tree (repo, obj, &co) < 0
      || git_repository_set_head_detached (repo, git_object_id (obj)) < 0)
    {
      err_set (err, 0, "check out '%s' of '%s': %s", s.ref ? s.ref : "HEAD",
               s.url, git_msg ());
      goto out;
    }
  git_oid_fmt (hex, git_object_id (obj));
  git_repository_free (repo);
  repo = NULL;
  /* BuildKit's default: the files, not the repository */
  if (!keep_git_dir)
    {
      _cleanup_free_ char *dotgit = xasprintf ("%s/.git", dir);
      if (fs_rm_rf (AT_FDCWD, dotgit, err) < 0)
        goto out;
    }
  *path = s.subdir ? inside (dir, s.subdir, err) : xstrdup (dir);
  if (!*path)
    goto out;
  *key = xasprintf ("git=%s ref=%s subdir=%s commit=%s%s", s.url,
                    s.ref ? s.ref : "", s.subdir ? s.subdir : "", hex,
                    keep_git_dir ? " keep-git-dir" : "");
  r = 0;
out:
  if (obj)
    git_object_free (obj);
  if (repo)
    git_repository_free (repo);
  git_libgit2_shutdown ();
  build_git_spec_release (&s);
  return r;
}
