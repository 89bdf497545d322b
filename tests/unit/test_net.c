/* runtime/net*: -p parsing, config, IPAM over a temp dir, port records,
 * liveness, resolv.conf and hosts generation. No network is touched. */
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/xalloc.h"
#include "network/ipam.h"
#include "network/net.h"
#include "runtime/etcfiles.h"
#include "tests/unit/test.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char *tmp;

static const char *
ip_s (struct in_addr a)
{
  static char buf[INET_ADDRSTRLEN];
  return inet_ntop (AF_INET, &a, buf, sizeof buf);
}

static void
test_publish (void)
{
  struct port_map p;
  struct err *e = NULL;

  CHECK (net_parse_publish ("8080:80", &p, &e) == 0, "HOST:CONTAINER parses");
  CHECK (p.host_port == 8080 && p.container_port == 80 && p.proto == NET_TCP
             && p.host_ip.s_addr == 0,
         "8080:80 is tcp on every address");
  CHECK (net_parse_publish ("127.0.0.1:5353:53/udp", &p, &e) == 0
             && p.proto == NET_UDP && p.host_port == 5353
             && p.container_port == 53,
         "IP:HOST:CONTAINER/udp parses");
  CHECK_STR (ip_s (p.host_ip), "127.0.0.1", "the host address is kept");
  CHECK (net_parse_publish ("80", &p, &e) == 0 && p.host_port == 0
             && p.container_port == 80,
         "CONTAINER alone asks for a random host port");
  CHECK (net_parse_publish ("127.0.0.1::80/tcp", &p, &e) == 0
             && p.host_port == 0 && p.host_ip.s_addr == htonl (0x7f000001),
         "IP::CONTAINER asks for a random port on IP");

  static const struct
  {
    const char *spec, *msg;
  } bad[] = {
    { "80:http", "publish '80:http': invalid container port 'http'" },
    { "70000:80", "publish '70000:80': invalid host port '70000'" },
    { "80:0", "publish '80:0': invalid container port '0'" },
    { "80/sctp", "publish '80/sctp': unknown protocol 'sctp'" },
    { ":80", "publish ':80': invalid host port ''" },
    { "1.2.3:80:80", "publish '1.2.3:80:80': invalid host address '1.2.3'" },
    { "", "publish '': invalid container port ''" },
    { "::1:80:80", "publish '::1:80:80': IPv6 host addresses are not "
                   "supported" },
  };
  {
    struct port_map two[2];
    char *t;
    net_parse_publish ("8080:80", &two[0], &e);
    net_parse_publish ("127.0.0.1:5353:53/udp", &two[1], &e);
    t = net_ports_text (two, 2);
    CHECK_STR (t, "0.0.0.0:8080->80/tcp, 127.0.0.1:5353->53/udp",
               "ports as docker ps shows them");
    free (t);
    t = net_ports_text (NULL, 0);
    CHECK_STR (t, "", "no ports: empty");
    free (t);
  }
  for (size_t i = 0; i < ARRAY_SIZE (bad); i++)
    {
      CHECK (net_parse_publish (bad[i].spec, &p, &e) < 0 && e,
             "'%s' is refused", bad[i].spec);
      CHECK_STR (e ? e->msg : NULL, bad[i].msg, "error for '%s'", bad[i].spec);
      err_free (e);
      e = NULL;
    }
}

static char *
write_tmp (const char *name, const char *text)
{
  char *path = xasprintf ("%s/%s", tmp, name);
  struct err *e = NULL;
  if (fs_write_file_atomic (AT_FDCWD, path, text, strlen (text), 0600, &e) < 0)
    abort ();
  return path;
}

