/* cosign's "simple signing" payload: what a signature signs.
 *
 *   {"critical":{"identity":{"docker-reference":"host/repo"},
 *                "image":{"docker-manifest-digest":"sha256:..."},
 *                "type":"cosign container image signature"},
 *    "optional":null}
 *
 * Parsing is as strict as containers/image's: exactly these fields in
 * "critical", the type exactly this string; "optional" may be null or an
 * object (its members are not used). */
#ifndef IMGTOOL_TRUST_PAYLOAD_H
#define IMGTOOL_TRUST_PAYLOAD_H

#include <stddef.h>

struct err;

#define TRUST_PAYLOAD_TYPE "cosign container image signature"
#define TRUST_PAYLOAD_MEDIA_TYPE                                               \
  "application/vnd.dev.cosign.simplesigning.v1+json"
#define TRUST_SIG_ANNOTATION "dev.cosignproject.cosign/signature"

struct trust_payload
{
  char *identity; /* docker-reference */
  char *digest;   /* docker-manifest-digest */
};

/* The payload bytes cosign writes for identity and digest. */
char *trust_payload_make (const char *identity, const char *digest,
                          size_t *len);
int trust_payload_parse (const char *data, size_t len,
                         struct trust_payload *out, struct err **err);
void trust_payload_release (struct trust_payload *p);

#endif
