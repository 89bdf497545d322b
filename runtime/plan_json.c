/* A plan to and from JSON (the "plan" of a container's config.json,
 * runtime/state.h): one table of fields serves both directions. */
#include "lib/json.h"
#include "lib/xalloc.h"
#include "runtime/plan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define P(type, member) JSON_FIELD (type, struct rt_plan, member, #member)
static const struct json_field plan_fields[] = {
  P (JF_STRV, lower_dirs),
  P (JF_STR, upper_dir),
  P (JF_STR, work_dir),
  P (JF_BOOL, readonly_rootfs),
  P (JF_BOOL, volatile_upper),
  P (JF_STRV, argv),
  P (JF_STRV, env),
  P (JF_STR, cwd),
  P (JF_BOOL, tty),
  P (JF_BOOL, stdin_open),
  P (JF_STR, id),
  P (JF_STR, name),
  P (JF_STR, hostname),
  P (JF_STR, state_dir),
  P (JF_STR, cgroup_parent),
  P (JF_BOOL, privileged),
  P (JF_BOOL, no_new_privs),
  P (JF_STR, seccomp_profile),
  P (JF_STR, stop_signal),
  P (JF_STRV, sysctls),
  P (JF_I64, shm_size),
  P (JF_BOOL, init),
  P (JF_STRV, extra_hosts),
  P (JF_STRV, dns),
  P (JF_STRV, dns_search),
  P (JF_STRV, dns_options),
  P (JF_STR, pid_mode),
  P (JF_STR, ipc_mode),
  P (JF_STR, net_container),
  P (JF_STR, net_name),
};
#undef P

#define L(member) JSON_FIELD (JF_I64, struct rt_limits, member, #member)
static const struct json_field limit_fields[] = {
  L (memory),     L (memory_swap), L (cpu_quota),
  L (cpu_period), L (cpu_shares),  L (pids),
};
#undef L

#define M(type, member) JSON_FIELD (type, struct rt_mount, member, #member)
static const struct json_field mount_fields[] = {
  M (JF_STR, source),  M (JF_STR, destination), M (JF_BOOL, readonly),
  M (JF_STR, options), M (JF_STR, name),        M (JF_BOOL, anonymous),
  M (JF_BOOL, nocopy), M (JF_STR, mode),        M (JF_STR, propagation),
};
#undef M

#define D(type, member) JSON_FIELD (type, struct rt_device, member, #member)
static const struct json_field device_fields[] = {
  D (JF_STR, host),
  D (JF_STR, path),
};
#undef D

static const char *const mount_kinds[] = { [RT_MOUNT_BIND] = "bind",
                                           [RT_MOUNT_TMPFS] = "tmpfs",
                                           [RT_MOUNT_VOLUME] = "volume" };

static const char *const net_names[]
    = { [RT_NET_NONE] = "none",
        [RT_NET_HOST] = "host",
        [RT_NET_BRIDGE] = "bridge",
        [RT_NET_SLIRP] = "slirp4netns",
        [RT_NET_SLIRP_LOOPBACK] = "slirp4netns:allow_host_loopback=true",
        [RT_NET_CONTAINER] = "container" };

/* Bitmasks as strings: JSON integers are signed 64-bit. */
static void
set_mask (json_t *o, const char *key, uint64_t v)
{
  char buf[32];
  snprintf (buf, sizeof buf, "%#llx", (unsigned long long)v);
  json_set_str (o, key, buf);
}

static uint64_t
get_mask (json_t *o, const char *key)
{
  const char *s = json_peek_str (o, key);
  return s ? strtoull (s, NULL, 0) : 0;
}

json_t *
rt_plan_to_json (const struct rt_plan *p)
{
  json_t *o = json_object (), *m = json_array (), *l = json_object ();
  json_t *u = json_object (), *g = json_array (), *d = json_array ();
  json_fields_to (o, p, plan_fields, ARRAY_SIZE (plan_fields));
  json_object_set_new (u, "uid", json_integer (p->user.uid));
  json_object_set_new (u, "gid", json_integer (p->user.gid));
  for (size_t i = 0; i < p->user.n_groups; i++)
    json_array_append_new (g, json_integer (p->user.groups[i]));
  json_object_set_new (u, "groups", g);
  json_object_set_new (o, "user", u);
  for (size_t i = 0; i < p->n_mounts; i++)
    {
      json_t *j = json_object ();
      json_fields_to (j, &p->mounts[i], mount_fields,
                      ARRAY_SIZE (mount_fields));
      json_set_str (j, "kind", mount_kinds[p->mounts[i].kind]);
      json_array_append_new (m, j);
    }
  json_object_set_new (o, "mounts", m);
  json_set_str (o, "network", net_names[p->network]);
  json_fields_to (l, &p->limits, limit_fields, ARRAY_SIZE (limit_fields));
  json_object_set_new (o, "limits", l);
  set_mask (o, "cap_add", p->cap_add);
  set_mask (o, "cap_drop", p->cap_drop);
  for (size_t i = 0; i < p->n_devices; i++)
    {
      const struct rt_device *x = &p->devices[i];
      char type[2] = { x->type, '\0' };
      json_t *j = json_pack (
          "{s:s, s:I, s:I, s:I, s:I, s:I, s:I}", "type", type, "major",
          (json_int_t)x->major, "minor", (json_int_t)x->minor, "mode",
          (json_int_t)x->mode, "uid", (json_int_t)x->uid, "gid",
          (json_int_t)x->gid, "access", (json_int_t)x->access);
      json_fields_to (j, x, device_fields, ARRAY_SIZE (device_fields));
      json_array_append_new (d, j);
    }
  json_object_set_new (o, "devices", d);
  if (p->n_rlimits)
    {
      json_t *r = json_array ();
      for (size_t i = 0; i < p->n_rlimits; i++)
        json_array_append_new (
            r, json_pack ("{s:i, s:I, s:I}", "resource", p->rlimits[i].resource,
                          "soft", (json_int_t)p->rlimits[i].soft, "hard",
                          (json_int_t)p->rlimits[i].hard));
      json_object_set_new (o, "rlimits", r);
    }
  return o;
}

