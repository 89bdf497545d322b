/* Docker-format seccomp profiles (--security-opt seccomp=FILE): the JSON
 * that moby/profiles and containers/common ship, read with jansson into
 * the in-memory profile seccomp.c compiles. Unknown syscall names are left
 * to the compiler (it skips them, as docker does); everything else that is
 * not understood is an error naming the file and the entry. */
#include "runtime/seccomp_profile.h"
#include "runtime/security.h"

#include "lib/err.h"
#include "lib/fs.h"
#include "lib/xalloc.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <seccomp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROFILE_MAX_BYTES (4u << 20) /* docker's default is ~20 KiB */

/* What a parsed profile owns; profile.owner points here. */
struct owned
{
  json_t *doc; /* names point into its strings */
  struct rt_sc_rule *rules;
  struct rt_sc_archmap *archmap;
  const char ***names; /* one array per rule */
  size_t n_names;
};

static const struct
{
  const char *name;
  uint32_t bit;
} arch_names[] = {
  { "amd64", RT_SC_AMD64 },     { "x86_64", RT_SC_AMD64 },
  { "x86", RT_SC_X86 },         { "386", RT_SC_X86 },
  { "x32", RT_SC_X32 },         { "arm", RT_SC_ARM },
  { "arm64", RT_SC_ARM64 },     { "aarch64", RT_SC_ARM64 },
  { "ppc64le", RT_SC_PPC64LE }, { "s390", RT_SC_S390 },
  { "s390x", RT_SC_S390X },     { "riscv64", RT_SC_RISCV64 },
};

uint32_t
rt_sc_arch_bit (uint32_t a)
{
  switch (a)
    {
    case SCMP_ARCH_X86_64:
      return RT_SC_AMD64;
    case SCMP_ARCH_X86:
      return RT_SC_X86;
    case SCMP_ARCH_X32:
      return RT_SC_X32;
    case SCMP_ARCH_ARM:
      return RT_SC_ARM;
    case SCMP_ARCH_AARCH64:
      return RT_SC_ARM64;
    case SCMP_ARCH_PPC64LE:
      return RT_SC_PPC64LE;
    case SCMP_ARCH_S390:
      return RT_SC_S390;
    case SCMP_ARCH_S390X:
      return RT_SC_S390X;
    case SCMP_ARCH_RISCV64:
      return RT_SC_RISCV64;
    default:
      return RT_SC_OTHER;
    }
}

/* "SCMP_ARCH_X86_64" -> SCMP_ARCH_X86_64; 0 when libseccomp does not know
 * it (loongarch64 on libseccomp 2.5): such entries are skipped. */
static uint32_t
scmp_arch (const char *s)
{
  char buf[32];
  size_t i = 0;
  if (!strncmp (s, "SCMP_ARCH_", 10))
    s += 10;
  for (; s[i] && i < sizeof buf - 1; i++)
    buf[i] = (char)tolower ((unsigned char)s[i]);
  buf[i] = '\0';
  return seccomp_arch_resolve_name (buf);
}

static int
parse_action (const char *s, json_t *errno_ret, uint32_t *out)
{
  json_int_t e = errno_ret ? json_integer_value (errno_ret) : EPERM;
  if (e < 0 || e > 4095) /* the kernel's MAX_ERRNO */
    return -1;
  if (!strcmp (s, "SCMP_ACT_ALLOW"))
    *out = SCMP_ACT_ALLOW;
  else if (!strcmp (s, "SCMP_ACT_ERRNO"))
    *out = SCMP_ACT_ERRNO ((uint32_t)e);
  else if (!strcmp (s, "SCMP_ACT_KILL") || !strcmp (s, "SCMP_ACT_KILL_THREAD"))
    *out = SCMP_ACT_KILL_THREAD;
  else if (!strcmp (s, "SCMP_ACT_KILL_PROCESS"))
    *out = SCMP_ACT_KILL_PROCESS;
  else if (!strcmp (s, "SCMP_ACT_TRAP"))
    *out = SCMP_ACT_TRAP;
  else if (!strcmp (s, "SCMP_ACT_TRACE"))
    *out = SCMP_ACT_TRACE ((uint32_t)e);
  else if (!strcmp (s, "SCMP_ACT_LOG"))
    *out = SCMP_ACT_LOG;
  else
    return -1; /* SCMP_ACT_NOTIFY needs an agent imgtool does not have */
  return 0;
}

static int
parse_op (const char *s, int *op)
{
  static const struct
  {
    const char *name;
    int op;
  } ops[] = {
    { "SCMP_CMP_NE", SCMP_CMP_NE },
    { "SCMP_CMP_LT", SCMP_CMP_LT },
    { "SCMP_CMP_LE", SCMP_CMP_LE },
    { "SCMP_CMP_EQ", SCMP_CMP_EQ },
    { "SCMP_CMP_GE", SCMP_CMP_GE },
    { "SCMP_CMP_GT", SCMP_CMP_GT },
    { "SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ },
  };
  for (size_t i = 0; i < ARRAY_SIZE (ops); i++)
    if (!strcmp (s, ops[i].name))
      {
        *op = ops[i].op;
        return 0;
      }
  return -1;
}

static int fail (struct err **err, const char *path, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));