static void
test_config (void)
{
  struct net_config c;
  struct err *e = NULL;
  _cleanup_free_ char *missing = xasprintf ("%s/none.json", tmp);
  _cleanup_free_ char *good = write_tmp (
      "good.json", "{\"default-network\": {\"subnet\": \"10.77.0.0/24\"}}");
  _cleanup_free_ char *host = write_tmp (
      "host.json", "{\"default-network\": {\"subnet\": \"10.77.0.1/24\"}}");
  _cleanup_free_ char *wide = write_tmp (
      "wide.json", "{\"default-network\": {\"subnet\": \"10.0.0.0/4\"}}");
  _cleanup_free_ char *junk = write_tmp ("junk.json", "{\"default-network\"");
  _cleanup_free_ char *other = write_tmp ("other.json", "{\"x\": 1}");

  CHECK (net_config_load (missing, NULL, &c, &e) == 0,
         "a missing config file gives the defaults");
  CHECK_STR (ip_s (c.subnet), "10.89.0.0", "default subnet");
  CHECK (c.prefix == 16, "default prefix /16");
  CHECK_STR (ip_s (c.gateway), "10.89.0.1", "gateway is the first address");
  CHECK_STR (c.bridge, "imgtool0", "bridge name");
  CHECK_STR (c.name, "bridge", "network name");
  CHECK (net_config_load (other, NULL, &c, &e) == 0 && c.prefix == 16,
         "a config without default-network gives the defaults");
  CHECK (net_config_load (good, NULL, &c, &e) == 0 && c.prefix == 24,
         "default-network.subnet is read");
  CHECK_STR (ip_s (c.gateway), "10.77.0.1", "its gateway");
  CHECK (net_config_load (host, NULL, &c, &e) < 0, "a host address is refused");
  CHECK (e && strstr (e->msg, "subnet '10.77.0.1/24' is not a network address"),
         "error says why: %s", e ? e->msg : "");
  err_clear (&e);
  CHECK (net_config_load (wide, NULL, &c, &e) < 0 && e
             && strstr (e->msg, "prefix must be 8..29"),
         "a /4 is refused");
  err_clear (&e);
  CHECK (net_config_load (junk, NULL, &c, &e) < 0 && e
             && strstr (e->msg, "config '"),
         "bad JSON names the file");
  err_clear (&e);
  CHECK (net_config_load (NULL, "mynet", &c, &e) < 0 && e
             && !strcmp (e->msg, "network 'mynet' not found"),
         "an unknown network is refused");
  err_clear (&e);
}

