/* Device cgroup rules, --device and the host's device nodes. See
 * runtime/devices.h. */
#include "runtime/devices.h"
#include "lib/err.h"
#include "lib/xalloc.h"
#include "runtime/runopts.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

/* The default allowlist: docker's plus runc's (runtime-security.md §5).
 * why: with CAP_MKNOD or a device node in the image, the device cgroup
 * is all that stops a container from opening the host's disks. */
static const char *const default_rules[] = {
  "c *:* m",      "b *:* m",   /* mknod of any node, open of none */
  "c 1:3 rwm",    "c 1:5 rwm", /* null zero */
  "c 1:7 rwm",    "c 1:8 rwm", /* full random */
  "c 1:9 rwm",    "c 5:0 rwm", /* urandom tty */
  "c 5:1 rwm",    "c 5:2 rwm", /* console ptmx */
  "c 136:* rwm",               /* pts */
  "c 10:200 rwm",              /* net/tun */
};

/* Walks deeper than this are not device trees. */
#define WALK_DEPTH 16

/* "rwm", each letter at most once, at least one: the RT_DEV_* bits, or 0. */
static unsigned
parse_access (const char *s, size_t len)
{
  unsigned a = 0;
  if (len == 0)
    return 0;
  for (size_t i = 0; i < len; i++)
    {
      unsigned bit = s[i] == 'r'   ? RT_DEV_READ
                     : s[i] == 'w' ? RT_DEV_WRITE
                     : s[i] == 'm' ? RT_DEV_MKNOD
                                   : 0;
      if (!bit || (a & bit))
        return 0;
      a |= bit;
    }
  return a;
}

/* A major or minor: "*" or a decimal number below 2^32. */
static const char *
parse_number (const char *s, int64_t *out)
{
  int64_t v = 0;
  if (*s == '*')
    {
      *out = RT_DEV_ANY;
      return s + 1;
    }
  if (*s < '0' || *s > '9')
    return NULL;
  for (; *s >= '0' && *s <= '9'; s++)
    if ((v = v * 10 + (*s - '0')) > UINT32_MAX)
      return NULL;
  *out = v;
  return s;
}

int
rt_device_rule_parse (const char *s, struct rt_device_rule *out,
                      struct err **err)
{
  const char *p = s;
  struct rt_device_rule r
      = { .major = RT_DEV_ANY, .minor = RT_DEV_ANY, .access = RT_DEV_RWM };
  if (!strcmp (s, "a"))
    {
      r.type = 'a';
      *out = r;
      return 0;
    }
  r.type = *p;
  if ((r.type != 'a' && r.type != 'c' && r.type != 'b') || p[1] != ' ')
    goto bad;
  p = parse_number (p + 2, &r.major);
  if (!p || *p != ':')
    goto bad;
  p = parse_number (p + 1, &r.minor);
  if (!p || *p != ' ' || !(r.access = parse_access (p + 1, strlen (p + 1))))
    goto bad;
  /* v1 has no rule for one number of every type */
  if (r.type == 'a' && (r.major != RT_DEV_ANY || r.minor != RT_DEV_ANY))
    goto bad;
  *out = r;
  return 0;
bad:
  return err_set (err, 0,
                  "invalid device rule '%s': expected TYPE "
                  "MAJOR:MINOR ACCESS (c 1:3 rwm, b *:* m) or a",
                  s);
}

const char *
rt_device_rule_format (const struct rt_device_rule *r,
                       char buf[static RT_DEVICE_RULE_LEN])
{
  char maj[16] = "*", min[16] = "*", acc[4];
  size_t n = 0;
  if (r->type == 'a')
    return strcpy (buf, "a");
  if (r->major != RT_DEV_ANY)
    snprintf (maj, sizeof maj, "%lld", (long long)r->major);
  if (r->minor != RT_DEV_ANY)
    snprintf (min, sizeof min, "%lld", (long long)r->minor);
  if (r->access & RT_DEV_READ)
    acc[n++] = 'r';
  if (r->access & RT_DEV_WRITE)
    acc[n++] = 'w';
  if (r->access & RT_DEV_MKNOD)
    acc[n++] = 'm';
  acc[n] = '\0';
  snprintf (buf, RT_DEVICE_RULE_LEN, "%c %s:%s %s", r->type, maj, min, acc);
  return buf;
}

size_t
rt_device_rules (bool privileged, const struct rt_device *devs, size_t n_devs,
                 struct rt_device_rule **out)
{
  size_t n = 0;
  struct rt_device_rule *r;
  if (privileged)
    {
      /* docker: "a *:* rwm", the host's devices are the container's */
      *out = xcalloc (1, sizeof **out);
      (*out)[0]
          = (struct rt_device_rule){ 'a', RT_DEV_ANY, RT_DEV_ANY, RT_DEV_RWM };
      return 1;
    }
  r = xcalloc (ARRAY_SIZE (default_rules) + n_devs, sizeof *r);
  for (size_t i = 0; i < ARRAY_SIZE (default_rules); i++)
    if (rt_device_rule_parse (default_rules[i], &r[n], NULL) == 0)
      n++;
    else
      abort (); /* the table above is wrong */
  for (size_t i = 0; i < n_devs; i++)
    r[n++] = (struct rt_device_rule){ devs[i].type, devs[i].major,
                                      devs[i].minor, devs[i].access };
  *out = r;
  return n;
}

