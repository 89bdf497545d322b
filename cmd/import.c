/* imgtool import [-c INSTR]... [-m MSG] [--platform P] file|URL|-
 * [REPO[:TAG]]: a tar (plain, gzip or zstd) from a file, stdin or an
 * http(s) URL made into a one-layer image, as docker's import
 * (reference/archives.md section 7): the layer is the tar as given,
 * decompressed; -c applies Dockerfile instructions to an empty config
 * (builder: build_apply_changes); one history entry with only created
 * and comment; prints the new image ID. */
#include "builder/builder.h"
#include "cmd/command.h"
#include "cmd/lookup.h"
#include "cmd/opttable.h"
#include "layers/image.h"
#include "layers/image_store.h"
#include "layers/ingest.h"
#include "layers/snapshot.h"
#include "layers/store.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/human.h"
#include "lib/xalloc.h"
#include "registry/config.h"
#include "registry/http.h"
#include "registry/ref.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char usage_text[]
    = "imgtool import [-c INSTRUCTION]... [-m MESSAGE] [--platform P] "
      "file|URL|- [REPOSITORY[:TAG]]";

static int
feed (void *ctx, const void *data, size_t len, struct err **err)
{
  return layer_ingest_feed (ctx, data, len, err);
}

static bool
is_url (const char *src)
{
  return !strncmp (src, "http://", 7) || !strncmp (src, "https://", 8);
}

/* The source's bytes into the layer: from a URL through the registry's
 * HTTP transport, else from the file or stdin. */
static int
read_source (const char *src, const char *config_path, struct layer_ingest *li,
             struct err **err)
{
  if (is_url (src))
    {
      struct reg_config cfg;
      struct reg_http *h;
      struct http_response resp = { 0 };
      /* no retries: a retry would feed the bytes again */
      struct http_request req
          = { .url = src, .write = feed, .ctx = li, .no_retry = true };
      int ret = -1;
      if (reg_config_load (config_path, &cfg, err) < 0)
        return -1;
      h = http_new (&cfg, true, NULL);
      if (http_do (h, &req, &resp, err) == 0)
        {
          if (resp.status / 100 == 2)
            ret = 0;
          else
            {
              _cleanup_free_ char *why = http_error_text (&resp);
              err_set (err, 0, "download: %s", why);
            }
        }
      http_response_release (&resp);
      http_free (h);
      reg_config_release (&cfg);
      return ret;
    }
  _cleanup_close_ int fd
      = strcmp (src, "-") ? open (src, O_RDONLY | O_CLOEXEC) : dup (0);
  if (fd < 0)
    return err_set (err, errno, "open");
  return fs_read_each (fd, feed, li, NULL, err);
}

/* The config docker's import writes (moby daemon/images/image_import.go). */
static json_t *
import_config (const struct platform *p, const char *msg)
{
  char now[64];
  rfc3339_format (time (NULL), now, sizeof now);
  json_t *doc = json_pack (
      "{s:s,s:s,s:{},s:s,s:s,s:{s:s,s:[]},s:[{s:s,s:s}]}", "architecture",
      p->arch, "os", p->os, "config", "created", now, "comment", msg, "rootfs",
      "type", "layers", "diff_ids", "history", "created", now, "comment", msg);
  if (p->variant)
    json_object_set_new (doc, "variant", json_string (p->variant));
  return doc;
}

static const struct cmd_opt import_opts[] = {
  CMD_OPT ("change", 'c', "INSTRUCTION", 0,
           "Apply Dockerfile instruction to the created image", "--change"),
  CMD_OPT ("message", 'm', "MESSAGE", 0, "Commit message", "--message"),
  CMD_OPT ("platform", 0, "OS/ARCH[/VARIANT]", 'P', "Set platform of the image",
           "--platform"),
  CMD_OPT_HELP_H,
  CMD_OPT_END,
};

const struct cmd_spec cmd_import_spec = {
  .name = "import",
  .usage = usage_text,
  .opts = import_opts,
};

