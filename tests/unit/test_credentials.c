/* Unit tests for registry/credentials.c and registry/config.c: docker's
 * config.json, podman's auth.json, credential helpers, imgtool's config. */
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/xalloc.h"
#include "registry/config.h"
#include "registry/credentials.h"
#include "tests/unit/test.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[] = "/tmp/imgtool-cred.XXXXXX";

static void
put (const char *name, const char *text, mode_t mode)
{
  _cleanup_free_ char *p = xasprintf ("%s/%s", dir, name);
  struct err *err = NULL;
  _cleanup_free_ char *d = xstrdup (p);
  *strrchr (d, '/') = '\0';
  fs_mkdir_p (AT_FDCWD, d, 0700, &err);
  fs_write_file_atomic (AT_FDCWD, p, text, strlen (text), mode, &err);
  err_clear (&err);
}

static void
rm (const char *name)
{
  _cleanup_free_ char *p = xasprintf ("%s/%s", dir, name);
  unlink (p);
}

static int
look (const char *domain, const char *repo, struct reg_cred *c)
{
  struct err *err = NULL;
  int r = reg_cred_lookup (domain, repo, c, &err);
  if (err)
    printf ("# %s\n", err->msg);
  err_clear (&err);
  return r;
}

static void
test_docker (void)
{
  struct reg_cred c;
  /* "me:pa:ss" -> split at the first colon */
  put (
      "docker/config.json",
      "{\"auths\":{\"https://index.docker.io/v1/\":{\"auth\":\"bWU6cGE6c3M=\"},"
      "\"http://reg.example:5000/v2/\":{\"auth\":\"dTI6cDI=\"},"
      "\"tok.example\":{\"identitytoken\":\"refresh-1\"},"
      "\"bad.example\":{\"auth\":\"!!!\"}}}",
      0600);
  CHECK (look ("docker.io", "library/alpine", &c) == 0,
         "hub credentials found");
  CHECK_STR (c.username, "me", "hub user");
  CHECK_STR (c.password, "pa:ss", "password keeps later colons");
  reg_cred_release (&c);
  CHECK (look ("reg.example:5000", "x", &c) == 0, "URL key matches host:port");
  CHECK_STR (c.username, "u2", "url key user");
  reg_cred_release (&c);
  CHECK (look ("reg.example", "x", &c) == 1, "port is part of the key");
  CHECK (look ("tok.example", NULL, &c) == 0, "identity token entry");
  CHECK_STR (c.identity_token, "refresh-1", "identity token read");
  reg_cred_release (&c);
  {
    struct err *err = NULL;
    CHECK (reg_cred_lookup ("bad.example", NULL, &c, &err) < 0,
           "bad base64 is an error");
    CHECK (err && strstr (err->msg, "bad auth"), "error names the bad entry");
    err_clear (&err);
  }
  CHECK_STR (reg_cred_key ("docker.io"), "https://index.docker.io/v1/",
             "hub key");
  CHECK_STR (reg_cred_key ("q.io:1"), "q.io:1", "other key");
}

static void
test_podman (void)
{
  struct reg_cred c;
  rm ("docker/config.json");
  put ("auth.json",
       "{\"auths\":{\"docker.io\":{\"auth\":\"aHViOmh1Yg==\"},"
       "\"q.io\":{\"auth\":\"aG9zdDpo\"},"
       "\"q.io/team\":{\"auth\":\"dGVhbTp0\"},"
       "\"q.io/team/app\":{\"auth\":\"YXBwOmE=\"}}}",
       0600);
  CHECK (look ("docker.io", "library/busybox", &c) == 0,
         "podman hub key docker.io");
  CHECK_STR (c.username, "hub", "podman hub user");
  reg_cred_release (&c);
  CHECK (look ("q.io", "team/app", &c) == 0, "namespaced key");
  CHECK_STR (c.username, "app", "most specific namespace wins");
  reg_cred_release (&c);
  CHECK (look ("q.io", "team/other", &c) == 0 && !strcmp (c.username, "team"),
         "namespace prefix");
  reg_cred_release (&c);
  CHECK (look ("q.io", "teams/x", &c) == 0 && !strcmp (c.username, "host"),
         "namespace matches whole components only");
  reg_cred_release (&c);
  CHECK (look ("r.io", "x", &c) == 1, "no credentials for another host");
  rm ("auth.json");
  put ("xdg/containers/auth.json", "{\"auths\":{\"x.io\":{\"auth\":\"eDp5\"}}}",
       0600);
  CHECK (look ("x.io", NULL, &c) == 0 && !strcmp (c.username, "x"),
         "XDG_RUNTIME_DIR auth.json read");
  reg_cred_release (&c);
}

