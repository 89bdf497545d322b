/* Unit tests for runtime/user.c: passwd/group parsing, the -u forms, and
 * reading through a layer stack with whiteouts and opaque directories. */
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/xalloc.h"
#include "runtime/user.h"
#include "tests/unit/test.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

static char tmp[] = "/tmp/test_user.XXXXXX";

static void
put (const char *rel, const char *text)
{
  _cleanup_free_ char *path = xasprintf ("%s/%s", tmp, rel);
  _cleanup_free_ char *dir = xstrdup (path);
  struct err *err = NULL;
  *strrchr (dir, '/') = '\0';
  fs_mkdir_p (AT_FDCWD, dir, 0755, &err);
  fs_write_file_atomic (AT_FDCWD, path, text, strlen (text), 0644, &err);
  if (err)
    {
      printf ("# setup: %s\n", err->msg);
      err_free (err);
    }
}

static const char passwd[] = "root:x:0:0:root:/root:/bin/sh\n"
                             "# a comment\n"
                             "\n"
                             "app:x:1000:1000:app user:/home/app:/bin/sh\n"
                             "broken line\n"
                             "svc:x:1002:1003::/srv:/bin/false\n"
                             "nohome:x:1005:1005:::/bin/false\n";
static const char group[] = "root:x:0:\n"
                            "app:x:1000:\n"
                            "extra:x:1001:app,daemon\n"
                            "wheel:x:10:root,app\n"
                            "staff:x:50:app\n"
                            "svcgrp:x:1003:\n";

static struct rt_user_info
resolve (char *const *dirs, const char *spec, struct err **err)
{
  struct rt_user_info u;
  rt_user_resolve (dirs, spec, &u, err);
  return u;
}

static bool
has_group (const struct rt_user_info *u, gid_t g)
{
  for (size_t i = 0; i < u->user.n_groups; i++)
    if (u->user.groups[i] == g)
      return true;
  return false;
}

static void
test_forms (void)
{
  _cleanup_free_ char *root = xasprintf ("%s/one", tmp);
  char *dirs[] = { root, NULL };
  struct err *err = NULL;
  struct rt_user_info u;

  put ("one/etc/passwd", passwd);
  put ("one/etc/group", group);

  u = resolve (dirs, NULL, &err);
  CHECK (!err && u.user.uid == 0 && u.user.gid == 0, "no user is root");
  CHECK_STR (u.home, "/root", "root's home from passwd");
  CHECK (has_group (&u, 10), "root gets wheel as a supplementary group");
  rt_user_info_release (&u);

  u = resolve (dirs, "app", &err);
  CHECK (!err && u.user.uid == 1000 && u.user.gid == 1000, "name -> 1000:1000");
  CHECK_STR (u.home, "/home/app", "home from passwd");
  CHECK (u.user.n_groups == 3 && has_group (&u, 1001) && has_group (&u, 10)
             && has_group (&u, 50),
         "supplementary groups from /etc/group");
  rt_user_info_release (&u);

  u = resolve (dirs, "1000", &err);
  CHECK (!err && u.user.uid == 1000 && u.user.gid == 1000
             && u.user.n_groups == 3,
         "numeric uid with an entry takes its gid and groups");
  CHECK_STR (u.name, "app", "numeric uid finds the name");
  rt_user_info_release (&u);

  u = resolve (dirs, "4242", &err);
  CHECK (!err && u.user.uid == 4242 && u.user.gid == 0
             && u.user.n_groups == 0,
         "numeric uid without an entry: gid 0, no groups");
  CHECK_STR (u.home, "/", "home defaults to /");
  rt_user_info_release (&u);

  u = resolve (dirs, "app:extra", &err);
  CHECK (!err && u.user.uid == 1000 && u.user.gid == 1001
             && u.user.n_groups == 0,
         "user:group sets the gid and no supplementary groups");
  rt_user_info_release (&u);

  u = resolve (dirs, "1000:50", &err);
  CHECK (!err && u.user.uid == 1000 && u.user.gid == 50, "uid:gid");
  rt_user_info_release (&u);

  u = resolve (dirs, "4242:4343", &err);
  CHECK (!err && u.user.uid == 4242 && u.user.gid == 4343,
         "uid:gid without entries");
  rt_user_info_release (&u);

  u = resolve (dirs, "svc:app", &err);
  CHECK (!err && u.user.uid == 1002 && u.user.gid == 1000, "name:group");
  rt_user_info_release (&u);

  u = resolve (dirs, "nohome", &err);
  CHECK (!err && u.user.uid == 1005, "an entry with an empty home");
  CHECK_STR (u.home, "/", "empty home becomes /");
  rt_user_info_release (&u);

  u = resolve (dirs, "nosuch", &err);
  CHECK (err && err->exit == 125, "unknown user fails with 125");
  CHECK_STR (err ? err->msg : NULL,
             "unable to find user nosuch: no matching entries in passwd file",
             "unknown user message as docker's");
  err_clear (&err);

  u = resolve (dirs, "app:nogroup", &err);
  CHECK_STR (err ? err->msg : NULL,
             "unable to find group nogroup: no matching entries in group file",
             "unknown group message");
  err_clear (&err);

  u = resolve (dirs, "3000000000", &err);
  CHECK (err && strstr (err->msg, "0-2147483647"), "uid out of range");
  err_clear (&err);

  u = resolve (dirs, ":10", &err);
  CHECK (err != NULL, "an empty user part is an error");
  err_clear (&err);
  u = resolve (dirs, "app:", &err);
  CHECK (err != NULL, "an empty group part is an error");
  err_clear (&err);
}

