/* imgtool info [--format TEMPLATE|json]: this machine as imgtool sees it,
 * docker info's facts where imgtool has them: containers by state, images,
 * the store root and its size, the config file and its registries, the
 * storage driver, cgroups, security options, the kernel and the host. */
#include "cmd/command.h"
#include "cmd/opttable.h"
#include "layers/image_store.h"
#include "layers/store.h"
#include "lib/err.h"
#include "lib/human.h"
#include "lib/json.h"
#include "lib/xalloc.h"
#include "registry/config.h"
#include "runtime/cgroup.h"
#include "service/service.h"

#include <ftw.h>
#include <jansson.h>
#include <seccomp.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>
#include <unistd.h>

static const char usage_text[] = "imgtool info [--format TEMPLATE|json]";

/* Containers by state, as docker info counts them (created and exited
 * are "stopped"); a dead monitor is applied on the way, as ps does. */
static void
count_one (struct svc *s, const struct rt_record *rec, void *data)
{
  json_int_t *n = data; /* running, paused, stopped */
  (void)s;
  if (rec->state.status == RT_RUNNING || rec->state.status == RT_RESTARTING)
    n[0]++;
  else if (rec->state.status == RT_PAUSED)
    n[1]++;
  else
    n[2]++;
}

static void
count_containers (struct global *g, json_t *info)
{
  struct err *e = NULL;
  json_int_t n[3] = { 0 };
  svc_each_record (g->root, g->config_path, count_one, n, &e);
  err_free (e);
  json_object_set_new (info, "Containers", json_integer (n[0] + n[1] + n[2]));
  json_object_set_new (info, "ContainersRunning", json_integer (n[0]));
  json_object_set_new (info, "ContainersPaused", json_integer (n[1]));
  json_object_set_new (info, "ContainersStopped", json_integer (n[2]));
}

/* Images: the distinct image IDs (configs) the store's names point to. */
static void
count_images (struct global *g, json_t *info)
{
  struct store s;
  struct store_ref *refs = NULL;
  size_t n = 0;
  struct err *e = NULL;
  json_t *ids = json_object ();
  if (store_open (&s, g->root, &e) == 0)
    {
      if (store_ref_list (&s, &refs, &n, &e) == 0)
        for (size_t i = 0; i < n; i++)
          {
            struct image img;
            if (image_load_ref (&s, &refs[i], NULL, &img, &e) == 0)
              {
                json_object_set_new (ids, img.manifest.config.digest,
                                     json_true ());
                image_release (&img);
              }
            err_clear (&e);
          }
      store_refs_free (refs, n);
      store_release (&s);
    }
  err_free (e);
  json_object_set_new (info, "Images",
                       json_integer ((json_int_t)json_object_size (ids)));
  json_decref (ids);
}

static uint64_t store_bytes;

static int
add_size (const char *path, const struct stat *st, int flag, struct FTW *f)
{
  (void)path;
  (void)flag;
  (void)f;
  store_bytes += (uint64_t)st->st_blocks * 512;
  return 0;
}

/* The disk space under the store root, not crossing into the overlay
 * mounts of running containers. */
static json_t *
root_size (const char *root)
{
  store_bytes = 0;
  if (nftw (root, add_size, 32, FTW_PHYS | FTW_MOUNT) != 0)
    return json_null ();
  return json_integer ((json_int_t)store_bytes);
}

static void
add_registries (struct global *g, json_t *info)
{
  struct reg_config c;
  struct err *e = NULL;
  json_t *mirrors = json_object (), *insecure = json_array ();
  bool present = access (g->config_path, F_OK) == 0;
  json_object_set_new (info, "ConfigFile", json_string (g->config_path));
  json_object_set_new (info, "ConfigFilePresent", json_boolean (present));
  if (reg_config_load (g->config_path, &c, &e) == 0)
    {
      for (size_t i = 0; i < c.n_mirrors; i++)
        json_object_set_new (mirrors, c.mirrors[i].domain,
                             strv_to_json (c.mirrors[i].urls));
      for (size_t i = 0; c.insecure && c.insecure[i]; i++)
        json_array_append_new (insecure, json_string (c.insecure[i]));
      reg_config_release (&c);
    }
  else
    json_object_set_new (info, "ConfigFileError", json_string (e->msg));
  err_free (e);
  json_object_set_new (info, "RegistryMirrors", mirrors);
  json_object_set_new (info, "InsecureRegistries", insecure);
}

