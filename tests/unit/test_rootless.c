/* Unit tests for rootless: uid_map parsing (lib/userns.c), subordinate
 * ranges and newuidmap's arguments (runtime/idmap.c), the runtime
 * directory (runtime/rootless.c), --network slirp4netns (network/slirp.c). */
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/rundir.h"
#include "lib/userns.h"
#include "lib/xalloc.h"
#include "network/slirp.h"
#include "runtime/idmap.h"
#include "runtime/rootless.h"
#include "tests/unit/test.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static char tmp[] = "/tmp/test_rootless.XXXXXX";

static void
test_map_parse (void)
{
  unsigned lines;
  unsigned long ids;
  bool identity;
  CHECK (userns_map_parse ("         0          0 4294967295\n", &lines, &ids,
                           &identity)
             && lines == 1 && identity,
         "the initial namespace's map is the identity");
  CHECK (
      userns_map_parse ("0 1000 1\n1 100000 65536\n", &lines, &ids, &identity)
          && lines == 2 && ids == 65537 && !identity,
      "a rootless map: two lines, 65537 ids");
  CHECK (userns_map_parse ("0 1000 1\n", &lines, &ids, &identity) && ids == 1,
         "a single-id map");
  CHECK (!userns_map_parse ("", &lines, &ids, &identity),
         "an unwritten map is no map");
  CHECK (!userns_map_parse ("0 0\n", &lines, &ids, &identity),
         "a short line is no map");
}

static void
test_subid (void)
{
  _cleanup_free_ char *path = xasprintf ("%s/subuid", tmp);
  static const char text[] = "# comment\n"
                             "alice:100000:65536\n"
                             "bob:200000:65536\n"
                             "1000:300000:10\n"
                             "alice:bad:5\n"
                             "alice:400000:0\n"
                             "alice:1000:5\n"
                             "alice:500000:7:extra\n"
                             "alice:600000:3\n";
  struct rt_idrange *r = NULL;
  struct err *err = NULL;
  int n;
  fs_write_file_atomic (AT_FDCWD, path, text, sizeof text - 1, 0644, &err);
  n = rt_subid_ranges (path, "alice", 1000, &r, &err);
  CHECK (n == 3, "alice (uid 1000): three ranges (got %d)", n);
  CHECK (n == 3 && r[0].start == 100000 && r[0].count == 65536,
         "by name, in file order");
  CHECK (n == 3 && r[1].start == 300000 && r[1].count == 10,
         "by numeric uid (shadow's find_range)");
  CHECK (n == 3 && r[2].start == 600000,
         "bad, empty, overlapping-own and malformed lines skipped");
  free (r);
  n = rt_subid_ranges (path, "carol", 1002, &r, &err);
  CHECK (n == 0 && !err, "a user without ranges: none");
  free (r);
  n = rt_subid_ranges ("/nonexistent/subuid", "alice", 1000, &r, &err);
  CHECK (n == 0 && !err, "no file: no ranges");
  free (r);
}

static void
test_argv (void)
{
  struct rt_idrange r[] = { { 100000, 65536 }, { 300000, 10 } };
  char **v = rt_idmap_argv ("/usr/bin/newuidmap", 42, 1000, r, 2);
  _cleanup_free_ char *joined = NULL;
  size_t len = 0;
  for (size_t i = 0; v[i]; i++)
    len += strlen (v[i]) + 1;
  joined = xcalloc (len + 1, 1);
  for (size_t i = 0; v[i]; i++)
    {
      strcat (joined, v[i]);
      strcat (joined, v[i + 1] ? " " : "");
    }
  CHECK_STR (joined,
             "/usr/bin/newuidmap 42 0 1000 1 1 100000 65536 65537 "
             "300000 10",
             "own id at 0, ranges packed from 1 (podman's layout)");
  strv_free (v);
}

