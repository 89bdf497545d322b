/* --init: a minimal init as PID 1 (init.c). */
#ifndef IMGTOOL_INIT_H
#define IMGTOOL_INIT_H

/* In the container's init, after its setup and just before the exec:
 * returns 0 in the child, which goes on to exec the command; the parent
 * never returns (it is PID 1 until the command ends). -1 with errno when
 * fork fails. */
int rt_init_fork (void);

#endif