static void
test_ipam (void)
{
  struct net_config c;
  struct err *e = NULL;
  _cleanup_free_ char *root = xasprintf ("%s/root", tmp);
  _cleanup_free_ char *cfgp = write_tmp (
      "small.json", "{\"default-network\": {\"subnet\": \"10.1.0.0/29\"}}");
  int lock, netfd;
  struct in_addr got[6];
  struct net_lease *all = NULL;
  size_t n = 0;

  CHECK (net_config_load (cfgp, NULL, &c, &e) == 0, "small subnet config");
  lock = net_ipam_lock (root, &e);
  CHECK (lock >= 0, "take the networks lock");
  netfd = net_ipam_open_net (root, c.name, &e);
  CHECK (netfd >= 0, "open the network dir");

  /* /29: .0 network, .1 gateway, .7 broadcast: .2 to .6 are free. */
  for (int i = 0; i < 5; i++)
    {
      struct net_lease l = { 0 };
      l.container_id = xasprintf ("%064x", i + 1);
      l.name = xasprintf ("c%d", i);
      CHECK (net_ipam_allocate (netfd, &c, &l, &e) == 0, "allocation %d", i);
      got[i] = l.ip;
      net_lease_release (&l);
    }
  CHECK_STR (ip_s (got[0]), "10.1.0.2", "first address skips the gateway");
  CHECK_STR (ip_s (got[4]), "10.1.0.6", "last address skips the broadcast");
  {
    struct net_lease l = { .container_id = xstrdup ("x") };
    CHECK (net_ipam_allocate (netfd, &c, &l, &e) < 0, "a full subnet fails");
    CHECK (e && strstr (e->msg, "no free address in 10.1.0.0/29"),
           "and says so: %s", e ? e->msg : "");
    err_clear (&e);
    CHECK (net_ipam_release (netfd, got[1], &e) == 0, "release 10.1.0.3");
    CHECK (net_ipam_release (netfd, got[1], &e) == 0,
           "releasing twice is fine");
    CHECK (net_ipam_allocate (netfd, &c, &l, &e) == 0, "allocate again");
    CHECK_STR (ip_s (l.ip), "10.1.0.3", "the released address is reused");
    net_lease_release (&l);
  }

  /* An unreadable lease loads as dead (container_id NULL). */
  {
    _cleanup_free_ char *junk
        = xasprintf ("%s/networks/%s/leases/10.1.0.9", root, c.name);
    int fd = open (junk, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    CHECK (fd >= 0 && write (fd, "{bad", 4) == 4, "write a broken lease");
    close (fd);
  }
  CHECK (net_ipam_load_all (netfd, &all, &n, &e) == 0 && n == 6,
         "load all leases (%zu)", n);
  CHECK (n == 6 && all[0].container_id && !strcmp (all[0].name, "c0"),
         "leases come back sorted with their fields");
  CHECK (n == 6 && !all[5].container_id, "a broken lease has no owner");
  net_leases_free (all, n);

  /* Liveness: pid + start time + boot id + the container's dir. */
  {
    struct net_lease l = { 0 };
    _cleanup_free_ char *cdir = NULL;
    pid_t child;
    l.container_id = xasprintf ("%064x", 42);
    cdir = xasprintf ("%s/containers/%s", root, l.container_id);
    CHECK (net_lease_set_process (&l, getpid (), &e) == 0,
           "record our own process");
    CHECK (!net_lease_alive (root, &l), "no container dir: dead");
    CHECK (fs_mkdir_p (AT_FDCWD, cdir, 0700, &e) == 0, "make the dir");
    CHECK (net_lease_alive (root, &l), "running with its dir: alive");
    l.state_dir = xasprintf ("%s/elsewhere", tmp);
    CHECK (!net_lease_alive (root, &l), "a recorded state dir that is gone: "
                                        "dead");
    CHECK (fs_mkdir_p (AT_FDCWD, l.state_dir, 0700, &e) == 0,
           "make the recorded state dir");
    CHECK (net_lease_alive (root, &l), "the recorded state dir counts");
    CHECK (fs_rm_rf (AT_FDCWD, cdir, &e) == 0 && net_lease_alive (root, &l),
           "not <root>/containers/<id>");
    l.start_time++;
    CHECK (!net_lease_alive (root, &l), "another start time (pid reuse): dead");
    l.start_time--;
    free (l.boot_id);
    l.boot_id = xstrdup ("another-boot");
    CHECK (!net_lease_alive (root, &l), "another boot: dead");
    child = fork ();
    if (child == 0)
      _exit (0);
    waitpid (child, NULL, 0);
    l.pid = child;
    CHECK (!net_lease_process_alive (&l), "an exited process is dead");
    net_lease_release (&l);
  }

  /* Host port records. */
  {
    struct port_map p = { .host_port = 8080, .container_port = 80 };
    struct port_map u = { .host_port = 8080, .proto = NET_UDP };
    char **owners;
    CHECK (net_ports_reserve (root, &p, "aaaa", &e) == 0, "reserve 8080/tcp");
    CHECK (net_ports_reserve (root, &u, "bbbb", &e) == 0,
           "8080/udp is another port");
    CHECK (net_ports_reserve (root, &p, "cccc", &e) < 0, "8080/tcp is taken");
    CHECK_STR (e ? e->msg : NULL, "port 8080/tcp is already allocated",
               "the clash error");
    err_clear (&e);
    net_ports_release (root, &p, "cccc");
    CHECK (net_ports_reserve (root, &p, "cccc", &e) < 0,
           "another owner's release does nothing");
    err_clear (&e);
    owners = net_ports_owners (root);
    CHECK (strv_len (owners) == 2, "two owners recorded");
    strv_free (owners);
    net_ports_release_owner (root, "aaaa");
    CHECK (net_ports_reserve (root, &p, "cccc", &e) == 0,
           "free again after its owner is released");
    net_ports_release_owner (root, "bbbb");
    net_ports_release_owner (root, "cccc");
    owners = net_ports_owners (root);
    CHECK (strv_len (owners) == 0, "no records left");
    strv_free (owners);
  }
  close (netfd);
  close (lock);
}

static void
test_resolv (void)
{
  _cleanup_free_ char *out = rt_resolv_conf_filter ("# generated\n"
                                                    "search example.com corp\n"
                                                    "nameserver 127.0.0.53\n"
                                                    "nameserver 10.0.0.2\n"
                                                    "nameserver ::1\n"
                                                    "nameserver 2001:db8::1\n"
                                                    "  nameserver 127.1.2.3\n"
                                                    "options ndots:2 edns0\n"
                                                    "nameserver 192.0.2.53");
  _cleanup_free_ char *only = rt_resolv_conf_filter (
      "nameserver 127.0.0.53\noptions edns0 trust-ad\nsearch lan\n");
  _cleanup_free_ char *empty = rt_resolv_conf_filter ("");
  CHECK_STR (out,
             "# generated\n"
             "search example.com corp\n"
             "nameserver 10.0.0.2\n"
             "options ndots:2 edns0\n"
             "nameserver 192.0.2.53\n",
             "loopback and IPv6 nameservers go, search and options stay");
  CHECK_STR (only,
             "options edns0 trust-ad\nsearch lan\n"
             "nameserver 8.8.8.8\nnameserver 8.8.4.4\n",
             "only a loopback resolver: google's are used (as docker)");
  CHECK_STR (empty, "nameserver 8.8.8.8\nnameserver 8.8.4.4\n",
             "no host file: the defaults");
}

/* The network's shared hosts file: a start appends one line, an end
 * blanks it in place; blanks are squeezed out once they outnumber the
 * live lines. */
static void
test_hosts (void)
{
  struct net_config cfg = { 0 };
  struct in_addr own, a, b;
  _cleanup_free_ char *dir = NULL, *text = NULL, *text2 = NULL;
  _cleanup_free_ char *h2 = NULL, *h3 = NULL;
  _cleanup_close_ int fd = -1;
  struct err *e = NULL;
  size_t len = 0, len2 = 0;
  char tmpl[] = "/tmp/imgtool-hosts-XXXXXX";
  dir = xstrdup (mkdtemp (tmpl));
  fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  inet_pton (AF_INET, "10.89.0.1", &cfg.gateway);
  inet_pton (AF_INET, "10.89.0.3", &own);
  inet_pton (AF_INET, "10.89.0.2", &a);
  inet_pton (AF_INET, "10.89.0.4", &b);
  CHECK (net_hosts_add (fd, &cfg, a, "abcdef012345", "web", &e) == 0
             && net_hosts_add (fd, &cfg, own, "db", "db", &e) == 0
             && net_hosts_add (fd, &cfg, b, "box1", "cache", &e) == 0,
         "three containers add their lines");
  fs_read_file (fd, "hosts", 1 << 20, &text, &len, &e);
  CHECK_STR (text,
             "127.0.0.1\tlocalhost\n"
             "::1\tlocalhost ip6-localhost ip6-loopback\n"
             "fe00::\tip6-localnet\n"
             "ff00::\tip6-mcastprefix\n"
             "ff02::1\tip6-allnodes\n"
             "ff02::2\tip6-allrouters\n"
             "10.89.0.1\thost.containers.internal host.docker.internal\n"
             "10.89.0.2\tabcdef012345 web\n"
             "10.89.0.3\tdb\n"
             "10.89.0.4\tbox1 cache\n",
             "hosts: localhost, gateway, each container once by hostname "
             "and name");
  net_hosts_del (fd, own);
  fs_read_file (fd, "hosts", 1 << 20, &text2, &len2, &e);
  CHECK (len2 == len && !strstr (text2, "\tdb")
             && strstr (text2, "10.89.0.2\tabcdef012345 web\n")
             && strstr (text2, "10.89.0.4\tbox1 cache\n"),
         "an end blanks its line in place: same size, the others stay");
  h2 = net_hosts_entry (own, "ok", "bad\n6.6.6.6 evil");
  CHECK_STR (h2, "10.89.0.3\tok\n",
             "a name that is not a host name is left "
             "out");
  h3 = net_hosts_entry (own, "bad name", NULL);
  CHECK_STR (h3, "", "no line without a fit name");
  for (int i = 0; i < 100; i++)
    {
      struct in_addr x = { htonl (0x0a590100u + (unsigned)i) };
      net_hosts_add (fd, &cfg, x, "n", NULL, &e);
      net_hosts_del (fd, x);
    }
  {
    _cleanup_free_ char *t = NULL;
    size_t n = 0;
    fs_read_file (fd, "hosts", 1 << 20, &t, &n, &e);
    CHECK (n < len + 40 * 20 && strstr (t, "10.89.0.4\tbox1 cache\n"),
           "blanked lines are squeezed out, the live ones kept");
  }
  {
    /* network connect --alias: more names on the line, each once */
    const char *names[] = { "abc123", "web", "www", "web", "bad name", NULL };
    _cleanup_free_ char *t = NULL;
    struct in_addr x = { htonl (0x0a590009u) };
    CHECK (net_hosts_add_names (fd, &cfg, x, names, &e) == 0,
           "a line with aliases is added");
    fs_read_file (fd, "hosts", 1 << 20, &t, NULL, &e);
    CHECK (t && strstr (t, "10.89.0.9\tabc123 web www\n"),
           "aliases follow the hostname and name, each once, unfit ones "
           "left out");
  }
  err_free (e);
  fs_rm_rf (AT_FDCWD, dir, &e);
  err_free (e);
}

/* --network host: the host's hosts file as is, a resolv.conf. */
static void
test_etc_host (void)
{
  struct err *e = NULL;
  _cleanup_free_ char *dir = xasprintf ("%s/etc-host", tmp);
  _cleanup_free_ char *hp = xasprintf ("%s/hosts", dir);
  _cleanup_free_ char *rp = xasprintf ("%s/resolv.conf", dir);
  _cleanup_free_ char *want = NULL, *got = NULL;
  CHECK (fs_mkdir_p (AT_FDCWD, dir, 0700, &e) == 0, "make the dir");
  CHECK (rt_write_etc_host (dir, &(struct rt_plan){ 0 }, &e) == 0,
         "write the host mode files");
  if (fs_read_file (AT_FDCWD, "/etc/hosts", 1 << 20, &want, NULL, &e) < 0
      || fs_read_file (AT_FDCWD, hp, 1 << 20, &got, NULL, &e) < 0)
    err_clear (&e);
  CHECK_STR (got, want, "hosts is the host's");
  CHECK (access (rp, F_OK) == 0, "resolv.conf is written");
}

int
main (void)
{
  char tmpl[] = "/tmp/test_net.XXXXXX";
  struct err *e = NULL;
  tmp = mkdtemp (tmpl);
  if (!tmp)
    return 1;
  test_publish ();
  test_config ();
  test_ipam ();
  test_resolv ();
  test_hosts ();
  test_etc_host ();
  fs_rm_rf (AT_FDCWD, tmp, &e);
  err_free (e);
  return test_done ();
}
