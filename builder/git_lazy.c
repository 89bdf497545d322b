/* libgit2, loaded on first use (lib/dynlib.h): it pulls in libssh2,
 * mbedtls, krb5 and more, which every exec would pay for; only builds
 * with a git context or ADD of a git URL use it. One stub per function
 * builder/git.c calls. */
#include "lib/dynlib.h"

#include <git2.h>

static struct dynlib git_lib = DYNLIB_INIT ("libgit2.so.1.5");

DYNLIB_STUB (git_lib, int, git_libgit2_init, (void), ())
DYNLIB_STUB (git_lib, int, git_libgit2_shutdown, (void), ())
DYNLIB_STUB (git_lib, const git_error *, git_error_last, (void), ())
DYNLIB_STUB (git_lib, int, git_clone,
             (git_repository * *out, const char *url, const char *local_path,
              const git_clone_options *options),
             (out, url, local_path, options))
DYNLIB_STUB (git_lib, int, git_clone_options_init,
             (git_clone_options * opts, unsigned int version), (opts, version))
DYNLIB_STUB (git_lib, int, git_checkout_options_init,
             (git_checkout_options * opts, unsigned int version),
             (opts, version))
DYNLIB_STUB (git_lib, int, git_revparse_single,
             (git_object * *out, git_repository *repo, const char *spec),
             (out, repo, spec))
DYNLIB_STUB (git_lib, const git_oid *, git_object_id, (const git_object *obj),
             (obj))
DYNLIB_STUB (git_lib, int, git_oid_fmt, (char *out, const git_oid *id),
             (out, id))
DYNLIB_STUB (git_lib, int, git_checkout_tree,
             (git_repository * repo, const git_object *treeish,
              const git_checkout_options *opts),
             (repo, treeish, opts))
DYNLIB_STUB (git_lib, int, git_repository_set_head_detached,
             (git_repository * repo, const git_oid *committish),
             (repo, committish))
DYNLIB_STUB_VOID (git_lib, git_object_free, (git_object * object), (object))
DYNLIB_STUB_VOID (git_lib, git_repository_free, (git_repository * repo), (repo))
DYNLIB_STUB (git_lib, int, git_credential_ssh_key_from_agent,
             (git_credential * *out, const char *username), (out, username))

/* libgit2 1.5 leaks pcre2 match data whenever a pattern does not match
 * (git_regexp_match returns before pcre2_match_data_free; fixed in later
 * releases), a few per clone. Not ours to free: the sanitizer build
 * (SAN=1) is told to ignore leaks from inside libpcre2, which nothing else
 * here uses. LeakSanitizer calls this hook, if defined, at start-up. */
const char *__lsan_default_suppressions (void);
const char *
__lsan_default_suppressions (void)
{
  return "leak:libpcre2-8.so\n";
}

/* ... quietly: the list of suppressions used would end up in the output */
const char *__lsan_default_options (void);
const char *
__lsan_default_options (void)
{
  return "print_suppressions=0";
}