/* The controllers a container can be limited by: v2's root
 * cgroup.controllers, or v1's mounted, enabled hierarchies. */
static json_t *
cgroup_controllers (enum rt_cgroup_mode mode)
{
  json_t *list = json_array ();
  char line[256], name[64];
  int hier, num, enabled;
  FILE *f;
  if (mode == RT_CGROUP_V2
      && (f = fopen (RT_CGROUP_ROOT "/cgroup.controllers", "re")))
    {
      while (fscanf (f, "%63s", name) == 1)
        json_array_append_new (list, json_string (name));
      fclose (f);
    }
  else if (mode == RT_CGROUP_V1 && (f = fopen ("/proc/cgroups", "re")))
    {
      while (fgets (line, sizeof line, f))
        if (sscanf (line, "%63s %d %d %d", name, &hier, &num, &enabled) == 4
            && hier > 0 && enabled)
          json_array_append_new (list, json_string (name));
      fclose (f);
    }
  return list;
}

static bool
file_has_line (const char *path, const char *needle)
{
  char line[256];
  bool found = false;
  FILE *f = fopen (path, "re");
  if (!f)
    return false;
  while (!found && fgets (line, sizeof line, f))
    found = strstr (line, needle) != NULL;
  fclose (f);
  return found;
}

static void
add_host (json_t *info)
{
  enum rt_cgroup_mode mode = RT_CGROUP_NONE;
  struct err *e = NULL;
  struct utsname u;
  struct sysinfo si;
  json_t *sec = json_array ();
  static const char *const versions[] = { "none", "1", "2" };
  char os[256] = "Linux", line[256];
  FILE *f;

  rt_cgroup_detect (RT_CGROUP_ROOT, &mode, &e);
  err_free (e);
  json_object_set_new (info, "Driver", json_string ("overlay"));
  json_object_set_new (
      info, "OverlaySupported",
      json_boolean (file_has_line ("/proc/filesystems", "\toverlay\n")));
  json_object_set_new (info, "CgroupDriver", json_string ("cgroupfs"));
  json_object_set_new (info, "CgroupVersion", json_string (versions[mode]));
  json_object_set_new (info, "CgroupControllers", cgroup_controllers (mode));
  if (file_has_line ("/proc/self/status", "Seccomp:"))
    json_array_append_new (sec, json_sprintf ("name=seccomp,profile=builtin,"
                                              "api=%u",
                                              seccomp_api_get ()));
  if (geteuid () != 0)
    json_array_append_new (sec, json_string ("name=rootless"));
  json_object_set_new (info, "SecurityOptions", sec);
  json_object_set_new (info, "Rootless", json_boolean (geteuid () != 0));
  if ((f = fopen ("/etc/os-release", "re")))
    {
      while (fgets (line, sizeof line, f))
        if (sscanf (line, "PRETTY_NAME=\"%255[^\"]\"", os) == 1)
          break;
      fclose (f);
    }
  json_object_set_new (info, "OperatingSystem", json_string (os));
  json_object_set_new (info, "OSType", json_string ("linux"));
  if (uname (&u) == 0)
    {
      json_object_set_new (info, "KernelVersion", json_string (u.release));
      json_object_set_new (info, "Architecture", json_string (u.machine));
    }
  json_object_set_new (info, "NCPU",
                       json_integer (sysconf (_SC_NPROCESSORS_ONLN)));
  if (sysinfo (&si) == 0)
    json_object_set_new (info, "MemTotal",
                         json_integer ((json_int_t)si.totalram * si.mem_unit));
}

static const char *
str (json_t *info, const char *key)
{
  const char *s = json_string_value (json_object_get (info, key));
  return s ? s : "";
}

