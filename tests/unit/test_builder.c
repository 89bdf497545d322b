/* Unit tests for the builder's pure parts: path resolution inside an image
 * root (builder/rootfs.c), cache keys (cache.c), history text and config
 * edits (config.c, steps.c). The builds themselves are tested end to end
 * in tests/integration/60-build.sh. */
#include "builder/build_int.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/xalloc.h"
#include "tests/unit/test.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void
resolve (int root, const char *path, const char *want, bool want_exists,
         bool want_dir)
{
  char *out = NULL;
  bool exists = false, is_dir = false;
  struct err *err = NULL;
  int r = build_resolve (root, path, &out, &exists, &is_dir, &err);
  CHECK (r == 0, "resolve '%s' succeeds%s%s", path, err ? ": " : "",
         err ? err->msg : "");
  CHECK_STR (out, want, "resolve '%s'", path);
  CHECK (exists == want_exists && is_dir == want_dir,
         "resolve '%s': exists %d dir %d", path, exists, is_dir);
  free (out);
  err_free (err);
}

static void
test_resolve (void)
{
  char tmpl[] = "/tmp/test-builder.XXXXXX";
  char *dir = mkdtemp (tmpl);
  struct err *err = NULL;
  int root;
  CHECK (dir != NULL, "temp dir");
  root = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  CHECK (mkdirat (root, "usr", 0755) == 0
             && mkdirat (root, "usr/bin", 0755) == 0,
         "tree");
  CHECK (symlinkat ("usr/bin", root, "bin") == 0, "relative symlink");
  CHECK (symlinkat ("/usr", root, "abs") == 0, "absolute symlink");
  CHECK (symlinkat ("../../../../usr", root, "up") == 0, "symlink above root");
  CHECK (symlinkat ("loop2", root, "loop1") == 0
             && symlinkat ("loop1", root, "loop2") == 0,
         "symlink loop");
  int fd = openat (root, "usr/file", O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
  close (fd);

  resolve (root, "/", "/", true, true);
  resolve (root, "/usr/bin", "/usr/bin", true, true);
  resolve (root, "/bin", "/usr/bin", true, true);
  resolve (root, "/bin/sh", "/usr/bin/sh", false, false);
  resolve (root, "/abs/bin/", "/usr/bin", true, true);
  resolve (root, "/up/bin", "/usr/bin", true, true);
  resolve (root, "/new/deep/x", "/new/deep/x", false, false);
  resolve (root, "/usr/../bin/./", "/usr/bin", true, true);
  resolve (root, "/usr/file", "/usr/file", true, false);

  char *out = NULL;
  bool e, d;
  CHECK (build_resolve (root, "/loop1/x", &out, &e, &d, &err) < 0 && err
             && strstr (err->msg, "resolve '/loop1/x'"),
         "a symlink loop is an error");
  err_clear (&err);
  CHECK (build_resolve (root, "/usr/file/x", &out, &e, &d, &err) < 0,
         "a file in the middle is an error");
  err_clear (&err);
  close (root);
  fs_rm_rf (AT_FDCWD, dir, &err);
  err_free (err);
}

static void
test_keys (void)
{
  char a[DIGEST_STR_LEN + 1], b[DIGEST_STR_LEN + 1], c[DIGEST_STR_LEN + 1];
  build_cache_key ("sha256:00", "RUN /bin/sh -c make", a);
  build_cache_key ("sha256:00", "RUN /bin/sh -c make", b);
  build_cache_key ("sha256:01", "RUN /bin/sh -c make", c);
  CHECK (digest_is_sha256 (a), "a key is a sha256 digest");
  CHECK_STR (a, b, "the same parent and text: the same key");
  CHECK (strcmp (a, c), "another parent: another key");
  build_cache_key ("sha256:00", "RUN /bin/sh -c make ", c);
  CHECK (strcmp (a, c), "another text: another key");
  /* the key carries the cache format: a record written before COPY layers
   * had their parents (sha256 of parent "\n" text alone) is a miss */
  struct digester d;
  digester_init (&d);
  digester_update (&d, "sha256:00\nRUN /bin/sh -c make", 29);
  digester_final (&d, c);
  digester_release (&d);
  CHECK (strcmp (a, c), "an old-format key (no format version) is a miss");
}

static struct bf_instr *
parse_one (const char *line, struct bf_plan **plan)
{
  struct err *err = NULL;
  _cleanup_free_ char *text = xasprintf ("FROM scratch\n%s\n", line);
  if (bf_parse (text, strlen (text), "Buildfile", plan, &err) < 0)
    {
      printf ("# %s\n", err->msg);
      err_free (err);
      return NULL;
    }
  return &(*plan)->stages[0].instrs[0];
}

static void
text_of (const char *line, const char *want)
{
  struct bf_plan *p = NULL;
  struct bf_instr *in = parse_one (line, &p);
  char *shell[] = { (char *)"/bin/sh", (char *)"-c", NULL };
  char *t = in ? build_instr_text (in, shell) : NULL;
  CHECK_STR (t, want, "history text of '%s'", line);
  free (t);
  bf_plan_free (p);
}

static void
test_text (void)
{
  text_of ("RUN make all", "RUN /bin/sh -c make all");
  text_of ("RUN [\"echo\", \"a b\"]", "RUN echo a b");
  text_of ("CMD [\"sh\"]", "CMD [\"sh\"]");
  text_of ("CMD top -b", "CMD [\"/bin/sh\",\"-c\",\"top -b\"]");
  text_of ("WORKDIR /app", "WORKDIR /app");
  text_of ("EXPOSE 80 53/udp", "EXPOSE 80 53/udp");
  text_of ("COPY --chown=1 a b /dst/", "COPY --chown=1 a b /dst/");
  text_of ("HEALTHCHECK NONE", "HEALTHCHECK NONE");
}

static void
test_config (void)
{
  struct platform p = { (char *)"linux", (char *)"arm64", (char *)"v8", NULL };
  json_t *doc = build_config_scratch (&p);
  CHECK_STR (json_string_value (json_object_get (doc, "architecture")), "arm64",
             "scratch: architecture");
  CHECK_STR (json_string_value (json_object_get (doc, "variant")), "v8",
             "scratch: variant");
  CHECK (json_array_size (
             json_object_get (json_object_get (doc, "rootfs"), "diff_ids"))
             == 0,
         "scratch: no diff_ids");
  build_config_add_set (doc, "ExposedPorts", "80/tcp");
  build_config_add_set (doc, "ExposedPorts", "80/tcp");
  CHECK (json_object_size (
             json_object_get (build_config_obj (doc), "ExposedPorts"))
             == 1,
         "a port exposed twice is there once");
  json_t *h = build_history_new (1700000000, "ENV A=b", true);
  CHECK_STR (json_string_value (json_object_get (h, "created")),
             "2023-11-14T22:13:20Z", "history created is RFC 3339");
  CHECK (json_is_true (json_object_get (h, "empty_layer")), "empty_layer");
  json_decref (h);
  json_decref (doc);
}

/* import's and commit's -c: Dockerfile instructions on a config. */
static void
test_changes (void)
{
  json_t *doc
      = json_pack ("{s:{s:[s],s:[s]}}", "config", "Env", "A=1", "Cmd", "old");
  char *ok[] = { "ENV B=$A C=x",
                 "ENTRYPOINT [\"/bin/tool\"]",
                 "WORKDIR sub",
                 "WORKDIR more",
                 "EXPOSE 80 53/udp",
                 "LABEL k=v",
                 "USER app:app",
                 "VOLUME [\"/data\"]",
                 "STOPSIGNAL SIGINT",
                 "ONBUILD RUN make",
                 "HEALTHCHECK --interval=5s CMD [\"check\"]",
                 NULL };
  struct err *err = NULL;
  int r = build_apply_changes (doc, ok, &err);
  CHECK (r == 0, "changes apply%s%s", err ? ": " : "", err ? err->msg : "");
  char *got = json_dumps (json_object_get (doc, "config"),
                          JSON_COMPACT | JSON_SORT_KEYS);
  CHECK_STR (got,
             "{\"Entrypoint\":[\"/bin/tool\"],\"Env\":[\"A=1\",\"B=1\","
             "\"C=x\"],\"ExposedPorts\":{\"53/udp\":{},\"80/tcp\":{}},"
             "\"Healthcheck\":{\"Interval\":5000000000,\"Test\":[\"CMD\","
             "\"check\"]},\"Labels\":{\"k\":\"v\"},\"OnBuild\":[\"RUN "
             "make\"],\"StopSignal\":\"SIGINT\",\"User\":\"app:app\","
             "\"Volumes\":{\"/data\":{}},\"WorkingDir\":\"/sub/more\"}",
             "the config after the changes (ENTRYPOINT resets the old Cmd)");
  free (got);
  char *cmd[] = { "CMD echo $A", NULL };
  CHECK (build_apply_changes (doc, cmd, &err) == 0, "CMD applies");
  got = json_dumps (json_object_get (json_object_get (doc, "config"), "Cmd"),
                    JSON_COMPACT);
  CHECK_STR (got, "[\"/bin/sh\",\"-c\",\"echo $A\"]",
             "shell-form CMD, unexpanded as docker keeps it");
  free (got);
  const char *bad[] = { "RUN true",      "FROM x", "COPY a b",      "ADD a b",
                        "MAINTAINER me", "ARG X",  "SHELL [\"sh\"]" };
  for (size_t i = 0; i < ARRAY_SIZE (bad); i++)
    {
      char *v[] = { (char *)bad[i], NULL };
      err_free (err);
      err = NULL;
      CHECK (build_apply_changes (doc, v, &err) < 0 && err
                 && strstr (err->msg, "is not a valid change command"),
             "'%s' is refused: %s", bad[i], err ? err->msg : "");
    }
  err_free (err);
  err = NULL;
  char *junk[] = { "EXPOSE nope", NULL };
  CHECK (build_apply_changes (doc, junk, &err) < 0, "a bad EXPOSE fails");
  err_free (err);
  json_decref (doc);
}

/* --cache-from / --cache-to values (builder/cacheopt.c). */
static void
cache_spec (const char *arg, bool to, const char *want)
{
  struct build_cache_spec *v = NULL;
  size_t n = 0;
  struct err *err = NULL;
  char got[512];
  if (build_cache_spec_add (&v, &n, arg, to, &err) < 0)
    snprintf (got, sizeof got, "error %d: %s", err->exit, err->msg);
  else
    snprintf (got, sizeof got, "%s %s %s%s%s",
              v[0].type == BUILD_CACHE_LOCAL ? "local" : "registry",
              v[0].ref ? v[0].ref : v[0].dir, v[0].tag ? v[0].tag : "-",
              v[0].max ? " max" : "", v[0].ignore_error ? " ignore" : "");
  CHECK_STR (got, want, "%s '%s'", to ? "--cache-to" : "--cache-from", arg);
  err_free (err);
  build_cache_specs_free (v, n);
}

static void
test_cache_specs (void)
{
  cache_spec ("reg.example/app/cache", false,
              "registry reg.example/app/cache:latest -");
  cache_spec ("type=registry,ref=r.io/c:b,mode=max,ignore-error=true", true,
              "registry r.io/c:b - max ignore");
  cache_spec ("type=registry,ref=r.io/c,image-manifest=true", true,
              "registry r.io/c:latest -");
  cache_spec ("type=local,dest=/tmp/x", true, "local /tmp/x latest");
  cache_spec ("src=/tmp/x,tag=v1", false, "local /tmp/x v1");
  cache_spec ("type=registry,ref=r.io/c,mode=all", true,
              "error 2: invalid --cache-to 'type=registry,ref=r.io/c,mode=all':"
              " mode is min or max, not 'all'");
  cache_spec ("type=local,src=/x", true,
              "error 2: invalid --cache-to 'type=local,src=/x': unknown key "
              "'src'");
  cache_spec ("type=registry,ref=r.io/c,mode=max", false,
              "error 2: invalid --cache-from "
              "'type=registry,ref=r.io/c,mode=max': unknown key 'mode'");
  cache_spec ("type=registry", false,
              "error 2: invalid --cache-from 'type=registry': type=registry "
              "needs ref=REFERENCE (only)");
  cache_spec ("type=s3,ref=x", true,
              "error 2: invalid --cache-to 'type=s3,ref=x': type 's3' is not "
              "supported (registry and local are)");
  cache_spec ("type=registry,ref=r.io/c,oci-mediatypes=false", true,
              "error 2: invalid --cache-to "
              "'type=registry,ref=r.io/c,oci-mediatypes=false': only true is "
              "supported for 'oci-mediatypes'");
  cache_spec ("type=registry,ref=,x", true,
              "error 2: invalid --cache-to 'type=registry,ref=,x': expected "
              "KEY=VALUE, got 'ref='");
}

int
main (void)
{
  test_resolve ();
  test_keys ();
  test_text ();
  test_config ();
  test_changes ();
  test_cache_specs ();
  return test_done ();
}
