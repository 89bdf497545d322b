/* imgtool load [-i FILE] [-q]: images from a docker-archive or
 * oci-archive (plain, gzip or zstd; layers/archive.h), from FILE or
 * stdin, with docker's output: "Loaded image: NAME" per name, "Loaded
 * image ID: ID" when the last image had none, and a line for each name
 * that moved from another image. */
#include "cmd/command.h"
#include "cmd/lookup.h"
#include "cmd/opttable.h"
#include "layers/archive.h"
#include "layers/image_store.h"
#include "layers/snapshot.h"
#include "lib/err.h"
#include "lib/strbuf.h"
#include "lib/xalloc.h"
#include "registry/ref.h"
#include "trust/pull.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

static const char usage_text[]
    = "imgtool load [-i FILE] [--signature-policy FILE] [-q]";

static char *
familiar (const char *name)
{
  struct ref r;
  struct err *e = NULL;
  char *f;
  if (ref_parse (name, &r, &e) < 0)
    {
      err_free (e);
      return xstrdup (name);
    }
  f = ref_familiar (&r);
  ref_release (&r);
  return f;
}

/* Name the loaded images and say so, as docker's load does. */
static int
name_images (struct store *s, struct archive_loaded *v, size_t n,
             struct err **err)
{
  struct strbuf ids = STRBUF_INIT;
  bool last_named = false;
  for (size_t i = 0; i < n; i++)
    {
      struct archive_loaded *l = &v[i];
      strbuf_addf (&ids, "Loaded image ID: %s\n", l->image_id);
      last_named = l->names && l->names[0];
      for (size_t j = 0; l->names && l->names[j]; j++)
        {
          _cleanup_free_ char *moved = NULL;
          _cleanup_free_ char *fam = familiar (l->names[j]);
          if (lookup_tag_set (s, l->names[j], l->manifest_type,
                              l->manifest_digest, l->manifest_size, l->image_id,
                              &moved, err)
              < 0)
            goto fail;
          if (moved)
            printf ("The image %s already exists, renaming the old one with "
                    "ID %s to empty string\n",
                    fam, moved);
          printf ("Loaded image: %s\n", fam);
        }
      if ((!l->names || !l->names[0])
          && lookup_keep_untagged (s, l->manifest_type, l->manifest_digest,
                                   l->manifest_size, l->image_id, err)
                 < 0)
        goto fail;
    }
  if (n && !last_named)
    fputs (ids.buf, stdout);
  strbuf_release (&ids);
  return 0;
fail:
  strbuf_release (&ids);
  return -1;
}

static const struct cmd_opt load_opts[] = {
  CMD_OPT ("input", 'i', "FILE", 0,
           "Read from tar archive file, instead of STDIN", "--input"),
  CMD_OPT ("quiet", 'q', NULL, 0, "Suppress the load output", "--quiet"),
  CMD_OPT ("signature-policy", 0, "FILE", 'P',
           "The signature policy to enforce (containers-policy.json)", NULL),
  CMD_OPT_HELP_H,
  CMD_OPT_END,
};

const struct cmd_spec cmd_load_spec = {
  .name = "load",
  .usage = usage_text,
  .opts = load_opts,
};

COMMAND (load)
{
  const char *input = NULL, *policy = NULL;
  struct trust_pull tp;
  struct store s;
  struct archive_loaded *v = NULL;
  size_t n = 0;
  int c, fd = 0, guard = -1, ret = -1;

  while ((c = cmd_getopt (argc, argv, &cmd_load_spec)) != -1)
    switch (c)
      {
      case 'i':
        input = optarg;
        break;
      case 'P':
        policy = optarg;
        break;
      case 'q':
        break; /* no progress is shown: the lines stay, as docker's */
      case CMD_OPT_HELP_ID:
        return 0;
      default:
        return command_bad_option (err);
      }
  if (optind != argc)
    return command_usage_error (usage_text, err);
  if (!input && isatty (0))
    return err_set (err, 0, "requested load from stdin, but stdin is empty");
  if (input && (fd = open (input, O_RDONLY | O_CLOEXEC)) < 0)
    return err_set (err, errno, "open '%s'", input);
  /* The policy decides before anything is read. The format is known only
   * once the archive is read, so both transports' scopes must accept. */
  trust_pull_init (&tp, NULL, NULL, policy);
  if (trust_check_path (&tp, g->config_path, "docker-archive", input, NULL, err)
          < 0
      || trust_check_path (&tp, g->config_path, "oci-archive", input, NULL, err)
             < 0)
    {
      trust_pull_release (&tp);
      err_wrap (err, "load '%s'", input ? input : "-");
      goto out_fd;
    }
  trust_pull_release (&tp);
  if (command_rootless ("load", 1, err) < 0)
    goto out_fd;
  if (store_open (&s, g->root, err) < 0)
    goto out_fd;
  /* held until the names are set: prune keeps the blobs written here */
  if ((guard = store_writer_guard (&s, err)) >= 0
      && archive_load (&s, fd, &v, &n, err) == 0
      && name_images (&s, v, n, err) == 0)
    ret = 0;
  if (ret < 0)
    err_wrap (err, "load '%s'", input ? input : "-");
  archive_loaded_free (v, n);
  if (guard >= 0)
    close (guard);
  snapshot_flush_later (&s);
  store_release (&s);
out_fd:
  if (input && fd >= 0)
    close (fd);
  return ret;
}
