/* Unit tests for runtime/mountopt.c: -v, --mount and --tmpfs specs as
 * docker reads them, with docker's messages, and the image's VOLUMEs. */
#include "lib/err.h"
#include "lib/xalloc.h"
#include "runtime/runopts.h"
#include "tests/unit/test.h"

#include <stdlib.h>
#include <unistd.h>

static void
test_volume_flag (void)
{
  struct err *err = NULL;
  struct rt_mount m;
  CHECK (rt_volume_parse ("/srv/data:/data:ro", &m, &err) == 0
             && m.kind == RT_MOUNT_BIND && m.readonly,
         "-v SRC:DST:ro is a read-only bind");
  CHECK_STR (m.source, "/srv/data", "bind source");
  CHECK_STR (m.destination, "/data", "bind destination");
  CHECK_STR (m.mode, "ro", "bind Mode as given");
  CHECK_STR (m.propagation, "rprivate", "bind propagation rprivate");
  rt_mount_release (&m);
  CHECK (rt_volume_parse ("/a//b/:/x/./y/../z/", &m, &err) == 0 && !m.readonly,
         "-v SRC:DST is read-write");
  CHECK_STR (m.source, "/a/b", "source cleaned");
  CHECK_STR (m.destination, "/x/z", "destination cleaned");
  CHECK_STR (m.mode, "", "no Mode");
  rt_mount_release (&m);
  CHECK (rt_volume_parse ("/a:/b:rw,z,rshared", &m, &err) == 0 && !m.readonly,
         "rw,z,rshared accepted");
  CHECK_STR (m.propagation, "rshared", "propagation kept");
  rt_mount_release (&m);
  CHECK (rt_volume_parse ("/a:/b:", &m, &err) == 0,
         "an empty MODE is no mode (docker)");
  rt_mount_release (&m);

  CHECK (rt_volume_parse ("data:/var/lib/db", &m, &err) == 0
             && m.kind == RT_MOUNT_VOLUME && !m.anonymous && !m.source,
         "-v NAME:DST is a named volume");
  CHECK_STR (m.name, "data", "its name");
  CHECK_STR (m.mode, "z", "Mode z, as docker's local driver sets it");
  rt_mount_release (&m);
  CHECK (rt_volume_parse ("data:/d:ro,nocopy", &m, &err) == 0 && m.readonly
             && m.nocopy,
         "-v NAME:DST:ro,nocopy");
  rt_mount_release (&m);
  CHECK (rt_volume_parse ("/scratch", &m, &err) == 0
             && m.kind == RT_MOUNT_VOLUME && m.anonymous && !m.name,
         "-v DST is an anonymous volume");
  CHECK_STR (m.mode, "", "anonymous Mode empty");
  rt_mount_release (&m);

  static const struct
  {
    const char *spec, *msg;
  } bad[] = {
    { "/data:ro", "invalid volume specification: '/data:ro'" },
    { "/a:/b:ro:x", "invalid volume specification: '/a:/b:ro:x'" },
    { ":/b", "invalid volume specification: ':/b'" },
    { "/a:", "invalid volume specification: '/a:'" },
    { "/a:/b:rx", "invalid mode: rx" },
    { "/a:/b:ro,rw", "invalid mode: ro,rw" },
    { "/a:/b:z,Z", "invalid mode: z,Z" },
    { "/a:b", "invalid mount config for type \"bind\": invalid mount path: "
              "'b' mount path must be absolute" },
    { "v:b", "invalid mount config for type \"volume\": invalid mount path: "
             "'b' mount path must be absolute" },
    { "/a:/", "invalid mount config for type \"bind\": invalid "
              "specification: destination can't be '/'" },
    { "/a:/b:nocopy", "field VolumeOptions must not be specified" },
  };
  for (size_t i = 0; i < ARRAY_SIZE (bad); i++)
    {
      int r = rt_volume_parse (bad[i].spec, &m, &err);
      CHECK (r < 0 && err->exit == 125 && strstr (err->msg, bad[i].msg),
             "-v '%s': %s", bad[i].spec, bad[i].msg);
      if (r < 0 && !strstr (err->msg, bad[i].msg))
        printf ("#   got '%s'\n", err->msg);
      err_clear (&err);
    }
}

