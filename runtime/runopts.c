/* Option values of run/create/exec, parsed as docker parses them. */
#include "runtime/runopts.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/strbuf.h"
#include "lib/xalloc.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Bigger env files are not plausible. */
#define ENV_FILE_MAX (4u << 20)

int
rt_parse_size (const char *s, int64_t *out, struct err **err)
{
  const char *p = s;
  const char *units = "kmgtp";
  long double v = 0, scale = 1, frac = 0.1L;
  bool digits = false;
  char u;

  while (isdigit ((unsigned char)*p))
    {
      v = v * 10 + (*p++ - '0');
      digits = true;
    }
  if (!digits)
    return err_fail (err, 125, "invalid size '%s'", s);
  if (*p == '.')
    {
      p++;
      if (!isdigit ((unsigned char)*p))
        return err_fail (err, 125, "invalid size '%s'", s);
      while (isdigit ((unsigned char)*p))
        {
          v += frac * (*p++ - '0');
          frac /= 10;
        }
    }
  if (*p == ' ')
    p++;
  u = (char)tolower ((unsigned char)*p);
  if (u && strchr (units, u))
    {
      for (const char *q = units; *q; q++)
        {
          scale *= 1024;
          if (*q == u)
            break;
        }
      p++;
      if (*p == 'i' || *p == 'I')
        p++;
    }
  if (*p == 'b' || *p == 'B')
    p++;
  if (*p)
    return err_fail (err, 125, "invalid size '%s'", s);
  v *= scale;
  if (v >= (long double)INT64_MAX)
    return err_fail (err, 125, "invalid size '%s': too large", s);
  *out = (int64_t)v;
  return 0;
}

int
rt_parse_int (const char *s, const char *what, int64_t *out, struct err **err)
{
  char *end;
  long long v;
  errno = 0;
  v = strtoll (s, &end, 10);
  if (!*s || *end || errno || isspace ((unsigned char)*s))
    {
      err_set (err, 0, "invalid value '%s' for %s: not an integer", s, what);
      return err_exit (err, 125);
    }
  *out = v;
  return 0;
}

int
rt_parse_cpus (const char *s, long ncpu, int64_t *quota, int64_t *period,
               struct err **err)
{
  const char *p = s;
  int64_t whole = 0, nano = 0;
  int decimals = 0;
  bool digits = false;

  while (isdigit ((unsigned char)*p))
    {
      if (whole > 1000000)
        return err_fail (err, 125, "invalid value '%s' for --cpus: too large",
                         s);
      whole = whole * 10 + (*p++ - '0');
      digits = true;
    }
  if (*p == '.')
    for (p++; isdigit ((unsigned char)*p); p++, decimals++)
      {
        digits = true;
        if (decimals >= 9)
          {
            if (*p != '0')
              return err_fail (err, 125,
                               "invalid value '%s' for --cpus: too precise", s);
            continue;
          }
        nano = nano * 10 + (*p - '0');
      }
  if (!digits || *p)
    return err_fail (err, 125, "invalid value '%s' for --cpus: not a number",
                     s);
  for (int i = decimals < 9 ? decimals : 9; i < 9; i++)
    nano *= 10;
  nano += whole * 1000000000;
  *period = 100000;
  *quota = 0;
  if (nano == 0)
    return 0;
  if (nano > (int64_t)ncpu * 1000000000)
    {
      err_set (err, 0,
               "invalid value '%s' for --cpus: the range of CPUs is "
               "from 0.01 to %ld.00, as there are only %ld CPUs available",
               s, ncpu, ncpu);
      return err_exit (err, 125);
    }
  *quota = nano * *period / 1000000000;
  if (*quota < 1000)
    return err_fail (err, 125,
                     "invalid value '%s' for --cpus: the smallest value is "
                     "0.01",
                     s);
  return 0;
}

