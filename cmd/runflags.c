/* docker run's options (see runflags.h). */
#include "cmd/runflags.h"
#include "cmd/command.h"
#include "cmd/opttable.h"
#include "cmd/regflags.h"
#include "lib/err.h"
#include "lib/log.h"
#include "lib/userns.h"
#include "lib/xalloc.h"
#include "network/slirp.h"
#include "runtime/lifecycle.h"
#include "runtime/runopts.h"
#include "runtime/security.h"
#include "runtime/sysctl.h"
#include "service/service.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

int
run_flags_cap (const char *name, uint64_t *mask, struct err **err)
{
  int cap;
  if (!strcasecmp (name, "ALL"))
    {
      *mask |= 1ull << 63;
      return 0;
    }
  if (rt_cap_parse (name, &cap, err) < 0)
    return err_exit (err, 125);
  if (cap < 0 || cap > 63)
    {
      err_set (err, 0, "unknown capability '%s'", name);
      return err_exit (err, 125);
    }
  *mask |= 1ull << cap;
  return 0;
}

static int
security_opt (struct run_flags *f, const char *v, struct err **err)
{
  if (!strncmp (v, "seccomp=", 8) || !strncmp (v, "seccomp:", 8))
    {
      const char *s = v + 8;
      if (!*s)
        goto bad;
      free (f->seccomp);
      f->seccomp = xstrdup (s);
      if (strcmp (s, "unconfined") && access (s, R_OK) < 0)
        {
          err_set (err, 0,
                   "--security-opt seccomp: cannot read the profile "
                   "'%s'",
                   s);
          return err_exit (err, 125);
        }
      return 0;
    }
  if (!strcmp (v, "no-new-privileges") || !strcmp (v, "no-new-privileges=true")
      || !strcmp (v, "no-new-privileges:true"))
    {
      f->no_new_privs = true;
      return 0;
    }
  if (!strcmp (v, "no-new-privileges=false")
      || !strcmp (v, "no-new-privileges:false"))
    {
      f->no_new_privs = false;
      return 0;
    }
  if (!strncmp (v, "apparmor=", 9) || !strncmp (v, "apparmor:", 9)
      || !strncmp (v, "label=", 6) || !strncmp (v, "label:", 6))
    {
      /* docker applies them on hosts with the policy loaded; none is
       * here, and a refusal would break scripts written for such hosts */
      log_warn ("--security-opt %s: not applied: imgtool loads no "
                "AppArmor or SELinux policy",
                v);
      return 0;
    }
bad:
  err_set (err, 0,
           "invalid --security-opt '%s': expected seccomp=FILE, "
           "seccomp=unconfined, no-new-privileges[=true|false], "
           "apparmor=PROFILE or label=LABEL",
           v);
  return err_exit (err, 125);
}

/* ---- the options' handlers ---- */

#define F(t) ((struct run_flags *)(t))
#define HANDLER(fn)                                                            \
  static int fn (void *target, const struct cmd_opt *o, const char *arg,       \
                 struct err **err)

HANDLER (set_name)
{
  (void)o, (void)err;
  free (F (target)->name);
  F (target)->name = xstrdup (*arg == '/' ? arg + 1 : arg);
  return 0;
}

HANDLER (set_env)
{
  (void)o;
  return rt_env_arg (arg, &F (target)->env, err);
}

HANDLER (set_env_file)
{
  (void)o;
  return rt_env_file_read (arg, &F (target)->env, err);
}

HANDLER (set_entrypoint)
{
  F (target)->entrypoint_set = true;
  return cmd_set_string (target, o, arg, err);
}

/* -v, --tmpfs, --mount: one more mount, its destination not taken yet */
static int
add_mount (struct run_flags *f, const char *arg,
           int (*parse) (const char *, struct rt_mount *, struct err **),
           struct err **err)
{
  f->mounts = xrealloc (f->mounts, (f->n_mounts + 1) * sizeof *f->mounts);
  if (parse (arg, &f->mounts[f->n_mounts], err) < 0)
    return -1;
  for (size_t i = 0; i < f->n_mounts; i++)
    if (!strcmp (f->mounts[i].destination, f->mounts[f->n_mounts].destination))
      {
        err_set (err, 0, "duplicate mount point: '%s'",
                 f->mounts[i].destination);
        rt_mount_release (&f->mounts[f->n_mounts]);
        return err_exit (err, 125);
      }
  f->n_mounts++;
  return 0;
}

HANDLER (set_volume)
{
  (void)o;
  return add_mount (F (target), arg, rt_volume_parse, err);
}

