/* The options of `run` (and `create`) that the container's monitor acts
 * on: the log driver (--log-driver, --log-opt) and the healthcheck
 * (--health-*, --no-healthcheck), as docker reads them. runflags.c hands
 * these options here; cmd/run.c applies them to the record. */
#ifndef IMGTOOL_RUNFLAGS_MONITOR_H
#define IMGTOOL_RUNFLAGS_MONITOR_H

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>

struct err;
struct rt_record;

enum
{
  RUN_OPT_LOG_DRIVER = 400,
  RUN_OPT_LOG_OPT,
  RUN_OPT_HEALTH_CMD,
  RUN_OPT_HEALTH_INTERVAL,
  RUN_OPT_HEALTH_TIMEOUT,
  RUN_OPT_HEALTH_START_PERIOD,
  RUN_OPT_HEALTH_START_INTERVAL,
  RUN_OPT_HEALTH_RETRIES,
  RUN_OPT_NO_HEALTHCHECK,
  RUN_OPT_MONITOR_LAST = RUN_OPT_NO_HEALTHCHECK,
};

#define RUN_MONITOR_OPTS                                                       \
  { "log-driver", required_argument, NULL, RUN_OPT_LOG_DRIVER },               \
      { "log-opt", required_argument, NULL, RUN_OPT_LOG_OPT },                 \
      { "health-cmd", required_argument, NULL, RUN_OPT_HEALTH_CMD },           \
      { "health-interval", required_argument, NULL, RUN_OPT_HEALTH_INTERVAL }, \
      { "health-timeout", required_argument, NULL, RUN_OPT_HEALTH_TIMEOUT },   \
      { "health-start-period", required_argument, NULL,                        \
        RUN_OPT_HEALTH_START_PERIOD },                                         \
      { "health-start-interval", required_argument, NULL,                      \
        RUN_OPT_HEALTH_START_INTERVAL },                                       \
      { "health-retries", required_argument, NULL, RUN_OPT_HEALTH_RETRIES },   \
  {                                                                            \
    "no-healthcheck", no_argument, NULL, RUN_OPT_NO_HEALTHCHECK                \
  }

#define RUN_MONITOR_USAGE                                                      \
  "  --log-driver json-file|k8s-file|none --log-opt max-size=N,max-file=N\n"   \
  "  --health-cmd CMD --health-interval D --health-timeout D\n"                \
  "  --health-start-period D --health-start-interval D --health-retries N\n"   \
  "  --no-healthcheck\n"

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

/* One of the options above (c is its RUN_OPT_*). Errors exit 125. */
int run_monitor_option (struct run_monitor_flags *m, int c, const char *arg,
                        struct err **err);
/* The record's log driver and healthcheck from the flags and the image
 * config document (json_t *, NULL without an image), docker's merge: a
 * flag given wins, else the image's value. Errors exit 125. */
int run_monitor_apply (const struct run_monitor_flags *m, void *image_config,
                       struct rt_record *rec, struct err **err);
void run_monitor_release (struct run_monitor_flags *m);

#endif
