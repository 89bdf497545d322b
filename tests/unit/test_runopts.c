/* Unit tests for runtime/runopts.c: sizes, --cpus, --env-file, and
 * docker's precedence rules for entrypoint, cmd, env, workdir and user
 * (mount specs: test_mountopt.c). */
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/xalloc.h"
#include "runtime/rlimits.h"
#include "runtime/runopts.h"
#include "tests/unit/test.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

static int64_t
size_of (const char *s, bool *failed)
{
  struct err *err = NULL;
  int64_t v = -42;
  *failed = rt_parse_size (s, &v, &err) < 0;
  if (*failed && err->exit != 125)
    v = -125;
  err_free (err);
  return v;
}

static void
test_sizes (void)
{
  static const struct
  {
    const char *s;
    int64_t want;
  } good[] = {
    { "0", 0 },
    { "512", 512 },
    { "1k", 1024 },
    { "1K", 1024 },
    { "1kb", 1024 },
    { "1KiB", 1024 },
    { "64m", 64ll << 20 },
    { "64M", 64ll << 20 },
    { "1.5g", 3ll << 29 },
    { "2 GB", 2ll << 30 },
    { "10b", 10 },
    { "1t", 1ll << 40 },
    { "1p", 1ll << 50 },
  };
  static const char *const badv[]
      = { "",    "abc", "-1",  "1x",  "m",   "1.5.5m",
          "1mm", ".5m", "1e3", " 1m", "1m ", "99999999999p" };
  bool failed;
  for (size_t i = 0; i < ARRAY_SIZE (good); i++)
    {
      int64_t v = size_of (good[i].s, &failed);
      CHECK (!failed && v == good[i].want, "size '%s' = %lld", good[i].s,
             (long long)good[i].want);
    }
  for (size_t i = 0; i < ARRAY_SIZE (badv); i++)
    {
      size_of (badv[i], &failed);
      CHECK (failed, "size '%s' is invalid", badv[i]);
    }
  {
    struct err *err = NULL;
    int64_t v;
    rt_parse_size ("abc", &v, &err);
    CHECK_STR (err->msg, "invalid size 'abc'", "size error message");
    CHECK (err->exit == 125, "size errors exit 125");
    err_free (err);
  }
}

static void
test_memory (void)
{
  struct err *err = NULL;
  struct rt_limits l = { 0 };
  CHECK (rt_parse_memory ("64m", "128m", &l, &err) == 0 && l.memory == 64 << 20
             && l.memory_swap == 128 << 20,
         "--memory 64m --memory-swap 128m");
  l = (struct rt_limits){ 0 };
  CHECK (rt_parse_memory ("64m", "-1", &l, &err) == 0 && l.memory_swap == -1,
         "--memory-swap -1 is unlimited");
  l = (struct rt_limits){ 0 };
  CHECK (rt_parse_memory ("1k", NULL, &l, &err) < 0 && strstr (err->msg, "6MB"),
         "--memory below 6MB is refused");
  err_clear (&err);
  l = (struct rt_limits){ 0 };
  CHECK (rt_parse_memory ("64m", "32m", &l, &err) < 0, "swap < memory");
  err_clear (&err);
  l = (struct rt_limits){ 0 };
  CHECK (rt_parse_memory (NULL, "32m", &l, &err) < 0
             && strstr (err->msg, "needs --memory"),
         "--memory-swap needs --memory");
  err_clear (&err);
  l = (struct rt_limits){ 0 };
  CHECK (rt_parse_memory ("lots", NULL, &l, &err) < 0
             && !strcmp (err->msg, "--memory: invalid size 'lots'")
             && err->exit == 125,
         "bad --memory names the flag");
  err_clear (&err);
}

