/* imgtool login [-u USER] [-p PASS | --password-stdin] [--tls-verify=false]
 * [--cert-dir DIR] SERVER
 *
 * The credentials are checked against the registry (GET /v2/ and the
 * token exchange it asks for) before they are written. */
#include "cmd/command.h"
#include "cmd/opttable.h"
#include "cmd/regflags.h"
#include "lib/err.h"
#include "lib/strbuf.h"
#include "lib/xalloc.h"
#include "registry/auth.h"
#include "registry/credentials.h"
#include "registry/ref.h"
#include "registry/session.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

static const char usage_text[] = "imgtool login [-u USER] [-p PASSWORD | "
                                 "--password-stdin] " REGFLAGS_USAGE_TLS_VERIFY
                                 " " REGFLAGS_USAGE_CERT_DIR " [SERVER]";

/* "https://index.docker.io/v1/", "docker.io", "host:port/" -> the domain
 * credentials are filed under and the host to talk to. */
static int
server_domain (const char *server, char **domain, char **api_host,
               struct err **err)
{
  const char *p = server;
  size_t n;
  if (!strncmp (p, "https://", 8))
    p += 8;
  else if (!strncmp (p, "http://", 7))
    p += 7;
  n = strcspn (p, "/");
  if (!n)
    return err_set (err, 0, "login: bad server '%s'", server);
  *domain = xstrndup (p, n);
  if (!strcmp (*domain, "docker.io") || !strcmp (*domain, "index.docker.io")
      || !strcmp (*domain, "registry-1.docker.io"))
    {
      free (*domain);
      *domain = xstrdup (REF_DEFAULT_DOMAIN);
      *api_host = xstrdup (REF_DOCKER_HUB_HOST);
    }
  else
    *api_host = xstrdup (*domain);
  return 0;
}

static char *
read_line (const char *prompt, bool echo)
{
  struct termios old, quiet;
  bool tty = isatty (STDIN_FILENO);
  char *line = NULL;
  size_t cap = 0;
  ssize_t n;
  fprintf (stderr, "%s", prompt);
  if (!echo && tty && tcgetattr (STDIN_FILENO, &old) == 0)
    {
      quiet = old;
      quiet.c_lflag &= (tcflag_t)~ECHO;
      tcsetattr (STDIN_FILENO, TCSAFLUSH, &quiet);
    }
  n = getline (&line, &cap, stdin);
  if (!echo && tty)
    {
      tcsetattr (STDIN_FILENO, TCSAFLUSH, &old);
      fprintf (stderr, "\n");
    }
  if (n < 0)
    {
      free (line);
      return NULL;
    }
  line[strcspn (line, "\r\n")] = '\0';
  return line;
}

static char *
read_stdin_secret (void)
{
  struct strbuf sb = STRBUF_INIT;
  char buf[4096];
  ssize_t n;
  while ((n = read (STDIN_FILENO, buf, sizeof buf)) != 0)
    {
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 || sb.len > 65536)
        break;
      strbuf_add (&sb, buf, (size_t)n);
    }
  while (sb.len && (sb.buf[sb.len - 1] == '\n' || sb.buf[sb.len - 1] == '\r'))
    strbuf_setlen (&sb, sb.len - 1);
  return strbuf_detach (&sb, NULL);
}

static const struct cmd_opt login_opts[] = {
  CMD_OPT ("username", 'u', "USER", 0, "Username", "--username"),
  CMD_OPT ("password", 'p', "PASSWORD", 0, "Password", "--password"),
  CMD_OPT ("password-stdin", 0, NULL, 'S', "Take the password from stdin",
           "--password-stdin"),
  REGFLAGS_OPT_TLS_VERIFY,
  REGFLAGS_OPT_CERT_DIR,
  REGFLAGS_OPT_HELP,
  CMD_OPT_END,
};

const struct cmd_spec cmd_login_spec = {
  .name = "login",
  .usage = usage_text,
  .opts = login_opts,
};

COMMAND (login)
{
  struct reg_client_opts co = { .config_path = g->config_path };
  struct reg_cred cred = { 0 };
  struct reg_client client;
  struct reg_repo repo;
  struct http_request req = { .url = "/v2/" };
  struct http_response resp = { 0 };
  _cleanup_free_ char *domain = NULL, *api_host = NULL, *where = NULL;
  const char *server = REF_DEFAULT_DOMAIN;
  struct regflags rf;
  bool pw_stdin = false;
  int c, rc, ret = -1;

  regflags_init (&rf, usage_text, false);
  while ((c = cmd_getopt (argc, argv, &cmd_login_spec)) != -1)
    switch (c)
      {
      case 'u':
        free (cred.username);
        cred.username = xstrdup (optarg);
        break;
      case 'p':
        free (cred.password);
        cred.password = xstrdup (optarg);
        break;
      case 'S':
        pw_stdin = cmd_optbool;
        break;
      default:
        if ((rc = regflags_option (&rf, c, optarg, err)) != 0)
          {
            ret = rc < 0 ? -1 : 0;
            goto out_cred;
          }
      }
  if (optind < argc - 1 || (pw_stdin && cred.password))
    goto usage;
  if (optind == argc - 1)
    server = argv[optind];
  co.no_tls_verify = !rf.tls_verify;
  co.cert_dir = rf.cert_dir;
  if (server_domain (server, &domain, &api_host, err) < 0)
    goto out_cred;
  if (pw_stdin)
    {
      if (!cred.username)
        {
          err_set (err, 0, "login: --password-stdin needs --username");
          goto out_cred;
        }
      cred.password = read_stdin_secret ();
    }
  if (!cred.username && !(cred.username = read_line ("Username: ", true)))
    {
      err_set (err, 0, "login: no username given");
      goto out_cred;
    }
  if (!cred.password && !(cred.password = read_line ("Password: ", false)))
    {
      err_set (err, 0, "login: no password given");
      goto out_cred;
    }
  if (!*cred.username || !*cred.password)
    {
      err_set (err, 0, "login: username and password must not be empty");
      goto out_cred;
    }

  if (reg_client_init (&client, &co, err) < 0)
    goto out_cred;
  auth_set_cred (client.auth, api_host, &cred);
  if (reg_repo_init (&repo, &client, api_host, domain, NULL, NULL, err) == 0)
    {
      if (reg_repo_do (&repo, &req, &resp, err) == 0)
        {
          if (resp.status == 200)
            ret = 0;
          else
            {
              _cleanup_free_ char *t = http_error_text (&resp);
              err_set (err, 0, "%s answered %s", api_host, t);
            }
        }
      reg_repo_release (&repo);
    }
  http_response_release (&resp);
  reg_client_release (&client);
  if (ret < 0)
    {
      err_wrap (err, "login failed");
      goto out_cred;
    }
  ret = reg_cred_store (domain, &cred, &where, err);
  if (ret == 0)
    printf ("Login Succeeded (credentials in %s)\n", where);
out_cred:
  reg_cred_release (&cred);
  return ret;
usage:
  reg_cred_release (&cred);
  return command_usage_error (usage_text, err);
}
