/* Mount specs as docker reads them: -v (moby's Linux ParseMountRaw),
 * --mount (docker/cli's opts/mount.go, then the daemon's checks), --tmpfs,
 * and the image's VOLUME entries. Pure parsing into struct rt_mount; the
 * volumes named here are made when the container is created
 * (service/volumes.c). Errors: one line, exit status 125. */
#include "lib/err.h"
#include "lib/strbuf.h"
#include "lib/xalloc.h"
#include "runtime/runopts.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define BAD(...) (err_set (err, 0, __VA_ARGS__), err_exit (err, 125))

static const char *const propagations[]
    = { "private", "rprivate", "shared", "rshared", "slave", "rslave" };

static bool
is_propagation (const char *s)
{
  for (size_t i = 0; i < ARRAY_SIZE (propagations); i++)
    if (!strcmp (s, propagations[i]))
      return true;
  return false;
}

/* docker's daemon-side checks of a target, with its prefix. */
static int
check_target (const char *type, const char *dst, struct err **err)
{
  if (*dst != '/')
    return BAD ("invalid mount config for type \"%s\": invalid mount path: "
                "'%s' mount path must be absolute",
                type, dst);
  if (!strcmp (dst, "/") || strspn (dst, "/") == strlen (dst))
    return BAD ("invalid mount config for type \"%s\": invalid specification: "
                "destination can't be '/'",
                type);
  return 0;
}

/* -v's MODE: a comma list with at most one word of each group (moby's
 * linuxValidMountMode). Fills the read-only bit, nocopy and the
 * propagation. */
static bool
parse_mode (const char *mode, struct rt_mount *m)
{
  static const char *const groups[][6] = {
    { "rw", "ro" },
    { "z", "Z" },
    { "private", "rprivate", "shared", "rshared", "slave", "rslave" },
    { "nocopy" },
    { "consistent", "cached", "delegated" },
  };
  unsigned seen[ARRAY_SIZE (groups)] = { 0 };
  _cleanup_free_ char *copy = xstrdup (mode);
  char *save = NULL;
  if (!*mode)
    return true;
  for (char *w = strtok_r (copy, ",", &save); w;
       w = strtok_r (NULL, ",", &save))
    {
      bool known = false;
      for (size_t g = 0; g < ARRAY_SIZE (groups) && !known; g++)
        for (size_t k = 0; k < 6 && groups[g][k]; k++)
          if (!strcmp (w, groups[g][k]))
            {
              if (seen[g]++)
                return false;
              known = true;
              if (!strcmp (w, "ro"))
                m->readonly = true;
              else if (!strcmp (w, "nocopy"))
                m->nocopy = true;
              else if (g == 2)
                m->propagation = xstrdup (w);
              break;
            }
      if (!known)
        return false;
    }
  /* an empty word (",ro") is refused by docker too */
  return mode[0] != ',' && mode[strlen (mode) - 1] != ','
         && !strstr (mode, ",,");
}

int
rt_volume_parse (const char *spec, struct rt_mount *out, struct err **err)
{
  _cleanup_free_ char *copy = xstrdup (spec);
  char *f[3] = { 0 }, *c;
  size_t n = 0;

  memset (out, 0, sizeof *out);
  for (const char *q = spec; (q = strchr (q, ':')); q++)
    n++;
  if (n > 2 || !*spec || *spec == ':')
    return BAD ("invalid volume specification: '%s'", spec);
  n = 0;
  for (char *p = copy; p; p = c)
    {
      c = strchr (p, ':');
      if (c)
        *c++ = '\0';
      f[n++] = p;
    }
  if (n == 1) /* DST: an anonymous volume */
    {
      if (check_target ("volume", f[0], err) < 0)
        return -1;
      out->kind = RT_MOUNT_VOLUME;
      out->anonymous = true;
      out->destination = rt_path_clean (f[0]);
      out->mode = xstrdup ("");
      return 0;
    }
  if (n == 2 && parse_mode (f[1], out))
    {
      /* DST:MODE is not a volume (moby: /foo:ro) */
      rt_mount_release (out);
      return BAD ("invalid volume specification: '%s'", spec);
    }
  rt_mount_release (out);
  if (n == 3 && !parse_mode (f[2], out))
    {
      rt_mount_release (out);
      return BAD ("invalid mode: %s", f[2]);
    }
  out->kind = *f[0] == '/' ? RT_MOUNT_BIND : RT_MOUNT_VOLUME;
  if (check_target (out->kind == RT_MOUNT_BIND ? "bind" : "volume", f[1], err)
      < 0)
    {
      rt_mount_release (out);
      return -1;
    }
  out->destination = rt_path_clean (f[1]);
  out->mode = xstrdup (n == 3 ? f[2] : "");
  if (out->kind == RT_MOUNT_BIND)
    {
      if (out->nocopy)
        {
          rt_mount_release (out);
          return BAD ("invalid mount config for type \"bind\": field "
                      "VolumeOptions must not be specified");
        }
      out->source = rt_path_clean (f[0]);
      if (!out->propagation)
        out->propagation = xstrdup ("rprivate"); /* docker's default */
    }
  else
    {
      out->name = xstrdup (f[0]);
      /* moby's setBindModeIfNull for the local driver */
      if (!*out->mode)
        {
          free (out->mode);
          out->mode = xstrdup ("z");
        }
    }
  return 0;
}

