/* Unit tests for layers/overlay.c: 120 layers made by layers/apply.c
 * (whiteouts and opaque dirs included) mounted with the real kernel's
 * overlayfs in a private mount namespace; the merged view is checked. */
#include "layers/apply.h"
#include "layers/overlay.h"
#include "layers/ovl.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/xalloc.h"
#include "tests/unit/tarbuild.h"
#include "tests/unit/test.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#define N_LAYERS 120

static char base[64];

static char *
slurp (const char *path)
{
  char *out = NULL;
  struct err *err = NULL;
  if (fs_read_file (AT_FDCWD, path, 4096, &out, NULL, &err) < 0)
    err_free (err);
  return out;
}

static bool
there (const char *dir, const char *rel)
{
  _cleanup_free_ char *p = xasprintf ("%s/%s", dir, rel);
  struct stat s;
  return lstat (p, &s) == 0;
}

/* Layer i: "f<i>", "common" = "<i>"; layer 50 adds d/x and dd/x; layer 60
 * whites out f10 and d (then re-creates d with y), and makes dd opaque
 * with dd/z. */
static int
make_layer (int i, const char *dir, struct err **err)
{
  struct tb t = { STRBUF_INIT };
  char name[16], data[16];
  snprintf (name, sizeof name, "f%d", i);
  snprintf (data, sizeof data, "%d", i);
  struct ent e[] = {
    { .type = '0', .name = name, .data = data },
    { .type = '0', .name = "common", .data = data },
  };
  for (size_t k = 0; k < ARRAY_SIZE (e); k++)
    add (&t, &e[k]);
  if (i == 50)
    {
      struct ent more[] = { { .type = '0', .name = "d/x", .data = "x" },
                            { .type = '0', .name = "dd/x", .data = "x" } };
      for (size_t k = 0; k < ARRAY_SIZE (more); k++)
        add (&t, &more[k]);
    }
  if (i == 60)
    {
      struct ent more[] = { { .type = '0', .name = ".wh.f10" },
                            { .type = '0', .name = ".wh.d" },
                            { .type = '0', .name = "dd/.wh..wh..opq" },
                            { .type = '0', .name = "dd/z", .data = "z" } };
      for (size_t k = 0; k < ARRAY_SIZE (more); k++)
        add (&t, &more[k]);
    }
  if (i == 61)
    {
      struct ent more[] = { { .type = '0', .name = "d/y", .data = "y" } };
      add (&t, &more[0]);
    }
  tb_end (&t);
  struct strbuf gz = gzip_buf (&t.sb);
  char diff[DIGEST_STR_LEN + 1];
  _cleanup_close_ int dfd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  struct apply_opts o = APPLY_OPTS_SNAPSHOT;
  struct layer_unpacker *u = layer_unpacker_new (dfd, &o, err);
  int rc = u && layer_unpacker_feed (u, gz.buf, gz.len, err) == 0
                   && layer_unpacker_finish (u, diff, err) == 0
               ? 0
               : -1;
  layer_unpacker_free (u);
  strbuf_release (&t.sb);
  strbuf_release (&gz);
  return rc;
}

/* ovl_lower_kind: the top-most lower dir that has a name decides, a
 * whiteout hides what is below it (the runtime's mount points and the
 * builder's RUN --mount clean-up both ask it). */
static void
test_lower_kind (void)
{
  char dir[] = "/tmp/test-ovl-kind.XXXXXX";
  struct stat st;
  CHECK (mkdtemp (dir) != NULL, "mkdtemp");
  _cleanup_free_ char *top = xasprintf ("%s/top", dir);
  _cleanup_free_ char *low = xasprintf ("%s/low", dir);
  _cleanup_free_ char *p1 = xasprintf ("%s/low/d", dir);
  _cleanup_free_ char *p2 = xasprintf ("%s/top/d", dir);
  _cleanup_free_ char *p3 = xasprintf ("%s/low/f", dir);
  _cleanup_free_ char *p4 = xasprintf ("%s/top/gone", dir);
  _cleanup_free_ char *p5 = xasprintf ("%s/low/gone", dir);
  mkdir (top, 0755);
  mkdir (low, 0755);
  mkdir (p1, 0755);
  CHECK (mknod (p2, S_IFREG | 0644, 0) == 0, "a file over a dir");
  CHECK (mknod (p3, S_IFREG | 0644, 0) == 0, "a file");
  CHECK (mknod (p4, S_IFCHR | 0, makedev (0, 0)) == 0, "a whiteout");
  mkdir (p5, 0755);
  char *lowers[] = { top, low, NULL };
  CHECK (ovl_lower_kind (lowers, "d", &st) == 'o', "the top layer decides");
  CHECK (ovl_lower_kind (lowers + 1, "d", &st) == 'd', "a directory");
  CHECK (ovl_lower_kind (lowers, "f", &st) == 'o' && S_ISREG (st.st_mode),
         "a file below, with its stat");
  CHECK (ovl_lower_kind (lowers, "gone", &st) == 0, "a whiteout hides");
  CHECK (ovl_lower_kind (lowers, "none", &st) == 0, "absent");
  CHECK (ovl_lower_kind (NULL, "d", &st) == 0, "no lowers");
  struct err *err = NULL;
  fs_rm_rf (AT_FDCWD, dir, &err);
  err_free (err);
}

