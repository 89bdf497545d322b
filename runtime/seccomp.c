/* seccomp-bpf: compile a profile (seccomp_default.c or a docker-format
 * JSON file) for the container's capabilities and architecture with
 * libseccomp, export the BPF, and load it with seccomp(2).
 *
 * Building a ~400-rule, three-architecture filter is the expensive part
 * (see docs/performance.md), so the program is compiled in the parent by
 * rt_seccomp_prepare() into a program the caller passes on, cached on disk
 * keyed by everything that shapes it, and the child only makes one seccomp(2)
 * call. */
#include "runtime/seccomp_profile.h"
#include "runtime/security.h"

#include "layers/digest.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/log.h"
#include "lib/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

/* Bump when the compiler's output changes for the same input. */
#define CACHE_FORMAT "imgtool-seccomp-bpf-2"

static bool
is_unconfined (const struct rt_plan *p)
{
  /* --privileged turns seccomp off, as docker and podman. */
  return p->privileged
         || (p->seccomp_profile && !strcmp (p->seccomp_profile, "unconfined"));
}

/* "6.18.44-fc" >= "4.8"? */
static bool
kernel_at_least (const char *min)
{
  static int major = -1, minor;
  if (major < 0)
    {
      struct utsname u;
      if (uname (&u) < 0 || sscanf (u.release, "%d.%d", &major, &minor) != 2)
        major = minor = 0;
    }
  int want_major = 0, want_minor = 0;
  if (sscanf (min, "%d.%d", &want_major, &want_minor) < 1)
    return false;
  return major > want_major || (major == want_major && minor >= want_minor);
}

static bool
rule_applies (const struct rt_sc_rule *r, uint64_t caps, uint32_t arch)
{
  if ((r->inc_caps & caps) != r->inc_caps)
    return false;
  if (r->exc_caps & caps)
    return false;
  if (r->inc_arches && !(r->inc_arches & arch))
    return false;
  if (r->exc_arches & arch)
    return false;
  if (r->min_kernel && !kernel_at_least (r->min_kernel))
    return false;
  return true;
}

static int
add_rule (scmp_filter_ctx ctx, const struct rt_sc_rule *r, const char *name,
          int nr, struct err **err)
{
  struct scmp_arg_cmp cmp[RT_SC_MAX_ARGS];
  bool same_index = false;
  for (unsigned i = 0; i < r->n_args; i++)
    {
      cmp[i] = (struct scmp_arg_cmp){ r->args[i].index,
                                      (enum scmp_compare)r->args[i].op,
                                      r->args[i].value, r->args[i].value_two };
      for (unsigned j = 0; j < i; j++)
        same_index |= r->args[j].index == r->args[i].index;
    }
  int rc;
  if (!same_index)
    rc = seccomp_rule_add_array (ctx, r->action, nr, r->n_args, cmp);
  else
    /* libseccomp cannot AND two comparisons of one argument; runc adds
     * them as separate rules (ORed), and so do we. */
    for (unsigned i = 0; i < r->n_args; i++)
      if ((rc = seccomp_rule_add_array (ctx, r->action, nr, 1, &cmp[i])) < 0)
        break;
  if (rc < 0)
    return err_set (err, -rc, "seccomp rule for '%s'", name);
  return 0;
}

