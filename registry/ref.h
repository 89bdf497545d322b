/* Image references: docker's grammar and normalisation (no I/O).
 *
 *   alpine                 -> docker.io/library/alpine:latest
 *   user/app:1             -> docker.io/user/app:1
 *   127.0.0.1:5000/a/b@sha256:...  (domain: has '.', ':' or is localhost)
 *
 * The first path component is a domain only if it contains '.' or ':', is
 * "localhost", or has an uppercase letter (distribution/reference). */
#ifndef IMGTOOL_REF_H
#define IMGTOOL_REF_H

#include <stdbool.h>

struct err;

#define REF_DEFAULT_DOMAIN "docker.io"
#define REF_DOCKER_HUB_HOST "registry-1.docker.io"
#define REF_DOCKER_HUB_AUTH_KEY "https://index.docker.io/v1/"

struct ref
{
  char *domain; /* "docker.io", "127.0.0.1:5000", "[::1]:5000" */
  char *path;   /* "library/alpine" */
  char *tag;    /* "latest" when neither tag nor digest was given; NULL
                   when only a digest was given */
  char *digest; /* NULL unless given */
};

/* Parse and normalise s. Errors say what is wrong with the reference. */
int ref_parse (const char *s, struct ref *out, struct err **err);
void ref_release (struct ref *r);

/* "domain/path" */
char *ref_name (const struct ref *r);
/* The canonical string: "domain/path:tag", "domain/path@digest", or
 * "domain/path:tag@digest" when both. This is the store's ref name. */
char *ref_string (const struct ref *r);
/* docker's short form for display: "alpine:latest", "user/app:1",
 * "127.0.0.1:5000/a/b:tag". */
char *ref_familiar (const struct ref *r);
/* The host:port to talk to ("registry-1.docker.io" for docker.io). */
const char *ref_api_host (const struct ref *r);
/* The key for credentials ("https://index.docker.io/v1/" for docker.io,
 * else the domain). */
const char *ref_auth_key (const struct ref *r);

/* Is s a valid tag? */
bool ref_tag_valid (const char *s);

#endif
