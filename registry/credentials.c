/* Credentials files and helpers: see registry/credentials.h. */
#include "registry/credentials.h"
#include "lib/base64.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/log.h"
#include "lib/strbuf.h"
#include "lib/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define CRED_FILE_MAX (4u << 20)
#define HELPER_OUT_MAX (1u << 20)
#define HUB_KEY "https://index.docker.io/v1/"

extern char **environ;

void
reg_cred_release (struct reg_cred *c)
{
  free (c->username);
  /* Secrets do not linger in freed memory. */
  if (c->password)
    explicit_bzero (c->password, strlen (c->password));
  free (c->password);
  free (c->identity_token);
  free (c->registry_token);
  memset (c, 0, sizeof *c);
}

static bool
is_hub (const char *host)
{
  return !strcmp (host, "docker.io") || !strcmp (host, "index.docker.io")
         || !strcmp (host, "registry-1.docker.io");
}

const char *
reg_cred_key (const char *domain)
{
  return is_hub (domain) ? HUB_KEY : domain;
}

char *
reg_cred_docker_config_path (void)
{
  const char *d = getenv ("DOCKER_CONFIG"), *home = getenv ("HOME");
  if (d && *d)
    return xasprintf ("%s/config.json", d);
  return xasprintf ("%s/.docker/config.json", home && *home ? home : "/root");
}

/* The files to read, in order (NULL-terminated); [0] is docker's. */
static char **
cred_files (void)
{
  char **v = NULL;
  const char *e;
  strv_push (&v, reg_cred_docker_config_path ());
  if ((e = getenv ("REGISTRY_AUTH_FILE")) && *e)
    strv_push (&v, xstrdup (e));
  if ((e = getenv ("XDG_RUNTIME_DIR")) && *e)
    strv_push (&v, xasprintf ("%s/containers/auth.json", e));
  else
    strv_push (&v,
               xasprintf ("/run/containers/%u/auth.json", (unsigned)getuid ()));
  if ((e = getenv ("XDG_CONFIG_HOME")) && *e)
    strv_push (&v, xasprintf ("%s/containers/auth.json", e));
  else if ((e = getenv ("HOME")) && *e)
    strv_push (&v, xasprintf ("%s/.config/containers/auth.json", e));
  return v;
}

/* How well a key matches domain+repo: -1 no match, else the length of the
 * namespace it names (more is more specific). URL keys ("https://h/v1/")
 * name a host only; bare keys may name a namespace ("h/ns"). */
static int
key_match (const char *key, const char *domain, const char *repo)
{
  _cleanup_free_ char *host = NULL;
  const char *k = key, *slash, *ns = NULL;
  bool url = false;
  if (!strncmp (k, "https://", 8))
    k += 8, url = true;
  else if (!strncmp (k, "http://", 7))
    k += 7, url = true;
  slash = strchr (k, '/');
  host = slash ? xstrndup (k, (size_t)(slash - k)) : xstrdup (k);
  if (slash && !url && slash[1])
    ns = slash + 1;
  if (strcmp (host, domain) && !(is_hub (host) && is_hub (domain)))
    return -1;
  if (!ns)
    return 0;
  size_t n = strlen (ns);
  while (n && ns[n - 1] == '/')
    n--;
  if (!repo || strncmp (repo, ns, n) || (repo[n] && repo[n] != '/'))
    return -1;
  return (int)n;
}

/* Run docker-credential-<helper> <action> with input on stdin; its stdout
 * in *out. Returns the exit status, or -1 when it could not run (errno in
 * the error). */
static int
run_helper (const char *helper, const char *action, const char *input,
            struct strbuf *out, struct err **err)
{
  _cleanup_free_ char *prog = xasprintf ("docker-credential-%s", helper);
  char *argv[] = { prog, (char *)action, NULL };
  int in[2] = { -1, -1 }, outp[2] = { -1, -1 }, status, r;
  posix_spawn_file_actions_t fa;
  pid_t pid;
  size_t off = 0, len = strlen (input);
  struct sigaction ign = { .sa_handler = SIG_IGN }, old;

