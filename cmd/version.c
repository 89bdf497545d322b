/* imgtool version [--format TEMPLATE|json]: what this binary is (docker
 * version's Client section): the version, the git commit, the build date,
 * the compiler, OS/Arch and the libraries it uses, each at the version
 * loaded now where the library says, else at the version built against.
 * --format takes docker's templates ({{.Version}}, or docker's own
 * {{.Client.Version}}). */
#include "cmd/command.h"
#include "cmd/opttable.h"
#include "layers/image.h"
#include "lib/xalloc.h"

#include "version.h" /* made by scripts/version-h (Makefile) */

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <seccomp.h>
#include <stdio.h>
#include <string.h>
#include <zstd.h>

#ifndef IMGTOOL_VERSION
#define IMGTOOL_VERSION "0.1.0"
#endif

#ifdef __clang__
#define COMPILER "clang " __clang_version__
#else
#define COMPILER "gcc " __VERSION__
#endif

static const char usage_text[] = "imgtool version [--format TEMPLATE|json]";

/* The libraries, in IMGTOOL_BUILT_WITH's order ("name ver, name ver"),
 * with the versions the loaded libraries report put in. */
static json_t *
libraries (void)
{
  json_t *libs = json_object ();
  _cleanup_free_ char *built = xstrdup (IMGTOOL_BUILT_WITH);
  char *save = NULL;
  const struct scmp_version *sv = seccomp_version ();
  for (char *item = strtok_r (built, ",", &save); item;
       item = strtok_r (NULL, ",", &save))
    {
      char *sp;
      item += strspn (item, " ");
      if ((sp = strchr (item, ' ')))
        {
          *sp = '\0';
          json_object_set_new (libs, item, json_string (sp + 1));
        }
    }
  json_object_set_new (
      libs, "libcurl",
      json_string (curl_version_info (CURLVERSION_NOW)->version));
  json_object_set_new (libs, "libcrypto",
                       json_string (OpenSSL_version (OPENSSL_VERSION)));
  json_object_set_new (libs, "jansson", json_string (jansson_version_str ()));
  json_object_set_new (libs, "libzstd", json_string (ZSTD_versionString ()));
  if (sv)
    json_object_set_new (
        libs, "libseccomp",
        json_sprintf ("%u.%u.%u", sv->major, sv->minor, sv->micro));
  return libs;
}

static json_t *
version_json (void)
{
  struct platform host;
  json_t *v;
  platform_host (&host);
  v = json_pack ("{s:s, s:s, s:s, s:s, s:s, s:s, s:o}", "Version",
                 IMGTOOL_VERSION, "GitCommit", IMGTOOL_GIT_COMMIT, "BuildTime",
                 IMGTOOL_BUILT, "Compiler", COMPILER, "Os", host.os, "Arch",
                 host.arch, "Libraries", libraries ());
  platform_release (&host);
  return v;
}

static void
print_text (json_t *v)
{
  const char *k;
  json_t *lib;
  printf ("imgtool version %s\n",
          json_string_value (json_object_get (v, "Version")));
  printf (" Git commit:  %s\n",
          json_string_value (json_object_get (v, "GitCommit")));
  printf (" Built:       %s\n",
          json_string_value (json_object_get (v, "BuildTime")));
  printf (" Compiler:    %s\n",
          json_string_value (json_object_get (v, "Compiler")));
  printf (" OS/Arch:     %s/%s\n",
          json_string_value (json_object_get (v, "Os")),
          json_string_value (json_object_get (v, "Arch")));
  printf (" Libraries:\n");
  json_object_foreach (json_object_get (v, "Libraries"), k, lib)
      printf ("  %-12s %s\n", k, json_string_value (lib));
}

static const struct cmd_opt version_opts[] = {
  CMD_OPT ("format", 'f', "FORMAT", 0,
           "Format output using a Go template, or json", "--format"),
  CMD_OPT_HELP,
  CMD_OPT_END,
};

const struct cmd_spec cmd_version_spec = {
  .name = "version",
  .usage = usage_text,
  .opts = version_opts,
};

COMMAND (version)
{
  const char *format = NULL;
  json_t *v;
  int c, r = 0;
  (void)g;
  while ((c = cmd_getopt (argc, argv, &cmd_version_spec)) != -1)
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
  v = version_json ();
  if (!format)
    print_text (v);
  else
    {
      /* docker's template sees the client's facts under .Client */
      json_object_set_new (v, "Client", json_deep_copy (v));
      r = command_print_object (format, v, err);
    }
  json_decref (v);
  return r;
}
