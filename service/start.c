/* A container's life after its first run: start again, wait, rename
 * (service.h). A start reuses the record as it is: the plan, its upper
 * dir (the container's own files), its name and its published ports. */
#include "lib/err.h"
#include "lib/strbuf.h"
#include "lib/xalloc.h"
#include "service/service.h"
#include "service/service_int.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

char **
svc_publish_specs (const struct port_map *ports, size_t n)
{
  char **v = xcalloc (n + 1, sizeof *v);
  for (size_t i = 0; i < n; i++)
    {
      char ip[INET_ADDRSTRLEN] = "0.0.0.0", host[8] = "";
      inet_ntop (AF_INET, &ports[i].host_ip, ip, sizeof ip);
      if (ports[i].host_port)
        snprintf (host, sizeof host, "%u", ports[i].host_port);
      /* IP:HOST:CONTAINER/proto, HOST empty for a random one
       * (net_parse_publish's grammar) */
      v[i] = xasprintf ("%s:%s:%u/%s", ip, host, ports[i].container_port,
                        ports[i].proto == NET_UDP ? "udp" : "tcp");
    }
  return v;
}

int
svc_publish_parse (char **specs, struct port_map **ports, size_t *n,
                   struct err **err)
{
  size_t len = strv_len (specs);
  *ports = xcalloc (len + 1, sizeof **ports);
  *n = 0;
  for (; specs && specs[*n]; (*n)++)
    if (net_parse_publish (specs[*n], &(*ports)[*n], err) < 0)
      return -1;
  return 0;
}

int
svc_start (struct svc *s, struct svc_container *c, bool attach,
           bool interactive, struct err **err)
{
  struct rt_record *rec = &c->rec;
  size_t n_ports = 0;
  if (rec->state.status == RT_RUNNING || rec->state.status == RT_RESTARTING)
    return 0;                       /* docker: not modified */
  if (rec->state.status == RT_DEAD) /* docker's words */
    return err_set (err, 0,
                    "container is marked for removal and cannot be "
                    "started");
  /* a manual start: the policy starts over (docker's
   * ResetRestartManager) and the stop the user asked for is forgotten */
  svc_stop_request_clear (s, rec->id);
  rec->state.restart_count = 0;
  if (!rec->plan.seccomp_cache_dir)
    rec->plan.seccomp_cache_dir = xasprintf ("%s/tmp/seccomp", s->root);
  if (rec->plan.network == RT_NET_BRIDGE && !c->net)
    {
      if (svc_publish_parse (rec->publish, &c->ports, &n_ports, err) < 0
          || svc_make_net (s, c, c->ports, n_ports, err) < 0)
        return err_wrap (err, "start container '%s'", rec->name);
    }
  if (attach)
    return svc_run_foreground (s, c, interactive, err);
  return svc_run_detached (s, c, err);
}

int
svc_wait (struct svc *s, struct svc_container *c, struct err **err)
{
  struct rt_record now;
  /* its monitor holds the lock for the container's life, restarts
   * included: nobody holds it once the exit is final */
  svc_wait_monitor (s, c->rec.id);
  if (svc_load_id (s, c->rec.id, &now, err) < 0)
    return err_set (err, 0, "no such container: '%s'", c->rec.name);
  rt_record_release (&c->rec);
  c->rec = now;
  return c->rec.state.exit_code;
}

int
svc_rename (struct svc *s, struct svc_container *c, const char *name,
            struct err **err)
{
  const char *n = name[0] == '/' ? name + 1 : name;
  /* docker's errors */
  if (!*n)
    return err_set (err, 0, "neither old nor new names may be empty");
  if (c->rec.name && !strcmp (n, c->rec.name))
    return err_set (err, 0,
                    "renaming a container with the same name as its current "
                    "name");
  if (rt_record_rename (&s->cs, &c->rec, n, err) < 0)
    return -1;
  return svc_rename_network (s, &c->rec, err);
}
