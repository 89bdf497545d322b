/* imgtool cp [-a] [-L] SRC DEST: docker cp. One side is CONTAINER:PATH
 * (a path in the container, from its root), the other a local path or
 * "-" (a tar stream on stdin or stdout). Paths in the container are
 * resolved inside its root (lib/inroot.h, openat2 RESOLVE_IN_ROOT): its
 * symlinks never lead out of it. A running container's files are its own
 * view; a stopped one's overlay is mounted where only this process sees
 * it (service.h, svc_files_open).
 *
 * docker's path rules: a file into an existing directory goes in under
 * its name, over an existing file replaces it, else becomes DEST (whose
 * parent must exist; "DEST/" must be an existing directory); a directory
 * into an existing directory goes in under its name (its contents only
 * with SRC/.), else becomes DEST; a directory onto a file is an error.
 * Owners as docker's code gives them (not its docs): copied in, the
 * source's numeric owners, or with -a the container's user; copied out,
 * the caller's. -L follows a symlink SRC. */
#include "cmd/command.h"
#include "cmd/containers.h"
#include "cmd/opttable.h"
#include "layers/apply.h"
#include "layers/tarfs.h"
#include "layers/tarwriter.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/inroot.h"
#include "lib/treecopy.h"
#include "lib/xalloc.h"
#include "runtime/runopts.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char usage_text[]
    = "imgtool cp [-a] [-L] CONTAINER:SRC DEST|-\n"
      "       imgtool cp [-a] [-L] SRC|- CONTAINER:DEST";

/* One side of the copy as typed. */
struct side
{
  char *container; /* NULL: local */
  const char *path;
  bool stream; /* "-" */
};

/* docker's splitCpArg: a local path starts with / or ., else NAME:PATH. */
static void
split_arg (const char *arg, struct side *s)
{
  const char *colon = strchr (arg, ':');
  memset (s, 0, sizeof *s);
  s->path = arg;
  if (!strcmp (arg, "-"))
    s->stream = true;
  else if (arg[0] != '/' && arg[0] != '.' && colon && colon > arg)
    {
      s->container = xstrndup (arg, (size_t)(colon - arg));
      s->path = colon + 1;
    }
}

static bool
ends_with (const char *s, const char *suffix)
{
  size_t n = strlen (s), k = strlen (suffix);
  return n >= k && !strcmp (s + n - k, suffix);
}

/* An object to copy from or to: dir/name. */
struct place
{
  int dir;
  char *name; /* in dir */
  char *as;   /* the name it goes under in a directory (a followed
                 link's own) */
  char *path; /* in the container: resolved, absolute */
  bool exists, is_dir;
};

static void
place_release (struct place *p)
{
  if (p->dir >= 0 && p->dir != AT_FDCWD)
    close (p->dir);
  free (p->name);
  free (p->as);
  free (p->path);
  p->dir = -1;
  p->name = p->as = NULL;
}

/* The last component of a clean absolute path ("." for "/"). */
static char *
last_name (const char *clean)
{
  const char *s = strrchr (clean, '/');
  return xstrdup (s && s[1] ? s + 1 : ".");
}

static char *
parent_of (const char *clean)
{
  const char *s = strrchr (clean, '/');
  return s && s != clean ? xstrndup (clean, (size_t)(s - clean))
                         : xstrdup ("/");
}

/* path in the container's root: its parent opened inside the root (the
 * kernel resolves its links there: RESOLVE_IN_ROOT), its last name as it
 * is, or with follow where its links lead (resolved inside the root too,
 * lib/inroot.h). */
static int
container_place (int root, const char *path, bool follow, struct place *out,
                 struct err **err)
{
  struct inroot_view v = inroot_fd_view (&root);
  _cleanup_free_ char *abs = xasprintf ("/%s", path);
  _cleanup_free_ char *clean = rt_path_clean (abs), *resolved = NULL;
  _cleanup_free_ char *parent = NULL;
  struct stat st;
  bool exists, is_dir;
  memset (out, 0, sizeof *out);
  out->dir = -1;
  if (follow
      && inroot_resolve (&v, clean, &resolved, &exists, &is_dir, err) < 0)
    return -1;
  if (!resolved)
    resolved = xstrdup (clean);
  parent = parent_of (resolved);
  out->name = last_name (resolved);
  out->as = last_name (clean);
  out->path = xstrdup (resolved);
  /* why: the container's links lead somewhere in its root, never out */
  out->dir = fs_open_in_root (root, parent, O_RDONLY | O_DIRECTORY, 0);
  if (out->dir < 0)
    return err_set (err, errno, "'%s'", parent);
  if (fstatat (out->dir, out->name, &st, AT_SYMLINK_NOFOLLOW) == 0)
    out->exists = true, out->is_dir = S_ISDIR (st.st_mode);
  return 0;
}

