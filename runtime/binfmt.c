/* Is there a binfmt_misc handler for an architecture (runtime/binfmt.h)?
 * Each handler's magic and mask are tried on the ELF header such an
 * executable has, so the handler's name does not matter (Debian's
 * qemu-aarch64, tonistiigi/binfmt's, a hand-made one). */
#include "runtime/binfmt.h"
#include "layers/image.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* GOARCH -> qemu's name and the ELF class, data encoding and e_machine */
static const struct arch_elf
{
  const char *arch, *qemu;
  unsigned char cls, data; /* 1: 32-bit / LSB, 2: 64-bit / MSB */
  uint16_t machine;
} arches[] = {
  { "amd64", "x86_64", 2, 1, 62 },         { "386", "i386", 1, 1, 3 },
  { "arm64", "aarch64", 2, 1, 183 },       { "arm", "arm", 1, 1, 40 },
  { "ppc64le", "ppc64le", 2, 1, 21 },      { "ppc64", "ppc64", 2, 2, 21 },
  { "s390x", "s390x", 2, 2, 22 },          { "riscv64", "riscv64", 2, 1, 243 },
  { "mips64le", "mips64el", 2, 1, 8 },     { "mips64", "mips64", 2, 2, 8 },
  { "loong64", "loongarch64", 2, 1, 258 },
};

static const struct arch_elf *
arch_elf (const char *arch)
{
  for (size_t i = 0; i < sizeof arches / sizeof *arches; i++)
    if (!strcmp (arches[i].arch, arch))
      return &arches[i];
  return NULL;
}

const char *
rt_binfmt_qemu_name (const char *arch)
{
  const struct arch_elf *a = arch ? arch_elf (arch) : NULL;
  return a ? a->qemu : NULL;
}

#define HDR_LEN 64

/* The first bytes of an executable (ET_EXEC) for a */
static void
elf_header (const struct arch_elf *a, unsigned char h[HDR_LEN])
{
  memset (h, 0, HDR_LEN);
  memcpy (h,
          "\x7f"
          "ELF",
          4);
  h[4] = a->cls;
  h[5] = a->data;
  h[6] = 1; /* EV_CURRENT */
  bool le = a->data == 1;
  h[le ? 16 : 17] = 2; /* ET_EXEC */
  h[le ? 18 : 19] = (unsigned char)(a->machine & 0xff);
  h[le ? 19 : 18] = (unsigned char)(a->machine >> 8);
}

/* The CPUs that run a's executables without help */
static bool
native (const char *host, const char *arch)
{
  return !strcmp (host, arch)
         || (!strcmp (host, "amd64") && !strcmp (arch, "386"))
         || (!strcmp (host, "arm64") && !strcmp (arch, "arm"));
}

/* n bytes from 2n hex digits; false on anything else */
static bool
unhex (const char *s, unsigned char *out, size_t n)
{
  for (size_t i = 0; i < n; i++)
    {
      char b[3] = { s[2 * i], s[2 * i + 1], 0 };
      char *end;
      out[i] = (unsigned char)strtoul (b, &end, 16);
      if (!b[0] || end != b + 2)
        return false;
    }
  return true;
}

static const char *
field (const char *text, const char *name)
{
  size_t len = strlen (name);
  for (const char *l = text; l && *l;
       l = strchr (l, '\n') ? strchr (l, '\n') + 1 : NULL)
    if (!strncmp (l, name, len))
      return l + len;
  return NULL;
}

/* What the walk found: the best handler so far */
struct found
{
  const unsigned char *hdr;
  bool usable;
  char *name, *interp; /* a matching handler that cannot serve, or NULL */
  bool disabled;
};

static int
entry (void *ctx, int dirfd, const char *name, struct err **err)
{
  struct found *f = ctx;
  _cleanup_free_ char *text = NULL;
  unsigned char magic[HDR_LEN], mask[HDR_LEN];
  size_t len, n;
  const char *m, *k, *o, *fl, *in;
  unsigned long off;
  if (!strcmp (name, "status") || !strcmp (name, "register"))
    return 0;
  if (fs_read_file (dirfd, name, 64 << 10, &text, &len, err) < 0)
    {
      err_clear (err); /* removed meanwhile, or not a handler */
      return 0;
    }
  m = field (text, "magic ");
  o = field (text, "offset ");
  off = o ? strtoul (o, NULL, 10) : 0;
  if (!m || off >= HDR_LEN)
    return 0; /* an extension handler */
  n = strcspn (m, "\n") / 2;
  /* a magic beyond the header we know cannot be judged: not ours */
  if (!n || n > HDR_LEN - off || !unhex (m, magic, n))
    return 0;
  memset (mask, 0xff, sizeof mask);
  if ((k = field (text, "mask ")) && !unhex (k, mask, n))
    return 0;
  for (size_t i = 0; i < n; i++)
    if ((f->hdr[off + i] & mask[i]) != (magic[i] & mask[i]))
      return 0;
  fl = field (text, "flags: ");
  bool enabled = !strncmp (text, "enabled", 7);
  bool fix = fl && strcspn (fl, "\n") > strcspn (fl, "F");
  if (enabled && fix)
    {
      f->usable = true;
      return 1;
    }
  if (!f->name)
    {
      f->name = xstrdup (name);
      in = field (text, "interpreter ");
      f->interp = in ? xstrndup (in, strcspn (in, "\n")) : xstrdup ("?");
      f->disabled = !enabled;
    }
  return 0;
}

