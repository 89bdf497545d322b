/* Libraries loaded on first use (see dynlib.h). */
#include "lib/dynlib.h"

#include <dlfcn.h>
#include <stdio.h>
#include <unistd.h>

static void __attribute__ ((noreturn)) fatal (const char *what)
{
  /* the dynamic loader's own wording and status for a missing library */
  fprintf (stderr, "imgtool: error while loading shared libraries: %s\n",
           what ? what : "unknown error");
  fflush (stderr);
  _exit (127);
}

static void *
handle_of (struct dynlib *lib)
{
  void *h = __atomic_load_n (&lib->handle, __ATOMIC_ACQUIRE);
  if (h)
    return h;
  pthread_mutex_lock (&lib->lock);
  h = lib->handle;
  if (!h)
    {
      /* RTLD_LOCAL: its symbols never interpose ours or another's */
      h = dlopen (lib->soname, RTLD_NOW | RTLD_LOCAL);
      if (!h)
        fatal (dlerror ());
      __atomic_store_n (&lib->handle, h, __ATOMIC_RELEASE);
    }
  pthread_mutex_unlock (&lib->lock);
  return h;
}

void *
dynlib_sym (struct dynlib *lib, const char *name)
{
  void *p = dlsym (handle_of (lib), name);
  if (!p)
    fatal (dlerror ());
  return p;
}

int
dynlib_loaded (struct dynlib *lib)
{
  return __atomic_load_n (&lib->handle, __ATOMIC_ACQUIRE) != NULL;
}

void *
dynlib_fn (struct dynlib *lib, void **slot, const char *name)
{
  void *p = __atomic_load_n (slot, __ATOMIC_ACQUIRE);
  if (!p)
    {
      p = dynlib_sym (lib, name);
      __atomic_store_n (slot, p, __ATOMIC_RELEASE);
    }
  return p;
}