int
rt_parse_memory (const char *memory, const char *swap, struct rt_limits *limits,
                 struct err **err)
{
  int64_t v;
  if (memory)
    {
      if (rt_parse_size (memory, &v, err) < 0)
        return err_wrap (err, "--memory");
      if (v != 0 && v < RT_MIN_MEMORY)
        return err_fail (err, 125,
                         "invalid value '%s' for --memory: the minimum "
                         "allowed memory is 6MB",
                         memory);
      limits->memory = v;
    }
  if (swap)
    {
      if (!strcmp (swap, "-1"))
        v = -1;
      else if (rt_parse_size (swap, &v, err) < 0)
        return err_wrap (err, "--memory-swap");
      if (!limits->memory && v != 0)
        return err_fail (err, 125,
                         "--memory-swap '%s' needs --memory: set the memory "
                         "limit too",
                         swap);
      if (v > 0 && v < limits->memory)
        return err_fail (err, 125,
                         "invalid value '%s' for --memory-swap: it must be "
                         "larger than or equal to --memory",
                         swap);
      limits->memory_swap = v;
    }
  return 0;
}

/* -------- environment -------- */

static size_t
key_len (const char *kv)
{
  const char *eq = strchr (kv, '=');
  return eq ? (size_t)(eq - kv) : strlen (kv);
}

const char *
rt_env_get (char *const *env, const char *key)
{
  size_t n = strlen (key);
  for (size_t i = 0; env && env[i]; i++)
    if (!strncmp (env[i], key, n) && env[i][n] == '=')
      return env[i] + n + 1;
  return NULL;
}

void
rt_env_set (char ***env, const char *kv)
{
  size_t n = key_len (kv), len = strv_len (*env);
  bool bare = kv[n] != '=';
  for (size_t i = 0; i < len; i++)
    {
      char *e = (*env)[i];
      if (key_len (e) != n || strncmp (e, kv, n))
        continue;
      free (e);
      if (bare)
        {
          memmove (*env + i, *env + i + 1, (len - i) * sizeof (char *));
          return;
        }
      (*env)[i] = xstrdup (kv);
      return;
    }
  if (!bare)
    strv_push (env, xstrdup (kv));
}

int
rt_env_arg (const char *arg, char ***env, struct err **err)
{
  const char *val;
  if (!*arg || *arg == '=')
    return err_fail (err, 125, "invalid environment variable '%s': no name",
                     arg);
  if (strchr (arg, '=') || !(val = getenv (arg)))
    strv_push (env, xstrdup (arg));
  else
    strv_push (env, xasprintf ("%s=%s", arg, val));
  return 0;
}

/* Is s (len bytes) valid UTF-8? */
static bool
utf8_valid (const unsigned char *s, size_t len)
{
  for (size_t i = 0; i < len;)
    {
      unsigned char c = s[i];
      size_t n = c < 0x80         ? 1
                 : (c >> 5) == 6  ? 2
                 : (c >> 4) == 14 ? 3
                 : (c >> 3) == 30 ? 4
                                  : 0;
      if (!n || i + n > len)
        return false;
      for (size_t k = 1; k < n; k++)
        if ((s[i + k] & 0xc0) != 0x80)
          return false;
      i += n;
    }
  return true;
}

int
rt_env_file_read (const char *path, char ***env, struct err **err)
{
  _cleanup_free_ char *buf = NULL;
  size_t len, lineno = 0;
  char *cur, *line;

  if (fs_read_file (AT_FDCWD, path, ENV_FILE_MAX, &buf, &len, err) < 0)
    {
      err_wrap (err, "--env-file");
      return err_exit (err, 125);
    }
  cur = buf;
  if (len >= 3 && !memcmp (cur, "\xef\xbb\xbf", 3))
    cur += 3;
  while (cur < buf + len)
    {
      char *nl = memchr (cur, '\n', (size_t)(buf + len - cur));
      size_t n = nl ? (size_t)(nl - cur) : (size_t)(buf + len - cur);
      lineno++;
      if (!utf8_valid ((unsigned char *)cur, n) || memchr (cur, '\0', n))
        {
          err_set (err, 0,
                   "env file '%s' contains invalid utf8 bytes at "
                   "line %zu",
                   path, lineno);
          return err_exit (err, 125);
        }
      line = cur;
      line[n] = '\0';
      cur = nl ? nl + 1 : buf + len;
      if (n && line[n - 1] == '\r')
        line[n - 1] = '\0';
      while (isspace ((unsigned char)*line))
        line++;
      if (!*line || *line == '#')
        continue;
      {
        size_t k = key_len (line);
        const char *val;
        if (k == 0)
          {
            err_set (err, 0, "env file '%s': no variable name on line '%s'",
                     path, line);
            return err_exit (err, 125);
          }
        for (size_t i = 0; i < k; i++)
          if (isspace ((unsigned char)line[i]))
            {
              err_set (err, 0,
                       "env file '%s': variable '%.*s' contains "
                       "whitespaces",
                       path, (int)k, line);
              return err_exit (err, 125);
            }
        if (line[k] == '=')
          strv_push (env, xstrdup (line));
        else if ((val = getenv (line)))
          strv_push (env, xasprintf ("%s=%s", line, val));
      }
    }
  return 0;
}

