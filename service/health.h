/* HEALTHCHECK: the container's monitor runs the probe through the exec
 * path (runtime/exec.c) at each interval, on a thread of its own, and
 * keeps the result in <id>/health.json, which ps and inspect read:
 *   {"Status":"healthy","FailingStreak":0,"Log":[{"Start":...,"End":...,
 *    "ExitCode":0,"Output":"..."}]}
 * docker's rules (../shared/reference/lifecycle.md §5): starting until
 * the first success, unhealthy after `retries` failures in a row, failures
 * inside the start period not counted while starting; the last 5 results
 * kept; no probe while the container is paused. */
#ifndef IMGTOOL_HEALTH_H
#define IMGTOOL_HEALTH_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct svc;
struct rt_record;
struct rt_healthcheck;

/* docker's defaults (moby daemon/health.go) */
#define SVC_HEALTH_INTERVAL 30000000000LL
#define SVC_HEALTH_TIMEOUT 30000000000LL
#define SVC_HEALTH_START_INTERVAL 5000000000LL
#define SVC_HEALTH_RETRIES 3
#define SVC_HEALTH_LOG_MAX 5
#define SVC_HEALTH_OUTPUT_MAX 4096

/* Whether the record has a healthcheck that runs (not none or NONE). */
bool svc_health_enabled (const struct rt_healthcheck *hc);

/* The state machine, pure (unit-tested). */
enum svc_health_status
{
  SVC_HEALTH_STARTING,
  SVC_HEALTH_HEALTHY,
  SVC_HEALTH_UNHEALTHY,
};
const char *svc_health_status_name (enum svc_health_status s);
struct svc_health_state
{
  enum svc_health_status status;
  int failing_streak;
};
/* Apply one probe's result: exit_code 0 is healthy, anything else a
 * failure; in_start_period: the probe started within the start period. */
void svc_health_result (struct svc_health_state *st,
                        const struct rt_healthcheck *hc, int exit_code,
                        bool in_start_period);
/* How long to wait before the next probe (ns): start-interval while
 * starting inside the start period, else the interval. */
int64_t svc_health_wait (const struct rt_healthcheck *hc,
                         const struct svc_health_state *st,
                         bool in_start_period);

/* Start the checks of a container that just started (pid: its PID 1),
 * or NULL when it has none. rec is borrowed until svc_health_stop. */
struct svc_health;
struct svc_health *svc_health_start (struct svc *s, const struct rt_record *rec,
                                     pid_t pid);
/* Stop them (a running probe is killed) and free h. NULL is fine. */
void svc_health_stop (struct svc_health *h);

/* The container's State.Health as docker's inspect shows it (a new
 * reference), or NULL when it has no healthcheck or never started. */
json_t *svc_health_json (const struct rt_record *rec);

#endif
