/* libcurl, loaded on the first call of one of its functions (see
 * lib/dynlib.h: loading it and its ~30 dependencies at every exec cost
 * ~6.5 ms, most of `imgtool run`'s time, for commands that never use the
 * network). One stub per libcurl function imgtool calls; the link fails
 * on a new one until it is added here. The headers are libcurl 7.88's,
 * so the ABI is that of libcurl.so.4. */
#define CURL_DISABLE_TYPECHECK /* the stubs define what the macros wrap */
#include "lib/dynlib.h"

#include <curl/curl.h>
#include <stdarg.h>

static struct dynlib curl_lib = DYNLIB_INIT ("libcurl.so.4");

typedef void (*any_fn) (void);

/* The variadic ones take exactly one more argument, whose type follows
 * from the option number (curl's own Curl_vsetopt reads it the same way),
 * so the stub reads it with that type and passes it on. */
CURLcode
curl_easy_setopt (CURL *curl, CURLoption option, ...)
{
  static void *fn_;
  CURLcode (*f) (CURL *, CURLoption, ...)
      = (CURLcode (*) (CURL *, CURLoption, ...))dynlib_fn (&curl_lib, &fn_,
                                                           "curl_easy_setopt");
  CURLcode rc;
  va_list ap;
  va_start (ap, option);
  if (option < CURLOPTTYPE_OBJECTPOINT)
    rc = f (curl, option, va_arg (ap, long));
  else if (option < CURLOPTTYPE_FUNCTIONPOINT)
    rc = f (curl, option, va_arg (ap, void *));
  else if (option < CURLOPTTYPE_OFF_T)
    rc = f (curl, option, va_arg (ap, any_fn));
  else if (option < CURLOPTTYPE_BLOB)
    rc = f (curl, option, va_arg (ap, curl_off_t));
  else
    rc = f (curl, option, va_arg (ap, void *));
  va_end (ap);
  return rc;
}

/* Every CURLINFO takes a pointer to the result. */
CURLcode
curl_easy_getinfo (CURL *curl, CURLINFO info, ...)
{
  static void *fn_;
  CURLcode (*f) (CURL *, CURLINFO, ...)
      = (CURLcode (*) (CURL *, CURLINFO, ...))dynlib_fn (&curl_lib, &fn_,
                                                         "curl_easy_getinfo");
  CURLcode rc;
  va_list ap;
  va_start (ap, info);
  rc = f (curl, info, va_arg (ap, void *));
  va_end (ap);
  return rc;
}

/* SHARE and UNSHARE take an int (curl_lock_data), the lock functions a
 * function pointer, USERDATA a pointer. */
CURLSHcode
curl_share_setopt (CURLSH *share, CURLSHoption option, ...)
{
  static void *fn_;
  CURLSHcode (*f) (CURLSH *, CURLSHoption, ...)
      = (CURLSHcode (*) (CURLSH *, CURLSHoption, ...))dynlib_fn (
          &curl_lib, &fn_, "curl_share_setopt");
  CURLSHcode rc;
  va_list ap;
  va_start (ap, option);
  switch (option)
    {
    case CURLSHOPT_SHARE:
    case CURLSHOPT_UNSHARE:
      rc = f (share, option, va_arg (ap, int));
      break;
    case CURLSHOPT_LOCKFUNC:
    case CURLSHOPT_UNLOCKFUNC:
      rc = f (share, option, va_arg (ap, any_fn));
      break;
    default:
      rc = f (share, option, va_arg (ap, void *));
      break;
    }
  va_end (ap);
  return rc;
}

DYNLIB_STUB (curl_lib, CURLcode, curl_global_init, (long flags), (flags))
DYNLIB_STUB (curl_lib, CURL *, curl_easy_init, (void), ())
DYNLIB_STUB (curl_lib, CURLcode, curl_easy_perform, (CURL * c), (c))
DYNLIB_STUB_VOID (curl_lib, curl_easy_cleanup, (CURL * c), (c))
DYNLIB_STUB_VOID (curl_lib, curl_easy_reset, (CURL * c), (c))
DYNLIB_STUB (curl_lib, const char *, curl_easy_strerror, (CURLcode rc), (rc))
DYNLIB_STUB (curl_lib, CURLM *, curl_multi_init, (void), ())
DYNLIB_STUB (curl_lib, CURLMcode, curl_multi_cleanup, (CURLM * m), (m))
DYNLIB_STUB (curl_lib, CURLMcode, curl_multi_add_handle, (CURLM * m, CURL *c),
             (m, c))
DYNLIB_STUB (curl_lib, CURLMcode, curl_multi_remove_handle,
             (CURLM * m, CURL *c), (m, c))
DYNLIB_STUB (curl_lib, CURLMcode, curl_multi_perform, (CURLM * m, int *running),
             (m, running))
DYNLIB_STUB (curl_lib, CURLMcode, curl_multi_poll,
             (CURLM * m, struct curl_waitfd extra_fds[],
              unsigned int extra_nfds, int timeout_ms, int *ret),
             (m, extra_fds, extra_nfds, timeout_ms, ret))
DYNLIB_STUB (curl_lib, CURLMsg *, curl_multi_info_read,
             (CURLM * m, int *msgs_in_queue), (m, msgs_in_queue))
DYNLIB_STUB (curl_lib, CURLSH *, curl_share_init, (void), ())
DYNLIB_STUB (curl_lib, CURLSHcode, curl_share_cleanup, (CURLSH * s), (s))
DYNLIB_STUB (curl_lib, CURLU *, curl_url, (void), ())
DYNLIB_STUB_VOID (curl_lib, curl_url_cleanup, (CURLU * u), (u))
DYNLIB_STUB (curl_lib, CURLUcode, curl_url_set,
             (CURLU * u, CURLUPart what, const char *part, unsigned int flags),
             (u, what, part, flags))
DYNLIB_STUB (curl_lib, CURLUcode, curl_url_get,
             (CURLU * u, CURLUPart what, char **part, unsigned int flags),
             (u, what, part, flags))
DYNLIB_STUB (curl_lib, struct curl_slist *, curl_slist_append,
             (struct curl_slist * l, const char *s), (l, s))
DYNLIB_STUB_VOID (curl_lib, curl_slist_free_all, (struct curl_slist * l), (l))
DYNLIB_STUB_VOID (curl_lib, curl_free, (void *p), (p))
DYNLIB_STUB (curl_lib, curl_version_info_data *, curl_version_info,
             (CURLversion v), (v))
DYNLIB_STUB (curl_lib, time_t, curl_getdate,
             (const char *p, const time_t *unused), (p, unused))