int
main (void)
{
  struct err *err = NULL;
  char **lowers = NULL;
  int made = 0;
  if (geteuid () != 0)
    {
      SKIP ("test_overlay needs root (mount namespace, overlayfs)");
      return test_done ();
    }
  test_lower_kind ();
  if (unshare (CLONE_NEWNS) < 0
      || mount (NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
    {
      SKIP ("no private mount namespace here");
      return test_done ();
    }
  snprintf (base, sizeof base, "/tmp/imgtool-ovl-%d", (int)getpid ());
  mkdir (base, 0700);
  /* 64-hex names like snapshots: 120 of them overflow mount(2)'s page */
  for (int i = 0; i < N_LAYERS; i++)
    {
      char *dir = xasprintf ("%s/%064x", base, i + 0xabc000);
      mkdir (dir, 0755);
      if (make_layer (i, dir, &err) == 0)
        made++;
      /* top first */
      char **v = xcalloc ((size_t)i + 2, sizeof (char *));
      v[0] = dir;
      for (int k = 0; k < i; k++)
        v[k + 1] = lowers[k];
      free (lowers);
      lowers = v;
    }
  CHECK (made == N_LAYERS, "%d layers unpacked (%s)", made,
         err ? err->msg : "");
  err_clear (&err);

  _cleanup_free_ char *target = xasprintf ("%s/merged", base);
  _cleanup_free_ char *common = xasprintf ("%s/common", target);
  mkdir (target, 0755);
  CHECK (layer_overlay_mount (lowers, NULL, NULL, target, true, &err) == 0,
         "%d layers mount read-only (%s)", N_LAYERS, err ? err->msg : "");
  err_clear (&err);
  char *s = slurp (common);
  CHECK_STR (s, "119", "the top layer's file wins");
  free (s);
  int seen = 0;
  for (int i = 0; i < N_LAYERS; i++)
    {
      char name[16];
      snprintf (name, sizeof name, "f%d", i);
      seen += there (target, name);
    }
  CHECK (seen == N_LAYERS - 1 && !there (target, "f10"),
         "every layer's file shows but the whited-out one (%d)", seen);
  CHECK (!there (target, "d/x") && there (target, "d/y"),
         "a whited-out dir hides the lower one; a later layer's shows");
  CHECK (!there (target, "dd/x") && there (target, "dd/z"),
         "an opaque dir hides lower children");
  CHECK (!there (target, ".wh.f10") && !there (target, "dd/.wh..wh..opq"),
         "no .wh. names in the merged view");
  _cleanup_free_ char *probe = xasprintf ("%s/new", target);
  CHECK (open (probe, O_WRONLY | O_CREAT | O_CLOEXEC, 0644) < 0
             && errno == EROFS,
         "read-only mount refuses writes");
  CHECK (umount2 (target, MNT_DETACH) == 0, "unmount");

  _cleanup_free_ char *upper = xasprintf ("%s/upper", base);
  _cleanup_free_ char *work = xasprintf ("%s/work", base);
  mkdir (upper, 0755);
  mkdir (work, 0755);
  CHECK (layer_overlay_mount (lowers, upper, work, target, false, &err) == 0,
         "mount with an upper dir (%s)", err ? err->msg : "");
  err_clear (&err);
  int fd = open (probe, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  CHECK (fd >= 0 && there (upper, "new"), "a write lands in the upper dir");
  if (fd >= 0)
    close (fd);
  _cleanup_free_ char *victim = xasprintf ("%s/f20", target);
  CHECK (unlink (victim) == 0 && there (upper, "f20")
             && there (lowers[99], "f20"),
         "a delete is a whiteout in upper, the snapshot is untouched");
  umount2 (target, MNT_DETACH);

  {
    _cleanup_free_ char *vupper = xasprintf ("%s/vupper", base);
    _cleanup_free_ char *vwork = xasprintf ("%s/vwork", base);
    _cleanup_free_ char *mi = NULL;
    struct err *e2 = NULL;
    mkdir (vupper, 0755);
    mkdir (vwork, 0755);
    CHECK (layer_overlay_mount (lowers, vupper, vwork, target,
                                LAYER_OVERLAY_VOLATILE, &err)
               == 0,
           "a volatile mount (%s)", err ? err->msg : "");
    err_clear (&err);
    fs_read_file (AT_FDCWD, "/proc/self/mountinfo", 1 << 20, &mi, NULL, &e2);
    err_free (e2);
    CHECK (mi && strstr (mi, "fsync=volatile"),
           "is mounted without syncs (fsync=volatile)");
    umount2 (target, MNT_DETACH);
  }

  char *one[] = { lowers[N_LAYERS - 1], NULL };
  CHECK (layer_overlay_mount (one, NULL, NULL, target, true, &err) == 0
             && there (target, "f0") && !there (target, "f1"),
         "a single-layer image mounts (%s)", err ? err->msg : "");
  err_clear (&err);
  umount2 (target, MNT_DETACH);

  char *none[] = { NULL };
  CHECK (layer_overlay_mount (none, NULL, NULL, target, true, &err) < 0,
         "no lower dirs is an error");
  err_clear (&err);
  char *missing[] = { "/nonexistent/layer", NULL };
  CHECK (layer_overlay_mount (missing, NULL, NULL, target, true, &err) < 0
             && strstr (err->msg, "/nonexistent/layer"),
         "a missing lower dir is named in the error: %s", err ? err->msg : "");
  err_clear (&err);

  fs_rm_rf (AT_FDCWD, base, &err);
  err_free (err);
  strv_free (lowers);
  return test_done ();
}