static void
test_helpers (void)
{
  struct reg_cred c;
  struct err *err = NULL;
  /* A helper script: answers for h.io, "not found" otherwise, logs stores. */
  put ("bin/docker-credential-t",
       "#!/bin/sh\nread -r url\ncase $1 in\n"
       "get) if [ \"$url\" = h.io ]; then echo "
       "'{\"ServerURL\":\"h.io\",\"Username\":\"hu\",\"Secret\":\"hs\"}';"
       " elif [ \"$url\" = tok.io ]; then echo "
       "'{\"Username\":\"<token>\",\"Secret\":\"idt\"}';"
       " else echo 'credentials not found in native keychain'; exit 1; fi ;;\n"
       "store) echo \"$url\" > \"$(dirname \"$0\")/stored\" ;;\n"
       "erase) echo \"$url\" > \"$(dirname \"$0\")/erased\" ;;\nesac\n",
       0755);
  put ("docker/config.json",
       "{\"credHelpers\":{\"h.io\":\"t\",\"tok.io\":\"t\",\"n.io\":\"t\"},"
       "\"auths\":{\"n.io\":{\"auth\":\"bjpu\"}}}",
       0600);
  CHECK (look ("h.io", NULL, &c) == 0, "credHelpers helper used");
  CHECK_STR (c.username, "hu", "helper user");
  CHECK_STR (c.password, "hs", "helper secret");
  reg_cred_release (&c);
  CHECK (look ("tok.io", NULL, &c) == 0 && c.identity_token
             && !strcmp (c.identity_token, "idt"),
         "<token> user gives an identity token");
  reg_cred_release (&c);
  CHECK (look ("n.io", NULL, &c) == 1, "helper's not found is anonymous");
  put ("docker/config.json", "{\"credsStore\":\"missing\"}", 0600);
  CHECK (look ("h.io", NULL, &c) == 1,
         "a missing helper degrades to anonymous");
  put ("docker/config.json", "{\"credsStore\":\"t\"}", 0600);
  CHECK (look ("h.io", NULL, &c) == 0 && !strcmp (c.username, "hu"),
         "credsStore helper used");
  reg_cred_release (&c);
  {
    struct reg_cred in = { .username = (char *)"a", .password = (char *)"b" };
    _cleanup_free_ char *where = NULL, *stored = NULL;
    _cleanup_free_ char *sp = xasprintf ("%s/bin/stored", dir);
    CHECK (reg_cred_store ("docker.io", &in, &where, &err) == 0,
           "store through credsStore");
    CHECK (fs_read_file (AT_FDCWD, sp, 4096, &stored, NULL, &err) == 0
               && strstr (stored, "index.docker.io"),
           "helper got the hub key");
    err_clear (&err);
  }
}

