/* A container's state as docker ps's STATUS column says it. */
#include "lib/human.h"
#include "service/service.h"

#include <stdio.h>
#include <string.h>

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
      snprintf (buf, len, "Up %s%s", ago,
                rec->state.paused || rec->state.status == RT_PAUSED
                    ? " (Paused)"
                    : "");
      return;
    case RT_EXITED:
      human_ago (rec->state.finished ? rec->state.finished : now, now, ago,
                 sizeof ago);
      snprintf (buf, len, "Exited (%d) %s", rec->state.exit_code, ago);
      return;
    }
  snprintf (buf, len, "%s", rt_status_name (rec->state.status));
}