static void
test_cpus (void)
{
  struct err *err = NULL;
  int64_t q = -1, p = -1;
  CHECK (rt_parse_cpus ("0.5", 2, &q, &p, &err) == 0 && q == 50000
             && p == 100000,
         "--cpus 0.5 -> 50000/100000");
  CHECK (rt_parse_cpus ("1.25", 2, &q, &p, &err) == 0 && q == 125000,
         "--cpus 1.25 -> 125000");
  CHECK (rt_parse_cpus ("2", 2, &q, &p, &err) == 0 && q == 200000,
         "--cpus 2 -> 200000");
  CHECK (rt_parse_cpus ("0", 2, &q, &p, &err) == 0 && q == 0,
         "--cpus 0 is unlimited");
  CHECK (rt_parse_cpus ("0.01", 2, &q, &p, &err) == 0 && q == 1000,
         "--cpus 0.01 -> 1000");
  CHECK (rt_parse_cpus ("3", 2, &q, &p, &err) < 0
             && strstr (err->msg, "only 2 CPUs available"),
         "more CPUs than there are is refused");
  err_clear (&err);
  CHECK (rt_parse_cpus ("0.001", 2, &q, &p, &err) < 0, "below 0.01");
  err_clear (&err);
  CHECK (rt_parse_cpus ("0.0000000001", 2, &q, &p, &err) < 0
             && strstr (err->msg, "too precise"),
         "more than 9 decimals is too precise");
  err_clear (&err);
  CHECK (rt_parse_cpus ("half", 2, &q, &p, &err) < 0 && err->exit == 125,
         "--cpus half is invalid");
  err_clear (&err);
  CHECK (rt_parse_cpus ("-1", 2, &q, &p, &err) < 0, "negative --cpus");
  err_clear (&err);
}

static void
test_env_file (void)
{
  char path[] = "/tmp/test_runopts.env.XXXXXX";
  int fd = mkstemp (path);
  const char text[] = "\xef\xbb\xbf# comment\n"
                      "A=1\n"
                      "   B=two words \n"
                      "\n"
                      "C=\n"
                      "FROM_ENV\n"
                      "NOT_SET_ANYWHERE\n"
                      "D=x=y\r\n"
                      "E";
  struct err *err = NULL;
  _cleanup_strv_ char **env = NULL;
  setenv ("FROM_ENV", "hello", 1);
  setenv ("E", "last", 1);
  unsetenv ("NOT_SET_ANYWHERE");
  fs_write_all (fd, text, sizeof text - 1);
  close (fd);
  CHECK (rt_env_file_read (path, &env, &err) == 0, "read an env file");
  CHECK (strv_len (env) == 6, "six variables (comments, blanks and unset "
                              "names skipped)");
  if (strv_len (env) == 6)
    {
      CHECK_STR (env[0], "A=1", "plain variable (BOM skipped)");
      CHECK_STR (env[1], "B=two words ", "leading blanks trimmed, value kept");
      CHECK_STR (env[2], "C=", "empty value kept");
      CHECK_STR (env[3], "FROM_ENV=hello", "bare name from the environment");
      CHECK_STR (env[4], "D=x=y", "value with '=' and CRLF");
      CHECK_STR (env[5], "E=last", "last line without newline");
    }
  fd = open (path, O_WRONLY | O_TRUNC | O_CLOEXEC);
  fs_write_all (fd, "GOOD=1\nBAD NAME=2\n", 18);
  close (fd);
  CHECK (rt_env_file_read (path, &env, &err) < 0
             && strstr (err->msg, "'BAD NAME' contains whitespaces"),
         "a name with blanks is refused");
  err_clear (&err);
  fd = open (path, O_WRONLY | O_TRUNC | O_CLOEXEC);
  fs_write_all (fd, "A=1\nB=\xff\xfe\n", 8);
  close (fd);
  CHECK (rt_env_file_read (path, &env, &err) < 0
             && strstr (err->msg, "invalid utf8 bytes at line 2"),
         "invalid UTF-8 is refused with its line");
  err_clear (&err);
  fd = open (path, O_WRONLY | O_TRUNC | O_CLOEXEC);
  fs_write_all (fd, "=1\n", 3);
  close (fd);
  CHECK (rt_env_file_read (path, &env, &err) < 0
             && strstr (err->msg, "no variable name"),
         "an empty name is refused");
  err_clear (&err);
  unlink (path);
  CHECK (rt_env_file_read (path, &env, &err) < 0 && err->exit == 125
             && strstr (err->msg, "--env-file"),
         "a missing env file is an error");
  err_clear (&err);
}

