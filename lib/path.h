/* Lexical path helpers (no filesystem access). */
#ifndef IMGTOOL_PATH_H
#define IMGTOOL_PATH_H

/* Go's filepath.Clean: the shortest lexically equivalent path. Repeated
 * slashes become one, "." elements go, "x/.." pairs go, ".." at the root
 * goes, a trailing slash goes; "" becomes ".". Caller frees. */
char *path_clean (const char *p);

#endif
