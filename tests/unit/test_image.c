/* Unit tests for layers/image.c: manifests, indexes, configs, platforms. */
#include "layers/image.h"
#include "lib/err.h"
#include "lib/strbuf.h"
#include "lib/xalloc.h"
#include "tests/unit/test.h"

#define D1                                                                     \
  "sha256:1111111111111111111111111111111111111111111111111111111111111111"
#define D2                                                                     \
  "sha256:2222222222222222222222222222222222222222222222222222222222222222"
#define D3                                                                     \
  "sha256:3333333333333333333333333333333333333333333333333333333333333333"

static const char index_json[]
    = "{\"schemaVersion\":2,\"mediaType\":\"" MT_OCI_INDEX "\",\"manifests\":["
      "{\"mediaType\":\"" MT_OCI_MANIFEST "\",\"digest\":\"" D1
      "\",\"size\":10,"
      "\"platform\":{\"os\":\"linux\",\"architecture\":\"amd64\"}},"
      "{\"mediaType\":\"" MT_OCI_MANIFEST "\",\"digest\":\"" D2
      "\",\"size\":11,"
      "\"platform\":{\"os\":\"linux\",\"architecture\":\"arm64\",\"variant\":"
      "\"v8\"}},"
      "{\"mediaType\":\"" MT_OCI_MANIFEST "\",\"digest\":\"" D3
      "\",\"size\":12,"
      "\"platform\":{\"os\":\"unknown\",\"architecture\":\"unknown\"},"
      "\"annotations\":{\"vnd.docker.reference.type\":\"attestation-manifest\"}"
      "},"
      "{\"mediaType\":\"application/vnd.example.unknown\",\"digest\":\"" D3
      "\",\"size\":1}"
      "]}";

static const char manifest_json[]
    = "{\"schemaVersion\":2,\"mediaType\":\"" MT_DOCKER_MANIFEST "\","
      "\"config\":{\"mediaType\":\"" MT_DOCKER_CONFIG "\",\"digest\":\"" D1
      "\",\"size\":5},"
      "\"layers\":[{\"mediaType\":\"" MT_DOCKER_LAYER_GZIP "\",\"digest\":\"" D2
      "\",\"size\":100},"
      "{\"mediaType\":\"" MT_OCI_LAYER_ZSTD "\",\"digest\":\"" D3
      "\",\"size\":200}]}";

static const char config_json[]
    = "{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"Env\":["
      "\"PATH=/bin\"],"
      "\"Cmd\":[\"sh\"],\"WorkingDir\":\"/"
      "srv\",\"User\":\"app\",\"ExposedPorts\":{\"80/tcp\":{}}},"
      "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"" D1 "\",\"" D2 "\"]}}";

static void
test_kind (void)
{
  enum doc_kind k;
  char *mt = NULL;
  struct err *err = NULL;
  CHECK (image_doc_kind (MT_OCI_INDEX, index_json, strlen (index_json), &k, &mt,
                         &err)
                 == 0
             && k == DOC_INDEX,
         "an OCI index is an index");
  free (mt);
  CHECK (
      image_doc_kind (
          "application/vnd.docker.distribution.manifest.v2+json; charset=utf-8",
          manifest_json, strlen (manifest_json), &k, &mt, &err)
              == 0
          && k == DOC_MANIFEST,
      "Content-Type parameters are ignored");
  free (mt);
  CHECK (image_doc_kind (MT_OCI_INDEX, manifest_json, strlen (manifest_json),
                         &k, NULL, &err)
                 < 0
             && strstr (err->msg, "does not match"),
         "mediaType must match Content-Type");
  err_clear (&err);
  const char *s1 = "{\"schemaVersion\":1,\"name\":\"x\"}";
  CHECK (image_doc_kind (NULL, s1, strlen (s1), &k, NULL, &err) < 0
             && strstr (err->msg, "schema 1"),
         "schema1 is refused clearly");
  err_clear (&err);
  const char *noMt = "{\"schemaVersion\":2,\"manifests\":[]}";
  CHECK (image_doc_kind (NULL, noMt, strlen (noMt), &k, NULL, &err) == 0
             && k == DOC_INDEX,
         "an index without mediaType is recognised by its fields");
  CHECK (image_doc_kind (NULL, "not json", 8, &k, NULL, &err) < 0
             && strstr (err->msg, "malformed"),
         "junk is malformed");
  err_clear (&err);
  const char *odd = "{\"schemaVersion\":2,\"mediaType\":\"text/plain\"}";
  CHECK (image_doc_kind (NULL, odd, strlen (odd), &k, NULL, &err) < 0
             && strstr (err->msg, "unsupported manifest media type"),
         "unknown media types are unsupported");
  err_clear (&err);
}