  if (pipe2 (in, O_CLOEXEC) < 0 || pipe2 (outp, O_CLOEXEC) < 0)
    {
      err_set (err, errno, "pipe");
      goto fail;
    }
  posix_spawn_file_actions_init (&fa);
  posix_spawn_file_actions_adddup2 (&fa, in[0], 0);
  posix_spawn_file_actions_adddup2 (&fa, outp[1], 1);
  r = posix_spawnp (&pid, prog, &fa, NULL, argv, environ);
  posix_spawn_file_actions_destroy (&fa);
  close (in[0]);
  close (outp[1]);
  in[0] = outp[1] = -1;
  if (r != 0)
    {
      err_set (err, r, "credential helper '%s'", prog);
      goto fail;
    }
  /* A helper that exits early must not kill us with SIGPIPE. */
  sigaction (SIGPIPE, &ign, &old);
  while (off < len)
    {
      ssize_t n = write (in[1], input + off, len - off);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        break;
      off += (size_t)n;
    }
  close (in[1]);
  in[1] = -1;
  sigaction (SIGPIPE, &old, NULL);
  for (;;)
    {
      char buf[4096];
      ssize_t n = read (outp[0], buf, sizeof buf);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        break;
      if (out->len + (size_t)n > HELPER_OUT_MAX)
        break;
      strbuf_add (out, buf, (size_t)n);
    }
  close (outp[0]);
  outp[0] = -1;
  while (waitpid (pid, &status, 0) < 0)
    if (errno != EINTR)
      return err_set (err, errno, "wait for '%s'", prog);
  return WIFEXITED (status) ? WEXITSTATUS (status) : 128;
fail:
  for (int i = 0; i < 2; i++)
    {
      if (in[i] >= 0)
        close (in[i]);
      if (outp[i] >= 0)
        close (outp[i]);
    }
  return -1;
}

/* 0 found, 1 none, -1 error. */
static int
helper_get (const char *helper, const char *domain, struct reg_cred *out,
            struct err **err)
{
  _cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;
  struct err *e = NULL;
  json_t *j;
  const char *user, *secret;
  int st = run_helper (helper, "get", reg_cred_key (domain), &sb, &e);
  if (st < 0)
    {
      /* A stale credsStore (copied from Docker Desktop) is common: pull
       * anonymously rather than fail. */
      log_warn ("%s", e->msg);
      err_free (e);
      return 1;
    }
  if (st != 0)
    {
      if (strstr (sb.buf, "credentials not found"))
        return 1;
      strbuf_setlen (&sb, strcspn (sb.buf, "\n"));
      return err_set (err, 0, "credential helper 'docker-credential-%s': %s",
                      helper, sb.len ? sb.buf : "failed");
    }
  j = json_loadb (sb.buf, sb.len, 0, NULL);
  user = json_string_value (json_object_get (j, "Username"));
  secret = json_string_value (json_object_get (j, "Secret"));
  if (!j || !secret)
    {
      json_decref (j);
      return err_set (err, 0,
                      "credential helper 'docker-credential-%s': bad output",
                      helper);
    }
  /* Username "<token>": the secret is an identity (refresh) token. */
  if (user && !strcmp (user, "<token>"))
    out->identity_token = xstrdup (secret);
  else
    {
      out->username = xstrdup (user ? user : "");
      out->password = xstrdup (secret);
    }
  json_decref (j);
  return 0;
}

