/* docker run's options (see runflags.h). */
#include "cmd/runflags.h"
#include "cmd/command.h"
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

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

enum
{
  OPT_RM = 256,
  OPT_NAME,
  OPT_ENV_FILE,
  OPT_ENTRYPOINT,
  OPT_TMPFS,
  OPT_READ_ONLY,
  OPT_MEMORY_SWAP,
  OPT_CPUS,
  OPT_PIDS_LIMIT,
  OPT_CAP_ADD,
  OPT_CAP_DROP,
  OPT_PRIVILEGED,
  OPT_DEVICE,
  OPT_SECURITY_OPT,
  OPT_NETWORK,
  OPT_PULL,
  OPT_ROOTFS,
  OPT_STOP_SIGNAL,
  OPT_STOP_TIMEOUT,
  OPT_MOUNT,
  OPT_RESTART,
  OPT_HELP,
  OPT_ULIMIT,
  OPT_SHM_SIZE,
  OPT_SYSCTL,
  OPT_INIT,
  OPT_ADD_HOST,
  OPT_DNS,
  OPT_DNS_SEARCH,
  OPT_DNS_OPTION,
  OPT_LABEL,
  OPT_LABEL_FILE,
  OPT_EXPOSE,
  OPT_GROUP_ADD,
  OPT_CIDFILE,
  OPT_PID,
  OPT_IPC,
};

const char run_flags_usage[]
    = "imgtool run [OPTIONS] IMAGE [COMMAND [ARG...]]\n"
      "  --rm -i -t -d --name NAME -e K=V --env-file FILE -w DIR -u USER\n"
      "  --entrypoint CMD -v [SRC:]DST[:OPTS] --tmpfs DST[:OPTS] --read-only\n"
      "  --mount type=bind|volume|tmpfs,source=SRC,target=DST[,...]\n"
      "  -h HOSTNAME -m SIZE --memory-swap SIZE --cpus N --cpu-shares N\n"
      "  --pids-limit N --cap-add CAP --cap-drop CAP --privileged\n"
      "  --device HOST[:CONTAINER][:PERMISSIONS]\n"
      "  --security-opt seccomp=FILE|unconfined|no-new-privileges[=BOOL]\n"
      "  --network bridge|none|host|container:NAME|NETWORK|"
      "slirp4netns[:allow_host_loopback=true]\n  -p "
      "[IP:][HOST:]CONTAINER[/tcp|udp] -P\n"
      "  --platform OS/ARCH[/VARIANT]\n"
      "  --pull missing|never|always --tls-verify[=BOOL]\n"
      "  --signature-policy FILE\n"
      "  --stop-signal SIG --stop-timeout SECONDS --rootfs (IMAGE is a "
      "directory)\n"
      "  --ulimit NAME=SOFT[:HARD] --shm-size SIZE --sysctl KEY=VALUE --init\n"
      "  --add-host HOST:IP|host-gateway --dns IP --dns-search DOMAIN\n"
      "  --dns-option OPT --label K=V --label-file FILE --expose PORT[/PROTO]\n"
      "  --group-add GROUP --cidfile FILE --pid host|container:NAME\n"
      "  --ipc private|shareable|host|container:NAME\n"
      "  --security-opt apparmor=PROFILE|label=LABEL (no policy applies "
      "here)\n"
      "  --restart no|always|unless-stopped|on-failure[:N]\n" RUN_MONITOR_USAGE;

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

