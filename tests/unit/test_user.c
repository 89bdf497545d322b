/* Unit tests for runtime/user.c: passwd/group parsing, the -u forms, and
 * reading through a layer stack with whiteouts and opaque directories. */
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/strbuf.h"
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
                             "nohome:x:1005:1005:::/bin/false\n"
                             "self:x:1006:1001::/:/bin/sh\n";
static const char group[] = "root:x:0:\n"
                            "app:x:1000:\n"
                            "extra:x:1001:app,daemon,self\n"
                            "wheel:x:10:root,app,self\n"
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

/* The supplementary groups as "g1 g2 ...", in order. */
static char *
groups_of (const struct rt_user_info *u)
{
  struct strbuf sb = STRBUF_INIT;
  for (size_t i = 0; i < u->user.n_groups; i++)
    strbuf_addf (&sb, "%s%u", i ? " " : "", (unsigned)u->user.groups[i]);
  return strbuf_detach (&sb, NULL);
}

/* docker's AdditionalGids (moby getUser, since CVE-2022-36109): the
 * primary gid, then the groups that list the user when it has a passwd
 * entry and no group was given. */
static void
test_groups (void)
{
  _cleanup_free_ char *root = xasprintf ("%s/groups", tmp);
  char *dirs[] = { root, NULL };
  static const struct
  {
    const char *spec, *want;
  } cases[] = {
    { "app", "1000 1001 10 50" },  /* USER app */
    { "1000", "1000 1001 10 50" }, /* a uid with an entry */
    { NULL, "0 10" },              /* no user: root */
    { "root", "0 10" },
    { "app:app", "1000" }, /* an explicit group: only it */
    { "app:extra", "1001" },
    { "1000:1001", "1001" },
    { "4242", "0" }, /* no entry: gid 0 */
    { "4242:4343", "4343" },
    { "svc", "1003" },     /* listed nowhere */
    { "self", "1001 10" }, /* listed in its own group: once */
  };
  put ("groups/etc/passwd", passwd);
  put ("groups/etc/group", group);
  for (size_t i = 0; i < ARRAY_SIZE (cases); i++)
    {
      struct err *err = NULL;
      struct rt_user_info u = resolve (dirs, cases[i].spec, &err);
      _cleanup_free_ char *got = err ? NULL : groups_of (&u);
      CHECK_STR (got, cases[i].want, "-u %s: supplementary groups",
                 cases[i].spec ? cases[i].spec : "(none)");
      err_free (err);
      rt_user_info_release (&u);
    }
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
  CHECK (u.user.n_groups == 4 && has_group (&u, 1000) && has_group (&u, 1001)
             && has_group (&u, 10) && has_group (&u, 50),
         "supplementary groups: the primary and those from /etc/group");
  rt_user_info_release (&u);

  u = resolve (dirs, "1000", &err);
  CHECK (!err && u.user.uid == 1000 && u.user.gid == 1000
             && u.user.n_groups == 4,
         "numeric uid with an entry takes its gid and groups");
  CHECK_STR (u.name, "app", "numeric uid finds the name");
  rt_user_info_release (&u);

  u = resolve (dirs, "4242", &err);
  CHECK (!err && u.user.uid == 4242 && u.user.gid == 0 && u.user.n_groups == 1
             && has_group (&u, 0),
         "numeric uid without an entry: gid 0, only it as a group");
  CHECK_STR (u.home, "/", "home defaults to /");
  rt_user_info_release (&u);

  u = resolve (dirs, "app:extra", &err);
  CHECK (!err && u.user.uid == 1000 && u.user.gid == 1001
             && u.user.n_groups == 1 && has_group (&u, 1001),
         "user:group sets the gid, the only supplementary group");
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

/* A layer at tmp/NAME; returns its path. */
static char *
layer (const char *name)
{
  char *dir = xasprintf ("%s/%s", tmp, name);
  mkdir (dir, 0755);
  return dir;
}

/* Make dir/rel a symlink to target (replacing what is there). */
static void
link_at (const char *dir, const char *rel, const char *target)
{
  _cleanup_free_ char *path = xasprintf ("%s/%s", dir, rel);
  _cleanup_free_ char *parent = xstrdup (path);
  struct err *err = NULL;
  *strrchr (parent, '/') = '\0';
  fs_mkdir_p (AT_FDCWD, parent, 0755, &err);
  err_free (err);
  unlink (path);
  if (symlink (target, path) < 0)
    printf ("# setup: symlink '%s': %s\n", path, strerror (errno));
}

/* uid and gid of spec in the stack, "uid:gid", or the error's message. */
static char *
ids_of (char *const *dirs, const char *spec)
{
  struct err *err = NULL;
  struct rt_user_info u = resolve (dirs, spec, &err);
  char *s
      = err ? xstrdup (err->msg)
            : xasprintf ("%u:%u", (unsigned)u.user.uid, (unsigned)u.user.gid);
  err_free (err);
  rt_user_info_release (&u);
  return s;
}

/* /etc/passwd, /etc/group or /etc as symlinks (distroless and NixOS-style
 * images): followed inside the image's root, as openat2(RESOLVE_IN_ROOT)
 * and podman do, also across layers; never out of the root. */
static void
test_links (void)
{
  _cleanup_free_ char *low = layer ("l-low"), *top = layer ("l-top");
  _cleanup_free_ char *host = xasprintf ("%s/host-passwd", tmp);
  char *dirs[] = { top, low, NULL };
  char *s;

  put ("l-low/usr/share/passwd", "app:x:1000:1000::/home/app:/bin/sh\n");
  put ("l-low/usr/share/group", "grp:x:1000:\nextra:x:1001:app\n");
  put ("l-low/etc/passwd.real", "rel:x:2000:2000::/:/bin/sh\n");
  put ("l-top/etc/.keep", "");

  /* an absolute link in the top layer to a file of a lower one */
  link_at (top, "etc/passwd", "/usr/share/passwd");
  link_at (top, "etc/group", "../usr/share/group");
  CHECK_STR (s = ids_of (dirs, "app"), "1000:1000",
             "absolute /etc/passwd link to a lower layer's file");
  free (s);
  {
    struct err *err = NULL;
    struct rt_user_info u = resolve (dirs, "app", &err);
    _cleanup_free_ char *g = err ? NULL : groups_of (&u);
    CHECK_STR (g, "1000 1001", "relative /etc/group link");
    err_free (err);
    rt_user_info_release (&u);
  }

  /* a relative link in the same directory, through a second one */
  link_at (top, "etc/passwd.x", "passwd.real");
  link_at (top, "etc/passwd", "./passwd.x");
  CHECK_STR (s = ids_of (dirs, "rel"), "2000:2000",
             "relative /etc/passwd link (a chain of two)");
  free (s);

  /* links that climb out of the root stay in it: ../../../etc/passwd and
   * an absolute host path resolve to the image's own files */
  link_at (top, "etc/passwd", "../../../../../../usr/share/passwd");
  CHECK_STR (s = ids_of (dirs, "app"), "1000:1000",
             "'..' past the root stops at the root");
  free (s);
  put ("host-passwd", "host:x:7:7::/:/bin/sh\n");
  link_at (top, "etc/passwd", host);
  CHECK_STR (s = ids_of (dirs, "host"),
             "unable to find user host: no matching entries in passwd file",
             "an absolute link to a host file is not followed to the host");
  free (s);
  CHECK_STR (s = ids_of (dirs, "1234"), "1234:0",
             "a dangling link is a missing file: numeric users work");
  free (s);
  CHECK_STR (s = ids_of (dirs, NULL), "0:0",
             "a dangling link is a missing file: root without passwd");
  free (s);

  /* a symlinked /etc directory */
  {
    _cleanup_free_ char *d = layer ("l-dir");
    char *dirs2[] = { d, low, NULL };
    put ("l-low/usr/etc/passwd", "viadir:x:3000:3001::/:/bin/sh\n");
    link_at (d, "etc", "usr/etc");
    CHECK_STR (s = ids_of (dirs2, "viadir"), "3000:3001",
               "/etc as a relative link to a directory");
    free (s);
  }

  /* a loop is an error, not a missing file */
  {
    _cleanup_free_ char *d = layer ("l-loop");
    char *dirs3[] = { d, NULL };
    link_at (d, "etc/passwd", "/etc/passwd");
    s = ids_of (dirs3, NULL);
    CHECK (strstr (s, "Too many levels of symbolic links") != NULL,
           "a symlink loop is an error: %s", s);
    free (s);
  }

  /* a whiteout of the link's target in the top layer hides it */
  {
    _cleanup_free_ char *d = layer ("l-wo");
    _cleanup_free_ char *wo = xasprintf ("%s/usr/share/passwd", d);
    char *dirs4[] = { d, low, NULL };
    link_at (d, "etc/passwd", "/usr/share/passwd");
    put ("l-wo/usr/share/.keep", "");
    if (mknod (wo, S_IFCHR | 0, makedev (0, 0)) == 0)
      {
        s = ids_of (dirs4, "app");
        CHECK_STR (s,
                   "unable to find user app: no matching entries in passwd "
                   "file",
                   "the link's target under a whiteout is missing");
        free (s);
      }
    else
      SKIP ("mknod: %s", strerror (errno));
  }
}

int
main (void)
{
  struct err *err = NULL;
  if (!mkdtemp (tmp))
    return 1;
  test_forms ();
  test_groups ();
  test_no_files ();
  test_stack ();
  test_links ();
  fs_rm_rf (AT_FDCWD, tmp, &err);
  err_free (err);
  printf ("1..%d\n", test_n);
  return test_failed != 0;
}