static void
test_env_rules (void)
{
  struct err *err = NULL;
  _cleanup_strv_ char **env = NULL;
  setenv ("IMGTOOL_TEST_X", "fromhost", 1);
  unsetenv ("IMGTOOL_TEST_UNSET");
  CHECK (rt_env_arg ("A=1", &env, &err) == 0, "-e A=1");
  rt_env_arg ("IMGTOOL_TEST_X", &env, &err);
  rt_env_arg ("IMGTOOL_TEST_UNSET", &env, &err);
  CHECK (strv_len (env) == 3, "three -e values");
  CHECK_STR (env[1], "IMGTOOL_TEST_X=fromhost", "-e NAME takes the host's");
  CHECK_STR (env[2], "IMGTOOL_TEST_UNSET", "-e NAME unset stays bare");
  CHECK (rt_env_arg ("=x", &env, &err) < 0, "-e =x refused");
  err_clear (&err);
  rt_env_set (&env, "A=2");
  CHECK_STR (rt_env_get (env, "A"), "2", "rt_env_set replaces");
  rt_env_set (&env, "A");
  CHECK (!rt_env_get (env, "A") && strv_len (env) == 2, "a bare name removes");
}

static void
test_process (void)
{
  char *img_ep[] = { "/entry.sh", "--flag", NULL };
  char *img_cmd[] = { "serve", NULL };
  char *img_env[] = { "PATH=/image/bin", "LANG=C", "HOSTNAME=fromimage", NULL };
  char *args[] = { "echo", "hi", NULL };
  char *user_env[] = { "LANG=en", "NEW=1", "HOSTNAME", NULL };
  struct rt_process_request r = { .image_entrypoint = img_ep,
                                  .image_cmd = img_cmd,
                                  .image_env = img_env,
                                  .image_workdir = "/srv",
                                  .image_user = "app",
                                  .hostname = "box" };
  struct rt_process p;
  struct err *err = NULL;

  CHECK (rt_process_resolve (&r, &p, &err) == 0 && strv_len (p.argv) == 3,
         "image entrypoint + cmd");
  CHECK_STR (p.argv[0], "/entry.sh", "entrypoint first");
  CHECK_STR (p.argv[2], "serve", "cmd after it");
  CHECK_STR (p.cwd, "/srv", "image WorkingDir");
  CHECK_STR (p.user, "app", "image User");
  CHECK_STR (rt_env_get (p.env, "PATH"), "/image/bin", "image PATH kept");
  CHECK_STR (rt_env_get (p.env, "HOSTNAME"), "fromimage",
             "image env overrides HOSTNAME");
  CHECK_STR (p.env[0], "PATH=/image/bin", "PATH stays first");
  rt_process_release (&p);

  r.args = args;
  r.env = user_env;
  r.workdir = "/tmp";
  r.user = "1000:1000";
  r.tty = true;
  CHECK (rt_process_resolve (&r, &p, &err) == 0 && strv_len (p.argv) == 4,
         "args replace cmd, keep the entrypoint");
  CHECK_STR (p.argv[2], "echo", "args after the entrypoint");
  CHECK_STR (p.cwd, "/tmp", "-w overrides");
  CHECK_STR (p.user, "1000:1000", "-u overrides");
  CHECK_STR (rt_env_get (p.env, "LANG"), "en", "-e overrides image env");
  CHECK_STR (rt_env_get (p.env, "NEW"), "1", "-e adds");
  CHECK (!rt_env_get (p.env, "HOSTNAME"), "a bare -e NAME removes it");
  CHECK_STR (rt_env_get (p.env, "TERM"), "xterm", "-t sets TERM");
  rt_process_release (&p);

  r.entrypoint_set = true;
  r.entrypoint = "/bin/sh";
  r.args = NULL;
  CHECK (rt_process_resolve (&r, &p, &err) == 0 && strv_len (p.argv) == 1,
         "--entrypoint clears the image's Cmd");
  CHECK_STR (p.argv[0], "/bin/sh", "--entrypoint alone");
  rt_process_release (&p);

  r.args = args;
  CHECK (rt_process_resolve (&r, &p, &err) == 0 && strv_len (p.argv) == 3,
         "--entrypoint + args");
  rt_process_release (&p);

  r.entrypoint = "";
  CHECK (rt_process_resolve (&r, &p, &err) == 0 && strv_len (p.argv) == 2,
         "--entrypoint '' drops the entrypoint");
  CHECK_STR (p.argv[0], "echo", "then args alone");
  rt_process_release (&p);

  r.args = NULL;
  CHECK (rt_process_resolve (&r, &p, &err) < 0 && err->exit == 125,
         "--entrypoint '' and no args: no command");
  err_clear (&err);

  r = (struct rt_process_request){ .image_cmd = img_cmd, .hostname = "h" };
  CHECK (rt_process_resolve (&r, &p, &err) == 0, "defaults");
  CHECK_STR (p.env[0], "PATH=" RT_DEFAULT_PATH, "default PATH");
  CHECK_STR (rt_env_get (p.env, "HOSTNAME"), "h", "HOSTNAME set");
  CHECK_STR (p.cwd, "/", "default cwd /");
  CHECK_STR (p.user, "", "default user root");
  rt_process_release (&p);

  r.image_workdir = "rel/dir";
  CHECK (rt_process_resolve (&r, &p, &err) == 0, "relative image workdir");
  CHECK_STR (p.cwd, "/rel/dir", "taken from /");
  rt_process_release (&p);
  r.workdir = "rel";
  CHECK (rt_process_resolve (&r, &p, &err) < 0
             && strstr (err->msg, "needs to be an absolute path"),
         "relative -w refused");
  err_clear (&err);
}

