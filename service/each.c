/* stop, kill and rm of many containers: all at once, each with its own
 * grace period (docker and podman do the same), so `stop -t 1` of 100
 * takes about one second rather than a hundred. One thread per container,
 * at most EACH_THREADS at a time; each opens the store itself. */
#include "lib/err.h"
#include "lib/xalloc.h"
#include "service/service.h"

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#define EACH_THREADS 256

struct each
{
  const char *root, *config_path;
  char **names;
  size_t n;
  atomic_size_t next;
  svc_fn fn;
  void *data;
  struct err **errs;
};

static void
each_one (struct each *w, size_t i)
{
  struct svc s;
  struct svc_container c = { 0 };
  struct err **e = &w->errs[i];
  if (svc_open (&s, w->root, w->config_path, e) < 0)
    return;
  if (svc_load (&s, w->names[i], &c, e) == 0)
    w->fn (&s, &c, w->data, e);
  svc_container_release (&c);
  svc_close (&s);
}

static void *
worker (void *arg)
{
  struct each *w = arg;
  for (size_t i; (i = atomic_fetch_add (&w->next, 1)) < w->n;)
    each_one (w, i);
  return NULL;
}

size_t
svc_each (const char *root, const char *config_path, char **names, svc_fn fn,
          void *data, struct err **errs)
{
  struct each w = { .root = root,
                    .config_path = config_path,
                    .names = names,
                    .n = strv_len (names),
                    .fn = fn,
                    .data = data,
                    .errs = errs };
  size_t n_threads = w.n < EACH_THREADS ? w.n : EACH_THREADS, started = 0;
  pthread_t *t = xcalloc (n_threads + 1, sizeof *t);
  pthread_attr_t attr;
  size_t failed = 0;

  atomic_init (&w.next, 0);
  memset (errs, 0, w.n * sizeof *errs);
  pthread_attr_init (&attr);
  pthread_attr_setstacksize (&attr, 1u << 20);
  /* the calling thread works too; a thread that cannot be made only
   * means fewer at once */
  for (size_t i = 1; i < n_threads; i++)
    if (pthread_create (&t[started], &attr, worker, &w) == 0)
      started++;
  pthread_attr_destroy (&attr);
  worker (&w);
  for (size_t i = 0; i < started; i++)
    pthread_join (t[i], NULL);
  free (t);
  for (size_t i = 0; i < w.n; i++)
    failed += errs[i] != NULL;
  return failed;
}

int
svc_each_record (const char *root, const char *config_path, svc_record_fn fn,
                 void *data, struct err **err)
{
  struct svc s;
  _cleanup_strv_ char **ids = NULL;
  if (svc_open (&s, root, config_path, err) < 0)
    return -1;
  if (rt_record_list (&s.cs, &ids, err) < 0)
    {
      svc_close (&s);
      return -1;
    }
  for (char **id = ids; *id; id++)
    {
      struct rt_record rec;
      struct err *e = NULL;
      memset (&rec, 0, sizeof rec);
      if (svc_load_id (&s, *id, &rec, &e) == 0)
        fn (&s, &rec, data);
      err_free (e);
      rt_record_release (&rec);
    }
  svc_close (&s);
  return 0;
}