int
rt_binfmt_check_at (int dirfd, const char *dir, const char *host_arch,
                    const char *os, const char *arch, struct err **err)
{
  const struct arch_elf *a = arch_elf (arch);
  unsigned char hdr[HDR_LEN];
  struct found f = { .hdr = hdr };
  _cleanup_free_ char *status = NULL;
  size_t len;
  int ret = -1;

  if (os && strcmp (os, "linux"))
    return err_set (err, 0, "%s/%s executables cannot run on linux", os, arch);
  if (native (host_arch, arch))
    return 0;
  if (!a)
    return err_set (err, 0,
                    "linux/%s executables need an emulator: imgtool knows no "
                    "qemu for '%s'",
                    arch, arch);
  /* what a user types to get one, on Debian and its kind */
  _cleanup_free_ char *reg
      = xasprintf ("cat /usr/lib/binfmt.d/qemu-%s.conf > %s/register", a->qemu,
                   RT_BINFMT_DIR);
  if (dirfd < 0 || fs_read_file (dirfd, "status", 64, &status, &len, err) < 0)
    {
      int e = dirfd < 0 ? ENOENT : (*err)->errnum;
      err_clear (err);
      if (e != ENOENT)
        return err_set (err, e, "read '%s/status'", dir);
      return err_set (err, 0,
                      "linux/%s executables need an emulator: binfmt_misc is "
                      "not mounted at %s; install qemu-user-static, then: "
                      "mount -t binfmt_misc binfmt_misc %s && %s",
                      arch, dir, RT_BINFMT_DIR, reg);
    }
  if (strncmp (status, "enabled", 7))
    return err_set (err, 0,
                    "linux/%s executables need an emulator: binfmt_misc is "
                    "disabled; echo 1 > %s/status",
                    arch, RT_BINFMT_DIR);
  elf_header (a, hdr);
  if (fs_dir_each (dirfd, ".", entry, &f, err) < 0)
    {
      err_wrap (err, "read '%s'", dir);
      goto out;
    }
  if (f.usable)
    ret = 0;
  else if (!f.name)
    err_set (err, 0,
             "linux/%s executables need an emulator: binfmt_misc has no "
             "handler for %s executables; install qemu-user-static, then: %s",
             arch, a->qemu, reg);
  else if (f.disabled)
    err_set (err, 0,
             "linux/%s executables need an emulator: binfmt_misc handler "
             "'%s' is disabled; echo 1 > %s/%s",
             arch, f.name, RT_BINFMT_DIR, f.name);
  else
    err_set (err, 0,
             "linux/%s executables need an emulator: binfmt_misc handler "
             "'%s' lacks the F flag, so the kernel would look for its "
             "interpreter '%s' inside the container's root, where it is "
             "not; register it with F: echo -1 > %s/%s && %s",
             arch, f.name, f.interp, RT_BINFMT_DIR, f.name, reg);
out:
  free (f.name);
  free (f.interp);
  return ret;
}

int
rt_binfmt_check (const char *os, const char *arch, struct err **err)
{
  struct platform host, want = { 0 };
  int fd = -1, ret = 0;
  if (!arch)
    return 0; /* an image that does not say: exec decides */
  platform_host (&host);
  want.os = xstrdup (os ? os : "linux");
  want.arch = xstrdup (arch);
  platform_normalize (&want);
  if (!native (host.arch, want.arch) || strcmp (want.os, "linux"))
    {
      fd = open (RT_BINFMT_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      /* a missing directory reads as an unmounted one */
      if (fd < 0 && errno != ENOENT)
        ret = err_set (err, errno, "open '%s'", RT_BINFMT_DIR);
      else
        ret = rt_binfmt_check_at (fd, RT_BINFMT_DIR, host.arch, want.os,
                                  want.arch, err);
    }
  if (fd >= 0)
    close (fd);
  platform_release (&host);
  platform_release (&want);
  return ret;
}
