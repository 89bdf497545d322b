/* Shared libraries loaded on first use (dlopen) instead of at exec.
 *
 * Why: the dynamic loader maps and relocates every DT_NEEDED library, and
 * their dependencies, before main() on every start. libcurl alone pulls in
 * ~30 libraries (gnutls, krb5, ldap, ssh2, ...) and cost ~6.5 ms per exec
 * here, most of `imgtool run`'s own time, although only the commands that
 * talk to a registry use it. A module that wraps such a library defines
 * stubs with the library's own names (DYNLIB_STUB) that resolve the real
 * function on their first call, and the binary is not linked against it.
 *
 * A library or symbol that cannot be loaded ends the program with the
 * dynamic loader's message and status (127), as a missing DT_NEEDED
 * library does at exec: there is no error path through a foreign API. */
#ifndef IMGTOOL_DYNLIB_H
#define IMGTOOL_DYNLIB_H

#include <pthread.h>

struct dynlib
{
  const char *soname; /* e.g. "libcurl.so.4": the ABI the headers match */
  void *handle;       /* set once, under lock */
  pthread_mutex_t lock;
};

#define DYNLIB_INIT(so)                                                        \
  {                                                                            \
    (so), NULL, PTHREAD_MUTEX_INITIALIZER                                      \
  }

/* The address of name in lib, loading lib on first use (thread-safe).
 * Never NULL: failures are fatal, see above. */
void *dynlib_sym (struct dynlib *lib, const char *name);

/* true if lib has been loaded (for tests). */
int dynlib_loaded (struct dynlib *lib);

/* Define `ret name params` that calls the real `name` of lib with args,
 * resolved once. For void functions use DYNLIB_STUB_VOID. Variadic
 * functions need a hand-written stub around dynlib_fn. */
#define DYNLIB_STUB(lib, ret, name, params, args)                              \
  ret name params                                                              \
  {                                                                            \
    static void *fn_;                                                          \
    return ((ret (*) params)dynlib_fn (&(lib), &fn_, #name))args;              \
  }

#define DYNLIB_STUB_VOID(lib, name, params, args)                              \
  void name params                                                             \
  {                                                                            \
    static void *fn_;                                                          \
    ((void (*) params)dynlib_fn (&(lib), &fn_, #name)) args;                   \
  }

/* For hand-written stubs: *slot, resolved on first use. */
void *dynlib_fn (struct dynlib *lib, void **slot, const char *name);

#endif
