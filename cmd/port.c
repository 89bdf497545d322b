/* imgtool port CONTAINER [PRIVATE[/PROTO]]: a running container's
 * published ports as docker prints them, "80/tcp -> 0.0.0.0:8080" sorted
 * by port and protocol; with PRIVATE only its "0.0.0.0:8080" lines. */
#include "cmd/command.h"
#include "cmd/containers.h"
#include "cmd/opttable.h"
#include "lib/err.h"
#include "lib/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage_text[] = "imgtool port CONTAINER [PRIVATE[/PROTO]]";

const struct cmd_spec cmd_port_spec
    = { .name = "port", .usage = usage_text, .opts = cmd_opts_help_only };

struct binding
{
  unsigned port;
  char proto[8];
  char host[64]; /* "0.0.0.0:8080" */
};

static int
by_port (const void *a, const void *b)
{
  const struct binding *x = a, *y = b;
  if (x->port != y->port)
    return x->port < y->port ? -1 : 1;
  return strcmp (x->proto, y->proto);
}

/* The state's PORTS text ("0.0.0.0:8080->80/tcp, ...") as bindings. */
static struct binding *
parse_ports (const char *text, size_t *n)
{
  _cleanup_free_ char *s = xstrdup (text ? text : "");
  struct binding *v = NULL;
  char *save = NULL;
  *n = 0;
  for (char *tok = strtok_r (s, ", ", &save); tok;
       tok = strtok_r (NULL, ", ", &save))
    {
      char *arrow = strstr (tok, "->"), *slash;
      struct binding b = { 0 };
      if (!arrow || !(slash = strchr (arrow, '/')))
        continue;
      snprintf (b.host, sizeof b.host, "%.*s", (int)(arrow - tok), tok);
      b.port = (unsigned)strtoul (arrow + 2, NULL, 10);
      snprintf (b.proto, sizeof b.proto, "%s", slash + 1);
      v = xrealloc (v, (*n + 1) * sizeof *v);
      v[(*n)++] = b;
    }
  if (*n)
    qsort (v, *n, sizeof *v, by_port);
  return v;
}

COMMAND (port)
{
  struct svc svc = { .cs = { .fd = -1 } };
  struct svc_container ctr = { 0 };
  _cleanup_free_ struct binding *v = NULL;
  const char *want = NULL;
  char proto[8] = "tcp";
  unsigned port = 0;
  size_t n = 0, shown = 0;
  int r, ret = -1;

  r = cmd_no_options (argc, argv, &cmd_port_spec, err);
  if (r != 0)
    return r < 0 ? -1 : 0;
  if (argc - optind < 1 || argc - optind > 2)
    return command_usage_error (usage_text, err);
  if (argc - optind == 2)
    {
      char *end;
      want = argv[optind + 1];
      port = (unsigned)strtoul (want, &end, 10);
      if (end == want || port == 0 || port > 65535
          || (*end
              && (*end != '/'
                  || (strcmp (end + 1, "tcp") && strcmp (end + 1, "udp")
                      && strcmp (end + 1, "sctp")))))
        {
          err_set (err, 0, "invalid port '%s': expected PORT[/tcp|udp]", want);
          return -1;
        }
      if (*end)
        snprintf (proto, sizeof proto, "%s", end + 1);
    }
  if (containers_load (&svc, g->root, g->config_path, argv[optind], &ctr, err)
      < 0)
    goto out;
  v = parse_ports (
      ctr.rec.state.status == RT_RUNNING ? ctr.rec.state.ports : NULL, &n);
  for (size_t i = 0; i < n; i++)
    if (!want)
      printf ("%u/%s -> %s\n", v[i].port, v[i].proto, v[i].host);
    else if (v[i].port == port && !strcmp (v[i].proto, proto))
      printf ("%s\n", v[i].host), shown++;
  if (want && !shown)
    {
      err_set (err, 0, "no public port '%u/%s' published for '%s'", port, proto,
               argv[optind]);
      goto out;
    }
  ret = 0;
out:
  svc_container_release (&ctr);
  svc_close (&svc);
  return ret;
}