static int
fail (struct err **err, const char *path, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  char *msg = NULL;
  if (vasprintf (&msg, fmt, ap) < 0)
    msg = NULL;
  va_end (ap);
  err_set (err, 0, "seccomp profile '%s': %s", path, msg ? msg : fmt);
  free (msg);
  return -1;
}

/* includes/excludes: {"caps": [...], "arches": [...], "minKernel": "4.8"} */
static int
parse_filter (json_t *f, const char *path, size_t i, const char *what,
              uint64_t *caps, uint32_t *arches, const char **min_kernel,
              struct err **err)
{
  if (!f || json_is_null (f))
    return 0;
  if (!json_is_object (f))
    return fail (err, path, "syscalls[%zu]: %s is not an object", i, what);
  json_t *v;
  size_t k;
  json_array_foreach (json_object_get (f, "caps"), k, v)
  {
    int cap;
    struct err *e = NULL;
    if (!json_is_string (v))
      return fail (err, path, "syscalls[%zu]: %s.caps: not a string", i, what);
    if (rt_cap_parse (json_string_value (v), &cap, &e) < 0)
      {
        /* A capability this build does not know is never held. */
        err_free (e);
        cap = 62;
      }
    *caps |= UINT64_C (1) << cap;
  }
  json_array_foreach (json_object_get (f, "arches"), k, v)
  {
    if (!json_is_string (v))
      return fail (err, path, "syscalls[%zu]: %s.arches: not a string", i,
                   what);
    uint32_t bit = RT_SC_OTHER;
    for (size_t a = 0; a < ARRAY_SIZE (arch_names); a++)
      if (!strcmp (arch_names[a].name, json_string_value (v)))
        bit = arch_names[a].bit;
    *arches |= bit;
  }
  v = json_object_get (f, "minKernel");
  if (v && !json_is_null (v))
    {
      if (!json_is_string (v))
        return fail (err, path, "syscalls[%zu]: %s.minKernel: not a string", i,
                     what);
      *min_kernel = json_string_value (v);
    }
  return 0;
}

static int
parse_rule (json_t *sc, const char *path, size_t i, struct owned *o,
            struct rt_sc_rule *r, struct err **err)
{
  if (!json_is_object (sc))
    return fail (err, path, "syscalls[%zu]: not an object", i);

  /* names: ["a", "b"], or the old single "name": "a". */
  json_t *names = json_object_get (sc, "names");
  json_t *name = json_object_get (sc, "name");
  size_t n = json_is_array (names) ? json_array_size (names) : 0;
  const char **v = xcalloc (n + 2, sizeof *v);
  o->names[o->n_names++] = v;
  size_t k;
  json_t *e;
  json_array_foreach (names, k, e)
  {
    if (!json_is_string (e))
      return fail (err, path, "syscalls[%zu]: names[%zu] is not a string", i,
                   k);
    v[k] = json_string_value (e);
  }
  if (json_is_string (name))
    v[n++] = json_string_value (name);
  if (n == 0)
    return fail (err, path, "syscalls[%zu]: no syscall names", i);
  r->names = v;

  json_t *action = json_object_get (sc, "action");
  json_t *errno_ret = json_object_get (sc, "errnoRet");
  if (errno_ret && !json_is_integer (errno_ret))
    return fail (err, path, "syscalls[%zu]: errnoRet is not an integer", i);
  if (!json_is_string (action))
    return fail (err, path, "syscalls[%zu]: no action", i);
  if (parse_action (json_string_value (action), errno_ret, &r->action) < 0)
    return fail (err, path,
                 "syscalls[%zu]: unsupported action '%s' or errnoRet", i,
                 json_string_value (action));

  json_t *args = json_object_get (sc, "args");
  if (args && !json_is_null (args) && !json_is_array (args))
    return fail (err, path, "syscalls[%zu]: args is not an array", i);
  if (json_array_size (args) > RT_SC_MAX_ARGS)
    return fail (err, path, "syscalls[%zu]: more than %d args", i,
                 RT_SC_MAX_ARGS);
  json_array_foreach (args, k, e)
  {
    json_t *idx = json_object_get (e, "index");
    json_t *val = json_object_get (e, "value");
    json_t *val2 = json_object_get (e, "valueTwo");
    json_t *op = json_object_get (e, "op");
    struct rt_sc_arg *a = &r->args[k];
    if (!json_is_integer (idx) || json_integer_value (idx) < 0
        || json_integer_value (idx) >= RT_SC_MAX_ARGS)
      return fail (err, path, "syscalls[%zu]: args[%zu]: bad index", i, k);
    if (!json_is_integer (val) || (val2 && !json_is_integer (val2)))
      return fail (err, path, "syscalls[%zu]: args[%zu]: bad value", i, k);
    if (!json_is_string (op) || parse_op (json_string_value (op), &a->op) < 0)
      return fail (err, path, "syscalls[%zu]: args[%zu]: unknown op '%s'", i, k,
                   json_is_string (op) ? json_string_value (op) : "");
    a->index = (unsigned)json_integer_value (idx);
    /* JSON integers are signed 64-bit in jansson; values like
     * 18446744073709551615 do not fit and fail the parse above. */
    a->value = (uint64_t)json_integer_value (val);
    a->value_two = val2 ? (uint64_t)json_integer_value (val2) : 0;
    r->n_args++;
  }
  if (parse_filter (json_object_get (sc, "includes"), path, i, "includes",
                    &r->inc_caps, &r->inc_arches, &r->min_kernel, err)
      < 0)
    return -1;
  const char *exc_kernel = NULL;
  if (parse_filter (json_object_get (sc, "excludes"), path, i, "excludes",
                    &r->exc_caps, &r->exc_arches, &exc_kernel, err)
      < 0)
    return -1;
  return 0;
}

