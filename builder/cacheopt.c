/* --cache-from and --cache-to values, in buildx's syntax (builder.h):
 *
 *   type=registry,ref=R[,mode=min|max][,ignore-error=true|false]
 *   type=local,dest=DIR|src=DIR[,tag=T][,mode=...]
 *   R                    alone: type=registry,ref=R (docker buildx's)
 *
 * BuildKit's image-manifest and oci-mediatypes are accepted when true
 * (what imgtool writes anyway). Everything else is one error line. */
#include "builder/builder.h"
#include "lib/err.h"
#include "lib/xalloc.h"
#include "registry/ref.h"

#include <stdlib.h>
#include <string.h>

static int
bad (const char *arg, bool to, const char *why, const char *what,
     struct err **err)
{
  return err_set (err, 0, "invalid %s '%s': %s%s%s%s",
                  to ? "--cache-to" : "--cache-from", arg, why,
                  what ? " '" : "", what ? what : "", what ? "'" : "");
}

static void
spec_release (struct build_cache_spec *sp)
{
  free (sp->ref);
  free (sp->dir);
  free (sp->tag);
  memset (sp, 0, sizeof *sp);
}

static int
parse_bool (const char *v, bool *out)
{
  if (!strcmp (v, "true"))
    *out = true;
  else if (!strcmp (v, "false"))
    *out = false;
  else
    return -1;
  return 0;
}

static int
spec_parse (const char *arg, bool to, struct build_cache_spec *out,
            struct err **err)
{
  _cleanup_free_ char *copy = xstrdup (arg), *type = NULL, *ref = NULL;
  char *save = NULL;
  bool flag;
  memset (out, 0, sizeof *out);
  if (!strchr (arg, '='))
    ref = xstrdup (arg);
  else
    for (char *f = strtok_r (copy, ",", &save); f;
         f = strtok_r (NULL, ",", &save))
      {
        char *eq = strchr (f, '=');
        if (!eq || eq == f || !eq[1])
          {
            spec_release (out);
            return bad (arg, to, "expected KEY=VALUE, got", f, err);
          }
        *eq++ = '\0';
        char **slot = NULL;
        if (!strcmp (f, "type"))
          slot = &type;
        else if (!strcmp (f, "ref"))
          slot = &ref;
        else if (!strcmp (f, to ? "dest" : "src"))
          slot = &out->dir;
        else if (!strcmp (f, "tag"))
          slot = &out->tag;
        if (slot)
          {
            free (*slot);
            *slot = xstrdup (eq);
            continue;
          }
        int r = 0;
        if (to && !strcmp (f, "mode"))
          {
            if (strcmp (eq, "min") && strcmp (eq, "max"))
              r = bad (arg, to, "mode is min or max, not", eq, err);
            out->max = !strcmp (eq, "max");
          }
        else if (to && !strcmp (f, "ignore-error"))
          {
            if (parse_bool (eq, &out->ignore_error) < 0)
              r = bad (arg, to, "ignore-error is true or false, not", eq, err);
          }
        else if (to
                 && (!strcmp (f, "image-manifest")
                     || !strcmp (f, "oci-mediatypes")))
          {
            /* the only shape imgtool writes: an OCI image manifest */
            if (parse_bool (eq, &flag) < 0 || !flag)
              r = bad (arg, to, "only true is supported for", f, err);
          }
        else
          r = bad (arg, to, "unknown key", f, err);
        if (r < 0)
          {
            spec_release (out);
            return -1;
          }
      }
  int r = 0;
  if (!type)
    type = xstrdup (out->dir && !ref ? "local" : "registry");
  if (!strcmp (type, "registry"))
    {
      struct ref rr;
      out->type = BUILD_CACHE_REGISTRY;
      if (!ref || out->dir)
        r = bad (arg, to, "type=registry needs ref=REFERENCE (only)", NULL,
                 err);
      else if (ref_parse (ref, &rr, err) < 0)
        r = err_wrap (err, "invalid %s '%s'",
                      to ? "--cache-to" : "--cache-from", arg);
      else
        {
          out->ref = ref_string (&rr);
          ref_release (&rr);
        }
    }
  else if (!strcmp (type, "local"))
    {
      out->type = BUILD_CACHE_LOCAL;
      if (!out->dir || ref)
        r = bad (arg, to,
                 to ? "type=local needs dest=DIR" : "type=local needs src=DIR",
                 NULL, err);
      else if (!out->tag)
        out->tag = xstrdup ("latest");
    }
  else if (!strcmp (type, "inline"))
    r = bad (arg, to,
             "type=inline is not supported: use type=registry "
             "(docs/buildfile.md)",
             NULL, err);
  else
    r = err_set (err, 0,
                 "invalid %s '%s': type '%s' is not supported "
                 "(registry and local are)",
                 to ? "--cache-to" : "--cache-from", arg, type);
  if (r == 0 && out->tag && out->type == BUILD_CACHE_REGISTRY)
    r = bad (arg, to, "tag= is for type=local; give the tag in ref", NULL, err);
  if (r < 0)
    spec_release (out);
  return r;
}

int
build_cache_spec_add (struct build_cache_spec **v, size_t *n, const char *arg,
                      bool to, struct err **err)
{
  struct build_cache_spec sp;
  if (spec_parse (arg, to, &sp, err) < 0)
    return err_exit (err, 2);
  *v = xrealloc (*v, (*n + 1) * sizeof **v);
  (*v)[(*n)++] = sp;
  return 0;
}

void
build_cache_specs_free (struct build_cache_spec *v, size_t n)
{
  for (size_t i = 0; v && i < n; i++)
    spec_release (&v[i]);
  free (v);
}