static int
decode_entry (json_t *entry, const char *file, const char *key,
              struct reg_cred *out, struct err **err)
{
  const char *a = json_string_value (json_object_get (entry, "auth"));
  const char *it = json_string_value (json_object_get (entry, "identitytoken"));
  const char *rt = json_string_value (json_object_get (entry, "registrytoken"));
  const char *u = json_string_value (json_object_get (entry, "username"));
  const char *p = json_string_value (json_object_get (entry, "password"));
  if (it && *it)
    out->identity_token = xstrdup (it);
  if (rt && *rt)
    out->registry_token = xstrdup (rt);
  if (a && *a)
    {
      size_t len;
      _cleanup_free_ char *dec = base64_decode (a, &len);
      char *colon;
      if (!dec || !(colon = memchr (dec, ':', len)) || colon == dec)
        {
          reg_cred_release (out);
          return err_set (err, 0, "credentials '%s': bad auth for '%s'", file,
                          key);
        }
      /* docker trims trailing NULs from the password. */
      while (len && dec[len - 1] == '\0')
        len--;
      out->username = xstrndup (dec, (size_t)(colon - dec));
      out->password = xstrndup (colon + 1, len - (size_t)(colon - dec) - 1);
      explicit_bzero (dec, len);
    }
  else if (u && p)
    {
      out->username = xstrdup (u);
      out->password = xstrdup (p);
    }
  if (!out->username && !out->identity_token && !out->registry_token)
    return 1; /* an empty placeholder ({} beside a credsStore) */
  if (out->identity_token && !out->username)
    out->username = xstrdup ("<token>");
  return 0;
}

static json_t *
load_json (const char *path, struct err **err)
{
  _cleanup_free_ char *buf = NULL;
  size_t len;
  json_error_t jerr;
  struct err *e = NULL;
  json_t *j;
  if (fs_read_file (AT_FDCWD, path, CRED_FILE_MAX, &buf, &len, &e) < 0)
    {
      if (e->errnum == ENOENT || e->errnum == ENOTDIR)
        {
          err_free (e);
          return json_object ();
        }
      *err = e;
      return NULL;
    }
  if (!len)
    return json_object ();
  j = json_loadb (buf, len, 0, &jerr);
  if (!j || !json_is_object (j))
    {
      json_decref (j);
      err_set (err, 0, "credentials '%s': line %d: %s", path, jerr.line,
               j ? "not a JSON object" : jerr.text);
      return NULL;
    }
  return j;
}

/* One file: 0 found, 1 none, -1 error. */
static int
lookup_file (const char *path, const char *domain, const char *repo,
             struct reg_cred *out, struct err **err)
{
  json_t *j = load_json (path, err), *helpers, *auths, *v, *best = NULL;
  const char *key, *best_key = NULL, *store;
  int best_score = -1, r = 1;
  if (!j)
    return -1;
  helpers = json_object_get (j, "credHelpers");
  json_object_foreach (helpers, key, v)
  {
    if (json_is_string (v) && key_match (key, domain, repo) >= 0)
      {
        r = helper_get (json_string_value (v), domain, out, err);
        goto done;
      }
  }
  store = json_string_value (json_object_get (j, "credsStore"));
  if (store && *store)
    {
      r = helper_get (store, domain, out, err);
      if (r <= 0)
        goto done;
    }
  auths = json_object_get (j, "auths");
  if (!auths && !helpers && !store)
    auths = j; /* legacy ~/.dockercfg shape: keys at the top */
  json_object_foreach (auths, key, v)
  {
    int s = json_is_object (v) ? key_match (key, domain, repo) : -1;
    if (s > best_score)
      best_score = s, best = v, best_key = key;
  }
  if (best)
    r = decode_entry (best, path, best_key, out, err);
done:
  json_decref (j);
  return r;
}

int
reg_cred_lookup (const char *domain, const char *repo, struct reg_cred *out,
                 struct err **err)
{
  _cleanup_strv_ char **files = cred_files ();
  memset (out, 0, sizeof *out);
  for (char **f = files; *f; f++)
    {
      int r = lookup_file (*f, domain, repo, out, err);
      if (r <= 0)
        return r;
    }
  return 1;
}

static int
write_json (const char *path, json_t *j, struct err **err)
{
  _cleanup_free_ char *text = json_dumps (j, JSON_INDENT (1));
  _cleanup_free_ char *dir = xstrdup (path);
  char *slash = strrchr (dir, '/');
  if (slash && slash != dir)
    {
      *slash = '\0';
      /* The directory holds secrets: only its owner lists it. */
      if (fs_mkdir_p (AT_FDCWD, dir, 0700, err) < 0)
        return -1;
    }
  /* Credentials are readable by their owner only. */
  return fs_write_file_atomic (AT_FDCWD, path, text, strlen (text), 0600, err);
}

