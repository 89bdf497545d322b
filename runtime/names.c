/* Container ids and names: random ids, docker's random names, and the
 * rule for a name a user gives (names.h). */
#include "runtime/names.h"
#include "lib/xalloc.h"
#include "runtime/state.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

char *
rt_new_id (void)
{
  unsigned char b[RT_ID_HEX / 2];
  char *id = xmalloc (RT_ID_HEX + 1);
  for (;;)
    {
      bool digits = true;
      if (getrandom (b, sizeof b, 0) != (ssize_t)sizeof b)
        abort ();
      for (size_t i = 0; i < sizeof b; i++)
        sprintf (id + 2 * i, "%02x", b[i]);
      /* docker: an all-digit short id would read as a number */
      for (int i = 0; i < RT_SHORT_ID; i++)
        digits &= isdigit ((unsigned char)id[i]) != 0;
      if (!digits)
        return id;
    }
}

static const char *const adjectives[]
    = { "admiring", "bold",    "brave",   "busy",     "calm",   "clever",
        "cool",     "eager",   "elegant", "festive",  "gentle", "happy",
        "jolly",    "keen",    "kind",    "lucid",    "modest", "nifty",
        "quirky",   "relaxed", "serene",  "sharp",    "stoic",  "sweet",
        "tender",   "upbeat",  "vibrant", "wizardly", "zealous" };
static const char *const surnames[]
    = { "babbage", "bohr",    "curie",    "darwin",  "dijkstra", "einstein",
        "euler",   "fermi",   "gauss",    "hopper",  "hypatia",  "kepler",
        "knuth",   "lamarr",  "lovelace", "meitner", "newton",   "noether",
        "pascal",  "ritchie", "shannon",  "tesla",   "thompson", "torvalds",
        "turing",  "wozniak" };

char *
rt_random_name (void)
{
  unsigned r[2];
  if (getrandom (r, sizeof r, 0) != (ssize_t)sizeof r)
    abort ();
  return xasprintf ("%s_%s", adjectives[r[0] % ARRAY_SIZE (adjectives)],
                    surnames[r[1] % ARRAY_SIZE (surnames)]);
}

bool
rt_name_valid (const char *n)
{
  /* docker: [a-zA-Z0-9][a-zA-Z0-9_.-]+ */
  if (!isalnum ((unsigned char)n[0]) || !n[1] || strlen (n) > 128)
    return false;
  for (const char *c = n + 1; *c; c++)
    if (!isalnum ((unsigned char)*c) && !strchr ("_.-", *c))
      return false;
  return true;
}
