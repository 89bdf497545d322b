/* imgtool tag SOURCE TARGET: another name for the same image. */
#include "cmd/command.h"
#include "cmd/lookup.h"
#include "cmd/opttable.h"
#include "lib/err.h"
#include "lib/xalloc.h"
#include "registry/ref.h"

#include <stdio.h>
#include <string.h>

static const char usage_text[] = "imgtool tag SOURCE_IMAGE TARGET_IMAGE[:TAG]";

const struct cmd_spec cmd_tag_spec
    = { .name = "tag", .usage = usage_text, .opts = cmd_opts_help_only };

COMMAND (tag)
{
  struct store s;
  struct store_ref src;
  struct ref dst;
  _cleanup_free_ char *name = NULL;
  int ret;
  if ((ret = cmd_no_options (argc, argv, &cmd_tag_spec, err)) != 0)
    return ret < 0 ? -1 : 0;
  argc -= optind - 1;
  argv += optind - 1;
  if (argc != 3)
    return command_usage_error (usage_text, err);
  if (ref_parse (argv[2], &dst, err) < 0)
    return -1;
  if (dst.digest)
    {
      ref_release (&dst);
      return err_set (err, 0, "tag '%s': a target cannot have a digest",
                      argv[2]);
    }
  name = ref_string (&dst);
  ref_release (&dst);
  if (store_open (&s, g->root, err) < 0)
    return -1;
  ret = lookup_image (&s, argv[1], &src, err);
  if (ret == 0)
    {
      ret = store_ref_set (&s, name, src.media_type, src.digest, src.size, err);
      store_ref_release (&src);
    }
  store_release (&s);
  return ret;
}
