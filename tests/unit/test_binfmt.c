/* Unit tests for runtime/binfmt.c: which binfmt_misc handler serves an
 * architecture, over directories laid out as binfmt_misc shows them
 * (the entries' text as the kernel prints it). */
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/xalloc.h"
#include "runtime/binfmt.h"
#include "tests/unit/test.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

/* Debian's qemu-aarch64 (/usr/lib/binfmt.d/qemu-aarch64.conf) as read */
#define AARCH64_MAGIC "7f454c460201010000000000000000000200b700"
#define AARCH64_MASK "ffffffffffffff00fffffffffffffffffeffffff"
#define INTERP "/usr/libexec/qemu-binfmt/aarch64-binfmt-P"

static char dir[] = "/tmp/test-binfmt.XXXXXX";

static void
put (const char *name, const char *text)
{
  _cleanup_free_ char *p = xasprintf ("%s/%s", dir, name);
  FILE *f = fopen (p, "w");
  fputs (text, f);
  fclose (f);
}

static void
handler (const char *name, const char *state, const char *flags,
         const char *magic)
{
  _cleanup_free_ char *t
      = xasprintf ("%s\ninterpreter " INTERP "\nflags: %s\noffset 0\nmagic %s\n"
                   "mask " AARCH64_MASK "\n",
                   state, flags, magic);
  put (name, t);
}

/* the error's text, or "ok" */
static char *
check (const char *host, const char *os, const char *arch)
{
  struct err *e = NULL;
  int fd = open (dir, O_RDONLY | O_DIRECTORY);
  char *r;
  if (rt_binfmt_check_at (fd, "/b", host, os, arch, &e) == 0)
    r = xstrdup ("ok");
  else
    r = xstrdup (e->msg);
  err_free (e);
  close (fd);
  return r;
}

/* on an amd64 host: "ok", or an error containing want */
static void
expect (const char *os, const char *arch, const char *want, const char *what)
{
  char *r = check ("amd64", os, arch);
  if (!strcmp (want, "ok"))
    CHECK_STR (r, "ok", "%s", what);
  else
    {
      CHECK (strstr (r, want) != NULL, "%s", what);
      if (!strstr (r, want))
        printf ("#   got '%s'\n", r);
    }
  free (r);
}

int
main (void)
{
  if (!mkdtemp (dir))
    return 1;

  CHECK_STR (rt_binfmt_qemu_name ("arm64"), "aarch64",
             "arm64 is qemu's aarch64");
  CHECK_STR (rt_binfmt_qemu_name ("amd64"), "x86_64", "amd64 is x86_64");
  CHECK (rt_binfmt_qemu_name ("pdp11") == NULL, "an unknown arch has no name");

  expect ("linux", "amd64", "ok", "the host's own architecture needs nothing");
  expect ("linux", "386", "ok", "amd64 runs 386 natively");

  /* not mounted: no status file */
  expect ("linux", "arm64",
          "binfmt_misc is not mounted at /b; install qemu-user-static, "
          "then: mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc "
          "&& cat /usr/lib/binfmt.d/qemu-aarch64.conf > "
          "/proc/sys/fs/binfmt_misc/register",
          "not mounted: says so, with the commands");

  put ("status", "enabled\n");
  put ("register", "");
  expect ("linux", "arm64",
          "linux/arm64 executables need an emulator: binfmt_misc has no "
          "handler for aarch64 executables",
          "no handler");

  /* a handler for another machine (arm: e_machine 0x28) does not count */
  handler ("qemu-arm", "enabled", "OCF",
           "7f454c4601010100000000000000000002002800");
  expect ("linux", "arm64", "has no handler for aarch64",
          "an arm handler is not arm64's");
  expect ("linux", "arm", "ok", "... but it is arm's (its own mask)");

  handler ("any-name", "enabled", "OP", AARCH64_MAGIC);
  expect ("linux", "arm64",
          "binfmt_misc handler 'any-name' lacks the F flag, so the kernel "
          "would look for its interpreter '" INTERP "' inside the "
          "container's root",
          "a matching handler without F is named, whatever its name");

  handler ("any-name", "disabled", "OPF", AARCH64_MAGIC);
  expect ("linux", "arm64",
          "handler 'any-name' is disabled; echo 1 > "
          "/proc/sys/fs/binfmt_misc/any-name",
          "a disabled one is named");

  handler ("any-name", "enabled", "POF", AARCH64_MAGIC);
  expect ("linux", "arm64", "ok", "enabled with F: usable");
  expect ("linux", "aarch64", "imgtool knows no qemu",
          "names are normalised by the caller");

  put ("status", "disabled\n");
  expect ("linux", "arm64",
          "binfmt_misc is disabled; echo 1 > /proc/sys/fs/binfmt_misc/status",
          "binfmt_misc disabled as a whole");
  put ("status", "enabled\n");

  expect ("windows", "arm64", "windows/arm64 executables cannot run on linux",
          "another os");

  /* a magic longer than the header: never taken for ours */
  handler ("any-name", "enabled", "F",
           AARCH64_MAGIC "00000000000000000000000000000000000000000000000000"
                         "000000000000000000000000000000000000000000000000000"
                         "00000000000000000000000000000000000");
  expect ("linux", "arm64", "has no handler for aarch64",
          "an overlong magic is skipped");

  /* the real one: the host's machine name (x86_64, aarch64) is
     normalised, and the host needs no handler */
  {
    struct err *e = NULL;
    struct utsname u;
    uname (&u);
    CHECK (rt_binfmt_check ("linux", u.machine, &e) == 0,
           "rt_binfmt_check: '%s' is the host's own", u.machine);
    err_free (e);
    CHECK (rt_binfmt_check ("linux", NULL, &e) == 0,
           "an image that names no architecture: exec decides");
  }

  struct err *e = NULL;
  fs_rm_rf (AT_FDCWD, dir, &e);
  err_free (e);
  return test_done ();
}
