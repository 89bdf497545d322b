/* Containers as docker's JSON shows them: `inspect` (docker's
 * ContainerJSON, the fields imgtool has) and the fields of `ps --format`.
 * Field names are docker's, so templates written for docker work. */
#include "cmd/containers.h"
#include "lib/human.h"
#include "lib/json.h"
#include "lib/strbuf.h"
#include "lib/xalloc.h"
#include "runtime/rlimits.h"
#include "service/health.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

/* RFC 3339 in UTC; docker's zero time for "never". */
static json_t *
time_json (time_t t)
{
  char buf[32];
  struct tm tm;
  if (!t || !gmtime_r (&t, &tm))
    return json_string ("0001-01-01T00:00:00Z");
  strftime (buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return json_string (buf);
}

/* docker's State.Status: paused is a running one with its freezer on */
static const char *
status_word (const struct rt_record *rec)
{
  return rec->state.status == RT_RUNNING && rec->state.paused
             ? "paused"
             : rt_status_name (rec->state.status);
}

/* docker's State object (daemon/container/state.go). Health is the
 * health checks' (NULL: left out, as docker does without one). */
static json_t *
state_json (const struct rt_record *rec, json_t *health)
{
  const struct rt_state *st = &rec->state;
  bool running = st->status == RT_RUNNING;
  /* docker: Running stays true while a restart waits */
  bool restarting = st->status == RT_RESTARTING;
  json_t *o = json_pack (
      "{s:s, s:b, s:b, s:b, s:b, s:b, s:i, s:i, s:s, s:o, s:o}", "Status",
      status_word (rec), "Running", running || restarting, "Paused",
      running && st->paused, "Restarting", restarting, "OOMKilled",
      st->oom_killed, "Dead", st->status == RT_DEAD, "Pid",
      running ? (int)st->pid : 0, "ExitCode", running ? 0 : st->exit_code,
      "Error", st->error ? st->error : "", "StartedAt", time_json (st->started),
      "FinishedAt", time_json (st->finished));
  if (health)
    json_object_set_new (o, "Health", health);
  return o;
}

/* "0.0.0.0:8080->80/tcp, 127.0.0.1:53->53/udp" (the state's text) as
 * docker's NetworkSettings.Ports: {"80/tcp": [{"HostIp", "HostPort"}]}. */
static json_t *
ports_json (const char *text)
{
  json_t *o = json_object ();
  char *copy = xstrdup (text ? text : ""), *save = NULL;
  for (char *p = strtok_r (copy, ", ", &save); p;
       p = strtok_r (NULL, ", ", &save))
    {
      char *arrow = strstr (p, "->"), *colon;
      json_t *list;
      if (!arrow)
        continue;
      *arrow = '\0';
      colon = strrchr (p, ':');
      if (!colon)
        continue;
      *colon = '\0';
      list = json_object_get (o, arrow + 2);
      if (!list)
        json_object_set_new (o, arrow + 2, list = json_array ());
      json_array_append_new (
          list, json_pack ("{s:s, s:s}", "HostIp", p, "HostPort", colon + 1));
    }
  free (copy);
  return o;
}

/* One of docker's Mounts[]: Name and Driver for volumes only. */
static json_t *
mount_json (const struct rt_mount *m)
{
  static const char *const types[] = { [RT_MOUNT_BIND] = "bind",
                                       [RT_MOUNT_TMPFS] = "tmpfs",
                                       [RT_MOUNT_VOLUME] = "volume" };
  json_t *o = json_pack ("{s:s}", "Type", types[m->kind]);
  if (m->kind == RT_MOUNT_VOLUME)
    json_object_set_new (o, "Name", json_string (m->name ? m->name : ""));
  json_object_set_new (o, "Source", json_string (m->source ? m->source : ""));
  json_object_set_new (o, "Destination", json_string (m->destination));
  if (m->kind == RT_MOUNT_VOLUME)
    json_object_set_new (o, "Driver", json_string ("local"));
  json_object_set_new (o, "Mode", json_string (m->mode ? m->mode : ""));
  json_object_set_new (o, "RW", json_boolean (!m->readonly));
  json_object_set_new (o, "Propagation",
                       json_string (m->propagation ? m->propagation : ""));
  return o;
}

static const char *
network_word (enum rt_network_mode m)
{
  return m == RT_NET_HOST                                  ? "host"
         : m == RT_NET_NONE                                ? "none"
         : m == RT_NET_CONTAINER                           ? "container"
         : m == RT_NET_SLIRP || m == RT_NET_SLIRP_LOOPBACK ? "slirp4netns"
                                                           : "bridge";
}

/* "k=v" strings as a JSON object (docker's Labels, Sysctls). */
static json_t *
kv_object (char *const *v)
{
  json_t *o = json_object ();
  for (; v && *v; v++)
    {
      const char *eq = strchr (*v, '=');
      _cleanup_free_ char *k = eq ? xstrndup (*v, (size_t)(eq - *v)) : NULL;
      if (k)
        json_object_set_new (o, k, json_string (eq + 1));
    }
  return o;
}

/* run's everyday flags, where docker's inspect shows them. */
static void
add_everyday (json_t *o, const struct rt_record *rec)
{
  const struct rt_plan *p = &rec->plan;
  json_t *host = json_object_get (o, "HostConfig"),
         *config = json_object_get (o, "Config"), *ulimits = json_array (),
         *exposed = json_object (), *extra = json_array ();
  for (size_t i = 0; i < p->n_rlimits; i++)
    {
      const char *name = rt_rlimit_name (p->rlimits[i].resource);
      json_array_append_new (
          ulimits, json_pack ("{s:s, s:I, s:I}", "Name", name ? name : "",
                              "Soft", (json_int_t)p->rlimits[i].soft, "Hard",
                              (json_int_t)p->rlimits[i].hard));
    }
  /* docker's "NAME:IP" from the hosts lines "IP\tNAME" */
  for (char **h = p->extra_hosts; h && *h; h++)
    {
      const char *tab = strchr (*h, '\t');
      if (tab)
        json_array_append_new (
            extra, json_sprintf ("%s:%.*s", tab + 1, (int)(tab - *h), *h));
    }
  for (char **e = rec->exposed; e && *e; e++)
    json_object_set_new (exposed, *e, json_object ());
  json_object_set_new (host, "Init", json_boolean (p->init));
  json_object_set_new (host, "ShmSize",
                       json_integer (p->shm_size ? p->shm_size : 64 << 20));
  json_object_set_new (host, "Ulimits", ulimits);
  json_object_set_new (host, "Sysctls", kv_object (p->sysctls));
  json_object_set_new (host, "ExtraHosts", extra);
  json_object_set_new (host, "Dns", strv_to_json (p->dns));
  json_object_set_new (host, "DnsSearch", strv_to_json (p->dns_search));
  json_object_set_new (host, "DnsOptions", strv_to_json (p->dns_options));
  json_object_set_new (host, "PidMode",
                       json_string (p->pid_mode ? p->pid_mode : ""));
  json_object_set_new (host, "IpcMode",
                       json_string (p->ipc_mode ? p->ipc_mode : "private"));
  if (p->network == RT_NET_BRIDGE && p->net_name)
    json_object_set_new (host, "NetworkMode", json_string (p->net_name));
  if (p->network == RT_NET_CONTAINER && p->net_container)
    json_object_set_new (host, "NetworkMode",
                         json_sprintf ("container:%s", p->net_container));
  json_object_set_new (config, "Labels", kv_object (rec->labels));
  json_object_set_new (config, "ExposedPorts", exposed);
}

/* What the monitor keeps: State.Health, Config.Healthcheck, the log's
 * path and HostConfig.LogConfig. */
static void
containers_monitor_json (const struct rt_record *rec, json_t *o)
{
  const struct rt_healthcheck *hc = &rec->health;
  json_t *health = svc_health_json (rec), *lc = json_object ();
  if (health)
    json_object_set_new (json_object_get (o, "State"), "Health", health);
  if (hc->test && hc->test[0])
    {
      json_t *h = json_pack ("{s:o}", "Test", strv_to_json (hc->test));
      const struct
      {
        const char *key;
        int64_t v;
      } d[] = { { "Interval", hc->interval },
                { "Timeout", hc->timeout },
                { "StartPeriod", hc->start_period },
                { "StartInterval", hc->start_interval },
                { "Retries", hc->retries } };
      for (size_t i = 0; i < ARRAY_SIZE (d); i++)
        if (d[i].v)
          json_object_set_new (h, d[i].key, json_integer (d[i].v));
      json_object_set_new (json_object_get (o, "Config"), "Healthcheck", h);
    }
  if (rec->log.max_size)
    {
      json_object_set_new (lc, "max-size",
                           json_sprintf ("%lld", (long long)rec->log.max_size));
      json_object_set_new (lc, "max-file",
                           json_sprintf ("%d", rec->log.max_file));
    }
  json_object_set_new (
      json_object_get (o, "HostConfig"), "LogConfig",
      json_pack ("{s:s, s:o}", "Type",
                 rec->log.driver ? rec->log.driver : "json-file", "Config",
                 lc));
  json_object_set_new (
      o, "LogPath",
      rt_log_config_readable (&rec->log) && rec->plan.state_dir
          ? json_sprintf ("%s/container.log", rec->plan.state_dir)
          : json_string (""));
}

json_t *
containers_inspect_json (const struct rt_record *rec)
{
  const struct rt_plan *p = &rec->plan;
  const struct rt_state *st = &rec->state;
  bool running = st->status == RT_RUNNING;
  char user[64];
  json_t *mounts = json_array (), *networks = json_object (), *o;
  snprintf (user, sizeof user, "%u:%u", (unsigned)p->user.uid,
            (unsigned)p->user.gid);
  for (size_t i = 0; i < p->n_mounts; i++)
    json_array_append_new (mounts, mount_json (&p->mounts[i]));
  if (p->network == RT_NET_BRIDGE)
    json_object_set_new (
        networks, p->net_name ? p->net_name : "bridge",
        json_pack ("{s:s}", "IPAddress", running && st->ip ? st->ip : ""));
  containers_connected_json (rec, networks);
  o = json_pack ("{s:s, s:o, s:s, s:o, s:o, s:s, s:s, s:i, s:s}", "Id", rec->id,
                 "Created", time_json (rec->created), "Path",
                 p->argv && p->argv[0] ? p->argv[0] : "", "Args",
                 strv_to_json (p->argv && p->argv[0] ? p->argv + 1 : NULL),
                 "State", state_json (rec, NULL), "Image",
                 rec->image_id ? rec->image_id : "", "Driver", "overlay",
                 "RestartCount", st->restart_count, "Platform", "linux");
  /* docker's names start with '/' */
  json_object_set_new (o, "Name",
                       json_sprintf ("/%s", rec->name ? rec->name : ""));
  json_object_set_new (
      o, "HostConfig",
      json_pack ("{s:s, s:b, s:b, s:b, s:I, s:I, s:I, s:I, s:I}", "NetworkMode",
                 network_word (p->network), "Privileged", p->privileged,
                 "ReadonlyRootfs", p->readonly_rootfs, "AutoRemove",
                 rec->auto_remove, "Memory", (json_int_t)p->limits.memory,
                 "MemorySwap", (json_int_t)p->limits.memory_swap, "NanoCpus",
                 (json_int_t)(p->limits.cpu_quota && p->limits.cpu_period
                                  ? p->limits.cpu_quota * 1000000000LL
                                        / p->limits.cpu_period
                                  : 0),
                 "CpuShares", (json_int_t)p->limits.cpu_shares, "PidsLimit",
                 (json_int_t)p->limits.pids));
  {
    struct svc_restart_policy rp;
    svc_restart_of (rec, &rp);
    json_object_set_new (json_object_get (o, "HostConfig"), "RestartPolicy",
                         json_pack ("{s:s, s:i}", "Name",
                                    svc_restart_name (rp.kind),
                                    "MaximumRetryCount", rp.max));
  }
  json_object_set_new (
      o, "Config",
      json_pack ("{s:s, s:s, s:b, s:b, s:o, s:o, s:s, s:s, s:n}", "Hostname",
                 p->hostname ? p->hostname : "", "User", user, "Tty", p->tty,
                 "OpenStdin", p->stdin_open, "Env", strv_to_json (p->env),
                 "Cmd", strv_to_json (rec->command), "Image",
                 rec->image ? rec->image : "", "WorkingDir",
                 p->cwd ? p->cwd : "/", "Entrypoint"));
  json_object_set_new (o, "NetworkSettings",
                       json_pack ("{s:s, s:o, s:o}", "IPAddress",
                                  running && st->ip ? st->ip : "", "Ports",
                                  ports_json (running ? st->ports : NULL),
                                  "Networks", networks));
  json_object_set_new (o, "Mounts", mounts);
  add_everyday (o, rec);
  containers_monitor_json (rec, o);
  return o;
}

/* docker's Ellipsis: text of more than n characters cut to n - 1 and
 * "…". */
static void
add_cut (struct strbuf *sb, const char *s, size_t n)
{
  size_t chars = 0, cut = 0;
  for (size_t i = 0; s[i]; i++)
    if (((unsigned char)s[i] & 0xc0) != 0x80 && ++chars == n)
      cut = i;
  if (chars <= n)
    {
      strbuf_addstr (sb, s);
      return;
    }
  strbuf_add (sb, s, cut);
  strbuf_addstr (sb, "…");
}

json_t *
containers_ps_json (const struct rt_record *rec, const char *command,
                    bool no_trunc, time_t now)
{
  char created[64], status[96], created_at[64], volumes[24];
  struct strbuf mounts = STRBUF_INIT, labels = STRBUF_INIT;
  size_t n_volumes = 0;
  json_t *o;
  human_ago (rec->created, now, created, sizeof created);
  human_time_go (rec->created, created_at, sizeof created_at);
  svc_status_text (rec, now, status, sizeof status);
  /* docker's Mounts: the names of the volumes, the sources of the bind
   * mounts (tmpfs have none) */
  for (size_t i = 0; i < rec->plan.n_mounts; i++)
    {
      const struct rt_mount *m = &rec->plan.mounts[i];
      const char *what = m->kind == RT_MOUNT_VOLUME ? m->name
                         : m->kind == RT_MOUNT_BIND ? m->source
                                                    : NULL;
      n_volumes += m->kind == RT_MOUNT_VOLUME;
      if (!what)
        continue;
      if (mounts.len)
        strbuf_addch (&mounts, ',');
      if (no_trunc)
        strbuf_addstr (&mounts, what);
      else
        add_cut (&mounts, what, 15);
    }
  /* docker's Labels: "k=v,k2=v2" */
  for (char **l = rec->labels; l && *l; l++)
    {
      if (labels.len)
        strbuf_addch (&labels, ',');
      strbuf_addstr (&labels, *l);
    }
  /* docker's fields, in its JSON's (sorted) order; no sizes without
   * --size */
  snprintf (volumes, sizeof volumes, "%zu", n_volumes);
  o = json_pack (
      "{s:s, s:s, s:s%, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s,"
      " s:s}",
      "Command", command, "CreatedAt", created_at, "ID", rec->id,
      no_trunc ? strlen (rec->id) : (size_t)RT_SHORT_ID, "Image",
      rec->image ? rec->image : "", "Labels", labels.buf ? labels.buf : "",
      "LocalVolumes", volumes, "Mounts", mounts.buf, "Names",
      rec->name ? rec->name : "", "Networks",
      rec->plan.net_name ? rec->plan.net_name
                         : network_word (rec->plan.network),
      "Ports",
      rec->state.status == RT_RUNNING && rec->state.ports ? rec->state.ports
                                                          : "",
      "RunningFor", created, "Size", "0B", "State", status_word (rec), "Status",
      status);
  strbuf_release (&mounts);
  strbuf_release (&labels);
  return o;
}