static void
test_run_dir (void)
{
  _cleanup_free_ char *xdg = xasprintf ("%s/xdg", tmp);
  _cleanup_free_ char *want = xasprintf ("%s/xdg/imgtool", tmp);
  _cleanup_free_ char *other = xasprintf ("%s/other", tmp);
  _cleanup_free_ char *dir = NULL, *tmpdir = NULL;
  struct err *err = NULL;
  struct stat st;
  mkdir (xdg, 0755);
  dir = rundir_for (xdg, geteuid (), geteuid (), &err);
  CHECK_STR (dir, want, "$XDG_RUNTIME_DIR/imgtool");
  CHECK (stat (want, &st) == 0 && (st.st_mode & 07777) == 0700,
         "made mode 0700");
  chmod (want, 0755);
  free (dir);
  dir = rundir_for (xdg, geteuid (), geteuid (), &err);
  CHECK (!dir && err && strstr (err->msg, "has mode 0755"),
         "a wider mode is refused");
  err_clear (&err);
  chmod (want, 0500);
  dir = rundir_for (xdg, geteuid (), geteuid (), &err);
  CHECK (dir && stat (want, &st) == 0 && (st.st_mode & 07777) == 0700,
         "a narrower mode is put back to 0700");
  free (dir);
  dir = rundir_for (xdg, geteuid (), geteuid () + 12345, &err);
  CHECK (!dir && err && strstr (err->msg, "is not a directory owned by you"),
         "another user's directory is refused");
  err_clear (&err);
  mkdir (other, 0755);
  free (dir);
  dir = NULL;
  rmdir (want);
  if (symlink (other, want) == 0)
    {
      dir = rundir_for (xdg, geteuid (), geteuid (), &err);
      CHECK (!dir && err, "a symlink is refused");
      err_clear (&err);
    }
  tmpdir = rundir_for (NULL, 4000000000u, 4000000000u, &err);
  CHECK (!tmpdir && err && strstr (err->msg, "/tmp/imgtool-run-4000000000"),
         "without $XDG_RUNTIME_DIR: /tmp/imgtool-run-UID");
  err_clear (&err);
  tmpdir
      = rundir_for ("/nonexistent/run/user/1", 4000000000u, 4000000000u, &err);
  CHECK (!tmpdir && err && strstr (err->msg, "/tmp/imgtool-run-4000000000"),
         "a $XDG_RUNTIME_DIR that is gone: /tmp/imgtool-run-UID");
  err_clear (&err);
  rmdir ("/tmp/imgtool-run-4000000000");
}

static void
test_slirp_parse (void)
{
  enum rt_network_mode m = RT_NET_NONE;
  struct err *err = NULL;
  CHECK (net_slirp_parse ("slirp4netns", &m, &err) == 1 && m == RT_NET_SLIRP,
         "slirp4netns");
  CHECK (net_slirp_parse ("slirp4netns:allow_host_loopback=true", &m, &err) == 1
             && m == RT_NET_SLIRP_LOOPBACK,
         "allow_host_loopback=true");
  CHECK (net_slirp_parse ("slirp4netns:allow_host_loopback=false", &m, &err)
                 == 1
             && m == RT_NET_SLIRP,
         "allow_host_loopback=false");
  CHECK (net_slirp_parse ("slirp4netnsx", &m, &err) == 0 && !err,
         "another word is not ours");
  CHECK (net_slirp_parse ("slirp4netns:mtu=1500", &m, &err) < 0 && err
             && strstr (err->msg, "unknown slirp4netns option 'mtu=1500'"),
         "an unknown option is refused");
  err_clear (&err);
}

int
main (void)
{
  struct err *err = NULL;
  if (!mkdtemp (tmp))
    return 1;
  test_map_parse ();
  test_subid ();
  test_argv ();
  test_run_dir ();
  test_slirp_parse ();
  fs_rm_rf (AT_FDCWD, tmp, &err);
  return test_done ();
}
