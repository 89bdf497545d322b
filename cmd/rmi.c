/* imgtool rmi [-f] IMAGE...: remove names, then the blobs that neither a
 * name nor a container reaches. As docker: a name whose image a container
 * uses goes only with -f (the image stays for the container, unnamed, until
 * prune after the container is gone); by ID, an image with several names
 * or a stopped container needs -f, and one a running container uses is
 * refused even with -f. */
#include "cmd/command.h"
#include "cmd/containers.h"
#include "cmd/lookup.h"
#include "cmd/opttable.h"
#include "layers/image_store.h"
#include "lib/err.h"
#include "lib/xalloc.h"
#include "registry/ref.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

static const char usage_text[] = "imgtool rmi [-f] IMAGE...";

struct rmi
{
  struct store s;
  bool force;
  struct container_use *uses;
  size_t n_uses;
};

/* Did the user name the image by this stored name (not by its ID)? */
static bool
named (const char *user, const char *name)
{
  struct ref r;
  struct err *e = NULL;
  bool same;
  if (ref_parse (user, &r, &e) < 0)
    {
      err_free (e);
      return false;
    }
  _cleanup_free_ char *full = ref_string (&r);
  same = !strcmp (full, name);
  ref_release (&r);
  return same;
}

/* The names of the image ref points at: those pointing at the same
 * document or at an image with the same ID. */
static int
image_names (struct store *s, const struct store_ref *ref, const char *id,
             char ***names, struct err **err)
{
  struct store_ref *refs;
  size_t n;
  if (store_ref_list (s, &refs, &n, err) < 0)
    return -1;
  for (size_t i = 0; i < n; i++)
    {
      _cleanup_free_ char *other = id ? lookup_image_id (s, &refs[i]) : NULL;
      if (!strcmp (refs[i].digest, ref->digest)
          || (other && !strcmp (other, id)))
        strv_push (names, xstrdup (refs[i].name));
    }
  store_refs_free (refs, n);
  return 0;
}

/* The first running and the first stopped container made from an image
 * whose blobs (its platforms' configs among them) are blobs. */
static void
image_users (const struct rmi *x, char *const *blobs,
             const struct container_use **running,
             const struct container_use **stopped)
{
  *running = *stopped = NULL;
  for (size_t i = 0; i < x->n_uses; i++)
    {
      const struct container_use *u = &x->uses[i];
      const struct container_use **slot = u->running ? running : stopped;
      if (!u->image_id || *slot)
        continue;
      for (char *const *b = blobs; b && *b; b++)
        if (!strcmp (*b, u->image_id))
          {
            *slot = u;
            break;
          }
    }
}

static int
untag (struct store *s, const char *name, struct err **err)
{
  struct ref r;
  struct err *ignored = NULL;
  if (store_ref_remove (s, name, err) < 0)
    return -1;
  if (ref_parse (name, &r, &ignored) == 0)
    {
      _cleanup_free_ char *shown = ref_familiar (&r);
      printf ("Untagged: %s\n", shown);
      ref_release (&r);
    }
  err_free (ignored);
  return 0;
}

static int
rmi_one (struct rmi *x, const char *user, struct err **err)
{
  struct store_ref ref;
  _cleanup_free_ char *id = NULL;
  _cleanup_strv_ char **names = NULL, **blobs = NULL;
  const struct container_use *running, *stopped;
  const char *short_id;
  int ret = -1;

  if (lookup_image (&x->s, user, &ref, err) < 0)
    return -1;
  id = lookup_image_id (&x->s, &ref);
  short_id = (id ? id : ref.digest) + 7;
  if (image_names (&x->s, &ref, id, &names, err) < 0
      || image_reachable_blobs (&x->s, ref.digest, &blobs, err) < 0)
    goto out;
  if (id)
    strv_push (&blobs, xstrdup (id));
  image_users (x, blobs, &running, &stopped);

  if (named (user, ref.name))
    {
      /* The last name of an image a container uses: only with -f. */
      if (!x->force && strv_len (names) == 1 && (running || stopped))
        {
          err_set (err, 0,
                   "conflict: unable to remove repository reference \"%s\" "
                   "(must force) - container %.12s is using its referenced "
                   "image %.12s",
                   user, (running ? running : stopped)->id, short_id);
          goto out;
        }
      ret = untag (&x->s, ref.name, err);
      goto out;
    }
  /* By ID: every name goes. */
  if (running)
    err_set (err, 0,
             "conflict: unable to delete %.12s (cannot be forced) - image is "
             "being used by running container %.12s",
             short_id, running->id);
  else if (!x->force && strv_len (names) > 1)
    err_set (err, 0,
             "conflict: unable to delete %.12s (must be forced) - image is "
             "referenced in multiple repositories",
             short_id);
  else if (!x->force && stopped)
    err_set (err, 0,
             "conflict: unable to delete %.12s (must be forced) - image is "
             "being used by stopped container %.12s",
             short_id, stopped->id);
  if (*err)
    goto out;
  ret = 0;
  for (char **n = names; n && *n && ret == 0; n++)
    ret = untag (&x->s, *n, err);
out:
  store_ref_release (&ref);
  return ret;
}

static const struct cmd_opt rmi_opts[] = {
  CMD_OPT ("force", 'f', NULL, 0, "Force removal of the image", "--force"),
  CMD_OPT_HELP,
  CMD_OPT_END,
};

const struct cmd_spec cmd_rmi_spec = {
  .name = "rmi",
  .usage = usage_text,
  .opts = rmi_opts,
};

COMMAND (rmi)
{
  struct rmi x = { .force = false };
  uint64_t freed_bytes;
  size_t freed_blobs;
  int c, ret = 0;

  while ((c = cmd_getopt (argc, argv, &cmd_rmi_spec)) != -1)
    switch (c)
      {
      case 'f':
        x.force = cmd_optbool;
        break;
      case CMD_OPT_HELP_ID:
        return 0;
      default:
        return command_bad_option (err);
      }
  if (optind >= argc)
    return command_usage_error (usage_text, err);
  if (command_rootless ("rmi", 1, err) < 0)
    return -1;
  if (store_open (&x.s, g->root, err) < 0)
    return -1;
  if (containers_uses (g->root, &x.uses, &x.n_uses, err) < 0)
    {
      store_release (&x.s);
      return -1;
    }
  for (int i = optind; i < argc && ret == 0; i++)
    ret = rmi_one (&x, argv[i], err);
  /* docker frees an image's data with its last name: do the same, but
   * keep what containers use. */
  if (ret == 0
      && containers_store_gc (&x.s, x.uses, x.n_uses, &freed_bytes,
                              &freed_blobs, err)
             == 0
      && freed_blobs)
    printf ("Deleted: %zu blobs\n", freed_blobs);
  containers_uses_free (x.uses, x.n_uses);
  store_release (&x.s);
  return ret;
}
