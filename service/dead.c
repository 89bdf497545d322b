/* docker's Dead state: a removal that failed halfway (service.h). rm
 * first removes the container's own files (its writable layer), the step
 * that can fail (a busy mount point left in it, a file the kernel will
 * not unlink); when it does, the record stays and is marked dead, as
 * docker's SetDead: ps shows "Dead", inspect State.Dead, start refuses
 * it, and the next rm carries on where this one stopped. */
#include "lib/err.h"
#include "lib/fs.h"
#include "service/service.h"
#include "service/service_int.h"

#include <fcntl.h>
#include <unistd.h>

int
svc_remove_files (struct svc *s, struct rt_record *rec, struct err **err)
{
  const char *dirs[] = { rec->plan.upper_dir, rec->plan.work_dir };
  /* an ordinary user cannot delete what subordinate ids own: the
   * record store's detached remover does it all (rt_record_remove) */
  if (geteuid () != 0)
    return 0;
  for (size_t i = 0; i < sizeof dirs / sizeof *dirs; i++)
    if (dirs[i] && fs_rm_rf (AT_FDCWD, dirs[i], err) < 0)
      {
        struct err *e = NULL;
        rec->state.status = RT_DEAD;
        if (rt_record_save_state (&s->cs, rec, &e) < 0)
          err_free (e);
        return err_wrap (err, "unable to remove filesystem for %s", rec->id);
      }
  return 0;
}
