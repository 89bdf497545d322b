/* Listing a repository's tags: see registry/tags.h. */
#include "registry/tags.h"
#include "lib/err.h"
#include "lib/xalloc.h"
#include "registry/ref.h"
#include "registry/session.h"

#include <jansson.h>
#include <string.h>

/* Bounds on what a registry can make us follow. */
#define TAGS_MAX_PAGES 10000
#define TAGS_PAGE_MAX_BODY (16u << 20)

/* One page's "tags" (null for none) appended to *tags. */
static int
add_page (const struct http_response *resp, char ***tags, struct err **err)
{
  json_error_t je;
  json_t *doc = json_loadb (resp->body.buf, resp->body.len, 0, &je), *list, *t;
  size_t i;
  int ret = 0;
  list = json_is_object (doc) ? json_object_get (doc, "tags") : NULL;
  if (!doc || !json_is_object (doc)
      || (list && !json_is_null (list) && !json_is_array (list)))
    ret = err_set (err, 0, "malformed tag list");
  else if (json_is_array (list))
    json_array_foreach (list, i, t)
    {
      if (!json_is_string (t) || !ref_tag_valid (json_string_value (t)))
        {
          ret = err_set (err, 0, "malformed tag list: invalid tag");
          break;
        }
      strv_push (tags, xstrdup (json_string_value (t)));
    }
  json_decref (doc);
  return ret;
}

int
reg_list_tags (const struct reg_client_opts *co, const struct ref *r,
               char ***tags, struct err **err)
{
  struct reg_client c;
  struct reg_repo repo;
  _cleanup_free_ char *url = xasprintf ("/v2/%s/tags/list", r->path);
  _cleanup_strv_ char **seen = NULL;
  int ret = -1;

  *tags = NULL;
  if (reg_client_init (&c, co, err) < 0)
    return -1;
  if (reg_repo_init (&repo, &c, ref_api_host (r), r->domain, r->path, "pull",
                     err)
      < 0)
    {
      reg_client_release (&c);
      return -1;
    }
  for (int page = 0;; page++)
    {
      struct http_response resp = { 0 };
      struct http_request req = { .url = url,
                                  .accept = "application/json",
                                  .max_body = TAGS_PAGE_MAX_BODY };
      char *next = NULL;
      if (reg_repo_do (&repo, &req, &resp, err) < 0)
        goto page_out;
      if (resp.status != 200)
        {
          _cleanup_free_ char *t = reg_repo_denied_text (&repo, &resp);
          err_set (err, 0, "list the tags of %s/%s: %s", repo.host, repo.path,
                   t);
          goto page_out;
        }
      if (add_page (&resp, tags, err) < 0)
        goto page_out;
      if (resp.link_next)
        {
          /* relative to the page that named it; never the same twice */
          next = http_url_resolve (resp.url ? resp.url : repo.base,
                                   resp.link_next);
          for (char **s = seen; s && *s && next; s++)
            if (!strcmp (*s, next))
              err_set (err, 0,
                       "list the tags of %s/%s: the registry's "
                       "pages loop",
                       repo.host, repo.path);
          if (!*err && page + 1 >= TAGS_MAX_PAGES)
            err_set (err, 0, "list the tags of %s/%s: more than %d pages",
                     repo.host, repo.path, TAGS_MAX_PAGES);
        }
      http_response_release (&resp);
      if (*err)
        {
          free (next);
          break;
        }
      if (!next)
        {
          ret = 0;
          break;
        }
      strv_push (&seen, xstrdup (next));
      free (url);
      url = next;
      continue;
    page_out:
      http_response_release (&resp);
      break;
    }
  if (ret < 0)
    {
      strv_free (*tags);
      *tags = NULL;
    }
  reg_repo_release (&repo);
  reg_client_release (&c);
  return ret;
}
