/* .dockerignore: which context paths COPY and ADD may see (moby's
 * patternmatcher semantics, reference/buildfile.md ".dockerignore").
 *
 * One pattern per line; a line starting with "#" is a comment; lines are
 * trimmed and cleaned like Go's filepath.Clean, a leading "/" is dropped
 * (so "/foo", "./foo" and "foo/" are all "foo"); "!" re-includes. Patterns
 * use Go's filepath.Match ("*" and "?" do not cross "/", "[a-z]" classes,
 * "\" escapes) plus "**" for any number of directories, zero included.
 * The last pattern that matches a path, or one of its parent directories,
 * decides. */
#ifndef IMGTOOL_IGNORE_H
#define IMGTOOL_IGNORE_H

#include <stdbool.h>
#include <stddef.h>

struct err;

struct bf_ignore_pat
{
  char *pattern;  /* cleaned, without "!" */
  bool exclusion; /* a "!" line */
};

struct bf_ignore
{
  struct bf_ignore_pat *v;
  size_t n;
};

/* Parse the text of an ignore file. A malformed pattern (an unclosed
 * "[") is an error naming file:line. */
int bf_ignore_parse (const char *text, size_t len, const char *file,
                     struct bf_ignore **out, struct err **err);
/* Read the ignore file for a build: "<buildfile>.dockerignore" next to
 * the Buildfile if it exists, else ".dockerignore", else
 * ".containerignore" in the context dir. No file: an empty set (*out is
 * never NULL on success). buildfile may be NULL (stdin). */
int bf_ignore_load (int context_fd, const char *buildfile,
                    struct bf_ignore **out, struct err **err);
void bf_ignore_free (struct bf_ignore *ig);

/* Is path (relative to the context, "/"-separated) excluded? */
bool bf_ignore_match (const struct bf_ignore *ig, const char *path);
/* Does any "!" pattern exist? If not, an excluded directory can be
 * skipped without looking inside. */
bool bf_ignore_has_exceptions (const struct bf_ignore *ig);

/* One Go filepath.Match-style pattern (with "**") against a whole path. */
bool bf_glob_match (const char *pattern, const char *path);
/* Is the pattern well formed (brackets closed, no trailing "\")? */
bool bf_glob_valid (const char *pattern);

#endif