int
rt_tmpfs_parse (const char *spec, struct rt_mount *out, struct err **err)
{
  _cleanup_free_ char *copy = xstrdup (spec);
  char *opts = strchr (copy, ':'), *save = NULL;
  struct strbuf sb = STRBUF_INIT;

  memset (out, 0, sizeof *out);
  if (opts)
    *opts++ = '\0';
  if (check_target ("tmpfs", copy, err) < 0)
    return -1;
  for (char *o = opts ? strtok_r (opts, ",", &save) : NULL; o;
       o = strtok_r (NULL, ",", &save))
    {
      if (!strcmp (o, "ro"))
        out->readonly = true;
      else if (!strcmp (o, "rw"))
        out->readonly = false;
      else
        {
          if (sb.len)
            strbuf_addch (&sb, ',');
          strbuf_addstr (&sb, o);
        }
    }
  out->kind = RT_MOUNT_TMPFS;
  out->destination = rt_path_clean (copy);
  out->options = sb.len ? strbuf_detach (&sb, NULL) : NULL;
  strbuf_release (&sb);
  return 0;
}

/* -------- --mount -------- */

/* One CSV record (Go's encoding/csv: fields split on ',', a field that
 * starts with '"' is quoted, "" inside it is a quote). NULL when a quote
 * is not closed. */
static char **
csv_fields (const char *s)
{
  char **v = NULL;
  struct strbuf sb = STRBUF_INIT;
  for (;;)
    {
      strbuf_reset (&sb);
      if (*s == '"')
        {
          for (s++;; s++)
            {
              if (!*s)
                {
                  strbuf_release (&sb);
                  strv_free (v);
                  return NULL;
                }
              if (*s == '"' && s[1] == '"')
                strbuf_addch (&sb, *s++);
              else if (*s == '"')
                break;
              else
                strbuf_addch (&sb, *s);
            }
          s++;
          if (*s && *s != ',')
            {
              strbuf_release (&sb);
              strv_free (v);
              return NULL;
            }
        }
      else
        {
          size_t n = strcspn (s, ",");
          strbuf_add (&sb, s, n);
          s += n;
        }
      strv_push (&v, xstrdup (sb.buf ? sb.buf : ""));
      if (!*s)
        break;
      s++;
    }
  strbuf_release (&sb);
  return v;
}

/* docker/cli's parseBoolValue: a bare key is true. */
static int
mount_bool (const char *key, const char *val, bool *out, struct err **err)
{
  if (!val || !strcmp (val, "1") || !strcmp (val, "true"))
    *out = true;
  else if (!strcmp (val, "0") || !strcmp (val, "false"))
    *out = false;
  else
    return err_set (err, 0,
                    "invalid value for '%s': invalid boolean value (\"%s\"): "
                    "must be one of \"true\", \"1\", \"false\", or \"0\" "
                    "(default \"true\")",
                    key, val);
  return 0;
}

/* What one --mount gives before its checks. */
struct mount_spec
{
  char *type, *source, *target, *propagation, *tmpfs;
  bool readonly, nocopy, has_bind, has_volume, has_tmpfs;
  char **volume_labels;
};

static void
mount_spec_release (struct mount_spec *s)
{
  free (s->type);
  free (s->source);
  free (s->target);
  free (s->propagation);
  free (s->tmpfs);
  strv_free (s->volume_labels);
}

