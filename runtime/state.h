/* Containers on disk: what was asked (config.json), where it is
 * (state.json), and the names index.
 *
 *   <root>/containers/lock          flock: creating, naming, removing
 *   <root>/containers/names/<name>  symlink -> <id> (names are unique)
 *   <root>/containers/<id>/         id = 64 random hex digits
 *       config.json   image, name, command, the plan (for exec and ps)
 *       state.json    status, pid + its start time, exit code, times, OOM;
 *                     and a summary of config.json for listings (a
 *                     change to config.json must rewrite state.json)
 *       monitor.lock  flock held for its whole life by the process that
 *                     waits for the container (`run`, or the -d monitor):
 *                     when nobody holds it, nobody will record the exit
 *       upper/ work/  the overlay's writable layer
 *       hostname hosts resolv.conf
 *       container.log[.N]  its output (runtime/logfile.h)
 *       health.json   its monitor's health checks (service/health.h)
 *       cp-root/      where cp mounts it while it does not run
 *       stopped       the stop the user asked for, until the next start
 *                     (service/restart.c)
 *       attach.sock   the -d monitor's attach socket (service/attach.c)
 *   (monitor.lock, attach.sock and lock: in the runtime directory for an
 *   ordinary user, lib/rundir.h)
 *
 * Every state change is written atomically (temp + rename). This is the
 * record store only: the container service (service/service.h) decides
 * the transitions. */
#ifndef IMGTOOL_STATE_H
#define IMGTOOL_STATE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "runtime/logfile.h"
#include "runtime/plan.h"

struct err;

#define RT_ID_HEX 64
#define RT_SHORT_ID 12

/* The states of a container (service/service.h has the transitions). */
enum rt_status
{
  RT_CREATED,
  RT_RUNNING,
  RT_PAUSED,     /* not stored: running, with its freezer frozen */
  RT_RESTARTING, /* its monitor waits to start it again (restart policy) */
  RT_EXITED,
  RT_DEAD, /* its removal failed halfway (svc_remove): rm finishes it */
};

/* "created", "running", ... as state.json and docker's State.Status say. */
const char *rt_status_name (enum rt_status s);

struct rt_state
{
  enum rt_status status;
  pid_t pid;          /* container PID 1 in the host pid ns */
  uint64_t pid_start; /* its start time (/proc/<pid>/stat field 22) */
  int exit_code;      /* docker's: 128+N for signal N, 255 unknown */
  bool oom_killed;
  time_t started;
  time_t finished;
  char *error; /* why it could not start, or NULL */
  /* --network bridge, while it runs: the container's address on the
   * network and its published ports as docker ps shows them
   * ("0.0.0.0:8080->80/tcp, ..."); NULL otherwise */
  char *ip;
  char *ports;
  int restart_count; /* restarts by the policy since the last manual start */
  bool paused;       /* running with its cgroup frozen: read from the freezer
                        when loaded (service/freeze.c), never stored */
};

/* The healthcheck (docker's Config.Healthcheck, durations in ns, 0 =
 * docker's default); test NULL = none. service/health.c runs it. */
struct rt_healthcheck
{
  char **test;  /* ["CMD", arg...], ["CMD-SHELL", "string"], ["NONE"] */
  char **shell; /* the image's SHELL for CMD-SHELL, NULL: /bin/sh -c */
  int64_t interval, timeout, start_period, start_interval;
  int retries;
};

struct rt_record
{
  char *id;
  char *name;      /* without docker's leading '/' */
  char *image;     /* as the user typed it */
  char *image_ref; /* the store reference it resolved to, or NULL */
  char *image_id;  /* config digest, or NULL (--rootfs) */
  char **command;  /* argv, for ps */
  time_t created;
  int created_ns;   /* its nanoseconds (ps's order), 0 for old records */
  bool auto_remove; /* --rm */
  bool detach;
  int stop_timeout; /* seconds, -1 = default (10) */
  char **labels;    /* docker's Config.Labels: the image's and --label's,
                       "k=v" */
  char **exposed;   /* Config.ExposedPorts: the image's and --expose's */
  char *restart;    /* restart policy: "always", "on-failure", ...; NULL no */
  int restart_max;  /* on-failure:N */
  char **publish;   /* -p as given (and -P's), for each start */
  struct rt_log_config log;
  struct rt_healthcheck health;
  struct rt_plan plan;
  struct rt_state state;
};

struct rt_containers
{
  char *path; /* <root>/containers */
  int fd;
};

int rt_containers_open (struct rt_containers *cs, const char *store_root,
                        struct err **err);
void rt_containers_release (struct rt_containers *cs);

/* Create a container: a new id (rec->id NULL) and rec->name reserved (a
 * random docker-style name when NULL; a clash is an error with exit 125:
 * the container name "/web" is already in use by container "<id>"), its
 * directory with upper/, work/, config.json and state.json (created).
 * Fills rec->plan.id, name, state_dir, upper_dir and work_dir. */
int rt_record_create (struct rt_containers *cs, struct rt_record *rec,
                      struct err **err);

/* Find a container by full id, name, or unique id prefix (in that order,
 * as docker). Errors: no such container: 'x' / more than one container
 * starts with 'x'. *id is allocated. */
int rt_record_lookup (struct rt_containers *cs, const char *key, char **id,
                      struct err **err);

/* Load config.json and state.json as they are (the container service's
 * svc_load also applies the rule for a container whose monitor died). */
int rt_record_load (struct rt_containers *cs, const char *id,
                    struct rt_record *out, struct err **err);

/* The same for a listing: from state.json alone, which holds the state
 * and a summary of config.json (its own members, and of the plan only
 * network and mounts, and the id, name and paths that the record's
 * directory gives; the rest of out->plan is left as rt_plan_init makes
 * it). A record from before the summary is loaded in full. */
int rt_record_load_summary (struct rt_containers *cs, const char *id,
                            struct rt_record *out, struct err **err);

/* Every container id. */
int rt_record_list (struct rt_containers *cs, char ***ids, struct err **err);

/* Give the container another name (rt_record_create's rules and
 * errors); config.json is rewritten with it. */
int rt_record_rename (struct rt_containers *cs, struct rt_record *rec,
                      const char *name, struct err **err);

/* Write rec->state to state.json atomically. */
int rt_record_save_state (struct rt_containers *cs, const struct rt_record *rec,
                          struct err **err);

/* Remove the container's directory and its name (it must not run). The
 * directory is renamed out of sight first (.removing-<id>), then deleted,
 * with detach by a child process of its own while the caller goes on
 * (state.c: remove_detached says why). */
int rt_record_remove (struct rt_containers *cs, const struct rt_record *rec,
                      bool detach, struct err **err);
/* Delete what removers killed midway left (prune); returns how many. */
size_t rt_records_sweep (struct rt_containers *cs);

void rt_record_release (struct rt_record *rec);

/* <containers>/<id>/<file>, allocated. */
char *rt_record_path (struct rt_containers *cs, const char *id,
                      const char *file);

/* Take monitor.lock (LOCK_EX|LOCK_NB) for the caller's life; returns the
 * fd (O_CLOEXEC) to keep open, or -1 (errno EWOULDBLOCK: a monitor holds
 * it). */
int rt_record_monitor_lock (struct rt_containers *cs, const char *id,
                            struct err **err);

/* A pidfd for the container's process, checked to be the recorded one
 * (start time), or -1 with errno ESRCH when it is gone. */
int rt_record_pidfd (const struct rt_record *rec);

#endif
