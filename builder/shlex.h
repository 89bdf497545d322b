/* Dockerfile word processing (moby/buildkit's shell lexer semantics, as
 * reference/buildfile.md sections 1-2 describe): quote removal, escapes
 * and ${VAR} substitution for the instructions that expand (ADD COPY ENV
 * EXPOSE FROM LABEL STOPSIGNAL USER VOLUME WORKDIR, and flags), never for
 * RUN/CMD/ENTRYPOINT, whose shell expands at run time. */
#ifndef IMGTOOL_SHLEX_H
#define IMGTOOL_SHLEX_H

struct err;

/* Returns the value of name, or NULL when it is not set. */
typedef const char *(*bf_lookup_fn) (void *ctx, const char *name);

/* Process one word: '...' is literal, "..." allows $ expansion and
 * escapes of " $ and the escape char, the escape char outside quotes makes
 * the next character literal, $VAR ${VAR} ${VAR:-w} ${VAR-w} ${VAR:+w}
 * ${VAR+w} ${VAR:?w} ${VAR?w} expand (an unset variable is ""). */
int bf_shlex_word (const char *word, char escape, bf_lookup_fn lookup,
                   void *ctx, char **out, struct err **err);

/* Expand a heredoc body as POSIX sh does for an unquoted delimiter: $
 * expansion and escapes of $ and the escape char; quotes are literal. */
int bf_shlex_heredoc (const char *body, char escape, bf_lookup_fn lookup,
                      void *ctx, char **out, struct err **err);

/* Split at unquoted whitespace, keeping quotes and escapes in the words
 * (buildkit's parseWords, used by ENV, LABEL and ARG). NULL-terminated. */
char **bf_shlex_split (const char *s, char escape);

#endif