static void
set_str (char **dst, const char *v)
{
  free (*dst);
  *dst = xstrdup (v);
}

static void
add_tmpfs_opt (struct mount_spec *s, const char *kv)
{
  char *t = s->tmpfs ? xasprintf ("%s,%s", s->tmpfs, kv) : xstrdup (kv);
  free (s->tmpfs);
  s->tmpfs = t;
}

/* One key=value field into s (docker/cli's MountOpt.Set). */
static int
mount_field (struct mount_spec *s, const char *field, struct err **err)
{
  const char *eq = strchr (field, '=');
  _cleanup_free_ char *key
      = eq ? xstrndup (field, (size_t)(eq - field)) : xstrdup (field);
  const char *val = eq ? eq + 1 : NULL;
  for (char *k = key; *k; k++)
    *k = (char)tolower ((unsigned char)*k);
  if (!val && strcmp (key, "readonly") && strcmp (key, "ro")
      && strcmp (key, "volume-nocopy"))
    return err_set (err, 0, "invalid field '%s' must be a key=value pair",
                    field);
  if (val && !*val)
    return err_set (err, 0, "invalid value for '%s': value is empty", key);
  if (!strcmp (key, "type"))
    {
      set_str (&s->type, val);
      for (char *t = s->type; *t; t++)
        *t = (char)tolower ((unsigned char)*t);
    }
  else if (!strcmp (key, "source") || !strcmp (key, "src"))
    {
      /* the client makes ./x absolute */
      if (!strcmp (val, ".") || !strncmp (val, "./", 2))
        {
          char cwd[4096];
          _cleanup_free_ char *abs = NULL;
          if (!getcwd (cwd, sizeof cwd))
            return err_set (err, errno, "getcwd");
          abs = xasprintf ("%s/%s", cwd, val);
          free (s->source);
          s->source = rt_path_clean (abs);
        }
      else
        set_str (&s->source, val);
    }
  else if (!strcmp (key, "target") || !strcmp (key, "dst")
           || !strcmp (key, "destination"))
    set_str (&s->target, val);
  else if (!strcmp (key, "readonly") || !strcmp (key, "ro"))
    return mount_bool (key, val, &s->readonly, err);
  else if (!strcmp (key, "volume-nocopy"))
    {
      s->has_volume = true;
      return mount_bool (key, val, &s->nocopy, err);
    }
  else if (!strcmp (key, "volume-label"))
    {
      s->has_volume = true;
      strv_push (&s->volume_labels, xstrdup (val));
    }
  else if (!strcmp (key, "bind-propagation"))
    {
      s->has_bind = true;
      set_str (&s->propagation, val);
      for (char *t = s->propagation; *t; t++)
        *t = (char)tolower ((unsigned char)*t);
    }
  else if (!strcmp (key, "tmpfs-size"))
    {
      int64_t size;
      struct err *e = NULL;
      if (rt_parse_size (val, &size, &e) < 0)
        {
          err_free (e);
          return err_set (err, 0, "invalid value for '%s': %s", key, val);
        }
      s->has_tmpfs = true;
      _cleanup_free_ char *kv = xasprintf ("size=%lld", (long long)size);
      add_tmpfs_opt (s, kv);
    }
  else if (!strcmp (key, "tmpfs-mode"))
    {
      char *end;
      unsigned long mode;
      errno = 0;
      mode = strtoul (val, &end, 8);
      if (errno || *end || *val == '-' || *val == '+' || mode > 07777)
        return err_set (err, 0, "invalid value for '%s': %s", key, val);
      s->has_tmpfs = true;
      _cleanup_free_ char *kv = xasprintf ("mode=%lo", mode);
      add_tmpfs_opt (s, kv);
    }
  else
    return err_set (err, 0, "unknown option '%s' in '%s'", key, field);
  return 0;
}

/* The client's cross-type checks, then the daemon's (moby
 * daemon/volume/mounts), into out. */