static void
test_store_erase (void)
{
  struct reg_cred in = { .username = (char *)"user", .password = (char *)"pw" };
  struct reg_cred c;
  struct err *err = NULL;
  struct stat st;
  bool found;
  _cleanup_free_ char *path = xasprintf ("%s/docker/config.json", dir);
  put ("docker/config.json",
       "{\"auths\":{\"keep.io\":{\"auth\":\"azpr\"}},\"x\":1}", 0644);
  CHECK (reg_cred_store ("docker.io", &in, NULL, &err) == 0,
         "store to config.json");
  CHECK (stat (path, &st) == 0 && (st.st_mode & 0777) == 0600,
         "written mode 0600");
  CHECK (look ("docker.io", "library/x", &c) == 0 && !strcmp (c.password, "pw"),
         "stored hub credentials read back");
  reg_cred_release (&c);
  CHECK (look ("keep.io", NULL, &c) == 0, "other entries kept");
  reg_cred_release (&c);
  CHECK (reg_cred_erase ("docker.io", &found, &err) == 0 && found, "erase");
  CHECK (look ("docker.io", "library/x", &c) == 1, "erased");
  CHECK (reg_cred_erase ("docker.io", &found, &err) == 0 && !found,
         "erase again finds nothing");
  CHECK (look ("keep.io", NULL, &c) == 0, "erase keeps the others");
  reg_cred_release (&c);
}

static void
test_config (void)
{
  struct reg_config cfg;
  struct err *err = NULL;
  _cleanup_free_ char *p = xasprintf ("%s/imgtool.json", dir);
  put ("imgtool.json",
       "{\"registry-mirrors\":{\"docker.io\":[\"https://m1:5000\",\"http://"
       "m2\"]},"
       "\"insecure-registries\":[\"127.0.0.1:5000\",\"http://h.io:80\"],"
       "\"http-timeout\":5}",
       0644);
  CHECK (reg_config_load (p, &cfg, &err) == 0, "config loads");
  CHECK (reg_config_is_insecure (&cfg, "127.0.0.1:5000"), "insecure host:port");
  CHECK (reg_config_is_insecure (&cfg, "h.io:80"), "insecure URL spelling");
  CHECK (!reg_config_is_insecure (&cfg, "127.0.0.1:5001"),
         "other port is secure");
  CHECK (
      reg_config_mirrors (&cfg, "docker.io")
          && !strcmp (reg_config_mirrors (&cfg, "docker.io")[1], "http://m2"),
      "mirrors in order");
  CHECK (!reg_config_mirrors (&cfg, "quay.io"), "no mirrors elsewhere");
  CHECK (cfg.timeout == 5 && cfg.retries == 3, "timeout set, retries default");
  reg_config_release (&cfg);
  put ("imgtool.json", "{\"insecure-registries\":\"x\"}", 0644);
  CHECK (reg_config_load (p, &cfg, &err) < 0
             && strstr (err->msg, "insecure-registries"),
         "a wrong type names the key");
  err_clear (&err);
  put ("imgtool.json", "{nope", 0644);
  CHECK (reg_config_load (p, &cfg, &err) < 0 && strstr (err->msg, "line 1"),
         "bad JSON says where");
  err_clear (&err);
  rm ("imgtool.json");
  CHECK (reg_config_load (p, &cfg, &err) == 0 && !cfg.insecure,
         "a missing file is an empty config");
  reg_config_release (&cfg);
}

int
main (void)
{
  struct err *err = NULL;
  if (!mkdtemp (dir))
    return 1;
  static const char *const vars[][2]
      = { { "HOME", "%s" },
          { "DOCKER_CONFIG", "%s/docker" },
          { "REGISTRY_AUTH_FILE", "%s/auth.json" },
          { "XDG_RUNTIME_DIR", "%s/xdg" },
          { "XDG_CONFIG_HOME", "%s/cfg" },
          { "PATH", "%s/bin:/usr/bin:/bin" } };
  for (size_t i = 0; i < ARRAY_SIZE (vars); i++)
    {
      _cleanup_free_ char *v = NULL;
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
      v = xasprintf (vars[i][1], dir);
#pragma GCC diagnostic pop
      setenv (vars[i][0], v, 1);
    }
  test_docker ();
  test_podman ();
  test_helpers ();
  test_store_erase ();
  test_config ();
  fs_rm_rf (AT_FDCWD, dir, &err);
  err_clear (&err);
  return test_done ();
}
