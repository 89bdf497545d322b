/* Unit tests for service/health.c's state machine (docker's
 * handleProbeResult) and its probe schedule. */
#include "runtime/state.h"
#include "service/health.h"
#include "tests/unit/test.h"

static void
test_machine (void)
{
  struct rt_healthcheck hc = { .retries = 3 };
  struct svc_health_state st = { 0 };
  CHECK (st.status == SVC_HEALTH_STARTING, "a start begins with starting");
  svc_health_result (&st, &hc, 1, true);
  svc_health_result (&st, &hc, 1, true);
  svc_health_result (&st, &hc, 1, true);
  svc_health_result (&st, &hc, 1, true);
  CHECK (st.status == SVC_HEALTH_STARTING && st.failing_streak == 0,
         "failures inside the start period do not count while starting");
  svc_health_result (&st, &hc, 1, false);
  svc_health_result (&st, &hc, 2, false);
  CHECK (st.status == SVC_HEALTH_STARTING && st.failing_streak == 2,
         "after it, each failure counts (2 is a failure too)");
  svc_health_result (&st, &hc, -1, false);
  CHECK (st.status == SVC_HEALTH_UNHEALTHY && st.failing_streak == 3,
         "retries failures in a row: unhealthy");
  svc_health_result (&st, &hc, 0, false);
  CHECK (st.status == SVC_HEALTH_HEALTHY && st.failing_streak == 0,
         "one success: healthy, streak 0");
  svc_health_result (&st, &hc, 1, true);
  CHECK (st.status == SVC_HEALTH_HEALTHY && st.failing_streak == 1,
         "once healthy the start period no longer shields a failure");
  svc_health_result (&st, &hc, 1, false);
  svc_health_result (&st, &hc, 1, false);
  CHECK (st.status == SVC_HEALTH_UNHEALTHY, "healthy -> unhealthy");
  hc.retries = 0;
  st = (struct svc_health_state){ 0 };
  svc_health_result (&st, &hc, 1, false);
  svc_health_result (&st, &hc, 1, false);
  CHECK (st.status == SVC_HEALTH_STARTING, "retries 0 is docker's 3: 2 fail");
  svc_health_result (&st, &hc, 1, false);
  CHECK (st.status == SVC_HEALTH_UNHEALTHY, "the third makes it unhealthy");
}

static void
test_schedule (void)
{
  struct rt_healthcheck hc = { 0 };
  struct svc_health_state st = { 0 };
  CHECK (svc_health_wait (&hc, &st, false) == SVC_HEALTH_INTERVAL,
         "interval defaults to 30s");
  CHECK (svc_health_wait (&hc, &st, true) == SVC_HEALTH_START_INTERVAL,
         "inside the start period: start-interval (5s)");
  hc.interval = 2000000000;
  hc.start_interval = 100000000;
  CHECK (svc_health_wait (&hc, &st, true) == 100000000,
         "start-interval as set");
  st.status = SVC_HEALTH_HEALTHY;
  CHECK (svc_health_wait (&hc, &st, true) == 2000000000,
         "healthy: the interval, start period or not");
}

static void
test_enabled (void)
{
  char *none[] = { (char *)"NONE", NULL };
  char *cmd[] = { (char *)"CMD", (char *)"true", NULL };
  char *shell[] = { (char *)"CMD-SHELL", (char *)"exit 0", NULL };
  char *bare[] = { (char *)"CMD", NULL };
  struct rt_healthcheck hc = { 0 };
  CHECK (!svc_health_enabled (&hc), "no test: none");
  hc.test = none;
  CHECK (!svc_health_enabled (&hc), "NONE: none");
  hc.test = bare;
  CHECK (!svc_health_enabled (&hc), "CMD without a command: none");
  hc.test = cmd;
  CHECK (svc_health_enabled (&hc), "CMD");
  hc.test = shell;
  CHECK (svc_health_enabled (&hc), "CMD-SHELL");
}

int
main (void)
{
  test_machine ();
  test_schedule ();
  test_enabled ();
  return test_done ();
}