static int
mount_check (struct mount_spec *s, struct rt_mount *out, struct err **err)
{
  const char *type = s->type ? s->type : "volume";
  static const char *const kinds[] = { "bind", "volume", "tmpfs" };
  const bool opts[] = { s->has_bind, s->has_volume, s->has_tmpfs };
  bool known = false;
  if (!s->target)
    return err_set (err, 0, "target is required");
  for (size_t i = 0; i < ARRAY_SIZE (kinds); i++)
    {
      if (opts[i] && strcmp (type, kinds[i]))
        return err_set (err, 0,
                        "cannot mix '%s-*' options with mount type '%s'",
                        kinds[i], type);
      known = known || !strcmp (type, kinds[i]);
    }
  if (!known)
    return err_set (err, 0,
                    "invalid mount config for type \"%s\": mount type unknown",
                    type);
  if (check_target (type, s->target, err) < 0)
    return -1;
  memset (out, 0, sizeof *out);
  out->readonly = s->readonly;
  out->destination = rt_path_clean (s->target);
  out->mode = xstrdup ("");
  if (!strcmp (type, "bind"))
    {
      struct stat st;
      if (!s->source)
        return err_set (err, 0,
                        "invalid mount config for type \"bind\": field Source "
                        "must not be empty");
      if (*s->source != '/')
        return err_set (err, 0,
                        "invalid mount config for type \"bind\": invalid "
                        "mount path: '%s' mount path must be absolute",
                        s->source);
      if (s->propagation && !is_propagation (s->propagation))
        return err_set (err, 0,
                        "invalid mount config for type \"bind\": invalid "
                        "propagation mode: %s",
                        s->propagation);
      /* --mount, unlike -v, does not make a missing source */
      if (stat (s->source, &st) < 0)
        return err_set (err, 0,
                        "invalid mount config for type \"bind\": bind source "
                        "path does not exist: %s",
                        s->source);
      out->kind = RT_MOUNT_BIND;
      out->source = rt_path_clean (s->source);
      out->propagation = xstrdup (s->propagation ? s->propagation : "rprivate");
    }
  else if (!strcmp (type, "volume"))
    {
      out->kind = RT_MOUNT_VOLUME;
      out->name = s->source ? xstrdup (s->source) : NULL;
      out->anonymous = !s->source;
      out->nocopy = s->nocopy;
      /* labels of a volume made here */
      for (size_t i = 0; s->volume_labels && s->volume_labels[i]; i++)
        strv_push (&out->labels, xstrdup (s->volume_labels[i]));
    }
  else
    {
      if (s->source)
        return err_set (err, 0,
                        "invalid mount config for type \"tmpfs\": field Source "
                        "must not be specified");
      out->kind = RT_MOUNT_TMPFS;
      out->options = s->tmpfs ? xstrdup (s->tmpfs) : NULL;
    }
  return 0;
}

int
rt_mount_opt_parse (const char *spec, struct rt_mount *out, struct err **err)
{
  struct mount_spec s = { 0 };
  char **fields = csv_fields (spec);
  int r = 0;
  memset (out, 0, sizeof *out);
  if (!fields)
    r = err_set (err, 0, "unterminated quote");
  for (size_t i = 0; r == 0 && fields[i]; i++)
    r = mount_field (&s, fields[i], err);
  if (r == 0)
    r = mount_check (&s, out, err);
  strv_free (fields);
  mount_spec_release (&s);
  if (r < 0)
    {
      rt_mount_release (out);
      err_wrap (err, "invalid argument \"%s\" for \"--mount\" flag", spec);
      return err_exit (err, 125);
    }
  return 0;
}

void
rt_mounts_add_image_volumes (struct rt_mount **mounts, size_t *n,
                             char *const *volumes)
{
  for (size_t i = 0; volumes && volumes[i]; i++)
    {
      _cleanup_free_ char *dst = NULL;
      bool taken = false;
      /* a relative VOLUME is taken from / (docker) */
      if (*volumes[i] != '/')
        dst = xasprintf ("/%s", volumes[i]);
      else
        dst = xstrdup (volumes[i]);
      char *clean = rt_path_clean (dst);
      for (size_t k = 0; k < *n && !taken; k++)
        taken = !strcmp ((*mounts)[k].destination, clean);
      if (taken || !strcmp (clean, "/"))
        {
          free (clean);
          continue;
        }
      *mounts = xrealloc (*mounts, (*n + 1) * sizeof **mounts);
      (*mounts)[*n] = (struct rt_mount){ .kind = RT_MOUNT_VOLUME,
                                         .destination = clean,
                                         .anonymous = true,
                                         .mode = xstrdup ("") };
      (*n)++;
    }
}
