/* Background work that nobody waits for: the snapshot flusher and
 * remover, the remover of a `run --rm` container's files. */
#ifndef IMGTOOL_DETACH_H
#define IMGTOOL_DETACH_H

/* In a freshly forked child: a session of its own, stdio on /dev/null,
 * keep_fd moved to fd 3 and every other fd closed, so nothing of the
 * caller's (a pty, a lock, a pipe a shell reads to its end) stays open in
 * it. Returns 3, or -1 when keep_fd could not be moved (the child should
 * then just _exit). */
int detach_self (int keep_fd);

#endif
