/* Errors: one convention for the whole program (crun's, see DESIGN.md).
 *
 * A function that can fail returns int (0 ok, -1 failed) or a pointer (NULL
 * failed) and takes `struct err **err` last. On failure it sets *err once
 * with err_set() or adds context to a callee's error with err_wrap(); on
 * success *err is untouched. Only cmd/main.c prints an error, on one line:
 *   imgtool: pull 'docker.io/library/alpine:latest': fetch blob sha256:..:
 * digest mismatch Messages are lowercase, without a full stop, what failed
 * first. */
#ifndef IMGTOOL_ERR_H
#define IMGTOOL_ERR_H

struct err
{
  int errnum; /* errno of the root cause, or 0 */
  int exit;   /* exit status the program should end with (default 1) */
  char *msg;
  int unreachable; /* 1: the peer never answered (resolve, connect, timeout),
                      as opposed to an answer that says no */
};

/* Set *err to fmt (and ": strerror(errnum)" when errnum != 0). Returns -1.
 * If *err is already set, the new message is dropped: the first failure
 * is the one that explains. */
int err_set (struct err **err, int errnum, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));

/* Prefix the existing error with "context: ". Returns -1. */
int err_wrap (struct err **err, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));

/* err_set (no errno) and err_exit in one: *err set to fmt, the program
 * to end with status. Returns -1. */
int err_fail (struct err **err, int status, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));

/* Set the exit status the error should end the program with. Returns -1. */
int err_exit (struct err **err, int status);

void err_free (struct err *e);
static inline void
err_freep (struct err **e)
{
  err_free (*e);
}
#define _cleanup_err_ __attribute__ ((cleanup (err_freep)))

/* msg as one printable line of at most about ERR_LINE_MAX bytes: control
 * characters escaped (\n, \r, \t, \xNN), and a longer text cut in the
 * middle with "…", so that the end, which says why, stays. Caller frees.
 * Messages carry what users and registries wrote (refs, paths, lists). */
#define ERR_LINE_MAX 1000
char *err_line (const char *msg);

/* Discard an error the caller chose to tolerate. */
void err_clear (struct err **err);

#endif
