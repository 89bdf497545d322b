/* registries.d's use-sigstore-attachments: see trust/regd.h. */
#include "trust/regd.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/xalloc.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* A scope matches the repository itself, a namespace or the host. */
static int
scope_depth (const char *scope, const char *name)
{
  size_t n = strlen (scope);
  if (!strncmp (name, scope, n) && (name[n] == 0 || name[n] == '/'))
    return (int)n + 1;
  return -1;
}

/* key and value of a "key: value" line, unquoted, in place. */
static void
split_line (char *s, char **key, char **val)
{
  char *colon = strstr (s, ": ");
  size_t n;
  if (!colon && (n = strlen (s)) && s[n - 1] == ':')
    colon = s + n - 1;
  *val = colon ? colon + 1 + strspn (colon + 1, " ") : s + strlen (s);
  if (colon)
    *colon = 0;
  *key = s;
  n = strlen (*key);
  while (n && (*key)[n - 1] == ' ')
    (*key)[--n] = 0;
  if (n >= 2 && (**key == '"' || **key == '\'') && (*key)[n - 1] == **key)
    {
      (*key)[n - 1] = 0;
      (*key)++;
    }
}

int
trust_regd_text (const char *text, const char *name, int *depth)
{
  _cleanup_free_ char *buf = xstrdup (text);
  char *save = NULL, *line;
  int section = 0, cur = -1, scope_indent = -1, result = -1;
  for (line = strtok_r (buf, "\n", &save); line;
       line = strtok_r (NULL, "\n", &save))
    {
      int indent = (int)strspn (line, " ");
      char *s = line + indent, *key, *val, *hash;
      if ((hash = strstr (s, " #")))
        *hash = 0;
      if (!*s || *s == '#')
        continue;
      split_line (s, &key, &val);
      if (indent == 0)
        {
          section = !strcmp (key, "docker")           ? 1
                    : !strcmp (key, "default-docker") ? 2
                                                      : 0;
          cur = section == 2 ? 0 : -1;
          scope_indent = -1;
          continue;
        }
      if (section == 1 && !*val && (scope_indent < 0 || indent <= scope_indent))
        {
          scope_indent = indent;
          cur = scope_depth (key, name);
          continue;
        }
      if (section && cur >= 0 && cur > *depth
          && !strcmp (key, "use-sigstore-attachments"))
        {
          *depth = cur;
          result = !strcmp (val, "true") ? 1 : 0;
        }
    }
  return result;
}

bool
trust_regd_use_attachments (const char *name)
{
  const char *home = getenv ("HOME");
  _cleanup_free_ char *user
      = home && *home ? xasprintf ("%s/.config/containers/registries.d", home)
                      : NULL;
  const char *dir = "/etc/containers/registries.d";
  struct stat st;
  struct dirent *de;
  DIR *d;
  int depth = -1, use = 1;
  if (user && stat (user, &st) == 0 && S_ISDIR (st.st_mode))
    dir = user;
  if (!(d = opendir (dir)))
    return true;
  while ((de = readdir (d)))
    {
      size_t n = strlen (de->d_name);
      _cleanup_free_ char *path = NULL, *text = NULL;
      struct err *e = NULL;
      size_t len;
      int r;
      if (n < 6 || strcmp (de->d_name + n - 5, ".yaml"))
        continue;
      path = xasprintf ("%s/%s", dir, de->d_name);
      if (fs_read_file (AT_FDCWD, path, 1 << 20, &text, &len, &e) < 0)
        {
          err_free (e);
          continue;
        }
      if ((r = trust_regd_text (text, name, &depth)) >= 0)
        use = r;
    }
  closedir (d);
  return use;
}
