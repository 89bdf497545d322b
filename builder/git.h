/* Git sources for build contexts and ADD, through libgit2 (loaded on
 * first use: builder/git_lazy.c). docs/buildfile.md "Git sources".
 *
 * A git URL is docker's: git://..., git@host:path, github.com/...,
 * ssh://..., or an http(s):// (or file://) URL whose path ends in .git;
 * then #REF:SUBDIR, REF a branch, a tag or a commit (default: the
 * remote's HEAD), SUBDIR a directory in the checkout (default: its top). */
#ifndef IMGTOOL_BUILDER_GIT_H
#define IMGTOOL_BUILDER_GIT_H

#include <stdbool.h>

struct err;

/* Does spec name a git repository (see above)? */
bool build_git_is_url (const char *spec);

struct build_git_spec
{
  char *url;    /* without the fragment; github.com/ gets https:// */
  char *ref;    /* NULL: the remote's HEAD */
  char *subdir; /* NULL: the top */
};

/* Split spec into url, ref and subdir; a subdir that is absolute or
 * climbs with ".." is an error. */
int build_git_parse (const char *spec, struct build_git_spec *out,
                     struct err **err);
void build_git_spec_release (struct build_git_spec *s);

/* Clone spec into dir (missing or empty) and check out its ref there,
 * without .git unless keep_git_dir (BuildKit's default). *path (the
 * checkout's subdir, allocated) is what to use; *key (allocated) names
 * the source for a cache key: the URL, the ref, the subdir and the
 * resolved commit. Errors are not prefixed with spec: callers say
 * where it comes from. */
int build_git_checkout (const char *spec, const char *dir, bool keep_git_dir,
                        bool tls_verify, char **path, char **key,
                        struct err **err);

#endif