static int
build_ctx (const struct rt_sc_profile *prof, uint64_t caps,
           scmp_filter_ctx *out, struct err **err)
{
  scmp_filter_ctx ctx = seccomp_init (prof->default_action);
  if (!ctx)
    return err_set (err, 0, "seccomp: cannot create a filter");
  /* runtime-core sets no_new_privs itself, as the plan says. */
  seccomp_attr_set (ctx, SCMP_FLTATR_CTL_NNP, 0);
  /* A binary tree of syscall numbers, not a linear list: the kernel runs
   * the filter for every syscall number when it loads it (to build its
   * allow cache), and that took 0.76 ms per start with the linear form
   * against 0.30 ms with the tree (measured here, docs/security.md). */
  seccomp_attr_set (ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);

  uint32_t native = seccomp_arch_native ();
  for (size_t i = 0; i < prof->n_archmap; i++)
    {
      if (prof->archmap[i].arch != native)
        continue;
      for (size_t j = 0; j < RT_SC_MAX_SUBARCH && prof->archmap[i].sub[j]; j++)
        {
          int rc = seccomp_arch_add (ctx, prof->archmap[i].sub[j]);
          if (rc < 0 && rc != -EEXIST)
            {
              seccomp_release (ctx);
              return err_set (err, -rc, "seccomp: add a sub-architecture");
            }
        }
      break;
    }

  uint32_t arch = rt_sc_arch_bit (native);
  for (size_t i = 0; i < prof->n_rules; i++)
    {
      const struct rt_sc_rule *r = &prof->rules[i];
      /* libseccomp refuses a rule equal to the default action (EACCES);
       * such a rule changes nothing, so skip it (runc does too). */
      if (r->action == prof->default_action || !rule_applies (r, caps, arch))
        continue;
      for (size_t k = 0; r->names[k]; k++)
        {
          int nr = seccomp_syscall_resolve_name (r->names[k]);
          if (nr == __NR_SCMP_ERROR)
            {
              /* Newer than this libseccomp: it keeps the default action
               * (ENOSYS for ours), as docker does. */
              log_debug ("seccomp: unknown syscall '%s' skipped", r->names[k]);
              continue;
            }
          if (add_rule (ctx, r, r->names[k], nr, err) < 0)
            {
              seccomp_release (ctx);
              return -1;
            }
        }
    }
  *out = ctx;
  return 0;
}

/* Compile to BPF instructions. */
static int
compile (const struct rt_sc_profile *prof, uint64_t caps,
         struct sock_filter **insns, size_t *n, struct err **err)
{
  scmp_filter_ctx ctx = NULL;
  if (build_ctx (prof, caps, &ctx, err) < 0)
    return -1;
  _cleanup_close_ int fd = memfd_create ("seccomp-bpf", MFD_CLOEXEC);
  if (fd < 0)
    {
      seccomp_release (ctx);
      return err_set (err, errno, "seccomp: memfd");
    }
  int rc = seccomp_export_bpf (ctx, fd);
  seccomp_release (ctx);
  if (rc < 0)
    return err_set (err, -rc, "seccomp: export the filter");
  off_t size = lseek (fd, 0, SEEK_END);
  if (size <= 0 || size % (off_t)sizeof (struct sock_filter)
      || size > (off_t)(BPF_MAXINSNS * sizeof (struct sock_filter)))
    return err_set (err, 0, "seccomp: filter of %lld bytes", (long long)size);
  *insns = xmalloc ((size_t)size);
  if (pread (fd, *insns, (size_t)size, 0) != size)
    {
      free (*insns);
      return err_set (err, errno, "seccomp: read the filter back");
    }
  *n = (size_t)size / sizeof (struct sock_filter);
  return 0;
}

static int
load_profile (const struct rt_plan *p, struct rt_sc_profile *prof,
              struct err **err)
{
  if (!p->seccomp_profile || !*p->seccomp_profile)
    {
      *prof = rt_sc_default_profile;
      prof->owner = NULL;
      return 0;
    }
  return rt_sc_profile_load (p->seccomp_profile, prof, err);
}

/* A stable serialisation of what shapes the program, for the cache key. */
static void
hash_str (struct digester *d, const char *s)
{
  digester_update (d, s ? s : "", s ? strlen (s) + 1 : 1);
}

static void
cache_key (const struct rt_sc_profile *prof, uint64_t caps,
           char out[DIGEST_STR_LEN + 1])
{
  struct digester d;
  digester_init (&d);
  const struct scmp_version *v = seccomp_version ();
  struct utsname u;
  memset (&u, 0, sizeof u);
  uname (&u);
  char head[256];
  snprintf (head, sizeof head, "%s %u.%u.%u %s %u %016llx", CACHE_FORMAT,
            v->major, v->minor, v->micro, u.release, seccomp_arch_native (),
            (unsigned long long)caps);
  hash_str (&d, head);
  digester_update (&d, &prof->default_action, sizeof prof->default_action);
  for (size_t i = 0; i < prof->n_archmap; i++)
    digester_update (&d, &prof->archmap[i], sizeof prof->archmap[i]);
  for (size_t i = 0; i < prof->n_rules; i++)
    {
      const struct rt_sc_rule *r = &prof->rules[i];
      for (size_t k = 0; r->names[k]; k++)
        hash_str (&d, r->names[k]);
      char line[128];
      snprintf (line, sizeof line, "|%x %u %llx %llx %x %x|", r->action,
                r->n_args, (unsigned long long)r->inc_caps,
                (unsigned long long)r->exc_caps, r->inc_arches, r->exc_arches);
      hash_str (&d, line);
      hash_str (&d, r->min_kernel);
      for (unsigned a = 0; a < r->n_args; a++)
        {
          snprintf (line, sizeof line, "%u %d %llx %llx", r->args[a].index,
                    r->args[a].op, (unsigned long long)r->args[a].value,
                    (unsigned long long)r->args[a].value_two);
          hash_str (&d, line);
        }
    }
  digester_final (&d, out);
  digester_release (&d);
}