void
rt_plan_from_json (json_t *o, struct rt_plan *p)
{
  json_t *u = json_object_get (o, "user"), *x;
  json_t *m = json_object_get (o, "mounts"),
         *d = json_object_get (o, "devices");
  const char *net = json_peek_str (o, "network");
  size_t i;

  rt_plan_init (p);
  json_fields_from (o, p, plan_fields, ARRAY_SIZE (plan_fields));
  p->user.uid = (uid_t)json_get_int (u, "uid");
  p->user.gid = (gid_t)json_get_int (u, "gid");
  x = json_object_get (u, "groups");
  if (json_is_array (x) && json_array_size (x))
    {
      json_t *g;
      p->user.groups = xcalloc (json_array_size (x), sizeof (gid_t));
      json_array_foreach (x, i, g) p->user.groups[p->user.n_groups++]
          = (gid_t)json_integer_value (g);
    }
  if (json_is_array (m) && json_array_size (m))
    {
      p->mounts = xcalloc (json_array_size (m), sizeof *p->mounts);
      json_array_foreach (m, i, x)
      {
        struct rt_mount *t = &p->mounts[p->n_mounts++];
        const char *k = json_peek_str (x, "kind");
        json_fields_from (x, t, mount_fields, ARRAY_SIZE (mount_fields));
        t->kind = RT_MOUNT_BIND;
        for (size_t n = 0; k && n < ARRAY_SIZE (mount_kinds); n++)
          if (!strcmp (k, mount_kinds[n]))
            t->kind = (enum rt_mount_kind)n;
      }
    }
  p->network = RT_NET_NONE;
  for (size_t k = 0; net && k < ARRAY_SIZE (net_names); k++)
    if (!strcmp (net, net_names[k]))
      p->network = (enum rt_network_mode)k;
  json_fields_from (json_object_get (o, "limits"), &p->limits, limit_fields,
                    ARRAY_SIZE (limit_fields));
  p->cap_add = get_mask (o, "cap_add");
  p->cap_drop = get_mask (o, "cap_drop");
  if (json_is_array (d) && json_array_size (d))
    {
      p->devices = xcalloc (json_array_size (d), sizeof *p->devices);
      json_array_foreach (d, i, x)
      {
        struct rt_device *t = &p->devices[p->n_devices];
        const char *type = json_peek_str (x, "type");
        json_fields_from (x, t, device_fields, ARRAY_SIZE (device_fields));
        t->type = type && !strcmp (type, "b") ? 'b' : 'c';
        t->major = (uint32_t)json_get_int (x, "major");
        t->minor = (uint32_t)json_get_int (x, "minor");
        t->mode = (uint32_t)json_get_int (x, "mode");
        t->uid = (uid_t)json_get_int (x, "uid");
        t->gid = (gid_t)json_get_int (x, "gid");
        t->access = (unsigned)json_get_int (x, "access") & RT_DEV_RWM;
        if (!t->path || *t->path != '/')
          rt_device_release (t); /* a damaged entry: left out */
        else
          p->n_devices++;
      }
    }
  x = json_object_get (o, "rlimits");
  if (json_is_array (x) && json_array_size (x))
    {
      json_t *l;
      p->rlimits = xcalloc (json_array_size (x), sizeof *p->rlimits);
      json_array_foreach (x, i, l)
      {
        struct rt_rlimit *t = &p->rlimits[p->n_rlimits++];
        t->resource = (int)json_get_int (l, "resource");
        /* RLIM_INFINITY is all ones: a JSON -1 */
        t->soft = (uint64_t)json_get_int (l, "soft");
        t->hard = (uint64_t)json_get_int (l, "hard");
      }
    }
}
