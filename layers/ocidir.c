/* OCI layout directories: see layers/ocidir.h. */
#include "layers/ocidir.h"
#include "layers/digest.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define INDEX_MAX (16u << 20)

int
ocidir_open (struct ocidir *d, const char *path, bool create, struct err **err)
{
  memset (d, 0, sizeof *d);
  d->fd = d->blobs_fd = -1;
  d->path = xstrdup (path);
  if (create)
    {
      if (fs_mkdir_p (AT_FDCWD, path, 0755, err) < 0)
        goto fail;
    }
  d->fd = fs_open_dir (AT_FDCWD, path, err);
  if (d->fd < 0)
    goto fail;
  if (create)
    {
      if (fs_mkdir_p (d->fd, "blobs/sha256", 0755, err) < 0)
        goto fail;
      if (faccessat (d->fd, "oci-layout", F_OK, 0) < 0
          && fs_write_file_atomic (d->fd, "oci-layout",
                                   "{\"imageLayoutVersion\":\"1.0.0\"}", 30,
                                   0644, err)
                 < 0)
        goto fail;
      if (faccessat (d->fd, "index.json", F_OK, 0) < 0
          && fs_write_file_atomic (d->fd, "index.json",
                                   "{\"schemaVersion\":2,\"manifests\":[]}", 34,
                                   0644, err)
                 < 0)
        goto fail;
    }
  else if (faccessat (d->fd, "oci-layout", F_OK, 0) < 0)
    {
      err_set (err, 0, "not an OCI layout (no oci-layout file)");
      goto fail;
    }
  d->blobs_fd = fs_open_dir (d->fd, "blobs/sha256", err);
  if (d->blobs_fd < 0)
    goto fail;
  return 0;
fail:
  err_wrap (err, "oci layout '%s'", path);
  ocidir_release (d);
  return -1;
}

void
ocidir_release (struct ocidir *d)
{
  if (d->fd >= 0)
    close (d->fd);
  if (d->blobs_fd >= 0)
    close (d->blobs_fd);
  free (d->path);
  memset (d, 0, sizeof *d);
  d->fd = d->blobs_fd = -1;
}

char *
ocidir_blob_path (struct ocidir *d, const char *digest)
{
  struct stat st;
  if (!digest_is_sha256 (digest)
      || fstatat (d->blobs_fd, digest_hex (digest), &st, 0) < 0
      || !S_ISREG (st.st_mode))
    return NULL;
  return xasprintf ("%s/blobs/sha256/%s", d->path, digest_hex (digest));
}

static json_t *
index_load (struct ocidir *d, struct err **err)
{
  _cleanup_free_ char *buf = NULL;
  size_t len;
  json_t *ix;
  if (fs_read_file (d->fd, "index.json", INDEX_MAX, &buf, &len, err) < 0)
    return NULL;
  ix = json_loadb (buf, len, 0, NULL);
  if (!ix || !json_is_array (json_object_get (ix, "manifests")))
    {
      json_decref (ix);
      err_set (err, 0, "'%s/index.json' is malformed", d->path);
      return NULL;
    }
  return ix;
}

static const char *
entry_tag (json_t *e)
{
  return json_string_value (json_object_get (json_object_get (e, "annotations"),
                                             STORE_REF_ANNOTATION));
}

int
ocidir_find (struct ocidir *d, const char *tag, struct store_ref *out,
             struct err **err)
{
  json_t *ix = index_load (d, err), *list, *e, *found = NULL;
  size_t i;
  int ret = 0;
  memset (out, 0, sizeof *out);
  if (!ix)
    return -1;
  list = json_object_get (ix, "manifests");
  json_array_foreach (list, i, e)
  {
    const char *t = entry_tag (e);
    if (tag ? t && !strcmp (t, tag) : json_array_size (list) == 1)
      found = e;
  }
  if (!found)
    ret = tag ? err_set (err, 0, "no image tagged '%s' in '%s'", tag, d->path)
              : err_set (err, 0, "'%s' holds %zu images: name one (oci:%s:TAG)",
                         d->path, json_array_size (list), d->path);
  else
    {
      const char *dg = json_string_value (json_object_get (found, "digest"));
      const char *mt = json_string_value (json_object_get (found, "mediaType"));
      if (!dg || !digest_is_sha256 (dg))
        ret = err_set (err, 0, "'%s/index.json': bad digest", d->path);
      else
        {
          out->name = xstrdup (tag ? tag : "");
          out->digest = xstrdup (dg);
          out->media_type = mt ? xstrdup (mt) : NULL;
          out->size = json_integer_value (json_object_get (found, "size"));
        }
    }
  json_decref (ix);
  return ret;
}

