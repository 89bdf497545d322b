/* run's everyday flags (runflags.h): --ulimit, --shm-size, --sysctl,
 * --init, --add-host, --dns, --dns-search, --dns-option, --label,
 * --label-file, --expose, --group-add and --cidfile, checked as docker
 * checks them. */
#include "cmd/command.h"
#include "cmd/runflags.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/xalloc.h"
#include "runtime/etcfiles.h"
#include "runtime/rlimits.h"
#include "runtime/runopts.h"
#include "runtime/sysctl.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool
ip_address (const char *s)
{
  unsigned char buf[16];
  return inet_pton (AF_INET, s, buf) == 1 || inet_pton (AF_INET6, s, buf) == 1;
}

/* docker's ValidateDNSSearch: a domain name of at most 255 characters, or
 * "." for none. */
RUN_HANDLER (dns_search)
{
  struct run_flags *f = target;
  (void)o;
  size_t n = strlen (arg);
  if (strcmp (arg, ".")
      && (!n || n > 255 || arg[0] == '-' || arg[0] == '.' || arg[n - 1] == '-'
          || strspn (arg, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                          "0123456789-.")
                 != n))
    return err_fail (err, 125, "invalid --dns-search '%s': not a domain name",
                     arg);
  strv_push (&f->dns_search, xstrdup (arg));
  return 0;
}

static int
label (char ***labels, const char *arg, struct err **err)
{
  if (!*arg || *arg == '=')
    return err_fail (err, 125, "invalid label '%s': the key is empty", arg);
  /* docker: "k" alone is "k=" */
  strv_push (labels,
             strchr (arg, '=') ? xstrdup (arg) : xasprintf ("%s=", arg));
  return 0;
}

/* docker's label file: one label a line, '#' comments and blank lines
 * skipped. */
RUN_HANDLER (label_file)
{
  struct run_flags *f = target;
  const char *path = arg;
  (void)o;
  _cleanup_free_ char *text = NULL;
  char *save = NULL;
  if (fs_read_file (AT_FDCWD, path, 1 << 20, &text, NULL, err) < 0)
    {
      err_wrap (err, "--label-file");
      return err_exit (err, 125);
    }
  for (char *line = strtok_r (text, "\n", &save); line;
       line = strtok_r (NULL, "\n", &save))
    {
      line += strspn (line, " \t");
      size_t n = strlen (line);
      while (
          n
          && (line[n - 1] == ' ' || line[n - 1] == '\t' || line[n - 1] == '\r'))
        line[--n] = '\0';
      if (!*line || *line == '#')
        continue;
      if (label (&f->labels, line, err) < 0)
        return -1;
    }
  return 0;
}

/* docker's --expose: PORT[/PROTO] or a range START-END[/PROTO]. */
RUN_HANDLER (expose)
{
  struct run_flags *f = target;
  (void)o;
  char *end;
  const char *slash = strchr (arg, '/');
  const char *proto = slash ? slash + 1 : "tcp";
  long lo, hi;
  lo = strtol (arg, &end, 10);
  hi = lo;
  if (*end == '-')
    hi = strtol (end + 1, &end, 10);
  if (end != (slash ? slash : arg + strlen (arg)) || lo < 1 || hi > 65535
      || hi < lo
      || (strcmp (proto, "tcp") && strcmp (proto, "udp")
          && strcmp (proto, "sctp")))
    return err_fail (
        err, 125, "invalid --expose '%s': expected PORT[-END][/tcp|udp|sctp]",
        arg);
  if (hi - lo > 65535)
    return -1;
  for (long p = lo; p <= hi; p++)
    strv_push (&f->expose, xasprintf ("%ld/%s", p, proto));
  return 0;
}

RUN_HANDLER (label)
{
  (void)o;
  return label (&((struct run_flags *)target)->labels, arg, err);
}

RUN_HANDLER (ulimit)
{
  struct rt_rlimit l;
  (void)o;
  if (rt_rlimit_parse (arg, &l, err) < 0)
    return err_exit (err, 125);
  strv_push (&((struct run_flags *)target)->ulimits, xstrdup (arg));
  return 0;
}

RUN_HANDLER (shm_size)
{
  struct run_flags *f = target;
  (void)o;
  if (rt_parse_size (arg, &f->shm_size, err) < 0 || f->shm_size <= 0)
    {
      err_clear (err);
      return err_fail (err, 125,
                       "invalid --shm-size '%s': expected a size above 0", arg);
    }
  return 0;
}

RUN_HANDLER (add_host)
{
  (void)o;
  if (rt_extra_host_parse (arg, NULL, NULL, err) < 0)
    return -1;
  strv_push (&((struct run_flags *)target)->add_hosts, xstrdup (arg));
  return 0;
}

RUN_HANDLER (dns)
{
  (void)o;
  if (!ip_address (arg))
    return err_fail (err, 125, "invalid --dns '%s': not an IP address", arg);
  strv_push (&((struct run_flags *)target)->dns, xstrdup (arg));
  return 0;
}

RUN_HANDLER (group_add)
{
  (void)o;
  if (!*arg)
    return err_fail (err, 125, "invalid --group-add '%s': empty", arg);
  strv_push (&((struct run_flags *)target)->group_add, xstrdup (arg));
  return 0;
}

RUN_HANDLER (pid)
{
  struct run_flags *f = target;
  (void)o;
  if (strcmp (arg, "host") && !(!strncmp (arg, "container:", 10) && arg[10]))
    return err_fail (
        err, 125, "invalid --pid '%s': expected host or container:NAME", arg);
  free (f->pid_mode);
  f->pid_mode = xstrdup (arg);
  return 0;
}

RUN_HANDLER (ipc)
{
  struct run_flags *f = target;
  (void)o;
  if (strcmp (arg, "private") && strcmp (arg, "shareable")
      && strcmp (arg, "host") && !(!strncmp (arg, "container:", 10) && arg[10]))
    return err_fail (err, 125,
                     "invalid --ipc '%s': expected private, shareable, host or "
                     "container:NAME",
                     arg);
  free (f->ipc_mode);
  f->ipc_mode = xstrdup (arg);
  return 0;
}

/* docker's validateNetContainerMode: what another container's network
 * already decides. */
int
run_flags_conflicts (const struct run_flags *f, struct err **err)
{
  if (f->network != RT_NET_CONTAINER)
    return 0;
  if (f->hostname)
    return err_fail (err, 125,
                     "conflicting options: hostname and the network mode");
  if (f->dns || f->dns_search || f->dns_options)
    return err_fail (err, 125, "conflicting options: dns and the network mode");
  if (f->add_hosts)
    return err_fail (err, 125,
                     "conflicting options: custom host-to-IP mapping and the "
                     "network mode");
  if (f->n_ports || f->publish_all)
    return err_fail (err, 125,
                     "conflicting options: port publishing and the container "
                     "type network mode");
  if (f->expose)
    return err_fail (
        err, 125,
        "conflicting options: port exposing and the container type "
        "network mode");
  for (char **k = f->sysctls; k && *k; k++)
    if (!strncmp (*k, "net.", 4))
      return err_fail (err, 125,
                       "sysctl '%s' is not allowed: the network namespace is "
                       "another container's",
                       *k);
  return 0;
}
