/* imgtool inspect IMAGE...: the reference, digests, manifest and config as
 * JSON (an array, one object per image, like docker). */
#include "cmd/command.h"
#include "cmd/lookup.h"
#include "layers/image_store.h"
#include "lib/err.h"
#include "lib/xalloc.h"

#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

static const char usage_text[]
    = "imgtool inspect [--platform OS/ARCH[/VARIANT]] IMAGE...";

static json_t *
inspect_one (struct store *s, const char *name, const struct platform *want,
             struct err **err)
{
  struct store_ref ref;
  struct image img;
  json_t *o, *manifest, *config;
  if (lookup_image (s, name, &ref, err) < 0)
    return NULL;
  if (image_load_ref (s, &ref, want, &img, err) < 0)
    {
      store_ref_release (&ref);
      return NULL;
    }
  manifest = json_loadb (img.manifest_raw, img.manifest_len, 0, NULL);
  config = json_incref (img.config.json);
  o = json_pack ("{s:s, s:s, s:s, s:s, s:s, s:I, s:o, s:o}", "Reference",
                 ref.name, "Digest", img.top_digest, "MediaType",
                 img.top_media_type, "ManifestDigest", img.manifest_digest,
                 "Id", img.manifest.config.digest, "Size",
                 (json_int_t) image_size (&img), "Manifest", manifest,
                 "Config", config);
  image_release (&img);
  store_ref_release (&ref);
  return o;
}

COMMAND (inspect)
{
  static const struct option opts[] = {
    { "platform", required_argument, NULL, 'p' },
    { "help", no_argument, NULL, 'h' },
    { 0 },
  };
  struct store s;
  struct platform plat = { 0 }, *want = NULL;
  json_t *out;
  int c, ret = 0;

  while ((c = command_getopt (argc, argv, "h", opts)) != -1)
    switch (c)
      {
      case 'p':
        platform_release (&plat);
        if (platform_parse (optarg, &plat, err) < 0)
          return -1;
        want = &plat;
        break;
      case 'h':
        printf ("usage: %s\n", usage_text);
        return 0;
      default:
        platform_release (&plat);
        return command_bad_option (err);
      }
  if (optind >= argc)
    {
      platform_release (&plat);
      return command_usage_error (usage_text, err);
    }
  if (store_open (&s, g->root, err) < 0)
    {
      platform_release (&plat);
      return -1;
    }
  out = json_array ();
  for (int i = optind; i < argc && ret == 0; i++)
    {
      json_t *o = inspect_one (&s, argv[i], want, err);
      if (!o)
        ret = -1;
      else
        json_array_append_new (out, o);
    }
  if (ret == 0)
    {
      json_dumpf (out, stdout, JSON_INDENT (4));
      printf ("\n");
    }
  json_decref (out);
  platform_release (&plat);
  store_release (&s);
  return ret;
}
