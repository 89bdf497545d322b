/* Volumes on disk, as docker's local driver keeps them:
 *
 *   <root>/volumes/                0701
 *   <root>/volumes/lock            flock: shared while a container is made
 *                                  with volumes (from naming them to its
 *                                  record written), exclusive for rm and
 *                                  prune (so a volume in use is seen)
 *   <root>/volumes/NAME/           0701
 *       _data/                     0755, what the container mounts
 *       volume.json                CreatedAt, Labels, Options
 *       copy-up                    while the image's content is copied in
 *                                  (rt_volume_copy_up); a killed copy is
 *                                  redone from an empty _data
 *   <root>/volumes/.new-X/         a volume being made: renamed to NAME
 *                                  when complete, so no half-made volume
 *                                  ever has a name
 *   <root>/volumes/.removing-X/    one being deleted, out of sight
 *
 * Anonymous volumes carry docker's label com.docker.volume.anonymous. The
 * containers using a volume are found in their records (runtime/state.h):
 * a stopped container holds its volumes too. */
#ifndef IMGTOOL_VOLUME_H
#define IMGTOOL_VOLUME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct err;
struct rt_containers;
struct rt_mount;

#define RT_VOLUME_ANON_LABEL "com.docker.volume.anonymous"

struct rt_volume
{
  char *name;
  char *mountpoint; /* <root>/volumes/NAME/_data */
  time_t created;
  char **labels; /* "K=V", in the order given */
  bool anonymous;
};

struct rt_volumes
{
  char *path; /* <root>/volumes */
  int fd;
};

int rt_volumes_open (struct rt_volumes *vs, const char *store_root,
                     struct err **err);
void rt_volumes_release (struct rt_volumes *vs);
/* The volumes lock (op LOCK_SH or LOCK_EX); close the fd to let go. */
int rt_volumes_lock (struct rt_volumes *vs, int op, struct err **err);

/* docker's rule for a local volume's name: [a-zA-Z0-9][a-zA-Z0-9_.-]+. */
bool rt_volume_name_valid (const char *name);

/* Make a volume (name NULL: an anonymous one, 64 random hex digits);
 * one that exists already is loaded instead (*made false). */
int rt_volume_create (struct rt_volumes *vs, const char *name,
                      char *const *labels, bool anonymous,
                      struct rt_volume *out, bool *made, struct err **err);
/* Errors: no such volume: 'x'. */
int rt_volume_load (struct rt_volumes *vs, const char *name,
                    struct rt_volume *out, struct err **err);
/* Every volume's name, sorted as docker's ls sorts them. */
int rt_volume_list (struct rt_volumes *vs, char ***names, struct err **err);
/* Remove it and its data (the caller has checked it is unused); *bytes
 * gets the size of its data. Renamed out of sight first, then deleted. */
int rt_volume_remove (struct rt_volumes *vs, const char *name, uint64_t *bytes,
                      struct err **err);
/* Delete what killed creators and removers left (under LOCK_EX). */
void rt_volumes_sweep (struct rt_volumes *vs);
void rt_volume_release (struct rt_volume *v);
/* "K=V" labels ("K" alone: an empty value) as a JSON object. */
typedef struct json_t json_t;
json_t *rt_volume_labels_json (char *const *labels);

/* Which containers use which volume: each record's volume mounts, as
 * parallel vectors (names[i] is used by ids[i]). */
struct rt_volume_users
{
  char **names;
  char **ids;
};
int rt_volume_users_scan (struct rt_containers *cs, struct rt_volume_users *u,
                          struct err **err);
/* The ids of the containers using name ("" when none), comma-separated. */
char *rt_volume_users_of (const struct rt_volume_users *u, const char *name);
void rt_volume_users_release (struct rt_volume_users *u);

/* In the container's child, before a volume is mounted (mounts.c): when
 * its _data is empty and the image has a directory at the destination,
 * copy that directory's content in, with owners, modes, times, xattrs,
 * symlinks and hard links, and give _data the directory's owner and mode
 * (docker's copy-up). Under an flock on _data; a copy killed midway is
 * found by its copy-up marker and redone. */
int rt_volume_copy_up (int rootfd, const struct rt_mount *m, struct err **err);

#endif