static int
copy_fd (int in, int out, struct err **err)
{
  char buf[1 << 16];
  ssize_t n;
  while ((n = read (in, buf, sizeof buf)) != 0)
    {
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return err_set (err, errno, "read");
      if (fs_write_all (out, buf, (size_t)n) < 0)
        return err_set (err, errno, "write");
    }
  return 0;
}

int
ocidir_put_file (struct ocidir *d, const char *digest, const char *src,
                 struct err **err)
{
  const char *hex;
  _cleanup_free_ char *tmp = NULL;
  _cleanup_close_ int in = -1, out = -1;
  if (digest_check (digest, err) < 0)
    return -1;
  hex = digest_hex (digest);
  if (faccessat (d->blobs_fd, hex, F_OK, 0) == 0)
    return 0;
  tmp = xasprintf (".%s.tmp-%d", hex, (int)getpid ());
  unlinkat (d->blobs_fd, tmp, 0);
  /* Blobs are immutable: a hard link shares the bytes safely. */
  if (linkat (AT_FDCWD, src, d->blobs_fd, tmp, 0) < 0)
    {
      in = open (src, O_RDONLY | O_CLOEXEC);
      if (in < 0)
        return err_set (err, errno, "open '%s'", src);
      out = openat (d->blobs_fd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
                    0644);
      if (out < 0)
        return err_set (err, errno, "create a blob in '%s'", d->path);
      if (copy_fd (in, out, err) < 0 || fsync (out) < 0)
        {
          unlinkat (d->blobs_fd, tmp, 0);
          return err_set (err, errno, "copy '%s' into '%s'", src, d->path);
        }
    }
  if (renameat (d->blobs_fd, tmp, d->blobs_fd, hex) < 0)
    {
      unlinkat (d->blobs_fd, tmp, 0);
      return err_set (err, errno, "rename a blob in '%s'", d->path);
    }
  return 0;
}

int
ocidir_set_ref (struct ocidir *d, const char *tag, const char *media_type,
                const char *digest, int64_t size, struct err **err)
{
  json_t *ix = index_load (d, err), *list, *e, *entry;
  _cleanup_free_ char *buf = NULL;
  size_t i;
  int ret;
  if (!ix)
    return -1;
  list = json_object_get (ix, "manifests");
  entry = tag ? json_pack ("{s:s, s:s, s:I, s:{s:s}}", "mediaType", media_type,
                           "digest", digest, "size", (json_int_t)size,
                           "annotations", STORE_REF_ANNOTATION, tag)
              : json_pack ("{s:s, s:s, s:I}", "mediaType", media_type, "digest",
                           digest, "size", (json_int_t)size);
  json_array_foreach (list, i, e)
  {
    const char *t = entry_tag (e);
    if (tag ? t && !strcmp (t, tag)
            : !t
                  && !strcmp (json_string_value (json_object_get (e, "digest"))
                                  ?: "",
                              digest))
      break;
  }
  if (i < json_array_size (list))
    json_array_set_new (list, i, entry);
  else
    json_array_append_new (list, entry);
  buf = json_dumps (ix, JSON_COMPACT);
  json_decref (ix);
  if (!buf)
    return err_set (err, ENOMEM, "serialise '%s/index.json'", d->path);
  ret = fs_write_file_atomic (d->fd, "index.json", buf, strlen (buf), 0644,
                              err);
  return ret;
}
