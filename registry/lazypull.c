/* Pull a layer's TOC instead of its blob (registry/lazypull.h). */
#include "registry/lazypull.h"
#include "layers/image.h"
#include "layers/lazystore.h"
#include "layers/store.h"
#include "layers/toc.h"
#include "lib/err.h"
#include "lib/log.h"
#include "lib/userns.h"
#include "lib/xalloc.h"
#include "registry/client.h"
#include "registry/ranges.h"
#include "registry/session.h"

#include <string.h>
#include <unistd.h>

bool
reg_lazy_possible (void)
{
  /* rootless: mounting FUSE would take fusermount3, a helper program */
  return geteuid () == 0 && !userns_rootless ()
         && access ("/dev/fuse", R_OK | W_OK) == 0;
}

struct into
{
  uint8_t *buf;
  uint64_t off, len;
};

static int
copy_piece (void *ctx, size_t i, uint64_t off, const void *data, size_t len,
            struct err **err)
{
  struct into *t = ctx;
  if (off < t->off || off - t->off + len > t->len)
    return err_set (err, 0, "registry sent bytes outside the range asked");
  memcpy (t->buf + (off - t->off), data, len);
  return 0;
}

int
reg_lazy_fetch (struct reg_repo *repo, const char *digest, uint64_t off,
                uint64_t len, uint8_t *buf, struct err **err)
{
  struct byterange r = { off, len };
  struct into t = { buf, off, len };
  int rc = reg_blob_ranges (repo, digest, &r, 1, copy_piece, &t, err);
  if (rc == 1)
    return err_set (err, 0, "registry ignores Range requests");
  return rc;
}

/* The TOC's place: from the annotations (layers/toc.c reads both the
 * current and buildah 1.28's io.containers.* names), eStargz's from its
 * footer. 1 with *loc, 0 when the layer has none. */
static int
locate (struct reg_repo *repo, const struct descriptor *layer,
        struct toc_location *loc, struct err **err)
{
  uint8_t tail[TOC_FOOTER_MAX];
  size_t n = TOC_FOOTER_MAX;
  int r = toc_locate_annotations (layer->annotations_json, loc, err);
  if (r <= 0 || loc->length)
    return r;
  if ((uint64_t)layer->size < n)
    return 0;
  if (reg_lazy_fetch (repo, layer->digest, (uint64_t)layer->size - n, n, tail,
                      err)
      < 0)
    return -1;
  return toc_locate_footer (tail, n, (uint64_t)layer->size, loc, err);
}

static int
defer (struct reg_lazy *lz, struct reg_repo *repo, const char *endpoint,
       const char *cred_domain, const struct descriptor *layer,
       struct err **err)
{
  struct toc_location loc = { 0 };
  struct lazy_record rec = { 0 };
  _cleanup_free_ uint8_t *buf = NULL;
  struct toc *t;
  int r;
  if (layer->size <= 0 || store_has_blob (lz->s, layer->digest))
    return 0;
  if ((r = locate (repo, layer, &loc, err)) <= 0)
    return r;
  if (!loc.length || loc.length > TOC_MAX_SIZE)
    return 0;
  buf = xmalloc (loc.length);
  if (reg_lazy_fetch (repo, layer->digest, loc.offset, loc.length, buf, err)
      < 0)
    return -1;
  t = toc_parse (&loc, buf, loc.length, (uint64_t)layer->size, err);
  if (!t)
    return -1;
  toc_free (t);
  rec.digest = layer->digest;
  rec.media_type = layer->media_type;
  rec.size = layer->size;
  /* with its scheme: the pull found it (an insecure registry's http) */
  rec.endpoint = repo->scheme_known ? repo->base : (char *)endpoint;
  rec.cred_domain = (char *)cred_domain;
  rec.path = repo->path;
  rec.config_path = (char *)lz->o->config_path;
  rec.cert_dir = (char *)lz->o->cert_dir;
  rec.no_tls_verify = lz->o->no_tls_verify;
  rec.format = loc.format;
  rec.toc_offset = loc.offset;
  rec.toc_length = loc.length;
  rec.toc_ulength = loc.uncompressed_length;
  rec.usize = loc.uncompressed_size;
  rec.toc_digest = loc.digest;
  if (lazy_record_put (lz->s, &rec, buf, loc.length, err) < 0)
    return -1;
  lz->deferred++;
  return 1;
}

int
reg_lazy_defer (void *ud, struct reg_repo *repo, const char *endpoint,
                const char *cred_domain, const struct descriptor *layer,
                struct err **err)
{
  char sbuf[20];
  int r = defer (ud, repo, endpoint, cred_domain, layer, err);
  log_debug ("layer %s: %s", digest_short (layer->digest, sbuf),
             r ? "left to lazy start" : "pulled");
  if (r < 0)
    {
      /* not served lazily, pulled as always */
      log_info ("layer %s: %s; pulling it whole",
                digest_short (layer->digest, sbuf), (*err)->msg);
      err_clear (err);
      return 0;
    }
  return r;
}