static void
test_no_files (void)
{
  _cleanup_free_ char *root = xasprintf ("%s/empty", tmp);
  char *dirs[] = { root, NULL };
  struct err *err = NULL;
  struct rt_user_info u;
  mkdir (root, 0755);
  u = resolve (dirs, "123:456", &err);
  CHECK (!err && u.user.uid == 123 && u.user.gid == 456,
         "numeric ids need no passwd file");
  rt_user_info_release (&u);
  u = resolve (dirs, "app", &err);
  CHECK (err && strstr (err->msg, "unable to find user app"),
         "a name without a passwd file is an error");
  err_clear (&err);
}

static void
test_stack (void)
{
  _cleanup_free_ char *top = xasprintf ("%s/top", tmp);
  _cleanup_free_ char *mid = xasprintf ("%s/mid", tmp);
  _cleanup_free_ char *low = xasprintf ("%s/low", tmp);
  _cleanup_free_ char *wo = NULL, *opq = NULL;
  char *dirs[] = { top, mid, low, NULL };
  struct err *err = NULL;
  struct rt_user_info u;
  int fd;

  put ("low/etc/passwd", "low:x:1:1::/low:/bin/sh\n");
  put ("low/etc/group", "lowgrp:x:7:low\n");
  put ("mid/etc/passwd", "mid:x:2:2::/mid:/bin/sh\n");
  mkdir (top, 0755);

  u = resolve (dirs, "mid", &err);
  CHECK (!err && u.user.uid == 2, "the topmost layer's passwd is read");
  rt_user_info_release (&u);
  u = resolve (dirs, "low", &err);
  CHECK (err != NULL, "a lower passwd is hidden by an upper one");
  err_clear (&err);

  /* A whiteout of etc/passwd in the top layer hides every lower one. */
  put ("top/etc/group", "g:x:9:\n");
  wo = xasprintf ("%s/etc/passwd", top);
  CHECK (mknod (wo, S_IFCHR | 0, makedev (0, 0)) == 0, "make a whiteout");
  fd = rt_stack_open (dirs, "etc/passwd", &err);
  CHECK (fd < 0 && errno == ENOENT && !err, "a whiteout hides the file");
  u = resolve (dirs, "5", &err);
  CHECK (!err && u.user.uid == 5, "numeric user works without passwd");
  rt_user_info_release (&u);
  unlink (wo);

  /* An opaque etc/ in the middle layer hides low's etc/group. */
  opq = xasprintf ("%s/etc", mid);
  if (setxattr (opq, "trusted.overlay.opaque", "y", 1, 0) == 0)
    {
      fd = rt_stack_open ((char *[]){ mid, low, NULL }, "etc/group", &err);
      CHECK (fd < 0 && errno == ENOENT && !err,
             "an opaque directory hides lower layers");
    }
  else
    SKIP ("trusted xattrs not supported here");
  fd = rt_stack_open ((char *[]){ top, low, NULL }, "etc/group", &err);
  CHECK (fd >= 0, "the top layer's etc/group is found");
  if (fd >= 0)
    close (fd);

  /* A symlinked /etc is refused rather than followed out of the root. */
  {
    _cleanup_free_ char *evil = xasprintf ("%s/evil", tmp);
    _cleanup_free_ char *link = xasprintf ("%s/evil/etc", tmp);
    mkdir (evil, 0755);
    CHECK (symlink ("/etc", link) == 0, "make a symlinked etc");
    fd = rt_stack_open ((char *[]){ evil, NULL }, "etc/passwd", &err);
    CHECK (fd < 0 && err, "a symlink on the way is an error, not followed");
    err_clear (&err);
  }
}

int
main (void)
{
  struct err *err = NULL;
  if (!mkdtemp (tmp))
    return 1;
  test_forms ();
  test_no_files ();
  test_stack ();
  fs_rm_rf (AT_FDCWD, tmp, &err);
  err_free (err);
  printf ("1..%d\n", test_n);
  return test_failed != 0;
}
