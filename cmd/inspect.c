/* imgtool inspect [-f FORMAT] [--type container|image] NAME...: a
 * container as docker's JSON shows it, or an image's reference, digests,
 * manifest and config; an array, one object per name, like docker; with
 * -f, the Go template applied to each object, one line each. A name is
 * looked up as a container first, then as an image (docker's order). */
#include "cmd/command.h"
#include "cmd/containers.h"
#include "cmd/lookup.h"
#include "cmd/opttable.h"
#include "layers/image_store.h"
#include "lib/err.h"
#include "lib/gotmpl.h"
#include "lib/json.h"
#include "lib/strbuf.h"
#include "lib/xalloc.h"
#include "trust/pull.h"

#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

static const char usage_text[]
    = "imgtool inspect [-f FORMAT] [--type container|image] "
      "[--platform OS/ARCH[/VARIANT]] NAME...";

enum kind
{
  ANY,
  CONTAINER,
  IMAGE,
};

/* The container name names, or NULL: with kind CONTAINER an error, else
 * none (the name is then tried as an image). */
static json_t *
inspect_container (const char *root, const char *name, enum kind kind,
                   struct err **err)
{
  struct svc svc = { .cs = { .fd = -1 } };
  struct svc_container c = { 0 };
  struct err *e = NULL;
  json_t *o = NULL;
  if (containers_load (&svc, root, NULL, name, &c, &e) == 0)
    o = containers_inspect_json (&c.rec);
  else if (kind == CONTAINER)
    *err = steal_pointer (&e);
  err_free (e);
  svc_container_release (&c);
  svc_close (&svc);
  return o;
}

/* "name:tag" and "name@digest" as docker shows them (familiar names). */
static void
repo_names (const char *name, const char *digest, json_t *tags, json_t *digests)
{
  _cleanup_free_ char *repo = NULL, *tag = NULL;
  if (lookup_repo_tag (name, &repo, &tag) < 0)
    return;
  if (tag)
    json_array_append_new (tags, json_sprintf ("%s:%s", repo, tag));
  json_array_append_new (digests, json_sprintf ("%s@%s", repo, digest));
}

/* docker's image fields (Id, RepoTags, RepoDigests, Created, Author,
 * Architecture, Os, Config = the image's run config, RootFS, Size), so
 * templates written for docker work, and imgtool's own: Reference,
 * Digest, MediaType, ManifestDigest, Manifest, ImageConfig (the whole
 * config document as stored), Signature (trust/pull.h: when a policy's
 * signature check let the image in, which key verified it), Index (the
 * index document when the name points at one). */
/* A name that points at an index: the index too, as Index (podman's
 * manifest inspect: one entry per platform). */
static void
add_index (struct store *s, json_t *o, const struct image *img)
{
  _cleanup_free_ char *raw = NULL;
  size_t len;
  struct err *e = NULL;
  if (!strcmp (img->top_digest, img->manifest_digest))
    return;
  if (store_blob_read (s, img->top_digest, MANIFEST_MAX_SIZE, &raw, &len, &e)
      == 0)
    json_object_set_new (o, "Index", json_loadb (raw, len, 0, NULL));
  err_free (e);
}

static json_t *
inspect_one (struct store *s, const char *name, const struct platform *want,
             struct err **err)
{
  struct store_ref ref;
  struct image img;
  json_t *o, *manifest, *doc, *run_config, *tags, *digests;
  if (lookup_image (s, name, &ref, err) < 0)
    return NULL;
  if (image_load_ref (s, &ref, want, &img, err) < 0)
    {
      store_ref_release (&ref);
      return NULL;
    }
  manifest = json_loadb (img.manifest_raw, img.manifest_len, 0, NULL);
  doc = img.config.json;
  run_config = json_object_get (doc, "config");
  run_config = run_config ? json_incref (run_config) : json_object ();
  tags = json_array ();
  digests = json_array ();
  repo_names (ref.name, img.top_digest, tags, digests);
  o = json_pack (
      "{s:s, s:o, s:o, s:s, s:s, s:s, s:s, s:o, s:{s:s, s:o}, s:I,"
      " s:s, s:s, s:s, s:s, s:o, s:O}",
      "Id", img.manifest.config.digest, "RepoTags", tags, "RepoDigests",
      digests, "Created", img.config.created ? img.config.created : "",
      "Author",
      json_string_value (json_object_get (doc, "author"))
          ? json_string_value (json_object_get (doc, "author"))
          : "",
      "Architecture", img.config.arch ? img.config.arch : "", "Os",
      img.config.os ? img.config.os : "", "Config", run_config, "RootFS",
      "Type", "layers", "Layers", strv_to_json (img.config.diff_ids), "Size",
      (json_int_t)image_size (&img), "Reference", ref.name, "Digest",
      img.top_digest, "MediaType", img.top_media_type, "ManifestDigest",
      img.manifest_digest, "Manifest", manifest, "ImageConfig", doc);
  trust_inspect (s, o, img.top_digest, img.manifest_digest);
  add_index (s, o, &img);
  image_release (&img);
  store_ref_release (&ref);
  return o;
}

