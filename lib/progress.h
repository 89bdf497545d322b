/* Progress of several concurrent transfers (pull, push): on a terminal a
 * bar per item with size and rate, redrawn at most ten times a second;
 * otherwise one plain line per finished item; nothing when quiet. */
#ifndef IMGTOOL_PROGRESS_H
#define IMGTOOL_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct progress;

/* verb names what a running item's bar is doing: "Downloading" (pull),
 * "Pushing" (push), as docker's bars say. */
struct progress *progress_new (FILE *out, bool quiet, const char *verb);
/* Add an item ("a1b2c3d4e5f6"), total bytes (-1 unknown); returns its id. */
int progress_add (struct progress *p, const char *label, int64_t total);
void progress_update (struct progress *p, int id, int64_t done);
/* Mark an item finished with a status ("Pull complete", "Already exists"). */
void progress_done (struct progress *p, int id, const char *status);
/* Print a line above the bars. */
void progress_line (struct progress *p, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));
void progress_free (struct progress *p);

#endif
