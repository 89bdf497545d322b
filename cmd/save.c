/* imgtool save [-o FILE] [--format docker-archive|oci-archive] IMAGE...:
 * images into one archive (layers/archive.h), to FILE or to stdout (never
 * a terminal). As docker's: a name without a tag saves every tag of that
 * repository, an image ID saves the image without names, and several
 * names of one image share its entry. FILE appears only when complete. */
#include "cmd/command.h"
#include "cmd/lookup.h"
#include "cmd/opttable.h"
#include "layers/archive.h"
#include "layers/store.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/xalloc.h"
#include "registry/ref.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char usage_text[]
    = "imgtool save [-o FILE] [--format docker-archive|oci-archive] "
      "IMAGE...";

struct items
{
  struct archive_item *v;
  size_t n;
};

static void
items_add (struct items *it, const struct store_ref *ref, const char *name)
{
  struct archive_item *a;
  it->v = xrealloc (it->v, (it->n + 1) * sizeof *it->v);
  a = &it->v[it->n++];
  memset (a, 0, sizeof *a);
  a->digest = xstrdup (ref->digest);
  a->media_type = ref->media_type ? xstrdup (ref->media_type) : NULL;
  a->size = ref->size;
  if (name)
    strv_push (&a->names, xstrdup (name));
}

static void
items_release (struct items *it)
{
  for (size_t i = 0; i < it->n; i++)
    {
      free (it->v[i].digest);
      free (it->v[i].media_type);
      strv_free (it->v[i].names);
    }
  free (it->v);
}

/* Did the user write a tag or a digest ("a:1", "h:5000/a@sha256:..")? */
static bool
has_tag_or_digest (const char *s)
{
  const char *slash = strrchr (s, '/'), *colon = strrchr (s, ':');
  return strchr (s, '@') || (colon && (!slash || colon > slash));
}

/* Every tag of repository repo ("docker.io/library/busybox"). */
static int
add_repo_tags (struct store *s, const char *repo, struct items *it,
               struct err **err)
{
  struct store_ref *refs;
  size_t n, found = 0, len = strlen (repo);
  if (store_ref_list (s, &refs, &n, err) < 0)
    return -1;
  for (size_t i = 0; i < n; i++)
    {
      const char *name = refs[i].name;
      if (!strncmp (name, repo, len) && name[len] == ':'
          && !strchr (name + len, '@') && !strchr (name + len, '/'))
        {
          items_add (it, &refs[i], name);
          found++;
        }
    }
  store_refs_free (refs, n);
  return (int)found;
}

static int
add_image (struct store *s, const char *user, struct items *it,
           struct err **err)
{
  struct ref r;
  struct err *e = NULL;
  struct store_ref ref;
  int rc;
  if (ref_parse (user, &r, &e) == 0)
    {
      _cleanup_free_ char *repo = ref_name (&r);
      _cleanup_free_ char *full = ref_string (&r);
      bool tagged = r.tag && !r.digest;
      ref_release (&r);
      if (!has_tag_or_digest (user))
        {
          if ((rc = add_repo_tags (s, repo, it, err)) != 0)
            return rc < 0 ? -1 : 0;
        }
      else if (tagged)
        {
          if ((rc = store_ref_get (s, full, &ref, err)) < 0)
            return -1;
          if (rc == 0)
            {
              items_add (it, &ref, full);
              store_ref_release (&ref);
              return 0;
            }
        }
    }
  err_free (e);
  /* an image ID (or a digest): saved without names */
  if (lookup_image (s, user, &ref, err) < 0)
    return -1;
  items_add (it, &ref, NULL);
  store_ref_release (&ref);
  return 0;
}

static const struct cmd_opt save_opts[] = {
  CMD_OPT ("output", 'o', "FILE", 0, "Write to a file, instead of STDOUT",
           "--output"),
  CMD_OPT ("format", 0, "FORMAT", 'F',
           "Archive format: docker-archive or oci-archive", NULL),
  CMD_OPT_HELP_H,
  CMD_OPT_END,
};

const struct cmd_spec cmd_save_spec = {
  .name = "save",
  .usage = usage_text,
  .opts = save_opts,
};

COMMAND (save)
{
  const char *output = NULL;
  enum archive_format f = ARCHIVE_DOCKER;
  struct items it = { 0 };
  struct store s;
  struct fs_output out = { .fd = -1 };
  int c, fd = 1, ret = -1;

  while ((c = cmd_getopt (argc, argv, &cmd_save_spec)) != -1)
    switch (c)
      {
      case 'o':
        output = optarg;
        break;
      case 'F':
        if (archive_format_parse (optarg, &f, err) < 0)
          return err_exit (err, 2);
        break;
      case CMD_OPT_HELP_ID:
        return 0;
      default:
        return command_bad_option (err);
      }
  if (optind == argc)
    return command_usage_error (usage_text, err);
  if (!output && isatty (1))
    return err_set (err, 0, COMMAND_TTY_REFUSED);
  if (store_open (&s, g->root, err) < 0)
    return -1;
  for (int i = optind; i < argc; i++)
    if (add_image (&s, argv[i], &it, err) < 0)
      goto out;
  if (output)
    {
      if (fs_output_open (&out, output, err) < 0)
        goto out;
      fd = out.fd;
    }
  if (archive_save (&s, it.v, it.n, f, fd, err) < 0)
    goto out;
  if (output && fs_output_commit (&out, err) < 0)
    goto out;
  ret = 0;
out:
  fs_output_abort (&out);
  items_release (&it);
  store_release (&s);
  if (ret < 0 && output)
    err_wrap (err, "save to '%s'", output);
  return ret;
}
