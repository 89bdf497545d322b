/* The options of `run` (and `create`) that the container's monitor acts
 * on: the log driver (--log-driver, --log-opt) and the healthcheck
 * (--health-*, --no-healthcheck), as docker reads them: handlers in
 * run's option table (cmd/runflags.c); cmd/run.c applies them to the
 * record. */
#ifndef IMGTOOL_RUNFLAGS_MONITOR_H
#define IMGTOOL_RUNFLAGS_MONITOR_H

#include <stdbool.h>
#include <stdint.h>

struct err;
struct rt_record;

struct run_monitor_flags
{
  char *log_driver;
  char **log_opts; /* k=v, commas split */
  char *health_cmd;
  int64_t interval, timeout, start_period, start_interval; /* ns */
  int retries;
  bool any_health; /* some --health-* was given */
  bool no_healthcheck;
};

/* The options' handlers (cmd/opttable.h): target + o->off is a struct
 * run_monitor_flags. Errors exit 125. */
struct cmd_opt;
#define RUN_MONITOR_HANDLER(name)                                              \
  int run_monitor_##name (void *target, const struct cmd_opt *o,               \
                          const char *arg, struct err **err)
RUN_MONITOR_HANDLER (log_driver);
RUN_MONITOR_HANDLER (log_opt);
RUN_MONITOR_HANDLER (health_cmd);
RUN_MONITOR_HANDLER (health_interval);
RUN_MONITOR_HANDLER (health_timeout);
RUN_MONITOR_HANDLER (health_start_period);
RUN_MONITOR_HANDLER (health_start_interval);
RUN_MONITOR_HANDLER (health_retries);
RUN_MONITOR_HANDLER (no_healthcheck);
/* The record's log driver and healthcheck from the flags and the image
 * config document (json_t *, NULL without an image), docker's merge: a
 * flag given wins, else the image's value. Errors exit 125. */
int run_monitor_apply (const struct run_monitor_flags *m, void *image_config,
                       struct rt_record *rec, struct err **err);
void run_monitor_release (struct run_monitor_flags *m);

#endif