HANDLER (set_tmpfs)
{
  (void)o;
  return add_mount (F (target), arg, rt_tmpfs_parse, err);
}

HANDLER (set_mount)
{
  (void)o;
  return add_mount (F (target), arg, rt_mount_opt_parse, err);
}

/* -m and --memory-swap are read together, once all are parsed */
HANDLER (set_arg)
{
  (void)err;
  *(const char **)(void *)((char *)target + o->off) = arg;
  return 0;
}

HANDLER (set_cpus)
{
  (void)o;
  return rt_parse_cpus (arg, sysconf (_SC_NPROCESSORS_ONLN),
                        &F (target)->limits.cpu_quota,
                        &F (target)->limits.cpu_period, err);
}

HANDLER (set_cpu_shares)
{
  int64_t v;
  (void)o;
  if (rt_parse_int (arg, "--cpu-shares", &v, err) < 0)
    return -1;
  if (v < 0 || v > 262144)
    return err_fail (err, 125,
                     "invalid value '%s' for --cpu-shares: the range "
                     "is 2 to 262144",
                     arg);
  F (target)->limits.cpu_shares = v;
  return 0;
}

HANDLER (set_pids_limit)
{
  int64_t v;
  (void)o;
  if (rt_parse_int (arg, "--pids-limit", &v, err) < 0)
    return -1;
  /* docker: 0 or -1 is unlimited */
  F (target)->limits.pids = v <= 0 ? -1 : v;
  return 0;
}

HANDLER (set_cap)
{
  return run_flags_cap (arg, (uint64_t *)(void *)((char *)target + o->off),
                        err);
}

HANDLER (set_device)
{
  (void)o;
  return rt_device_parse (arg, &F (target)->devices, &F (target)->n_devices,
                          err);
}

HANDLER (set_security_opt)
{
  (void)o;
  return security_opt (F (target), arg, err);
}

HANDLER (set_network)
{
  struct run_flags *f = target;
  int r;
  (void)o;
  free (steal_pointer (&f->net_name)); /* the last --network wins */
  if (!strcmp (arg, "none"))
    f->network = RT_NET_NONE;
  else if (!strcmp (arg, "host"))
    f->network = RT_NET_HOST;
  else if (!strcmp (arg, "bridge") || !strcmp (arg, "default"))
    f->network = RT_NET_BRIDGE;
  else if (!strncmp (arg, "container:", 10) && arg[10])
    {
      f->network = RT_NET_CONTAINER;
      free (f->net_container);
      f->net_container = xstrdup (arg + 10);
    }
  else if ((r = net_slirp_parse (arg, &f->network, err)) > 0)
    ; /* rootless networking */
  else if (r == 0 && net_name_valid (arg))
    {
      /* a user network: its existence is checked at create */
      f->network = RT_NET_BRIDGE;
      f->net_name = xstrdup (arg);
    }
  else
    return err_fail (err, 125,
                     "invalid --network '%s': expected none, host, "
                     "bridge, container:NAME, slirp4netns or a network's "
                     "name",
                     arg);
  return 0;
}

HANDLER (set_publish)
{
  struct run_flags *f = target;
  (void)o;
  f->ports = xrealloc (f->ports, (f->n_ports + 1) * sizeof *f->ports);
  if (net_parse_publish (arg, &f->ports[f->n_ports], err) < 0)
    return err_exit (err, 125);
  f->n_ports++;
  return 0;
}

HANDLER (set_pull)
{
  (void)o;
  if (!strcmp (arg, "missing"))
    F (target)->pull = RUN_PULL_MISSING;
  else if (!strcmp (arg, "never"))
    F (target)->pull = RUN_PULL_NEVER;
  else if (!strcmp (arg, "always"))
    F (target)->pull = RUN_PULL_ALWAYS;
  else
    return err_fail (err, 125,
                     "invalid --pull '%s': expected missing, never or always",
                     arg);
  return 0;
}

HANDLER (set_stop_signal)
{
  int sig;
  if (rt_signal_parse (arg, &sig, err) < 0)
    return -1;
  return cmd_set_string (target, o, arg, err);
}

HANDLER (set_stop_timeout)
{
  int64_t v;
  (void)o;
  if (rt_parse_int (arg, "--stop-timeout", &v, err) < 0)
    return -1;
  F (target)->stop_timeout = v < 0 ? -1 : (int)v;
  return 0;
}

HANDLER (set_restart)
{
  struct svc_restart_policy rp;
  if (svc_restart_parse (arg, &rp, err) < 0)
    return err_exit (err, 125);
  return cmd_set_string (target, o, arg, err);
}