static const struct cmd_opt inspect_opts[] = {
  CMD_OPT ("platform", 0, "OS/ARCH[/VARIANT]", 'p',
           "The platform of an index to show", NULL),
  CMD_OPT ("format", 'f', "FORMAT", 0,
           "Format output: table, json or a Go template", "--format"),
  CMD_OPT ("type", 0, "TYPE", 't', "Return JSON for the specified type",
           "--type"),
  CMD_OPT_HELP_H,
  CMD_OPT_END,
};

const struct cmd_spec cmd_inspect_spec = {
  .name = "inspect",
  .usage = usage_text,
  .opts = inspect_opts,
};

COMMAND (inspect)
{
  struct store s;
  struct platform plat = { 0 }, *want = NULL;
  struct gotmpl *tmpl = NULL;
  enum kind kind = ANY;
  json_t *out;
  int c, ret = 0;

  while ((c = cmd_getopt (argc, argv, &cmd_inspect_spec)) != -1)
    switch (c)
      {
      case 'f':
        {
          bool table;
          _cleanup_free_ char *f = gotmpl_docker_format (optarg, &table);
          gotmpl_free (tmpl);
          tmpl = NULL;
          if (gotmpl_parse (f, &tmpl, err) < 0)
            {
              platform_release (&plat);
              return -1;
            }
          break;
        }
      case 't':
        if (!strcmp (optarg, "container") || !strcmp (optarg, "image"))
          kind = optarg[0] == 'c' ? CONTAINER : IMAGE;
        else
          {
            gotmpl_free (tmpl);
            platform_release (&plat);
            return err_set (err, 0,
                            "invalid --type '%s': expected container or image",
                            optarg);
          }
        break;
      case 'p':
        platform_release (&plat);
        if (platform_parse (optarg, &plat, err) < 0)
          return -1;
        want = &plat;
        break;
      case CMD_OPT_HELP_ID:
        gotmpl_free (tmpl);
        return 0;
      default:
        gotmpl_free (tmpl);
        platform_release (&plat);
        return command_bad_option (err);
      }
  if (optind >= argc)
    {
      gotmpl_free (tmpl);
      platform_release (&plat);
      return command_usage_error (usage_text, err);
    }
  if (store_open (&s, g->root, err) < 0)
    {
      gotmpl_free (tmpl);
      platform_release (&plat);
      return -1;
    }
  out = json_array ();
  for (int i = optind; i < argc && ret == 0; i++)
    {
      json_t *o = kind == IMAGE
                      ? NULL
                      : inspect_container (g->root, argv[i], kind, err);
      if (!o && kind != CONTAINER)
        o = inspect_one (&s, argv[i], want, err);
      if (!o)
        ret = -1;
      else
        json_array_append_new (out, o);
    }
  if (ret == 0 && tmpl)
    {
      struct strbuf sb = STRBUF_INIT;
      size_t i;
      json_t *o;
      json_array_foreach (out, i, o)
      {
        if (gotmpl_exec (tmpl, o, &sb, err) < 0)
          {
            ret = -1;
            break;
          }
        strbuf_addch (&sb, '\n');
      }
      if (ret == 0)
        fputs (sb.buf ? sb.buf : "", stdout);
      strbuf_release (&sb);
    }
  else if (ret == 0)
    {
      json_dumpf (out, stdout, JSON_INDENT (4));
      printf ("\n");
    }
  json_decref (out);
  gotmpl_free (tmpl);
  platform_release (&plat);
  store_release (&s);
  return ret;
}
