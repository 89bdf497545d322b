/* Test helper (not part of the product): read a seekable layer's TOC with
 * layers/toc.c and print it, one entry a line.
 *
 *   toc-dump [--annotations JSON] [--verify] [--tarsplit] BLOB
 *
 * The TOC is located from the annotations (the layer descriptor's JSON
 * object) and the blob's footer, both when given. --verify decompresses
 * every regular file through the TOC (digests checked); --tarsplit rebuilds
 * the uncompressed tar from the zstd:chunked tar-split and the files, and
 * prints its digest (the layer's diff_id). Errors: one line, exit 1. */
#include "layers/toc.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/xalloc.h"

#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const type_names[]
    = { "reg", "dir", "symlink", "hardlink", "char", "block", "fifo", "chunk" };

struct blob
{
  const uint8_t *p;
  size_t len;
};

static int
count_sink (void *arg, const uint8_t *buf, size_t len, struct err **err)
{
  *(uint64_t *)arg += len;
  return 0;
}

static int
hash_sink (void *arg, const uint8_t *buf, size_t len, struct err **err)
{
  digester_update (arg, buf, len);
  return 0;
}

struct rebuild
{
  const struct toc *t;
  struct blob b;
  struct digester d;
};

static int
rebuild_cb (void *arg, const uint8_t *raw, size_t raw_len, const char *name,
            uint64_t size, struct err **err)
{
  struct rebuild *r = arg;
  if (!name)
    {
      digester_update (&r->d, raw, raw_len);
      return 0;
    }
  if (size == 0)
    return 0;
  const struct toc_entry *e = toc_lookup (r->t, name);
  if (!e || e->type != TOC_REG || e->size != size)
    return err_set (err, 0, "tar-split names '%s', the toc has no such file",
                    name);
  return toc_entry_decompress (r->t, e, r->b.p, r->b.len, 0, hash_sink, &r->d,
                               err);
}

static int
run (int argc, char **argv, struct err **err)
{
  const char *ann = NULL, *path = NULL;
  bool verify = false, tarsplit = false;
  for (int i = 1; i < argc; i++)
    if (strcmp (argv[i], "--annotations") == 0 && i + 1 < argc)
      ann = argv[++i];
    else if (strcmp (argv[i], "--verify") == 0)
      verify = true;
    else if (strcmp (argv[i], "--tarsplit") == 0)
      tarsplit = true;
    else
      path = argv[i];
  if (!path)
    return err_set (err, 0,
                    "usage: toc-dump [--annotations JSON] [--verify] "
                    "[--tarsplit] BLOB");
  _cleanup_free_ char *data = NULL;
  size_t len;
  if (fs_read_file (AT_FDCWD, path, (size_t)4 << 30, &data, &len, err) < 0)
    return -1;
  struct blob b = { (const uint8_t *)data, len };
  struct toc_location loc;
  if (toc_locate_annotations (ann, &loc, err) < 0)
    return -1;
  size_t n = len < TOC_FOOTER_MAX ? len : TOC_FOOTER_MAX;
  int found = toc_locate_footer (b.p + len - n, n, len, &loc, err);
  if (found < 0)
    return -1;
  if (loc.format == TOC_NONE || !loc.length)
    return err_set (err, 0, "'%s' has no toc", path);
  _cleanup_toc_ struct toc *t
      = toc_parse (&loc, b.p + loc.offset, (size_t)loc.length, len, err);
  if (!t)
    return -1;
  printf ("format %s entries %zu footer %s\n", toc_format_name (t->format),
          t->n_entries, found ? "yes" : "no");
  uint64_t files = 0, bytes = 0;
  for (size_t i = 0; i < t->n_entries; i++)
    {
      const struct toc_entry *e = &t->entries[i];
      printf (
          "%s %s mode %o uid %u gid %u size %" PRIu64 " chunks %zu%s%s%s%s\n",
          type_names[e->type], e->name, e->mode, e->uid, e->gid, e->size,
          e->n_chunks, e->link_name ? " link " : "",
          e->link_name ? e->link_name : "", e->digest[0] ? " " : "", e->digest);
      if (verify && e->type == TOC_REG && e->size)
        {
          if (toc_entry_decompress (t, e, b.p, b.len, 0, count_sink, &bytes,
                                    err)
              < 0)
            return -1;
          files++;
        }
    }
  if (verify)
    printf ("verified %" PRIu64 " files %" PRIu64 " bytes\n", files, bytes);
  if (tarsplit)
    {
      struct rebuild r = { .t = t, .b = b };
      char diff_id[DIGEST_STR_LEN + 1];
      digester_init (&r.d);
      if (loc.tarsplit_offset + loc.tarsplit_length > len)
        return err_set (err, 0, "tar-split outside the blob");
      int rc = toc_tarsplit_walk (t, b.p + loc.tarsplit_offset,
                                  (size_t)loc.tarsplit_length, rebuild_cb, &r,
                                  err);
      digester_final (&r.d, diff_id);
      digester_release (&r.d);
      if (rc < 0)
        return -1;
      printf ("diff_id %s\n", diff_id);
    }
  return 0;
}

int
main (int argc, char **argv)
{
  struct err *err = NULL;
  if (run (argc, argv, &err) < 0)
    {
      fprintf (stderr, "toc-dump: %s\n", err->msg);
      err_free (err);
      return 1;
    }
  return 0;
}