/* --platform, --tls-verify, --signature-policy (exit 125): the entries
 * without a handler of their own */
HANDLER (set_regflag)
{
  return regflags_option (&F (target)->reg, o->id, arg, err);
}

/* One line per option: name, short form, the value's name, help, the
 * docker flag it mirrors, its handler (and the field a generic handler
 * sets). */
#define OFF(field) offsetof (struct run_flags, field)
#define BOOL(name, s, help, docker, field)                                     \
  CMD_OPT_SET (name, s, NULL, help, docker, cmd_set_bool, OFF (field))
#define STR(name, s, arg, help, docker, field)                                 \
  CMD_OPT_SET (name, s, arg, help, docker, cmd_set_string, OFF (field))
#define SET(name, s, arg, help, docker, fn)                                    \
  CMD_OPT_SET (name, s, arg, help, docker, fn, 0)
#define MONITOR(name, arg, help, fn)                                           \
  CMD_OPT_SET (name, 0, arg, help, "--" name, fn, OFF (monitor))

/* docker run's options, and podman's that imgtool has; create's too. */
static const struct cmd_opt run_opts[] = {
  SET ("add-host", 0, "HOST:IP",
       "Add a custom host-to-IP mapping (IP or host-gateway)", "--add-host",
       run_set_add_host),
  CMD_OPT_SET ("cap-add", 0, "CAP", "Add a Linux capability (or ALL)",
               "--cap-add", set_cap, OFF (cap_add)),
  CMD_OPT_SET ("cap-drop", 0, "CAP", "Drop a Linux capability (or ALL)",
               "--cap-drop", set_cap, OFF (cap_drop)),
  STR ("cidfile", 0, "FILE", "Write the container ID to the file", "--cidfile",
       cidfile),
  SET ("cpu-shares", 'c', "N", "CPU shares (relative weight)", "--cpu-shares",
       set_cpu_shares),
  SET ("cpus", 0, "N", "Number of CPUs", "--cpus", set_cpus),
  BOOL ("detach", 'd', "Run the container in the background, print its ID",
        "--detach", detach),
  SET ("device", 0, "HOST[:CONTAINER][:PERMS]",
       "Add a host device to the container", "--device", set_device),
  SET ("dns", 0, "IP", "Set a custom DNS server", "--dns", run_set_dns),
  CMD_OPT_SET ("dns-option", 0, "OPT", "Set a DNS option", "--dns-option",
               cmd_set_strv, OFF (dns_options)),
  SET ("dns-search", 0, "DOMAIN", "Set a custom DNS search domain",
       "--dns-search", run_set_dns_search),
  CMD_OPT_SET ("entrypoint", 0, "CMD", "Overwrite the image's ENTRYPOINT",
               "--entrypoint", set_entrypoint, OFF (entrypoint)),
  SET ("env", 'e', "K=V", "Set an environment variable", "--env", set_env),
  SET ("env-file", 0, "FILE", "Read in a file of environment variables",
       "--env-file", set_env_file),
  SET ("expose", 0, "PORT[-END][/PROTO]", "Expose a port or a range of ports",
       "--expose", run_set_expose),
  SET ("group-add", 0, "GROUP", "Add an additional group to join",
       "--group-add", run_set_group_add),
  MONITOR ("health-cmd", "CMD", "Command to run to check health",
           run_monitor_health_cmd),
  MONITOR ("health-interval", "DURATION", "Time between running the check",
           run_monitor_health_interval),
  MONITOR ("health-retries", "N",
           "Consecutive failures needed to report unhealthy",
           run_monitor_health_retries),
  MONITOR ("health-start-interval", "DURATION",
           "Time between running the check during the start period",
           run_monitor_health_start_interval),
  MONITOR ("health-start-period", "DURATION",
           "Start period for the container to initialize before the retries "
           "count",
           run_monitor_health_start_period),
  MONITOR ("health-timeout", "DURATION",
           "Maximum time to allow one check to run",
           run_monitor_health_timeout),
  CMD_OPT_HELP,
  STR ("hostname", 'h', "NAME", "Container host name", "--hostname", hostname),
  BOOL ("init", 0,
        "Run an init inside the container that forwards signals and reaps "
        "processes",
        "--init", init),
  BOOL ("interactive", 'i', "Keep STDIN open even if not attached",
        "--interactive", interactive),
  SET ("ipc", 0, "MODE", "IPC mode: private, shareable, host, container:NAME",
       "--ipc", run_set_ipc),
  SET ("label", 0, "K=V", "Set meta data on the container", "--label",
       run_set_label),
  SET ("label-file", 0, "FILE", "Read in a line delimited file of labels",
       "--label-file", run_set_label_file),
  MONITOR ("log-driver", "DRIVER", "Logging driver: json-file, k8s-file, none",
           run_monitor_log_driver),
  MONITOR ("log-opt", "K=V", "Log driver options (max-size=N, max-file=N)",
           run_monitor_log_opt),
  CMD_OPT_SET ("memory", 'm', "SIZE", "Memory limit", "--memory", set_arg,
               OFF (memory_arg)),
  CMD_OPT_SET ("memory-swap", 0, "SIZE",
               "Memory plus swap limit: -1 for unlimited swap", "--memory-swap",
               set_arg, OFF (swap_arg)),
  SET ("mount", 0, "type=bind|volume|tmpfs,...",
       "Attach a filesystem mount to the container", "--mount", set_mount),
  SET ("name", 0, "NAME", "Assign a name to the container", "--name", set_name),
  SET ("net", 0, "NETWORK", "The same as --network", "--net", set_network),
  SET ("network", 0, "NETWORK",
       "Connect the container to a network: bridge, none, host, "
       "container:NAME, slirp4netns or a network's name",
       "--network", set_network),
  MONITOR ("no-healthcheck", NULL,
           "Disable any container-specified HEALTHCHECK",
           run_monitor_no_healthcheck),
  SET ("pid", 0, "MODE", "PID namespace to use: host or container:NAME",
       "--pid", run_set_pid),
  SET ("pids-limit", 0, "N", "Tune the container's pids limit (-1 unlimited)",
       "--pids-limit", set_pids_limit),
  REGFLAGS_OPT_PLATFORM,
  BOOL ("privileged", 0, "Give extended privileges to this container",
        "--privileged", privileged),
  SET ("publish", 'p', "[IP:][HOST:]CONTAINER[/PROTO]",
       "Publish a container's port to the host", "--publish", set_publish),
  BOOL ("publish-all", 'P', "Publish all exposed ports to random ports",
        "--publish-all", publish_all),
  SET ("pull", 0, "POLICY",
       "Pull the image before running: missing, never, always", "--pull",
       set_pull),
  BOOL ("read-only", 0, "Mount the container's root filesystem as read only",
        "--read-only", read_only),
  CMD_OPT_SET ("restart", 0, "POLICY",
               "Restart policy: no, always, unless-stopped, on-failure[:N]",
               "--restart", set_restart, OFF (restart)),
  BOOL ("rm", 0, "Automatically remove the container when it exits", "--rm",
        rm),
  BOOL ("rootfs", 0, "IMAGE is a directory to run as the root filesystem", NULL,
        rootfs_flag),
  SET ("security-opt", 0, "OPT",
       "Security options: seccomp=FILE|unconfined, no-new-privileges, "
       "apparmor=, label= (no policy applies here)",
       "--security-opt", set_security_opt),
  SET ("shm-size", 0, "SIZE", "Size of /dev/shm", "--shm-size",
       run_set_shm_size),
  REGFLAGS_OPT_SIGNATURE_POLICY,
  CMD_OPT_SET ("stop-signal", 0, "SIGNAL", "Signal to stop the container",
               "--stop-signal", set_stop_signal, OFF (stop_signal)),
  SET ("stop-timeout", 0, "SECONDS",
       "Timeout (in seconds) to stop the container", "--stop-timeout",
       set_stop_timeout),
  CMD_OPT_SET ("sysctl", 0, "KEY=VALUE", "Set a namespaced kernel parameter",
               "--sysctl", cmd_set_strv, OFF (sysctls)),
  REGFLAGS_OPT_TLS_VERIFY,
  SET ("tmpfs", 0, "DST[:OPTS]", "Mount a tmpfs directory", "--tmpfs",
       set_tmpfs),
  BOOL ("tty", 't', "Allocate a pseudo-TTY", "--tty", tty),
  SET ("ulimit", 0, "NAME=SOFT[:HARD]", "Set a resource limit", "--ulimit",
       run_set_ulimit),
  STR ("user", 'u', "USER[:GROUP]", "Username or UID, and group", "--user",
       user),
  SET ("volume", 'v', "[SRC:]DST[:OPTS]", "Bind mount a volume", "--volume",
       set_volume),
  STR ("workdir", 'w', "DIR", "Working directory inside the container",
       "--workdir", workdir),
  CMD_OPT_END,
};

