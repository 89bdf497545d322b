/* docker's json-file "attrs" (logfile.h): --log-opt labels/labels-regex
 * pick container labels, env/env-regex environment variables, and tag
 * renders a template over the container (moby's logger.Info:
 * ExtraAttributes, ParseLogTag). Regexes match anywhere in the key, as
 * Go's MatchString does. */
#include "lib/err.h"
#include "lib/gotmpl.h"
#include "lib/strbuf.h"
#include "lib/xalloc.h"
#include "runtime/logfile.h"
#include "runtime/state.h"

#include <jansson.h>
#include <regex.h>
#include <string.h>
#include <unistd.h>

int
rt_log_attrs_check (const struct rt_log_config *c, struct err **err)
{
  const char *res[] = { c->labels_regex, c->env_regex };
  const char *names[] = { "labels-regex", "env-regex" };
  for (size_t i = 0; i < 2; i++)
    if (res[i] && *res[i])
      {
        regex_t re;
        if (regcomp (&re, res[i], REG_EXTENDED | REG_NOSUB) != 0)
          return err_set (err, 0, "invalid log opt %s '%s'", names[i], res[i]);
        regfree (&re);
      }
  if (c->tag && *c->tag)
    {
      struct gotmpl *t = NULL;
      if (gotmpl_parse (c->tag, &t, err) < 0)
        return err_wrap (err, "invalid log opt tag '%s'", c->tag);
      gotmpl_free (t);
    }
  return 0;
}

/* "k=v" pairs: keys listed in the comma list, and keys the regex finds */
static void
pick (json_t *out, char *const *kv, const char *list, const char *regex)
{
  regex_t re;
  bool have_re
      = regex && *regex && regcomp (&re, regex, REG_EXTENDED | REG_NOSUB) == 0;
  for (size_t i = 0; kv && kv[i]; i++)
    {
      const char *eq = strchr (kv[i], '=');
      _cleanup_free_ char *k = NULL;
      bool listed = false;
      if (!eq)
        continue;
      k = xstrndup (kv[i], (size_t)(eq - kv[i]));
      for (const char *p = list; p && *p;)
        {
          size_t n = strcspn (p, ",");
          listed = listed || (n == strlen (k) && !strncmp (p, k, n));
          p += n + (p[n] == ',');
        }
      if (listed || (have_re && regexec (&re, k, 0, NULL, 0) == 0))
        json_object_set_new (out, k, json_string (eq + 1));
    }
  if (have_re)
    regfree (&re);
}

/* docker's tag fields over the container */
static json_t *
tag_fields (const struct rt_record *rec)
{
  const char *img = rec->image_id ? rec->image_id : "";
  const char *colon = strchr (img, ':');
  _cleanup_free_ char *short_img
      = xstrndup (colon ? colon + 1 : img, RT_SHORT_ID);
  char host[256] = "";
  struct strbuf cmd = STRBUF_INIT;
  json_t *o;
  for (size_t i = 0; rec->command && rec->command[i]; i++)
    strbuf_addf (&cmd, "%s%s", i ? " " : "", rec->command[i]);
  gethostname (host, sizeof host - 1);
  o = json_pack ("{s:s%, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "ID",
                 rec->id, (size_t)RT_SHORT_ID, "FullID", rec->id, "Name",
                 rec->name ? rec->name : "", "ImageID", short_img,
                 "ImageFullID", img, "ImageName", rec->image ? rec->image : "",
                 "DaemonName", "imgtool", "Hostname", host, "Command", cmd.buf);
  strbuf_release (&cmd);
  return o;
}

char *
rt_log_attrs (const struct rt_record *rec)
{
  const struct rt_log_config *c = &rec->log;
  json_t *o = json_object ();
  char *text = NULL;
  pick (o, rec->labels, c->labels, c->labels_regex);
  pick (o, rec->plan.env, c->env, c->env_regex);
  if (c->tag && *c->tag)
    {
      struct gotmpl *t = NULL;
      struct strbuf s = STRBUF_INIT;
      struct err *e = NULL;
      json_t *dot = tag_fields (rec);
      if (gotmpl_parse (c->tag, &t, &e) == 0
          && gotmpl_exec (t, dot, &s, &e) == 0 && s.len)
        json_object_set_new (o, "tag", json_string (s.buf));
      err_free (e);
      gotmpl_free (t);
      json_decref (dot);
      strbuf_release (&s);
    }
  if (json_object_size (o))
    text = json_dumps (o, JSON_COMPACT | JSON_SORT_KEYS);
  json_decref (o);
  return text;
}
