/* TEMPORARY: weak stand-ins for branch runtime-core's container.c, so
 * that run/exec/ps/... build before the core is merged. DELETE THIS FILE
 * when runtime-core's container.c is merged. They start nothing and say
 * so; the integration tests skip what needs a real container. */
#include "runtime/container.h"
#include "lib/err.h"

#include <unistd.h>

#define NOT_YET "the runtime core is not merged yet"

__attribute__ ((weak)) int
rt_start (const struct rt_plan *p, const struct rt_stdio *io,
          struct rt_container *out, struct err **err)
{
  err_set (err, 0, NOT_YET);
  return err_exit (err, 125);
}

__attribute__ ((weak)) int
rt_wait (struct rt_container *c, int *status, struct err **err)
{
  return err_set (err, 0, NOT_YET);
}

__attribute__ ((weak)) int
rt_run (const struct rt_plan *p, const struct rt_stdio *io, int *status,
        struct err **err)
{
  err_set (err, 0, NOT_YET);
  return err_exit (err, 125);
}

__attribute__ ((weak)) int
rt_kill (struct rt_container *c, int sig, struct err **err)
{
  return err_set (err, 0, NOT_YET);
}

__attribute__ ((weak)) void
rt_container_release (struct rt_container *c)
{
  (void) c;
}

__attribute__ ((weak)) int
rt_exec (pid_t target, const struct rt_plan *p, const struct rt_stdio *io,
         int *status, struct err **err)
{
  err_set (err, 0, NOT_YET);
  return err_exit (err, 125);
}

__attribute__ ((weak)) int
rt_cleanup (const char *id, const char *cgroup_parent, struct err **err)
{
  return 0;
}

__attribute__ ((weak)) int
rt_seal_self (char **argv, struct err **err)
{
  return 0;
}

__attribute__ ((weak)) bool
rt_self_sealed (void)
{
  return false;
}
