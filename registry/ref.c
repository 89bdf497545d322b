/* Image references (see ref.h): docker's grammar, no I/O. */
#include "registry/ref.h"
#include "layers/digest.h"
#include "lib/err.h"
#include "lib/xalloc.h"

#include <ctype.h>
#include <string.h>

#define NAME_MAX_LEN 255

static bool
is_lower_alnum (char c)
{
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* path-comp := [a-z0-9]+ ( ( [_.] | __ | -+ ) [a-z0-9]+ )* */
static bool
path_component_valid (const char *s, size_t n)
{
  size_t i = 0;
  if (n == 0 || !is_lower_alnum (s[0]))
    return false;
  while (i < n)
    {
      while (i < n && is_lower_alnum (s[i]))
        i++;
      if (i == n)
        return true;
      /* a separator, then at least one alnum */
      if (s[i] == '.')
        i++;
      else if (s[i] == '_')
        i += (i + 1 < n && s[i + 1] == '_') ? 2 : 1;
      else if (s[i] == '-')
        while (i < n && s[i] == '-')
          i++;
      else
        return false;
      if (i == n || !is_lower_alnum (s[i]))
        return false;
    }
  return true;
}

/* host [':' port], host = domain name, IPv4, or [IPv6] */
static bool
domain_valid (const char *s)
{
  const char *p = s, *port = NULL;
  if (*p == '[')
    {
      const char *end = strchr (p, ']');
      if (!end || end == p + 1)
        return false;
      for (const char *q = p + 1; q < end; q++)
        if (!isxdigit ((unsigned char)*q) && *q != ':' && *q != '.')
          return false;
      p = end + 1;
      if (*p == ':')
        port = p + 1;
      else if (*p)
        return false;
    }
  else
    {
      /* labels of [a-zA-Z0-9-], not starting or ending with '-' */
      bool label_start = true;
      for (; *p && *p != ':'; p++)
        {
          if (*p == '.')
            {
              if (label_start || p[-1] == '-')
                return false;
              label_start = true;
            }
          else if (isalnum ((unsigned char)*p) || (*p == '-' && !label_start))
            label_start = false;
          else
            return false;
        }
      if (label_start || p[-1] == '-')
        return false;
      if (*p == ':')
        port = p + 1;
    }
  if (port)
    {
      if (!*port || strlen (port) > 5)
        return false;
      for (const char *q = port; *q; q++)
        if (!isdigit ((unsigned char)*q))
          return false;
    }
  return true;
}

bool
ref_tag_valid (const char *s)
{
  size_t n = strlen (s);
  if (n == 0 || n > 128 || !(isalnum ((unsigned char)s[0]) || s[0] == '_'))
    return false;
  for (size_t i = 1; i < n; i++)
    if (!(isalnum ((unsigned char)s[i]) || strchr ("_.-", s[i])))
      return false;
  return true;
}

static bool
is_hex64 (const char *s)
{
  if (strlen (s) != 64)
    return false;
  for (; *s; s++)
    if (!isxdigit ((unsigned char)*s) || isupper ((unsigned char)*s))
      return false;
  return true;
}

void
ref_release (struct ref *r)
{
  free (r->domain);
  free (r->path);
  free (r->tag);
  free (r->digest);
  memset (r, 0, sizeof *r);
}

int
ref_parse (const char *s, struct ref *out, struct err **err)
{
  _cleanup_free_ char *work = NULL;
  char *name, *at, *colon, *slash, *remote;
  struct ref r = { 0 };

  memset (out, 0, sizeof *out);
  if (!s || !*s)
    return err_set (err, 0, "invalid reference format: empty reference");
  work = xstrdup (s);
  name = work;

  at = strchr (name, '@');
  if (at)
    {
      *at = '\0';
      if (digest_check (at + 1, err) < 0)
        return err_wrap (err, "invalid reference '%s'", s);
      r.digest = xstrdup (at + 1);
    }
  slash = strrchr (name, '/');
  colon = strrchr (name, ':');
  if (colon && (!slash || colon > slash))
    {
      *colon = '\0';
      if (!ref_tag_valid (colon + 1))
        {
          ref_release (&r);
          return err_set (err, 0, "invalid reference '%s': invalid tag '%s'", s,
                          colon + 1);
        }
      r.tag = xstrdup (colon + 1);
    }
  if (!*name)
    {
      ref_release (&r);
      return err_set (err, 0, "invalid reference format '%s'", s);
    }

  /* The first component is a domain iff it has '.' or ':', is localhost,
   * or has an uppercase letter (distribution/reference splitDockerDomain). */
  slash = strchr (name, '/');
  if (slash)
    {
      size_t n = (size_t)(slash - name);
      bool upper = false;
      for (size_t i = 0; i < n; i++)
        upper |= isupper ((unsigned char)name[i]) != 0;
      if (memchr (name, '.', n) || memchr (name, ':', n)
          || (n == 9 && !strncmp (name, "localhost", 9)) || upper)
        {
          *slash = '\0';
          r.domain = xstrdup (name);
          remote = slash + 1;
        }
      else
        remote = name;
    }
  else
    remote = name;
  if (!r.domain || !strcmp (r.domain, "index.docker.io"))
    {
      free (r.domain);
      r.domain = xstrdup (REF_DEFAULT_DOMAIN);
    }
  if (!domain_valid (r.domain))
    {
      ref_release (&r);
      return err_set (err, 0, "invalid reference '%s': invalid registry host",
                      s);
    }
  if (!strcmp (r.domain, REF_DEFAULT_DOMAIN) && !strchr (remote, '/'))
    {
      if (is_hex64 (remote))
        {
          ref_release (&r);
          return err_set (err, 0,
                          "invalid reference '%s': cannot specify 64-byte "
                          "hexadecimal strings",
                          s);
        }
      r.path = xasprintf ("library/%s", remote);
    }
  else
    r.path = xstrdup (remote);

  for (const char *c = r.path;;)
    {
      const char *end = strchr (c, '/');
      size_t n = end ? (size_t)(end - c) : strlen (c);
      if (!path_component_valid (c, n))
        {
          bool upper = false;
          for (size_t i = 0; i < n; i++)
            upper |= isupper ((unsigned char)c[i]) != 0;
          ref_release (&r);
          return err_set (err, 0, "invalid reference '%s': %s", s,
                          upper ? "repository name must be lowercase"
                                : "invalid repository name");
        }
      if (!end)
        break;
      c = end + 1;
    }
  if (strlen (r.domain) + 1 + strlen (r.path) > NAME_MAX_LEN)
    {
      ref_release (&r);
      return err_set (err, 0,
                      "invalid reference '%s': repository name must not be "
                      "more than %d characters",
                      s, NAME_MAX_LEN);
    }
  if (!r.tag && !r.digest)
    r.tag = xstrdup ("latest");
  *out = r;
  return 0;
}

char *
ref_name (const struct ref *r)
{
  return xasprintf ("%s/%s", r->domain, r->path);
}

char *
ref_string (const struct ref *r)
{
  return xasprintf ("%s/%s%s%s%s%s", r->domain, r->path, r->tag ? ":" : "",
                    r->tag ? r->tag : "", r->digest ? "@" : "",
                    r->digest ? r->digest : "");
}

char *
ref_familiar (const struct ref *r)
{
  const char *path = r->path;
  bool hub = !strcmp (r->domain, REF_DEFAULT_DOMAIN);
  if (hub && !strncmp (path, "library/", 8) && !strchr (path + 8, '/'))
    path += 8;
  return xasprintf ("%s%s%s%s%s%s%s", hub ? "" : r->domain, hub ? "" : "/",
                    path, r->tag ? ":" : "", r->tag ? r->tag : "",
                    r->digest ? "@" : "", r->digest ? r->digest : "");
}

const char *
ref_api_host (const struct ref *r)
{
  return strcmp (r->domain, REF_DEFAULT_DOMAIN) ? r->domain
                                                : REF_DOCKER_HUB_HOST;
}

const char *
ref_auth_key (const struct ref *r)
{
  return strcmp (r->domain, REF_DEFAULT_DOMAIN) ? r->domain
                                                : REF_DOCKER_HUB_AUTH_KEY;
}