static void
test_index (void)
{
  struct image_index ix;
  struct platform p;
  struct err *err = NULL;
  size_t chosen = 99;
  CHECK (image_index_parse (index_json, strlen (index_json), &ix, &err) == 0
             && ix.n_manifests == 4,
         "parse an index with 4 entries");
  platform_parse ("linux/amd64", &p, &err);
  CHECK (image_index_choose (&ix, &p, &chosen, &err) == 0 && chosen == 0,
         "linux/amd64 chooses the first entry");
  platform_release (&p);
  platform_parse ("linux/arm64", &p, &err);
  CHECK (image_index_choose (&ix, &p, &chosen, &err) == 0 && chosen == 1,
         "linux/arm64 matches an arm64/v8 entry");
  platform_release (&p);
  platform_parse ("linux/aarch64/v8", &p, &err);
  CHECK (image_index_choose (&ix, &p, &chosen, &err) == 0 && chosen == 1,
         "aarch64/v8 is normalised to arm64");
  platform_release (&p);
  platform_parse ("linux/s390x", &p, &err);
  CHECK (image_index_choose (&ix, &p, &chosen, &err) < 0
             && strstr (err->msg, "no matching manifest for linux/s390x")
             && strstr (err->msg, "linux/amd64, linux/arm64")
             && !strstr (err->msg, "unknown"),
         "a missing platform lists those present, without attestations");
  err_clear (&err);
  platform_release (&p);
  platform_parse ("unknown/unknown", &p, &err);
  CHECK (image_index_choose (&ix, &p, &chosen, &err) < 0,
         "an attestation manifest is never chosen");
  err_clear (&err);
  platform_release (&p);
  image_index_release (&ix);

  /* An index with 10,000 platforms: the message names a few. */
  {
    struct strbuf big = STRBUF_INIT;
    strbuf_addstr (&big, "{\"schemaVersion\":2,\"manifests\":[");
    for (int i = 0; i < 10000; i++)
      strbuf_addf (&big,
                   "%s{\"mediaType\":\"" MT_OCI_MANIFEST "\",\"digest\":"
                   "\"sha256:%064d\",\"size\":1,\"platform\":{\"os\":"
                   "\"linux\",\"architecture\":\"arch%d\"}}",
                   i ? "," : "", i, i % 5000);
    strbuf_addstr (&big, "]}");
    CHECK (image_index_parse (big.buf, big.len, &ix, &err) == 0,
           "parse an index of 10000 entries");
    platform_parse ("linux/s390x", &p, &err);
    CHECK (image_index_choose (&ix, &p, &chosen, &err) < 0
               && strstr (err->msg, "(available: linux/arch0, linux/arch1, "
                                    "linux/arch2, linux/arch3, linux/arch4 "
                                    "(and 9990 more))")
               && strlen (err->msg) < 200,
           "a missing platform names five of 10000, then how many more");
    err_clear (&err);
    platform_release (&p);
    image_index_release (&ix);
    strbuf_release (&big);
  }

  CHECK (platform_parse ("linux", &p, &err) < 0, "platform needs os/arch");
  err_clear (&err);
  CHECK (platform_parse ("linux/arm", &p, &err) == 0
             && !strcmp (p.variant, "v7"),
         "arm without a variant is arm/v7");
  platform_release (&p);
  platform_host (&p);
  CHECK (!strcmp (p.os, "linux") && p.arch && strcmp (p.arch, "x86_64"),
         "the host platform is normalised (%s)", p.arch);
  platform_release (&p);
}

static void
test_manifest_config (void)
{
  struct image_manifest m;
  struct image_config c;
  struct err *err = NULL;
  CHECK (image_manifest_parse (manifest_json, strlen (manifest_json), &m, &err)
                 == 0
             && m.n_layers == 2 && !strcmp (m.config.digest, D1)
             && m.layers[1].size == 200,
         "parse a schema2 manifest");
  CHECK (layer_compression_of (m.layers[0].media_type) == LAYER_GZIP
             && layer_compression_of (m.layers[1].media_type) == LAYER_ZSTD
             && layer_compression_of (MT_OCI_LAYER) == LAYER_UNCOMPRESSED
             && layer_compression_of ("text/plain") == LAYER_UNKNOWN,
         "layer compression from media types");
  image_manifest_release (&m);
  const char *bad = "{\"schemaVersion\":2,\"config\":{\"digest\":\"sha256:12\","
                    "\"size\":1},\"layers\":[]}";
  CHECK (image_manifest_parse (bad, strlen (bad), &m, &err) < 0
             && strstr (err->msg, "invalid digest"),
         "a bad config digest is refused");
  err_clear (&err);
  const char *neg = "{\"schemaVersion\":2,\"config\":{\"digest\":\"" D1
                    "\",\"size\":-1},\"layers\":[]}";
  CHECK (image_manifest_parse (neg, strlen (neg), &m, &err) < 0,
         "a negative size is refused");
  err_clear (&err);

  CHECK (image_config_parse (config_json, strlen (config_json), &c, &err) == 0,
         "parse a config");
  CHECK (c.env && !strcmp (c.env[0], "PATH=/bin") && c.cmd
             && !strcmp (c.cmd[0], "sh") && !c.entrypoint
             && !strcmp (c.working_dir, "/srv") && !strcmp (c.user, "app")
             && !strcmp (c.exposed_ports[0], "80/tcp")
             && strv_len (c.diff_ids) == 2,
         "config fields are read");
  char **chain = image_chain_ids (c.diff_ids);
  CHECK (!strcmp (chain[0], D1), "chain id of the first layer is its diff id");
  /* sha256("sha256:111..1 sha256:222..2") computed with sha256sum */
  CHECK_STR (
      chain[1],
      "sha256:9932074217c35353d2e03a3f5a86549f7c67bfeb0ba53e23d69f4d4c8f7958f5",
      "chain id of the second layer");
  strv_free (chain);
  image_config_release (&c);
  const char *norootfs
      = "{\"os\":\"linux\",\"rootfs\":{\"type\":\"x\",\"diff_ids\":[]}}";
  CHECK (image_config_parse (norootfs, strlen (norootfs), &c, &err) < 0
             && strstr (err->msg, "rootfs"),
         "rootfs.type must be layers");
  err_clear (&err);
}

int
main (void)
{
  test_kind ();
  test_index ();
  test_manifest_config ();
  return test_done ();
}