/* -------- mounts -------- */

char *
rt_path_clean (const char *path)
{
  _cleanup_free_ char *copy = xstrdup (path);
  char **parts = NULL;
  size_t n = 0, alloc = 0;
  struct strbuf sb = STRBUF_INIT;
  char *save = NULL;
  for (char *c = strtok_r (copy, "/", &save); c;
       c = strtok_r (NULL, "/", &save))
    {
      if (!strcmp (c, "."))
        continue;
      if (!strcmp (c, ".."))
        {
          if (n)
            n--;
          continue;
        }
      parts = xgrow (parts, &alloc, n + 1, sizeof *parts);
      parts[n++] = c;
    }
  for (size_t i = 0; i < n; i++)
    {
      strbuf_addch (&sb, '/');
      strbuf_addstr (&sb, parts[i]);
    }
  if (!n)
    strbuf_addch (&sb, '/');
  free (parts);
  return strbuf_detach (&sb, NULL);
}

/* -------- process -------- */

int
rt_process_resolve (const struct rt_process_request *req,
                    struct rt_process *out, struct err **err)
{
  const char *wd;
  memset (out, 0, sizeof *out);

  if (req->entrypoint_set)
    {
      if (req->entrypoint && *req->entrypoint)
        strv_push (&out->argv, xstrdup (req->entrypoint));
    }
  else
    for (size_t i = 0; req->image_entrypoint && req->image_entrypoint[i]; i++)
      strv_push (&out->argv, xstrdup (req->image_entrypoint[i]));
  if (req->args && req->args[0])
    for (size_t i = 0; req->args[i]; i++)
      strv_push (&out->argv, xstrdup (req->args[i]));
  else if (!req->entrypoint_set)
    for (size_t i = 0; req->image_cmd && req->image_cmd[i]; i++)
      strv_push (&out->argv, xstrdup (req->image_cmd[i]));
  if (!out->argv || !out->argv[0])
    {
      rt_process_release (out);
      err_set (err, 0,
               "no command specified: the image has no Entrypoint "
               "or Cmd, give one after the image name");
      return err_exit (err, 125);
    }

  wd = req->workdir ? req->workdir : req->image_workdir;
  if (req->workdir && *req->workdir != '/')
    {
      rt_process_release (out);
      err_set (err, 0,
               "the working directory '%s' is invalid, it needs to "
               "be an absolute path",
               req->workdir);
      return err_exit (err, 125);
    }
  /* An image's relative WorkingDir is taken from / (docker does so). */
  out->cwd = rt_path_clean (wd && *wd ? wd : "/");

  out->env = NULL;
  strv_push (&out->env, xstrdup ("PATH=" RT_DEFAULT_PATH));
  if (req->hostname)
    strv_push (&out->env, xasprintf ("HOSTNAME=%s", req->hostname));
  if (req->tty)
    strv_push (&out->env, xstrdup ("TERM=xterm"));
  for (size_t i = 0; req->image_env && req->image_env[i]; i++)
    rt_env_set (&out->env, req->image_env[i]);
  for (size_t i = 0; req->env && req->env[i]; i++)
    rt_env_set (&out->env, req->env[i]);

  out->user = xstrdup (req->user         ? req->user
                       : req->image_user ? req->image_user
                                         : "");
  return 0;
}

void
rt_process_release (struct rt_process *p)
{
  strv_free (p->argv);
  strv_free (p->env);
  free (p->cwd);
  free (p->user);
  memset (p, 0, sizeof *p);
}
