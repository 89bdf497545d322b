/* imgtool's own configuration file (JSON): registry mirrors and insecure
 * registries, shared by pull and push.
 *
 *   {"registry-mirrors": {"docker.io": ["https://mirror.example:5000"]},
 *    "insecure-registries": ["127.0.0.1:5000"],
 *    "http-timeout": 30, "http-retries": 3,
 *    "min-transfer-rate": 1024, "min-transfer-window": 30,
 *    "signature-policy": "/etc/imgtool/policy.json"}
 *
 * Default path: /etc/imgtool/config.json as root, else
 * $XDG_CONFIG_HOME/imgtool/config.json (~/.config/...); IMGTOOL_CONFIG or
 * --config override it. A missing file is an empty configuration. */
#ifndef IMGTOOL_REG_CONFIG_H
#define IMGTOOL_REG_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

struct err;

struct reg_mirror
{
  char *domain; /* "docker.io" */
  char **urls;  /* "https://mirror.example:5000", tried in order */
};

struct reg_config
{
  struct reg_mirror *mirrors;
  size_t n_mirrors;
  char **insecure;        /* "host[:port]" */
  long timeout;           /* seconds a connection may stall (and connect) */
  long retries;           /* retries on 429, 5xx and broken connections */
  long min_rate;          /* bytes/s a moving body must average (0: no floor) */
  long min_window;        /* ... over this many seconds */
  char *signature_policy; /* "signature-policy": a policy.json path */
};

/* The default path for this user; caller frees. */
char *reg_config_default_path (void);
/* Load path (NULL: the default). A missing file is not an error. */
int reg_config_load (const char *path, struct reg_config *out,
                     struct err **err);
void reg_config_release (struct reg_config *c);

/* Is host[:port] listed as insecure (plain HTTP or unverified TLS)? */
bool reg_config_is_insecure (const struct reg_config *c, const char *host);
/* The mirror URLs configured for a reference domain, or NULL. */
char *const *reg_config_mirrors (const struct reg_config *c,
                                 const char *domain);

#endif