bool
rt_device_rules_allow_all (const struct rt_device_rule *r, size_t n)
{
  for (size_t i = 0; i < n; i++)
    if (r[i].type == 'a' && r[i].major == RT_DEV_ANY && r[i].minor == RT_DEV_ANY
        && r[i].access == RT_DEV_RWM)
      return true;
  return false;
}

static void
add_device (const char *host, const char *path, const struct stat *st,
            unsigned access, struct rt_device **devs, size_t *n)
{
  struct rt_device *d;
  *devs = xrealloc (*devs, (*n + 1) * sizeof **devs);
  d = &(*devs)[(*n)++];
  *d = (struct rt_device){
    .host = xstrdup (host),
    .path = xstrdup (path),
    .type = S_ISBLK (st->st_mode) ? 'b' : 'c',
    .major = major (st->st_rdev),
    .minor = minor (st->st_rdev),
    .mode = st->st_mode & 07777,
    .uid = st->st_uid,
    .gid = st->st_gid,
    .access = access,
  };
}

static bool
skipped (const char *name, bool dir)
{
  static const char *const dirs[]
      = { "pts", "shm", "mqueue", "fd", ".lxc", ".lxd-mounts", ".udev" };
  if (!dir)
    return !strcmp (name, "console");
  for (size_t i = 0; i < ARRAY_SIZE (dirs); i++)
    if (!strcmp (name, dirs[i]))
      return true;
  return false;
}

/* The nodes in the directory fd (host path host, container path path). */
static void
walk (int fd, const char *host, const char *path, bool skip_special,
      unsigned access, int depth, struct rt_device **devs, size_t *n)
{
  DIR *d = fdopendir (fd);
  struct dirent *e;
  if (!d)
    {
      close (fd);
      return;
    }
  while ((e = readdir (d)))
    {
      struct stat st;
      _cleanup_free_ char *h = NULL, *p = NULL;
      if (!strcmp (e->d_name, ".") || !strcmp (e->d_name, ".."))
        continue;
      if (fstatat (dirfd (d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        continue;
      if (skip_special && skipped (e->d_name, S_ISDIR (st.st_mode)))
        continue;
      h = xasprintf ("%s/%s", host, e->d_name);
      p = xasprintf ("%s/%s", strcmp (path, "/") ? path : "", e->d_name);
      if (S_ISCHR (st.st_mode) || S_ISBLK (st.st_mode))
        add_device (h, p, &st, access, devs, n);
      else if (S_ISDIR (st.st_mode) && depth < WALK_DEPTH)
        {
          int sub = openat (dirfd (d), e->d_name,
                            O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
          if (sub >= 0)
            walk (sub, h, p, skip_special, access, depth + 1, devs, n);
        }
    }
  closedir (d);
}

int
rt_device_walk (const char *dir, const char *prefix, bool skip_special,
                unsigned access, struct rt_device **devs, size_t *n,
                struct err **err)
{
  int fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return err_set (err, errno, "open '%s'", dir);
  walk (fd, dir, prefix, skip_special, access, 0, devs, n);
  return 0;
}

int
rt_device_parse (const char *spec, struct rt_device **devs, size_t *n,
                 struct err **err)
{
  _cleanup_free_ char *copy = xstrdup (spec);
  _cleanup_free_ char *dst = NULL;
  char *part[4] = { NULL };
  size_t parts = 0;
  const char *src, *container = NULL;
  unsigned access = RT_DEV_RWM;
  size_t before = *n;
  struct stat st;

  for (char *s = copy; s && parts < 4; parts++)
    {
      part[parts] = s;
      if ((s = strchr (s, ':')))
        *s++ = '\0';
    }
  src = part[0];
  if (parts > 3 || !*src)
    {
      err_set (err, 0,
               "invalid --device '%s': expected "
               "HOST[:CONTAINER][:PERMISSIONS]",
               spec);
      return err_exit (err, 125);
    }
  /* docker: HOST:PERMS when the second part is a valid mode */
  if (parts == 2 && parse_access (part[1], strlen (part[1])))
    access = parse_access (part[1], strlen (part[1]));
  else if (parts >= 2)
    container = part[1];
  if (parts == 3 && !(access = parse_access (part[2], strlen (part[2]))))
    {
      err_set (err, 0,
               "invalid --device '%s': bad permissions '%s': a "
               "combination of r, w and m",
               spec, part[2]);
      return err_exit (err, 125);
    }
  if (!container)
    container = src;
  if (*container != '/')
    {
      err_set (err, 0, "invalid --device '%s': '%s' is not an absolute path",
               spec, container);
      return err_exit (err, 125);
    }
  dst = rt_path_clean (container);
  if (!strcmp (dst, "/"))
    {
      err_set (err, 0,
               "invalid --device '%s': the container path cannot be "
               "'/'",
               spec);
      return err_exit (err, 125);
    }
  /* a symlink to a device (/dev/disk/by-id/...) is its target, as docker */
  if (stat (src, &st) < 0)
    {
      err_set (err, errno, "--device '%s'", src);
      return err_exit (err, 125);
    }
  if (S_ISCHR (st.st_mode) || S_ISBLK (st.st_mode))
    {
      add_device (src, dst, &st, access, devs, n);
      return 0;
    }
  /* docker: a directory brings every device node below it */
  if (S_ISDIR (st.st_mode)
      && rt_device_walk (src, dst, false, access, devs, n, err) < 0)
    return err_exit (err, 125);
  if (*n == before)
    {
      err_set (err, 0, "--device '%s': %s", src,
               S_ISDIR (st.st_mode) ? "no device node in the directory"
                                    : "not a device node");
      return err_exit (err, 125);
    }
  return 0;
}
