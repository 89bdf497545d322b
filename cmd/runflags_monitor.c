/* run's log and healthcheck options (runflags_monitor.h). */
#include "cmd/runflags_monitor.h"
#include "cmd/opttable.h"
#include "lib/err.h"
#include "lib/human.h"
#include "lib/json.h"
#include "lib/xalloc.h"
#include "runtime/state.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static int
duration (const char *name, const char *arg, int64_t *out, struct err **err)
{
  const char *s = arg;
  bool neg = *s == '-';
  if (neg)
    s++;
  if (human_duration_parse (s, out) < 0)
    err_set (err, 0, "invalid argument '%s' for --%s: not a duration", arg,
             name);
  else if (neg && *out)
    err_set (err, 0, "--%s cannot be negative", name);
  else
    return 0;
  return err_exit (err, 125);
}

#define M(target, o) ((struct run_monitor_flags *)((char *)(target) + (o)->off))

RUN_MONITOR_HANDLER (log_driver)
{
  struct run_monitor_flags *m = M (target, o);
  (void)err;
  free (m->log_driver);
  m->log_driver = xstrdup (arg);
  return 0;
}

/* One k=v per --log-opt as docker's, or several split by commas; a comma
 * not followed by a KEY= is the value's own (labels=a,b, env=X,Y). */
static void
log_opt_split (char ***opts, const char *arg)
{
  const char *start = arg;
  for (const char *p = arg;; p++)
    {
      const char *end = strchrnul (p, ',');
      const char *next = *end ? end + 1 : end;
      size_t key = strcspn (next, ",=");
      if (!*end || (next[key] == '=' && key > 0))
        {
          strv_push (opts, xstrndup (start, (size_t)(end - start)));
          if (!*end)
            return;
          start = next;
        }
      p = end;
    }
}

RUN_MONITOR_HANDLER (log_opt)
{
  struct run_monitor_flags *m = M (target, o);
  (void)err;
  log_opt_split (&m->log_opts, arg);
  return 0;
}

RUN_MONITOR_HANDLER (health_cmd)
{
  struct run_monitor_flags *m = M (target, o);
  (void)err;
  free (m->health_cmd);
  m->health_cmd = xstrdup (arg);
  m->any_health = true;
  return 0;
}

#define DURATION(field)                                                        \
  RUN_MONITOR_HANDLER (health_##field)                                         \
  {                                                                            \
    struct run_monitor_flags *m = M (target, o);                               \
    m->any_health = true;                                                      \
    return duration (o->name, arg, &m->field, err);                            \
  }
DURATION (interval)
DURATION (timeout)
DURATION (start_period)
DURATION (start_interval)

RUN_MONITOR_HANDLER (health_retries)
{
  struct run_monitor_flags *m = M (target, o);
  char *end;
  long n = strtol (arg, &end, 10);
  if (!*arg || *end || n > 1000000000L)
    return err_fail (err, 125,
                     "invalid argument '%s' for --health-retries: not a "
                     "number",
                     arg);
  if (n < 0)
    return err_fail (err, 125, "--health-retries cannot be negative");
  m->retries = (int)n;
  m->any_health = true;
  return 0;
}

RUN_MONITOR_HANDLER (no_healthcheck)
{
  (void)arg, (void)err;
  M (target, o)->no_healthcheck = cmd_optbool;
  return 0;
}

/* docker's daemon: a set duration below 1ms is refused */
static int
at_least_1ms (const char *what, int64_t v, struct err **err)
{
  if (v == 0 || v >= 1000000)
    return 0;
  err_set (err, 0, "%s in Healthcheck cannot be less than 1ms", what);
  return err_exit (err, 125);
}

int
run_monitor_apply (const struct run_monitor_flags *m, void *image_config,
                   struct rt_record *rec, struct err **err)
{
  json_t *cfg = json_object_get ((json_t *)image_config, "config");
  json_t *ih = json_object_get (cfg, "Healthcheck");
  struct rt_healthcheck *h = &rec->health;
  struct
  {
    const char *key;
    int64_t flag, *out;
  } d[] = { { "Interval", m->interval, &h->interval },
            { "Timeout", m->timeout, &h->timeout },
            { "StartPeriod", m->start_period, &h->start_period },
            { "StartInterval", m->start_interval, &h->start_interval } };

  if (rt_log_config_parse (m->log_driver, m->log_opts, &rec->log, err) < 0)
    return -1;
  if (m->no_healthcheck && m->any_health)
    {
      err_set (err, 0, "--no-healthcheck conflicts with --health-* options");
      return err_exit (err, 125);
    }
  strv_free (h->test);
  h->test = NULL;
  if (m->no_healthcheck)
    {
      h->test = strv_dup ((char *[]){ (char *)"NONE", NULL });
      return 0;
    }
  if (m->health_cmd)
    h->test = strv_dup ((char *[]){ (char *)"CMD-SHELL", m->health_cmd, NULL });
  else if (json_is_object (ih))
    h->test = json_to_strv (json_object_get (ih, "Test"));
  for (size_t i = 0; i < ARRAY_SIZE (d); i++)
    {
      *d[i].out = d[i].flag
                      ? d[i].flag
                      : json_integer_value (json_object_get (ih, d[i].key));
      if (at_least_1ms (d[i].key, *d[i].out, err) < 0)
        return -1;
    }
  h->retries = m->retries
                   ? m->retries
                   : (int)json_integer_value (json_object_get (ih, "Retries"));
  /* CMD-SHELL runs through the image's SHELL (docker's getShell) */
  strv_free (h->shell);
  h->shell = json_to_strv (json_object_get (cfg, "Shell"));
  if (h->shell && !h->shell[0])
    {
      strv_free (h->shell);
      h->shell = NULL;
    }
  return 0;
}

void
run_monitor_release (struct run_monitor_flags *m)
{
  free (m->log_driver);
  strv_free (m->log_opts);
  free (m->health_cmd);
  memset (m, 0, sizeof *m);
}
