/* Standard base64 (RFC 4648 with padding), as used by HTTP Basic auth and
 * docker's config.json. */
#ifndef IMGTOOL_BASE64_H
#define IMGTOOL_BASE64_H

#include <stddef.h>

/* Encode len bytes; returns a NUL-terminated string (caller frees). */
char *base64_encode (const void *data, size_t len);
/* Decode s (whitespace not allowed, padding required); returns a
 * NUL-terminated buffer and its length, or NULL when s is not base64. */
char *base64_decode (const char *s, size_t *len);

#endif
