/* Registry credentials from the files docker and podman keep, and the
 * credential helpers they name (auth.md §5-7).
 *
 * Read order: docker's $DOCKER_CONFIG/config.json (else
 * ~/.docker/config.json), then podman's $REGISTRY_AUTH_FILE,
 * $XDG_RUNTIME_DIR/containers/auth.json and
 * ${XDG_CONFIG_HOME:-~/.config}/containers/auth.json. In each file
 * credHelpers[host] wins over credsStore, which wins over auths. Keys may be
 * URLs ("https://index.docker.io/v1/", the Docker Hub key), host[:port] or
 * podman's namespaces ("host/ns/repo", most specific first). `login` writes
 * docker's file (mode 0600, atomically) or its helper. */
#ifndef IMGTOOL_REG_CREDENTIALS_H
#define IMGTOOL_REG_CREDENTIALS_H

#include <stdbool.h>

struct err;

struct reg_cred
{
  char *username;
  char *password;
  char *identity_token; /* OAuth2 refresh token (identitytoken) */
  char *registry_token; /* a bearer token sent to the registry as is */
};

/* Credentials for a registry domain ("docker.io", "host:port") and a
 * repository path (may be NULL). Returns 0 and fills *out, 1 when there
 * are none, -1 on a broken file or helper. */
int reg_cred_lookup (const char *domain, const char *repo, struct reg_cred *out,
                     struct err **err);
/* Save credentials for domain (login). *where (if not NULL) receives the
 * file or helper used; caller frees. */
int reg_cred_store (const char *domain, const struct reg_cred *c, char **where,
                    struct err **err);
/* Forget credentials for domain in every file and helper that has them
 * (logout). *found tells whether there were any. */
int reg_cred_erase (const char *domain, bool *found, struct err **err);
void reg_cred_release (struct reg_cred *c);

/* The key docker uses for domain: "https://index.docker.io/v1/" for
 * docker.io, the domain itself otherwise. */
const char *reg_cred_key (const char *domain);
/* Path of docker's config.json; caller frees. */
char *reg_cred_docker_config_path (void);

#endif