static json_int_t
num (json_t *info, const char *key)
{
  return json_integer_value (json_object_get (info, key));
}

static void
print_text (json_t *info)
{
  char size[32];
  const char *k;
  json_t *v;
  size_t i;
  printf ("Containers: %lld\n Running: %lld\n Paused: %lld\n Stopped: %lld\n",
          (long long)num (info, "Containers"),
          (long long)num (info, "ContainersRunning"),
          (long long)num (info, "ContainersPaused"),
          (long long)num (info, "ContainersStopped"));
  printf ("Images: %lld\n", (long long)num (info, "Images"));
  printf ("Root Dir: %s\n", str (info, "RootDir"));
  if (json_is_integer (json_object_get (info, "RootSize")))
    {
      human_size (num (info, "RootSize"), size, sizeof size);
      printf (" Size: %s\n", size);
    }
  printf ("Config File: %s%s\n", str (info, "ConfigFile"),
          json_is_true (json_object_get (info, "ConfigFilePresent"))
              ? ""
              : " (not present: the defaults)");
  if (json_object_get (info, "ConfigFileError"))
    printf (" Error: %s\n", str (info, "ConfigFileError"));
  printf ("Registry Mirrors:\n");
  json_object_foreach (json_object_get (info, "RegistryMirrors"), k, v)
  {
    json_t *url;
    json_array_foreach (v, i, url)
        printf (" %s: %s\n", k, json_string_value (url));
  }
  printf ("Insecure Registries:\n");
  json_array_foreach (json_object_get (info, "InsecureRegistries"), i, v)
      printf (" %s\n", json_string_value (v));
  printf ("Storage Driver: %s\n Supported: %s\n", str (info, "Driver"),
          json_is_true (json_object_get (info, "OverlaySupported")) ? "true"
                                                                    : "false");
  printf ("Cgroup Driver: %s\nCgroup Version: %s\nCgroup Controllers:",
          str (info, "CgroupDriver"), str (info, "CgroupVersion"));
  json_array_foreach (json_object_get (info, "CgroupControllers"), i, v)
      printf (" %s", json_string_value (v));
  printf ("\nSecurity Options:\n");
  json_array_foreach (json_object_get (info, "SecurityOptions"), i, v)
      printf (" %s\n", json_string_value (v));
  printf ("Rootless: %s\n",
          json_is_true (json_object_get (info, "Rootless")) ? "true" : "false");
  human_size (num (info, "MemTotal"), size, sizeof size);
  printf ("Kernel Version: %s\nOperating System: %s\nOSType: %s\n"
          "Architecture: %s\nCPUs: %lld\nTotal Memory: %s\n",
          str (info, "KernelVersion"), str (info, "OperatingSystem"),
          str (info, "OSType"), str (info, "Architecture"),
          (long long)num (info, "NCPU"), size);
}

static const struct cmd_opt info_opts[] = {
  CMD_OPT ("format", 'f', "FORMAT", 0,
           "Format output using a Go template, or json", "--format"),
  CMD_OPT_HELP,
  CMD_OPT_END,
};

const struct cmd_spec cmd_info_spec = {
  .name = "info",
  .usage = usage_text,
  .opts = info_opts,
};

COMMAND (info)
{
  const char *format = NULL;
  json_t *info;
  int c, r = 0;
  while ((c = cmd_getopt (argc, argv, &cmd_info_spec)) != -1)
    switch (c)
      {
      case 'f':
        format = optarg;
        break;
      case CMD_OPT_HELP_ID:
        return 0;
      default:
        return command_bad_option (err);
      }
  if (optind != argc)
    return command_usage_error (usage_text, err);
  info = json_object ();
  count_containers (g, info);
  count_images (g, info);
  json_object_set_new (info, "RootDir", json_string (g->root));
  json_object_set_new (info, "RootSize", root_size (g->root));
  add_registries (g, info);
  add_host (info);
  if (!format)
    print_text (info);
  else
    {
      r = command_print_object (format, info, err);
    }
  json_decref (info);
  return r;
}
