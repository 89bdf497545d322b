/* Lazy start, the monitor's side (service/lazy.c): rt_start for a plan
 * some of whose lower dirs are layers not in the store yet
 * (layers/lazystore.h). Each is served through FUSE by this process and
 * completed in the background into its snapshot. */
#ifndef IMGTOOL_SVC_LAZY_H
#define IMGTOOL_SVC_LAZY_H

#include "service/service.h"

struct rt_plan;
struct rt_stdio;
struct rt_container;

/* rt_start, with the plan's lazy lower dirs mounted and standing in for
 * their snapshots during the start (the plan is as it was on return). */
int svc_lazy_rt_start (struct svc *s, struct rt_plan *p,
                       const struct rt_stdio *io, struct rt_container *ct,
                       struct err **err);

#endif