static int
parse_arches (json_t *doc, const char *path, struct owned *o,
              struct rt_sc_profile *out, struct err **err)
{
  json_t *map = json_object_get (doc, "archMap");
  json_t *list = json_object_get (doc, "architectures");
  size_t k, j;
  json_t *e, *s;
  if (json_is_array (map))
    {
      o->archmap = xcalloc (json_array_size (map) + 1, sizeof *o->archmap);
      json_array_foreach (map, k, e)
      {
        json_t *a = json_object_get (e, "architecture");
        if (!json_is_string (a))
          return fail (err, path, "archMap[%zu]: no architecture", k);
        struct rt_sc_archmap *m = &o->archmap[out->n_archmap];
        m->arch = scmp_arch (json_string_value (a));
        if (!m->arch)
          continue;
        size_t n = 0;
        json_array_foreach (json_object_get (e, "subArchitectures"), j, s)
        {
          uint32_t sub
              = json_is_string (s) ? scmp_arch (json_string_value (s)) : 0;
          if (sub && n < RT_SC_MAX_SUBARCH - 1)
            m->sub[n++] = sub;
        }
        out->n_archmap++;
      }
    }
  else if (json_is_array (list))
    {
      /* The old form: every listed arch goes in, whatever the native. */
      o->archmap = xcalloc (1, sizeof *o->archmap);
      o->archmap[0].arch = seccomp_arch_native ();
      size_t n = 0;
      json_array_foreach (list, k, s)
      {
        uint32_t a = json_is_string (s) ? scmp_arch (json_string_value (s)) : 0;
        if (a && a != o->archmap[0].arch && n < RT_SC_MAX_SUBARCH - 1)
          o->archmap[0].sub[n++] = a;
      }
      out->n_archmap = 1;
    }
  out->archmap = o->archmap;
  return 0;
}

int
rt_sc_profile_load (const char *path, struct rt_sc_profile *out,
                    struct err **err)
{
  memset (out, 0, sizeof *out);
  struct owned *o = xcalloc (1, sizeof *o);
  out->owner = o;

  json_error_t je;
  _cleanup_free_ char *text = NULL;
  size_t len = 0;
  if (fs_read_file (AT_FDCWD, path, PROFILE_MAX_BYTES, &text, &len, err) < 0)
    return err_wrap (err, "seccomp profile");
  o->doc = json_loadb (text, len, JSON_REJECT_DUPLICATES, &je);
  if (!o->doc)
    return fail (err, path, "line %d column %d: %s", je.line, je.column,
                 je.text);
  if (!json_is_object (o->doc))
    return fail (err, path, "not a JSON object");

  json_t *da = json_object_get (o->doc, "defaultAction");
  json_t *der = json_object_get (o->doc, "defaultErrnoRet");
  if (der && !json_is_integer (der))
    return fail (err, path, "defaultErrnoRet is not an integer");
  if (!json_is_string (da))
    return fail (err, path, "no defaultAction");
  if (parse_action (json_string_value (da), der, &out->default_action) < 0)
    return fail (err, path, "unsupported defaultAction '%s' or errnoRet",
                 json_string_value (da));

  if (parse_arches (o->doc, path, o, out, err) < 0)
    return -1;

  json_t *scs = json_object_get (o->doc, "syscalls");
  if (scs && !json_is_null (scs) && !json_is_array (scs))
    return fail (err, path, "syscalls is not an array");
  size_t n = json_array_size (scs);
  o->rules = xcalloc (n + 1, sizeof *o->rules);
  o->names = xcalloc (n + 1, sizeof *o->names);
  size_t i;
  json_t *sc;
  json_array_foreach (scs, i, sc)
  {
    if (parse_rule (sc, path, i, o, &o->rules[i], err) < 0)
      return -1;
  }
  out->rules = o->rules;
  out->n_rules = n;
  return 0;
}

void
rt_sc_profile_release (struct rt_sc_profile *prof)
{
  struct owned *o = prof->owner;
  if (!o)
    return;
  for (size_t i = 0; i < o->n_names; i++)
    free (o->names[i]);
  free (o->names);
  free (o->rules);
  free (o->archmap);
  if (o->doc)
    json_decref (o->doc);
  free (o);
  memset (prof, 0, sizeof *prof);
}
