/* containers-registries.d(5), the one setting imgtool reads:
 * use-sigstore-attachments. imgtool looks up (and writes) .sig tags as
 * cosign does, unless the most specific scope of the image in these
 * files sets it to false:
 *
 *   docker:
 *     reg.example/team:
 *       use-sigstore-attachments: false
 *   default-docker:
 *     use-sigstore-attachments: false
 *
 * Files: every *.yaml in ~/.config/containers/registries.d if that
 * directory exists, else in /etc/containers/registries.d. Only this
 * subset of YAML (block maps, "key: value") is read. */
#ifndef IMGTOOL_TRUST_REGD_H
#define IMGTOOL_TRUST_REGD_H

#include <stdbool.h>

/* May .sig tags of repository name ("host/repo") be used? */
bool trust_regd_use_attachments (const char *name);

/* The same over one file's text (for tests): 1 true, 0 false, -1 when
 * the text says nothing for name. */
int trust_regd_text (const char *text, const char *name, int *depth);

#endif