COMMAND (import)
{
  _cleanup_strv_ char **changes = NULL;
  _cleanup_free_ char *msg = NULL, *name = NULL, *cfg = NULL;
  _cleanup_free_ char *cfg_digest = NULL, *man_digest = NULL;
  const char *message = NULL, *platform = NULL, *src;
  struct platform p = { 0 };
  struct layer_ingest *li = NULL;
  struct layer_result res;
  struct store s = { .root_fd = -1 };
  json_t *doc = NULL;
  int64_t man_size;
  int c, guard = -1, ret = -1;

  while ((c = cmd_getopt (argc, argv, &cmd_import_spec)) != -1)
    switch (c)
      {
      case 'c':
        strv_push (&changes, xstrdup (optarg));
        break;
      case 'm':
        message = optarg;
        break;
      case 'P':
        platform = optarg;
        break;
      case CMD_OPT_HELP_ID:
        return 0;
      default:
        return command_bad_option (err);
      }
  if (optind != argc - 1 && optind != argc - 2)
    return command_usage_error (usage_text, err);
  src = argv[optind];
  if (optind == argc - 2)
    {
      struct ref r;
      if (ref_parse (argv[optind + 1], &r, err) < 0)
        return -1;
      if (r.digest)
        {
          ref_release (&r);
          return err_set (err, 0,
                          "import '%s': a target cannot have a "
                          "digest",
                          argv[optind + 1]);
        }
      name = ref_string (&r);
      ref_release (&r);
    }
  if (platform ? platform_parse (platform, &p, err) < 0
               : (platform_host (&p), 0))
    return -1;
  /* docker's message: "Imported from -" for stdin and files (the CLI
     streams a file as stdin), else the URL */
  if (message && *message)
    msg = xstrdup (message);
  else if (is_url (src))
    msg = xasprintf ("Imported from %s", src);
  else
    msg = xstrdup ("Imported from -");
  /* the changes first: a bad one costs no download */
  doc = import_config (&p, msg);
  if (build_apply_changes (doc, changes, err) < 0)
    goto out;
  if (command_rootless ("import", 1, err) < 0)
    goto out;
  if (store_open (&s, g->root, err) < 0)
    goto out;
  if ((guard = store_writer_guard (&s, err)) < 0)
    goto out;
  li = layer_ingest_new (&s);
  if (read_source (src, g->config_path, li, err) < 0
      || layer_ingest_finish (li, &res, err) < 0)
    {
      err_wrap (err, "import '%s'", src);
      goto out;
    }
  json_array_append_new (
      json_object_get (json_object_get (doc, "rootfs"), "diff_ids"),
      json_string (res.diff_id));
  if (!(cfg = json_dumps (doc, JSON_COMPACT | JSON_SORT_KEYS)))
    {
      err_set (err, 0, "serialise the image config");
      goto out;
    }
  /* the layer's chain ID is its diff_id: the only layer */
  if (layer_ingest_commit (steal_pointer (&li), res.diff_id, err) < 0
      || store_blob_put (&s, cfg, strlen (cfg), NULL, &cfg_digest, err) < 0)
    goto out;
  struct descriptor l = { .media_type = (char *)res.media_type,
                          .digest = res.digest,
                          .size = res.size };
  if (image_store_manifest (&s, cfg_digest, (int64_t)strlen (cfg), &l, 1,
                            &man_digest, &man_size, err)
      < 0)
    goto out;
  if (name ? lookup_tag_set (&s, name, MT_OCI_MANIFEST, man_digest, man_size,
                             cfg_digest, NULL, err)
           : lookup_keep_untagged (&s, MT_OCI_MANIFEST, man_digest, man_size,
                                   cfg_digest, err)
                 < 0)
    goto out;
  printf ("%s\n", cfg_digest);
  ret = 0;
out:
  layer_ingest_abort (li);
  json_decref (doc);
  platform_release (&p);
  if (guard >= 0)
    close (guard);
  if (s.root)
    {
      snapshot_flush_later (&s);
      store_release (&s);
    }
  return ret;
}