int
run_flags_parse (int argc, char **argv, struct run_flags *f, struct err **err)
{
  static const struct option opts[] = {
    { "rm", no_argument, NULL, OPT_RM },
    { "interactive", no_argument, NULL, 'i' },
    { "tty", no_argument, NULL, 't' },
    { "detach", no_argument, NULL, 'd' },
    { "name", required_argument, NULL, OPT_NAME },
    { "env", required_argument, NULL, 'e' },
    { "env-file", required_argument, NULL, OPT_ENV_FILE },
    { "workdir", required_argument, NULL, 'w' },
    { "user", required_argument, NULL, 'u' },
    { "entrypoint", required_argument, NULL, OPT_ENTRYPOINT },
    { "volume", required_argument, NULL, 'v' },
    { "tmpfs", required_argument, NULL, OPT_TMPFS },
    { "mount", required_argument, NULL, OPT_MOUNT },
    { "read-only", no_argument, NULL, OPT_READ_ONLY },
    { "hostname", required_argument, NULL, 'h' },
    { "memory", required_argument, NULL, 'm' },
    { "memory-swap", required_argument, NULL, OPT_MEMORY_SWAP },
    { "cpus", required_argument, NULL, OPT_CPUS },
    { "cpu-shares", required_argument, NULL, 'c' },
    { "pids-limit", required_argument, NULL, OPT_PIDS_LIMIT },
    { "cap-add", required_argument, NULL, OPT_CAP_ADD },
    { "cap-drop", required_argument, NULL, OPT_CAP_DROP },
    { "privileged", no_argument, NULL, OPT_PRIVILEGED },
    { "device", required_argument, NULL, OPT_DEVICE },
    { "security-opt", required_argument, NULL, OPT_SECURITY_OPT },
    { "network", required_argument, NULL, OPT_NETWORK },
    { "net", required_argument, NULL, OPT_NETWORK },
    { "publish", required_argument, NULL, 'p' },
    { "publish-all", no_argument, NULL, 'P' },
    REGFLAGS_OPT_PLATFORM,
    { "pull", required_argument, NULL, OPT_PULL },
    REGFLAGS_OPT_TLS_VERIFY,
    REGFLAGS_OPT_SIGNATURE_POLICY,
    { "rootfs", no_argument, NULL, OPT_ROOTFS },
    { "stop-signal", required_argument, NULL, OPT_STOP_SIGNAL },
    { "stop-timeout", required_argument, NULL, OPT_STOP_TIMEOUT },
    { "restart", required_argument, NULL, OPT_RESTART },
    { "help", no_argument, NULL, OPT_HELP },
    { "ulimit", required_argument, NULL, OPT_ULIMIT },
    { "shm-size", required_argument, NULL, OPT_SHM_SIZE },
    { "sysctl", required_argument, NULL, OPT_SYSCTL },
    { "init", optional_argument, NULL, OPT_INIT },
    { "add-host", required_argument, NULL, OPT_ADD_HOST },
    { "dns", required_argument, NULL, OPT_DNS },
    { "dns-search", required_argument, NULL, OPT_DNS_SEARCH },
    { "dns-option", required_argument, NULL, OPT_DNS_OPTION },
    { "label", required_argument, NULL, OPT_LABEL },
    { "label-file", required_argument, NULL, OPT_LABEL_FILE },
    { "expose", required_argument, NULL, OPT_EXPOSE },
    { "group-add", required_argument, NULL, OPT_GROUP_ADD },
    { "cidfile", required_argument, NULL, OPT_CIDFILE },
    { "pid", required_argument, NULL, OPT_PID },
    { "ipc", required_argument, NULL, OPT_IPC },
    RUN_MONITOR_OPTS,
    { 0 },
  };
  const char *memory = NULL, *swap = NULL;
  bool rootfs = false;
  int c, r;
  int64_t v;

  memset (f, 0, sizeof *f);
  f->no_new_privs = true;
  f->stop_timeout = -1;
  /* docker's default: a private address on the bridge */
  f->network = RT_NET_BRIDGE;
  f->pull = RUN_PULL_MISSING;           /* docker's default */
  regflags_init (&f->reg, NULL, false); /* bad values: exit 125 */
  while ((c = command_getopt (argc, argv, "+itde:w:u:v:h:m:c:p:P", opts)) != -1)
    switch (c)
      {
      case OPT_RM:
        f->rm = true;
        break;
      case 'i':
        f->interactive = true;
        break;
      case 't':
        f->tty = true;
        break;
      case 'd':
        f->detach = true;
        break;
      case OPT_NAME:
        free (f->name);
        f->name = xstrdup (*optarg == '/' ? optarg + 1 : optarg);
        break;
      case 'e':
        if (rt_env_arg (optarg, &f->env, err) < 0)
          return -1;
        break;
      case OPT_ENV_FILE:
        if (rt_env_file_read (optarg, &f->env, err) < 0)
          return -1;
        break;
      case 'w':
        free (f->workdir);
        f->workdir = xstrdup (optarg);
        break;
      case 'u':
        free (f->user);
        f->user = xstrdup (optarg);
        break;
      case OPT_ENTRYPOINT:
        free (f->entrypoint);
        f->entrypoint = xstrdup (optarg);
        f->entrypoint_set = true;
        break;
      case 'v':
      case OPT_TMPFS:
      case OPT_MOUNT:
        f->mounts = xrealloc (f->mounts, (f->n_mounts + 1) * sizeof *f->mounts);
        if ((c == 'v' ? rt_volume_parse (optarg, &f->mounts[f->n_mounts], err)
             : c == OPT_MOUNT
                 ? rt_mount_opt_parse (optarg, &f->mounts[f->n_mounts], err)
                 : rt_tmpfs_parse (optarg, &f->mounts[f->n_mounts], err))
            < 0)
          return -1;
        for (size_t i = 0; i < f->n_mounts; i++)
          if (!strcmp (f->mounts[i].destination,
                       f->mounts[f->n_mounts].destination))
            {
              err_set (err, 0, "duplicate mount point: '%s'",
                       f->mounts[i].destination);
              rt_mount_release (&f->mounts[f->n_mounts]);
              return err_exit (err, 125);
            }
        f->n_mounts++;
        break;
      case OPT_READ_ONLY:
        f->read_only = true;
        break;
      case 'h':
        free (f->hostname);
        f->hostname = xstrdup (optarg);
        break;
      case 'm':
        memory = optarg;
        break;
      case OPT_MEMORY_SWAP:
        swap = optarg;
        break;
      case OPT_CPUS:
        if (rt_parse_cpus (optarg, sysconf (_SC_NPROCESSORS_ONLN),
                           &f->limits.cpu_quota, &f->limits.cpu_period, err)
            < 0)
          return -1;
        break;
      case 'c':
        if (rt_parse_int (optarg, "--cpu-shares", &v, err) < 0)
          return -1;
        if (v < 0 || v > 262144)
          {
            err_set (err, 0,
                     "invalid value '%s' for --cpu-shares: the range "
                     "is 2 to 262144",
                     optarg);
            return err_exit (err, 125);
          }
        f->limits.cpu_shares = v;
        break;
      case OPT_PIDS_LIMIT:
        if (rt_parse_int (optarg, "--pids-limit", &v, err) < 0)
          return -1;
        /* docker: 0 or -1 is unlimited */
        f->limits.pids = v <= 0 ? -1 : v;
        break;
      case OPT_CAP_ADD:
        if (run_flags_cap (optarg, &f->cap_add, err) < 0)
          return -1;
        break;
      case OPT_CAP_DROP:
        if (run_flags_cap (optarg, &f->cap_drop, err) < 0)
          return -1;
        break;
      case OPT_PRIVILEGED:
        f->privileged = true;
        break;
      case OPT_DEVICE:
        if (rt_device_parse (optarg, &f->devices, &f->n_devices, err) < 0)
          return -1;
        break;
      case OPT_SECURITY_OPT:
        if (security_opt (f, optarg, err) < 0)
          return -1;
        break;
      case OPT_NETWORK:
        free (steal_pointer (&f->net_name)); /* the last --network wins */
        if (!strcmp (optarg, "none"))
          f->network = RT_NET_NONE;
        else if (!strcmp (optarg, "host"))
          f->network = RT_NET_HOST;
        else if (!strcmp (optarg, "bridge") || !strcmp (optarg, "default"))
          f->network = RT_NET_BRIDGE;
        else if (!strncmp (optarg, "container:", 10) && optarg[10])
          {
            f->network = RT_NET_CONTAINER;
            free (f->net_container);
            f->net_container = xstrdup (optarg + 10);
          }
        else if ((r = net_slirp_parse (optarg, &f->network, err)) > 0)
          ; /* rootless networking */
        else if (r == 0 && net_name_valid (optarg))
          {
            /* a user network: its existence is checked at create */
            f->network = RT_NET_BRIDGE;
            f->net_name = xstrdup (optarg);
          }
        else
          {
            err_set (err, 0,
                     "invalid --network '%s': expected none, host, "
                     "bridge, container:NAME, slirp4netns or a network's "
                     "name",
                     optarg);
            return err_exit (err, 125);
          }
        break;
      case 'p':
        f->ports = xrealloc (f->ports, (f->n_ports + 1) * sizeof *f->ports);
        if (net_parse_publish (optarg, &f->ports[f->n_ports], err) < 0)
          return err_exit (err, 125);
        f->n_ports++;
        break;
      case 'P':
        f->publish_all = true;
        break;
      case OPT_PULL:
        if (!strcmp (optarg, "missing"))
          f->pull = RUN_PULL_MISSING;
        else if (!strcmp (optarg, "never"))
          f->pull = RUN_PULL_NEVER;
        else if (!strcmp (optarg, "always"))
          f->pull = RUN_PULL_ALWAYS;
        else
          {
            err_set (err, 0,
                     "invalid --pull '%s': expected missing, never "
                     "or always",
                     optarg);
            return err_exit (err, 125);
          }
        break;
      case OPT_ROOTFS:
        rootfs = true;
        break;
      case OPT_STOP_SIGNAL:
        {
          int sig;
          if (rt_signal_parse (optarg, &sig, err) < 0)
            return -1;
          free (f->stop_signal);
          f->stop_signal = xstrdup (optarg);
        }
        break;
      case OPT_STOP_TIMEOUT:
        if (rt_parse_int (optarg, "--stop-timeout", &v, err) < 0)
          return -1;
        f->stop_timeout = v < 0 ? -1 : (int)v;
        break;
      case OPT_RESTART:
        {
          struct svc_restart_policy rp;
          if (svc_restart_parse (optarg, &rp, err) < 0)
            return err_exit (err, 125);
          free (f->restart);
          f->restart = xstrdup (optarg);
        }
        break;
      case OPT_HELP:
        f->help = true;
        return 0;
      case OPT_ULIMIT:
      case OPT_SHM_SIZE:
      case OPT_SYSCTL:
      case OPT_INIT:
      case OPT_ADD_HOST:
      case OPT_DNS:
      case OPT_DNS_SEARCH:
      case OPT_DNS_OPTION:
      case OPT_LABEL:
      case OPT_LABEL_FILE:
      case OPT_EXPOSE:
      case OPT_GROUP_ADD:
      case OPT_CIDFILE:
      case OPT_PID:
      case OPT_IPC:
        if (run_flags_everyday (f, c - OPT_ULIMIT, optarg, err) < 0)
          return -1;
        break;
      case RUN_OPT_LOG_DRIVER ... RUN_OPT_MONITOR_LAST:
        if (run_monitor_option (&f->monitor, c, optarg, err) < 0)
          return -1;
        break;
      default: /* --platform, --tls-verify; else exit 125 */
        if (regflags_option (&f->reg, c, optarg, err) < 0)
          return -1;
        break;
      }
  if (rt_parse_memory (memory, swap, &f->limits, err) < 0)
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
      err_set (err, 0, "%s needs an image: %s", argv[0], run_flags_usage);
      return err_exit (err, 125);
    }
  f->image = xstrdup (argv[optind]);
  if (rootfs)
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
