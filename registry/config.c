/* imgtool's configuration file: see registry/config.h. */
#include "registry/config.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CONFIG_MAX_BYTES (1u << 20)
#define DEFAULT_TIMEOUT 30
#define DEFAULT_RETRIES 3
#define DEFAULT_MIN_RATE 1024
#define DEFAULT_MIN_WINDOW 30

char *
reg_config_default_path (void)
{
  const char *xdg, *home;
  if (geteuid () == 0)
    return xstrdup ("/etc/imgtool/config.json");
  if ((xdg = getenv ("XDG_CONFIG_HOME")) && *xdg)
    return xasprintf ("%s/imgtool/config.json", xdg);
  if ((home = getenv ("HOME")) && *home)
    return xasprintf ("%s/.config/imgtool/config.json", home);
  return xstrdup ("/etc/imgtool/config.json");
}

static int
string_array (json_t *arr, const char *path, const char *what, char ***out,
              struct err **err)
{
  size_t i;
  json_t *v;
  if (!json_is_array (arr))
    return err_set (err, 0, "config '%s': %s must be an array of strings", path,
                    what);
  json_array_foreach (arr, i, v)
  {
    if (!json_is_string (v) || !*json_string_value (v))
      return err_set (err, 0, "config '%s': %s must be an array of strings",
                      path, what);
    strv_push (out, xstrdup (json_string_value (v)));
  }
  return 0;
}

/* An integer key in min..max, when present. */
static int
int_key (json_t *root, const char *key, long min, long max, const char *unit,
         const char *path, long *out, struct err **err)
{
  json_t *v = json_object_get (root, key);
  if (!v)
    return 0;
  if (!json_is_integer (v) || json_integer_value (v) < min
      || json_integer_value (v) > max)
    return err_set (err, 0, "config '%s': %s must be %ld..%ld%s", path, key,
                    min, max, unit);
  *out = (long)json_integer_value (v);
  return 0;
}

static int
parse (json_t *root, const char *path, struct reg_config *c, struct err **err)
{
  json_t *v;
  const char *key;
  if (!json_is_object (root))
    return err_set (err, 0, "config '%s': not a JSON object", path);
  if ((v = json_object_get (root, "insecure-registries"))
      && string_array (v, path, "insecure-registries", &c->insecure, err) < 0)
    return -1;
  if ((v = json_object_get (root, "registry-mirrors")) && json_is_array (v))
    {
      /* docker's daemon.json shape: a list of mirrors, all for docker.io */
      c->mirrors = xcalloc (1, sizeof *c->mirrors);
      c->n_mirrors = 1;
      c->mirrors[0].domain = xstrdup ("docker.io");
      if (string_array (v, path, "registry-mirrors", &c->mirrors[0].urls, err)
          < 0)
        return -1;
    }
  else if (v)
    {
      json_t *urls;
      if (!json_is_object (v))
        return err_set (err, 0,
                        "config '%s': registry-mirrors must be a list of "
                        "docker.io mirrors, or map a registry to a list "
                        "of URLs",
                        path);
      json_object_foreach (v, key, urls)
      {
        struct reg_mirror *m;
        c->mirrors
            = xrealloc (c->mirrors, (c->n_mirrors + 1) * sizeof *c->mirrors);
        m = &c->mirrors[c->n_mirrors++];
        m->domain = xstrdup (key);
        m->urls = NULL;
        if (string_array (urls, path, "registry-mirrors", &m->urls, err) < 0)
          return -1;
      }
    }
  if (int_key (root, "http-timeout", 1, 3600, " seconds", path, &c->timeout,
               err)
      < 0)
    return -1;
  if (int_key (root, "http-retries", 0, 20, "", path, &c->retries, err) < 0
      || int_key (root, "min-transfer-rate", 0, 1L << 30, " bytes/s", path,
                  &c->min_rate, err)
             < 0
      || int_key (root, "min-transfer-window", 1, 3600, " seconds", path,
                  &c->min_window, err)
             < 0)
    return -1;
  if ((v = json_object_get (root, "signature-policy")))
    {
      if (!json_is_string (v))
        return err_set (err, 0, "config '%s': signature-policy must be a path",
                        path);
      c->signature_policy = xstrdup (json_string_value (v));
    }
  return 0;
}

int
reg_config_load (const char *path, struct reg_config *out, struct err **err)
{
  _cleanup_free_ char *def = NULL, *buf = NULL;
  size_t len;
  json_t *root;
  json_error_t jerr;
  struct err *e = NULL;
  int r;

  memset (out, 0, sizeof *out);
  out->timeout = DEFAULT_TIMEOUT;
  out->retries = DEFAULT_RETRIES;
  out->min_rate = DEFAULT_MIN_RATE;
  out->min_window = DEFAULT_MIN_WINDOW;
  if (!path || !*path)
    path = def = reg_config_default_path ();
  if (fs_read_file (AT_FDCWD, path, CONFIG_MAX_BYTES, &buf, &len, &e) < 0)
    {
      if (e->errnum == ENOENT)
        {
          err_free (e);
          return 0;
        }
      *err = e;
      return err_wrap (err, "config");
    }
  root = json_loadb (buf, len, 0, &jerr);
  if (!root)
    return err_set (err, 0, "config '%s': line %d: %s", path, jerr.line,
                    jerr.text);
  r = parse (root, path, out, err);
  json_decref (root);
  if (r < 0)
    reg_config_release (out);
  return r;
}

void
reg_config_release (struct reg_config *c)
{
  for (size_t i = 0; i < c->n_mirrors; i++)
    {
      free (c->mirrors[i].domain);
      strv_free (c->mirrors[i].urls);
    }
  free (c->mirrors);
  strv_free (c->insecure);
  free (c->signature_policy);
  c->signature_policy = NULL;
  c->mirrors = NULL;
  c->n_mirrors = 0;
  c->insecure = NULL;
}

bool
reg_config_is_insecure (const struct reg_config *c, const char *host)
{
  for (char **p = c ? c->insecure : NULL; p && *p; p++)
    {
      const char *h = *p;
      /* Accept "http://host:port" spellings too. */
      if (!strncmp (h, "http://", 7))
        h += 7;
      else if (!strncmp (h, "https://", 8))
        h += 8;
      size_t n = strcspn (h, "/");
      if (strlen (host) == n && !strncmp (h, host, n))
        return true;
    }
  return false;
}

char *const *
reg_config_mirrors (const struct reg_config *c, const char *domain)
{
  for (size_t i = 0; c && i < c->n_mirrors; i++)
    if (!strcmp (c->mirrors[i].domain, domain)
        || (!strcmp (domain, "docker.io")
            && (!strcmp (c->mirrors[i].domain, "index.docker.io")
                || !strcmp (c->mirrors[i].domain, "registry-1.docker.io"))))
      return c->mirrors[i].urls;
  return NULL;
}