/* A local path: its parent opened (the host's links followed), the last
 * name as it is, or with follow where its links lead. */
static int
local_place (const char *path, bool follow, bool stat_follow, struct place *out,
             struct err **err)
{
  _cleanup_free_ char *real = follow ? realpath (path, NULL) : NULL;
  _cleanup_free_ char *c1 = xstrdup (real ? real : path);
  _cleanup_free_ char *c2 = xstrdup (real ? real : path);
  _cleanup_free_ char *c3 = xstrdup (path);
  struct stat st;
  const char *dir = dirname (c1);
  memset (out, 0, sizeof *out);
  out->name = xstrdup (basename (c2));
  out->as = xstrdup (basename (c3));
  if (!strcmp (out->name, "/"))
    {
      free (out->name);
      out->name = xstrdup (".");
    }
  out->dir = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (out->dir < 0)
    return err_set (err, errno, "'%s'", dir);
  if (fstatat (out->dir, out->name, &st, stat_follow ? 0 : AT_SYMLINK_NOFOLLOW)
      == 0)
    out->exists = true, out->is_dir = S_ISDIR (st.st_mode);
  return 0;
}

/* docker's rules: where src goes given dst. *contents: copy src's
 * entries into *to (SRC/. into a directory). */
static int
target (const struct place *src, const char *src_path, const struct place *dst,
        const char *dst_path, int *to_dir, const char **to_name, bool *contents,
        struct err **err)
{
  *contents = false;
  if (!src->is_dir)
    {
      if (ends_with (src_path, "/") || ends_with (src_path, "/."))
        return err_set (err, ENOTDIR, "'%s'", src_path);
      if (dst->exists && dst->is_dir)
        {
          *to_dir = openat (dst->dir, dst->name,
                            O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
          if (*to_dir < 0)
            return err_set (err, errno, "'%s'", dst_path);
          *to_name = NULL; /* src's own name */
          return 0;
        }
      if (!dst->exists && ends_with (dst_path, "/"))
        return err_set (err, 0, "destination directory '%s' must exist",
                        dst_path);
      *to_dir = -1;
      *to_name = dst->name;
      return 0;
    }
  if (dst->exists && !dst->is_dir)
    return err_set (err, 0, "cannot copy a directory to a file: '%s'",
                    dst_path);
  if (dst->exists)
    {
      *to_dir = openat (dst->dir, dst->name,
                        O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (*to_dir < 0)
        return err_set (err, errno, "'%s'", dst_path);
      *contents = ends_with (src_path, "/.");
      *to_name = NULL;
      return 0;
    }
  *to_dir = -1;
  *to_name = dst->name;
  return 0;
}

/* Copy src (a place) to dst (a place) by docker's rules. */
static int
copy_places (const struct place *src, const char *src_path,
             const struct place *dst, const char *dst_path,
             const struct treecopy_opts *o, struct err **err)
{
  const char *to_name = NULL;
  bool contents;
  int to_dir = -1, r;
  if (!src->exists)
    return err_set (err, ENOENT, "'%s'", src_path);
  if (target (src, src_path, dst, dst_path, &to_dir, &to_name, &contents, err)
      < 0)
    return -1;
  if (contents || !strcmp (src->name, "."))
    {
      _cleanup_close_ int from = openat (
          src->dir, src->name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (to_dir < 0 && !contents)
        {
          /* the root's contents: into DEST, made as a directory */
          if (mkdirat (dst->dir, to_name, 0755) < 0 && errno != EEXIST)
            return err_set (err, errno, "'%s'", dst_path);
          to_dir = openat (dst->dir, to_name,
                           O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        }
      r = from < 0 || to_dir < 0 ? err_set (err, errno, "'%s'", src_path)
                                 : treecopy_contents (from, to_dir, o, err);
    }
  else
    r = treecopy (src->dir, src->name, to_dir >= 0 ? to_dir : dst->dir,
                  to_name ? to_name : src->as, o, err);
  if (to_dir >= 0)
    close (to_dir);
  return r;
}

/* docker's checkWritablePath: the mount a path is on (the longest
 * destination that holds it) decides, else the root file system. */
static int
check_writable (const struct rt_plan *p, const char *path, struct err **err)
{
  const struct rt_mount *on = NULL;
  size_t best = 0;
  for (size_t i = 0; i < p->n_mounts; i++)
    {
      const char *d = p->mounts[i].destination;
      size_t n = strlen (d);
      if (n > best && !strncmp (path, d, n)
          && (path[n] == '/' || path[n] == '\0'))
        on = &p->mounts[i], best = n;
    }
  if (on && on->readonly)
    return err_set (err, 0, "mounted volume is marked read-only");
  if (!on && p->readonly_rootfs)
    return err_set (err, 0, "container rootfs is marked read-only");
  return 0;
}

/* A tar of dir/name as tar_path, and everything below it. */
static int
tar_tree (struct tarfs *t, int dir, const char *name, const char *tar_path,
          struct err **err)
{
  struct stat st;
  _cleanup_close_ int fd = -1;
  DIR *d;
  struct dirent *de;
  int r = 0;
  if (fstatat (dir, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return err_set (err, errno, "stat '%s'", tar_path);
  if (tarfs_add (t, dir, name, &st, tar_path, NULL, err) < 0)
    return -1;
  if (!S_ISDIR (st.st_mode))
    return 0;
  fd = openat (dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0 || !(d = fdopendir (fcntl (fd, F_DUPFD_CLOEXEC, 0))))
    return err_set (err, errno, "open '%s'", tar_path);
  while (r == 0 && (de = readdir (d)))
    if (strcmp (de->d_name, ".") && strcmp (de->d_name, ".."))
      {
        _cleanup_free_ char *sub = xasprintf ("%s/%s", tar_path, de->d_name);
        r = tar_tree (t, fd, de->d_name, sub, err);
      }
  closedir (d);
  return r;
}

/* cp CONTAINER:SRC -: a tar of SRC on stdout, under its name. */
static int
tar_out (const struct place *src, const char *src_path, struct err **err)
{
  int out = 1;
  struct layer_sink sink = { .write = layer_sink_fd_write, .ctx = &out };
  struct layer_opts lo = { .compression = LAYER_UNCOMPRESSED };
  struct layer_result res;
  struct tar_writer *tw;
  struct tarfs t;
  int r;
  if (!src->exists)
    return err_set (err, ENOENT, "'%s'", src_path);
  tw = tarw_new (LAYER_UNCOMPRESSED, 0, &sink, err);
  if (!tw)
    return -1;
  tarw_no_diff_id (tw);
  tarfs_init (&t, tw, &lo);
  r = tar_tree (&t, src->dir, src->name, strcmp (src->as, ".") ? src->as : "",
                err);
  if (r == 0)
    r = tarw_finish (tw, &res, err);
  tarfs_release (&t);
  tarw_free (tw);
  return r;
}

/* cp [-a] - CONTAINER:DIR: a tar (maybe compressed) from stdin into DIR. */
static int
tar_in (const struct place *dst, const char *dst_path,
        const struct treecopy_opts *o, struct err **err)
{
  /* docker: the tar's owners, or with -a the container's user */
  struct apply_opts ao = { .whiteouts = APPLY_WHITEOUT_DELETE,
                           .keep_owner = true,
                           .set_owner = o->owner == TREECOPY_OWNER_SET,
                           .atomic_files = true,
                           .uid = o->uid,
                           .gid = o->gid };
  char diff_id[DIGEST_STR_LEN + 1], buf[1 << 16];
  struct layer_unpacker *u;
  _cleanup_close_ int dir = -1;
  ssize_t n;
  int r = 0;
  if (!dst->exists || !dst->is_dir)
    return err_set (err, 0, "extraction point '%s' is not a directory",
                    dst_path);
  dir = openat (dst->dir, dst->name,
                O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (dir < 0)
    return err_set (err, errno, "'%s'", dst_path);
  if (!(u = layer_unpacker_new (dir, &ao, err)))
    return -1;
  while (r == 0 && (n = read (0, buf, sizeof buf)) != 0)
    if (n < 0)
      r = errno == EINTR ? 0 : err_set (err, errno, "read stdin");
    else
      r = layer_unpacker_feed (u, buf, (size_t)n, err);
  if (r == 0)
    r = layer_unpacker_finish (u, diff_id, err);
  layer_unpacker_free (u);
  return r;
}

static const struct cmd_opt cp_opts[] = {
  CMD_OPT ("archive", 'a', NULL, 0,
           "Archive mode (copy all uid/gid information)", "--archive"),
  CMD_OPT ("follow-link", 'L', NULL, 0, "Always follow symbol link in SRC_PATH",
           "--follow-link"),
  CMD_OPT_HELP,
  CMD_OPT_END,
};

const struct cmd_spec cmd_cp_spec = {
  .name = "cp",
  .usage = usage_text,
  .opts = cp_opts,
};

COMMAND (cp)
{
  struct svc svc = { .cs = { .fd = -1 } };
  struct svc_container ctr = { 0 };
  struct svc_files files = { .root = -1, .lock = -1 };
  struct side src, dst;
  struct place sp = { .dir = -1 }, dp = { .dir = -1 };
  struct treecopy_opts o = { .owner = TREECOPY_OWNER_CALLER };
  bool archive = false, follow = false;
  const char *name;
  int c, ret = -1;

  while ((c = cmd_getopt (argc, argv, &cmd_cp_spec)) != -1)
    switch (c)
      {
      case 'a':
        archive = cmd_optbool;
        break;
      case 'L':
        follow = cmd_optbool;
        break;
      case CMD_OPT_HELP_ID:
        return 0;
      default:
        return command_bad_option (err);
      }
  if (argc - optind != 2)
    return command_usage_error (usage_text, err);
  split_arg (argv[optind], &src);
  split_arg (argv[optind + 1], &dst);
  if (!src.container == !dst.container)
    {
      err_set (err, 0,
               src.container ? "copying between containers is not supported"
                             : "one of SRC and DEST must be CONTAINER:PATH");
      ret = err_exit (err, 2);
      goto out;
    }
  if ((src.stream && dst.stream) || (src.container && src.stream))
    {
      ret = command_usage_error (usage_text, err);
      goto out;
    }
  name = src.container ? src.container : dst.container;
  if (command_rootless ("cp", 1, err) < 0
      || containers_load (&svc, g->root, g->config_path, name, &ctr, err) < 0
      || svc_files_open (&svc, &ctr, &files, err) < 0)
    goto out;
  if (src.container)
    {
      if (container_place (files.root, src.path, follow, &sp, err) < 0)
        goto wrap;
      if (!sp.exists)
        {
          err_set (err, 0, "could not find the file '%s' in container '%s'",
                   sp.path, name);
          goto out;
        }
      if (dst.stream)
        ret = tar_out (&sp, src.path, err);
      else if (local_place (dst.path, false, true, &dp, err) == 0)
        ret = copy_places (&sp, src.path, &dp, dst.path, &o, err);
    }
  else
    {
      /* docker: numeric owners of the source, or -a the container's user;
       * its daemon chowns only for a configured User (tarCopyOptions),
       * so -a in a container that runs as root keeps them too */
      o.uid = ctr.rec.plan.user.uid;
      o.gid = ctr.rec.plan.user.gid;
      o.owner = archive && (o.uid || o.gid) ? TREECOPY_OWNER_SET
                                            : TREECOPY_OWNER_KEEP;
      if (container_place (files.root, dst.path, true, &dp, err) < 0
          || check_writable (&ctr.rec.plan, dp.path, err) < 0)
        goto wrap;
      if (src.stream)
        ret = tar_in (&dp, dst.path, &o, err);
      else if (local_place (src.path, follow, false, &sp, err) == 0)
        ret = copy_places (&sp, src.path, &dp, dst.path, &o, err);
    }
wrap:
  if (ret < 0 && *err)
    err_wrap (err, "cp '%s' '%s'", argv[optind], argv[optind + 1]);
out:
  place_release (&sp);
  place_release (&dp);
  svc_files_close (&files);
  free (src.container);
  free (dst.container);
  svc_container_release (&ctr);
  svc_close (&svc);
  return ret;
}