static void
test_tmpfs_flag (void)
{
  struct err *err = NULL;
  struct rt_mount m;
  CHECK (rt_tmpfs_parse ("/scratch", &m, &err) == 0 && m.kind == RT_MOUNT_TMPFS
             && !m.options && !m.readonly,
         "--tmpfs DST");
  rt_mount_release (&m);
  CHECK (rt_tmpfs_parse ("/run:rw,size=64m,mode=1777,ro", &m, &err) == 0
             && m.readonly,
         "--tmpfs DST:opts with ro");
  CHECK_STR (m.options, "size=64m,mode=1777", "tmpfs options kept, ro taken");
  rt_mount_release (&m);
  CHECK (rt_tmpfs_parse ("run", &m, &err) < 0, "--tmpfs relative refused");
  err_clear (&err);
}

static void
test_mount_flag (void)
{
  struct err *err = NULL;
  struct rt_mount m;
  char cwd[4096];

  CHECK (
      rt_mount_opt_parse ("type=bind,source=/tmp,target=/t,readonly", &m, &err)
              == 0
          && m.kind == RT_MOUNT_BIND && m.readonly,
      "--mount type=bind,...,readonly");
  CHECK_STR (m.source, "/tmp", "bind source");
  CHECK_STR (m.destination, "/t", "bind target");
  CHECK_STR (m.mode, "", "--mount Mode is empty");
  CHECK_STR (m.propagation, "rprivate", "bind propagation default");
  rt_mount_release (&m);
  CHECK (rt_mount_opt_parse ("Type=BIND,src=/tmp,dst=/t,ro=false,"
                             "bind-propagation=rslave",
                             &m, &err)
                 == 0
             && !m.readonly,
         "keys case-insensitive, src/dst, ro=false");
  CHECK_STR (m.propagation, "rslave", "bind-propagation");
  rt_mount_release (&m);
  CHECK (getcwd (cwd, sizeof cwd) != NULL, "cwd");
  CHECK (rt_mount_opt_parse ("type=bind,src=.,destination=/t", &m, &err) == 0,
         "source=. is the current directory");
  CHECK_STR (m.source, cwd, "made absolute as the client does");
  rt_mount_release (&m);

  CHECK (rt_mount_opt_parse ("target=/data", &m, &err) == 0
             && m.kind == RT_MOUNT_VOLUME && m.anonymous && !m.name,
         "type defaults to volume; no source: anonymous");
  rt_mount_release (&m);
  CHECK (rt_mount_opt_parse ("type=volume,src=db,dst=/db,volume-nocopy,"
                             "\"volume-label=a=b,c\"",
                             &m, &err)
                 == 0
             && m.nocopy && !m.anonymous,
         "named volume, volume-nocopy, a quoted field");
  CHECK_STR (m.name, "db", "volume name");
  CHECK (m.labels && m.labels[0] && !strcmp (m.labels[0], "a=b,c"),
         "volume-label kept for the volume's creation");
  rt_mount_release (&m);

  CHECK (rt_mount_opt_parse ("type=tmpfs,dst=/t,tmpfs-size=64m,tmpfs-mode=1770",
                             &m, &err)
                 == 0
             && m.kind == RT_MOUNT_TMPFS,
         "tmpfs with size and mode");
  CHECK_STR (m.options, "size=67108864,mode=1770", "size in bytes, mode octal");
  rt_mount_release (&m);

  static const struct
  {
    const char *spec, *msg;
  } bad[] = {
    { "type=bind,src=/tmp", "target is required" },
    { "type=bind,src=/tmp,dst=/t,foo=1", "unknown option 'foo' in 'foo=1'" },
    { "type=bind,src=/tmp,dst=/t,rw", "invalid field 'rw' must be a key=value "
                                      "pair" },
    { "type=bind,src=/tmp,dst=/t,ro=yes",
      "invalid value for 'ro': invalid boolean value (\"yes\"): must be one "
      "of \"true\", \"1\", \"false\", or \"0\" (default \"true\")" },
    { "type=bind,src=,dst=/t", "invalid value for 'src': value is empty" },
    { "type=volume,dst=/t,bind-propagation=shared",
      "cannot mix 'bind-*' options with mount type 'volume'" },
    { "type=bind,src=/tmp,dst=/t,volume-nocopy",
      "cannot mix 'volume-*' options with mount type 'bind'" },
    { "type=volume,dst=/t,tmpfs-size=1m",
      "cannot mix 'tmpfs-*' options with mount type 'volume'" },
    { "type=tmpfs,src=/x,dst=/t", "invalid mount config for type \"tmpfs\": "
                                  "field Source must not be specified" },
    { "type=bind,dst=/t", "invalid mount config for type \"bind\": field "
                          "Source must not be empty" },
    { "type=bind,src=/nonexistent-imgtool,dst=/t",
      "invalid mount config for type \"bind\": bind source path does not "
      "exist: /nonexistent-imgtool" },
    { "type=bind,src=/tmp,dst=/t,bind-propagation=up",
      "invalid mount config for type \"bind\": invalid propagation mode: up" },
    { "type=nfs,dst=/t",
      "invalid mount config for type \"nfs\": mount type unknown" },
    { "type=volume,dst=rel", "invalid mount config for type \"volume\": "
                             "invalid mount path: 'rel' mount path must be "
                             "absolute" },
    { "type=tmpfs,dst=/t,tmpfs-mode=9", "invalid value for 'tmpfs-mode': 9" },
    { "type=tmpfs,dst=/t,tmpfs-size=lots",
      "invalid value for 'tmpfs-size': lots" },
    { "type=volume,\"dst=/t", "unterminated quote" },
  };
  for (size_t i = 0; i < ARRAY_SIZE (bad); i++)
    {
      int r = rt_mount_opt_parse (bad[i].spec, &m, &err);
      _cleanup_free_ char *want
          = xasprintf ("invalid argument \"%s\" for \"--mount\" flag: %s",
                       bad[i].spec, bad[i].msg);
      CHECK (r < 0 && err->exit == 125 && !strcmp (err->msg, want),
             "--mount '%s': %s", bad[i].spec, bad[i].msg);
      if (r < 0 && strcmp (err->msg, want))
        printf ("#   got '%s'\n", err->msg);
      err_clear (&err);
    }
}

static void
test_image_volumes (void)
{
  struct rt_mount *m = NULL;
  struct err *err = NULL;
  size_t n = 0;
  char *vols[] = { "/data", "logs", "/etc/", "/", NULL };
  m = xcalloc (1, sizeof *m);
  CHECK (rt_volume_parse ("/host:/etc", &m[0], &err) == 0, "a bind on /etc");
  n = 1;
  rt_mounts_add_image_volumes (&m, &n, vols);
  CHECK (n == 3, "two VOLUMEs added: /etc is mounted, / is never one");
  CHECK_STR (n > 1 ? m[1].destination : NULL, "/data", "first VOLUME");
  CHECK_STR (n > 2 ? m[2].destination : NULL, "/logs",
             "a relative VOLUME is taken from /");
  CHECK (n > 2 && m[1].anonymous && m[2].kind == RT_MOUNT_VOLUME,
         "they are anonymous volumes");
  for (size_t i = 0; i < n; i++)
    rt_mount_release (&m[i]);
  free (m);
}

int
main (void)
{
  test_volume_flag ();
  test_tmpfs_flag ();
  test_mount_flag ();
  test_image_volumes ();
  return test_done ();
}