/* The cache lives in the store (root's, 0700 directories): a program read
 * from it is trusted as the store's blobs are. */
static int
cache_read (int dirfd, const char *name, struct sock_filter **insns, size_t *n)
{
  char *buf = NULL;
  size_t len = 0;
  struct err *e = NULL;
  if (fs_read_file (dirfd, name, BPF_MAXINSNS * sizeof (struct sock_filter),
                    &buf, &len, &e)
      < 0)
    {
      err_free (e);
      return -1;
    }
  if (len == 0 || len % sizeof (struct sock_filter))
    {
      free (buf);
      return -1;
    }
  *insns = (struct sock_filter *)buf;
  *n = len / sizeof (struct sock_filter);
  return 0;
}

static int
make_program (const struct rt_plan *p, const char *cache_dir,
              struct sock_filter **insns, size_t *n, struct err **err)
{
  struct rt_sc_profile prof;
  if (load_profile (p, &prof, err) < 0)
    {
      rt_sc_profile_release (&prof);
      return -1;
    }
  uint64_t caps = rt_caps_for_plan (p);
  char key[DIGEST_STR_LEN + 1], name[DIGEST_STR_LEN + 16];
  _cleanup_close_ int dirfd = -1;
  if (cache_dir)
    {
      cache_key (&prof, caps, key);
      snprintf (name, sizeof name, "seccomp-%s.bpf", digest_hex (key));
      struct err *e = NULL;
      if (fs_mkdir_p (AT_FDCWD, cache_dir, 0700, &e) == 0)
        dirfd = fs_open_dir (AT_FDCWD, cache_dir, &e);
      if (dirfd < 0)
        {
          log_debug ("seccomp cache: %s", e ? e->msg : "?");
          err_free (e);
        }
      if (dirfd >= 0 && cache_read (dirfd, name, insns, n) == 0)
        {
          rt_sc_profile_release (&prof);
          return 0;
        }
    }
  int rc = compile (&prof, caps, insns, n, err);
  rt_sc_profile_release (&prof);
  if (rc < 0)
    {
      if (p->seccomp_profile && *p->seccomp_profile)
        err_wrap (err, "seccomp profile '%s'", p->seccomp_profile);
      return -1;
    }
  if (dirfd >= 0)
    {
      /* A cache that cannot be written only costs time. */
      struct err *e = NULL;
      if (fs_write_file_atomic (dirfd, name, *insns,
                                *n * sizeof (struct sock_filter), 0600, &e)
          < 0)
        {
          log_debug ("seccomp cache: %s", e->msg);
          err_free (e);
        }
    }
  return 0;
}

int
rt_seccomp_prepare (const struct rt_plan *p, const char *cache_dir,
                    struct rt_seccomp_prog *out, struct err **err)
{
  memset (out, 0, sizeof *out);
  if (is_unconfined (p))
    return 0;
  return make_program (p, cache_dir, &out->insns, &out->n, err);
}

void
rt_seccomp_prog_release (struct rt_seccomp_prog *prog)
{
  free (prog->insns);
  memset (prog, 0, sizeof *prog);
}

int
rt_seccomp_install (const struct rt_plan *p, const struct rt_seccomp_prog *pre,
                    struct err **err)
{
  if (is_unconfined (p))
    return 0;
  _cleanup_free_ struct sock_filter *own = NULL;
  struct sock_filter *insns = pre ? pre->insns : NULL;
  size_t n = pre ? pre->n : 0;
  if (!insns)
    {
      if (make_program (p, NULL, &own, &n, err) < 0)
        return -1;
      insns = own;
    }
  struct sock_fprog prog = { .len = (unsigned short)n, .filter = insns };
  if (syscall (SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0)
    {
      if (errno == EACCES)
        return err_set (err, errno,
                        "load the seccomp filter (without no_new_privs it "
                        "must be loaded while CAP_SYS_ADMIN is held)");
      return err_set (err, errno, "load the seccomp filter");
    }
  return 0;
}
