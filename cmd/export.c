/* imgtool export [-o FILE] CONTAINER: the container's file system as one
 * tar, to FILE or stdout (never a terminal), as docker's export: its
 * image's layers with its writable layer over them, read from the
 * snapshots and the upper dir themselves (layers/export.h), so nothing
 * mounted into it is there and a running container is read as it is,
 * not through its mounts. /proc and /sys are empty directories. FILE
 * appears only when complete. */
#include "layers/export.h"
#include "cmd/command.h"
#include "cmd/opttable.h"
#include "layers/tarwriter.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/xalloc.h"
#include "service/service.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

static const char usage_text[] = "imgtool export [-o FILE] CONTAINER";

static const struct cmd_opt export_opts[] = {
  CMD_OPT ("output", 'o', "FILE", 0, "Write to a file, instead of STDOUT",
           "--output"),
  CMD_OPT_HELP_H,
  CMD_OPT_END,
};

const struct cmd_spec cmd_export_spec = {
  .name = "export",
  .usage = usage_text,
  .opts = export_opts,
};

COMMAND (export)
{
  static char *const empty_dirs[] = { "proc", "sys", NULL };
  const char *output = NULL;
  struct fs_output out = { .fd = -1 };
  struct svc svc;
  struct svc_container c = { 0 };
  bool opened = false;
  int c_, fd = 1, ret = -1;
  _cleanup_close_ int upper = -1;

  while ((c_ = cmd_getopt (argc, argv, &cmd_export_spec)) != -1)
    switch (c_)
      {
      case 'o':
        output = optarg;
        break;
      case CMD_OPT_HELP_ID:
        return 0;
      default:
        return command_bad_option (err);
      }
  if (optind != argc - 1)
    return command_usage_error (usage_text, err);
  if (!output && isatty (1))
    return err_set (err, 0, COMMAND_TTY_REFUSED);
  if (svc_open (&svc, g->root, g->config_path, err) < 0)
    return -1;
  opened = true;
  if (svc_load (&svc, argv[optind], &c, err) < 0)
    goto out;
  if (!c.rec.plan.lower_dirs || !c.rec.plan.lower_dirs[0])
    {
      err_set (err, 0, "it has no image layers");
      goto fail;
    }
  if (c.rec.plan.upper_dir
      && (upper = open (c.rec.plan.upper_dir,
                        O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC))
             < 0)
    {
      err_set (err, errno, "open its writable layer");
      goto fail;
    }
  if (output)
    {
      if (fs_output_open (&out, output, err) < 0)
        goto fail;
      fd = out.fd;
    }
  struct layer_sink sink = { layer_sink_fd_write, &fd, false };
  if (layer_export (upper, c.rec.plan.lower_dirs, empty_dirs, &sink, err) < 0
      || (output && fs_output_commit (&out, err) < 0))
    goto fail;
  ret = 0;
  goto out;
fail:
  err_wrap (err, "export '%s'", argv[optind]);
out:
  fs_output_abort (&out);
  svc_container_release (&c);
  if (opened)
    svc_close (&svc);
  return ret;
}