const struct cmd_spec cmd_run_spec = {
  .name = "run",
  .usage = "imgtool run [OPTIONS] IMAGE [COMMAND [ARG...]]",
  .opts = run_opts,
  .posix = true,
  .bad_exit = 125,
  .other = set_regflag,
};
/* docker create has no -d: it starts nothing */
static const char *const create_omits[] = { "detach", NULL };
const struct cmd_spec cmd_create_spec = {
  .name = "create",
  .usage = "imgtool create [OPTIONS] IMAGE [COMMAND [ARG...]]",
  .opts = run_opts,
  .omit = create_omits,
  .posix = true,
  .bad_exit = 125,
  .other = set_regflag,
};

int
run_flags_parse (int argc, char **argv, struct run_flags *f, struct err **err)
{
  const struct cmd_spec *spec
      = strcmp (argv[0], "create") ? &cmd_run_spec : &cmd_create_spec;
  int r;

  memset (f, 0, sizeof *f);
  f->no_new_privs = true;
  f->stop_timeout = -1;
  /* docker's default: a private address on the bridge */
  f->network = RT_NET_BRIDGE;
  f->pull = RUN_PULL_MISSING;           /* docker's default */
  regflags_init (&f->reg, NULL, false); /* bad values: exit 125 */
  if ((r = cmd_parse (argc, argv, spec, f, err)) != 0)
    {
      f->help = r > 0;
      return r < 0 ? -1 : 0;
    }
  if (rt_parse_memory (f->memory_arg, f->swap_arg, &f->limits, err) < 0)
    return -1;
  /* rootless: no bridge without root; slirp4netns is the default (podman) */
  if (f->network == RT_NET_BRIDGE && userns_rootless ())
    f->network = RT_NET_SLIRP;
  if ((f->n_ports || f->publish_all) && f->network == RT_NET_NONE)
    {
      err_set (err, 0,
               "publishing ports needs a network: --network none "
               "has none");
      return err_exit (err, 125);
    }
  if ((f->n_ports || f->publish_all) && f->network == RT_NET_HOST)
    {
      /* docker: a warning, the ports are the host's own anyway */
      log_warn ("published ports are discarded when using host network "
                "mode");
      free (f->ports);
      f->ports = NULL;
      f->n_ports = 0;
      f->publish_all = false;
    }
  for (char **k = f->sysctls; k && *k; k++)
    if (rt_sysctl_check (*k, f->network,
                         f->ipc_mode && !strcmp (f->ipc_mode, "host"), err)
        < 0)
      return -1;
  if (run_flags_conflicts (f, err) < 0)
    return -1;
  if (f->rm && f->restart)
    {
      struct svc_restart_policy rp;
      svc_restart_parse (f->restart, &rp, err);
      if (rp.kind != SVC_RESTART_NO)
        {
          err_set (err, 0,
                   "conflicting options: cannot specify both --restart and "
                   "--rm");
          return err_exit (err, 125);
        }
    }
  if (optind >= argc)
    {
      err_set (err, 0, "%s needs an image: %s", argv[0], spec->usage);
      return err_exit (err, 125);
    }
  f->image = xstrdup (argv[optind]);
  if (f->rootfs_flag)
    {
      if (*f->image != '/')
        {
          err_set (err, 0,
                   "--rootfs '%s': the root filesystem must be an "
                   "absolute path",
                   f->image);
          return err_exit (err, 125);
        }
      f->rootfs = xstrdup (f->image);
    }
  f->args = strv_dup (argv + optind + 1);
  return 0;
}

void
run_flags_release (struct run_flags *f)
{
  free (f->name);
  strv_free (f->env);
  free (f->workdir);
  free (f->user);
  free (f->hostname);
  free (f->entrypoint);
  for (size_t i = 0; i < f->n_mounts; i++)
    rt_mount_release (&f->mounts[i]);
  free (f->mounts);
  for (size_t i = 0; i < f->n_devices; i++)
    rt_device_release (&f->devices[i]);
  free (f->devices);
  free (f->seccomp);
  free (f->ports);
  free (f->rootfs);
  free (f->stop_signal);
  strv_free (f->ulimits);
  strv_free (f->sysctls);
  strv_free (f->add_hosts);
  strv_free (f->dns);
  strv_free (f->dns_search);
  strv_free (f->dns_options);
  strv_free (f->labels);
  strv_free (f->expose);
  strv_free (f->group_add);
  free (f->cidfile);
  free (f->pid_mode);
  free (f->ipc_mode);
  free (f->net_container);
  free (f->restart);
  run_monitor_release (&f->monitor);
  free (f->net_name);
  free (f->image);
  strv_free (f->args);
  memset (f, 0, sizeof *f);
}
