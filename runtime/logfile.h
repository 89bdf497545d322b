/* A container's log in docker's json-file form (one entry a line):
 *   {"log":"a whole
 * line\n","stream":"stdout","time":"2024-05-01T10:00:00.123456789Z"} A line
 * longer than 16 KiB is cut into entries without the '\n', as docker's copier
 * does; the entry that ends the line has it. With a size cap (--log-opt
 * max-size, max-file) the file rotates before the entry that finds it full:
 * <path>.1 is the newest of the older files, up to <path>.<max-file - 1>. The
 * writer is the container's monitor; `logs` reads (rt_log_files,
 * rt_log_entry_parse). */
#ifndef IMGTOOL_LOGFILE_H
#define IMGTOOL_LOGFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct err;
struct strbuf;

/* The log driver of a container (run --log-driver, --log-opt). */
struct rt_log_config
{
  char *driver;     /* "json-file" (NULL is the same) or "none" */
  int64_t max_size; /* bytes, 0 = no cap */
  int max_file;     /* files kept with max_size, >= 1 */
  bool compress;    /* rotated files gzip-compressed: <path>.N.gz */
  /* docker's attrs options (logattrs.c): label keys, env keys (comma
   * lists), regexes over them, the tag template; NULL when not given */
  char *labels, *labels_regex, *env, *env_regex, *tag;
};

/* Parse --log-driver (NULL: json-file) and the --log-opt k=v vector
 * (NULL-terminated or NULL) as docker does: max-size in decimal units
 * ("10m" = 10,000,000), max-file >= 1, k8s-file taken as json-file.
 * Errors exit 125. */
int rt_log_config_parse (const char *driver, char *const *opts,
                         struct rt_log_config *out, struct err **err);
void rt_log_config_release (struct rt_log_config *c);
/* Whether the driver keeps a file that `logs` reads. */
bool rt_log_config_readable (const struct rt_log_config *c);

struct rt_log;
/* Open (append to) the log at path; c gives the cap (NULL: none). */
struct rt_log *rt_log_open (const char *path, const struct rt_log_config *c,
                            struct err **err);
/* Log a chunk of the container's output; stream 1 stdout, 2 stderr. */
void rt_log_write (struct rt_log *l, int stream, const char *buf, size_t len);
/* Each entry's "attrs" from now on: a JSON object's text (rt_log_attrs),
 * or NULL for none. */
void rt_log_set_attrs (struct rt_log *l, const char *attrs);
/* Flush unterminated lines and close. NULL is fine. */
void rt_log_close (struct rt_log *l);

/* One entry as read back. text points into the caller's buffer. */
struct rt_log_entry
{
  int64_t time_ns; /* since the epoch, UTC */
  int stream;      /* 1 stdout, 2 stderr */
  const char *text;
  size_t len; /* with the '\n' when the entry ends a line */
};
/* Parse one line (without its '\n'); text goes to buf. False if it is not
 * an entry. */
bool rt_log_entry_parse (const char *line, size_t len, struct rt_log_entry *e,
                         struct strbuf *buf);

/* The files of the log at path, oldest first (path.N ... path.1, path;
 * a rotated one compressed as path.N.gz), those that exist.
 * NULL-terminated, allocated. */
char **rt_log_files (const char *path);
/* Compress path into path.gz and remove path (loggz.c). */
int rt_log_gzip (const char *path, struct err **err);
/* Open one of them for reading: a .gz one decompressed (into a memfd). */
int rt_log_open_read (const char *file, struct err **err);

/* The attrs of a container's entries (logattrs.c): docker's json-file
 * ExtraAttributes for --log-opt labels, labels-regex, env, env-regex,
 * plus "tag" rendered from the tag template ({{.ID}} {{.FullID}}
 * {{.Name}} {{.ImageID}} {{.ImageFullID}} {{.ImageName}} {{.DaemonName}}
 * {{.Hostname}} {{.Command}}). The JSON object's text with sorted keys,
 * or NULL when there are none. */
struct rt_record;
char *rt_log_attrs (const struct rt_record *rec);
/* Check what parse took: the regexes compile, the tag template parses. */
int rt_log_attrs_check (const struct rt_log_config *c, struct err **err);

/* "2024-05-01T10:00:00.1234Z" (RFC3339Nano: trailing zeros trimmed) or
 * with fixed nine digits (docker logs -t); buf of 40 bytes. */
void rt_log_time_format (int64_t ns, bool fixed, char *buf, size_t len);

#endif
