/* The tags of a repository, as `pull --all-tags` needs them:
 * GET /v2/<name>/tags/list, page after page while the registry answers
 * with a Link header whose rel="next" names the next page (distribution
 * spec, "Listing Tags"). */
#ifndef IMGTOOL_REG_TAGS_H
#define IMGTOOL_REG_TAGS_H

struct err;
struct ref;
struct reg_client_opts;

/* Every tag of r's repository (its tag and digest are ignored), in the
 * registry's order, into *tags (NULL-terminated, possibly empty). */
int reg_list_tags (const struct reg_client_opts *co, const struct ref *r,
                   char ***tags, struct err **err);

#endif