static const char *
helper_for (json_t *j, const char *domain)
{
  json_t *v;
  const char *key, *store;
  json_object_foreach (json_object_get (j, "credHelpers"), key, v)
  {
    if (json_is_string (v) && key_match (key, domain, NULL) == 0)
      return json_string_value (v);
  }
  store = json_string_value (json_object_get (j, "credsStore"));
  return store && *store ? store : NULL;
}

int
reg_cred_store (const char *domain, const struct reg_cred *c, char **where,
                struct err **err)
{
  _cleanup_free_ char *path = reg_cred_docker_config_path ();
  json_t *j = load_json (path, err), *auths, *entry;
  const char *helper, *key;
  void *tmp;
  int r;
  if (!j)
    return -1;
  helper = helper_for (j, domain);
  if (helper)
    {
      _cleanup_strbuf_ struct strbuf out = STRBUF_INIT;
      json_t *in = json_pack (
          "{s:s, s:s, s:s}", "ServerURL", reg_cred_key (domain), "Username",
          c->identity_token ? "<token>" : c->username, "Secret",
          c->identity_token ? c->identity_token : c->password);
      _cleanup_free_ char *text = json_dumps (in, JSON_COMPACT);
      json_decref (in);
      r = run_helper (helper, "store", text, &out, err);
      explicit_bzero (text, strlen (text));
      if (where)
        *where = xasprintf ("docker-credential-%s", helper);
      json_decref (j);
      if (r > 0)
        {
          strbuf_setlen (&out, strcspn (out.buf, "\n"));
          return err_set (err, 0,
                          "credential helper 'docker-credential-%s': %s",
                          helper, out.len ? out.buf : "store failed");
        }
      return r < 0 ? -1 : 0;
    }
  auths = json_object_get (j, "auths");
  if (!json_is_object (auths))
    {
      auths = json_object ();
      json_object_set_new (j, "auths", auths);
    }
  /* Drop equivalent spellings of the same registry so one entry remains. */
  json_object_foreach_safe (auths, tmp, key, entry)
  {
    if (key_match (key, domain, NULL) == 0)
      json_object_del (auths, key);
  }
  entry = json_object ();
  if (c->identity_token)
    json_object_set_new (entry, "identitytoken",
                         json_string (c->identity_token));
  else
    {
      _cleanup_free_ char *up = xasprintf ("%s:%s", c->username, c->password);
      _cleanup_free_ char *b64 = base64_encode (up, strlen (up));
      json_object_set_new (entry, "auth", json_string (b64));
      explicit_bzero (up, strlen (up));
      explicit_bzero (b64, strlen (b64));
    }
  json_object_set_new (auths, reg_cred_key (domain), entry);
  r = write_json (path, j, err);
  json_decref (j);
  if (r == 0 && where)
    *where = xstrdup (path);
  return r;
}

int
reg_cred_erase (const char *domain, bool *found, struct err **err)
{
  _cleanup_strv_ char **files = cred_files ();
  *found = false;
  for (char **f = files; *f; f++)
    {
      json_t *j = load_json (*f, err), *auths, *entry;
      const char *key, *helper;
      void *tmp;
      bool changed = false;
      if (!j)
        return -1;
      if (f == files && (helper = helper_for (j, domain)))
        {
          _cleanup_strbuf_ struct strbuf out = STRBUF_INIT;
          struct err *e = NULL;
          int st
              = run_helper (helper, "erase", reg_cred_key (domain), &out, &e);
          if (st == 0)
            *found = true;
          err_free (e);
        }
      auths = json_object_get (j, "auths");
      json_object_foreach_safe (auths, tmp, key, entry)
      {
        if (key_match (key, domain, NULL) >= 0)
          {
            json_object_del (auths, key);
            changed = true;
          }
      }
      if (changed)
        {
          *found = true;
          if (write_json (*f, j, err) < 0)
            {
              json_decref (j);
              return -1;
            }
        }
      json_decref (j);
    }
  return 0;
}