/* --ulimit NAME=SOFT[:HARD] (runtime/rlimits.c) */
static void
test_rlimits (void)
{
  struct rt_rlimit l;
  struct err *err = NULL;
  struct rt_plan p;
  CHECK (rt_rlimit_parse ("nofile=100:200", &l, &err) == 0
             && l.resource == RLIMIT_NOFILE && l.soft == 100 && l.hard == 200,
         "nofile=100:200");
  CHECK (rt_rlimit_parse ("nproc=50", &l, &err) == 0 && l.soft == 50
             && l.hard == 50,
         "one value is soft and hard");
  CHECK (rt_rlimit_parse ("core=-1", &l, &err) == 0 && l.soft == RLIM_INFINITY
             && l.hard == RLIM_INFINITY,
         "-1 is unlimited");
  CHECK (rt_rlimit_parse ("nofile=200:100", &l, &err) < 0
             && strstr (err->msg, "soft limit above hard"),
         "soft above hard refused");
  err_clear (&err);
  CHECK (rt_rlimit_parse ("nofiles=1", &l, &err) < 0, "unknown name refused");
  err_clear (&err);
  CHECK (rt_rlimit_parse ("nofile=x", &l, &err) < 0, "bad number refused");
  err_clear (&err);
  CHECK (rt_rlimit_parse ("nofile", &l, &err) < 0, "no value refused");
  err_clear (&err);
  rt_plan_init (&p);
  rt_rlimit_parse ("nofile=1:2", &l, &err);
  rt_rlimit_add (&p, &l);
  rt_rlimit_parse ("nofile=3:4", &l, &err);
  rt_rlimit_add (&p, &l);
  CHECK (p.n_rlimits == 1 && p.rlimits[0].soft == 3,
         "the same resource twice: the last wins");
  rt_plan_release (&p);
}

int
main (void)
{
  test_rlimits ();
  test_sizes ();
  test_memory ();
  test_cpus ();
  test_env_file ();
  test_env_rules ();
  test_process ();
  return test_done ();
}
