/* A container's state as docker ps's STATUS column says it. */
#include "lib/human.h"
#include "lib/json.h"
#include "service/health.h"
#include "service/service.h"

#include <stdio.h>
#include <string.h>

/* " (healthy)", " (unhealthy)", " (health: starting)" or "" */
static const char *
health_suffix (const struct rt_record *rec)
{
  json_t *h = svc_health_json (rec);
  const char *st = json_peek_str (h, "Status"), *r = "";
  if (st && !strcmp (st, "healthy"))
    r = " (healthy)";
  else if (st && !strcmp (st, "unhealthy"))
    r = " (unhealthy)";
  else if (st)
    r = " (health: starting)";
  json_decref (h);
  return r;
}

void
svc_status_text (const struct rt_record *rec, time_t now, char *buf, size_t len)
{
  char ago[64];
  size_t n;
  switch (rec->state.status)
    {
    case RT_CREATED:
      snprintf (buf, len, "Created");
      return;
    case RT_RESTARTING:
      /* docker: the last exit code, and how long ago it came */
      human_ago (rec->state.finished ? rec->state.finished : now, now, ago,
                 sizeof ago);
      snprintf (buf, len, "Restarting (%d) %s", rec->state.exit_code, ago);
      return;
    case RT_RUNNING:
    case RT_PAUSED:
      human_ago (rec->state.started, now, ago, sizeof ago);
      n = strlen (ago);
      if (n > 4 && !strcmp (ago + n - 4, " ago"))
        ago[n - 4] = '\0';
      snprintf (buf, len, "Up %s%s%s", ago,
                rec->state.paused || rec->state.status == RT_PAUSED
                    ? " (Paused)"
                    : "",
                health_suffix (rec));
      return;
    case RT_DEAD:
      snprintf (buf, len, "Dead");
      return;
    case RT_EXITED:
      human_ago (rec->state.finished ? rec->state.finished : now, now, ago,
                 sizeof ago);
      snprintf (buf, len, "Exited (%d) %s", rec->state.exit_code, ago);
      return;
    }
  snprintf (buf, len, "%s", rt_status_name (rec->state.status));
}
