#!/bin/bash
# Lists every documented security default and exit status that no test
# names. Exit status 1 if there is one (tests/integration/03-docs.sh runs it
# in make check).
#
# The convention:
# - In docs/security.md and docs/commands.md, each such statement carries a
#   tag, an HTML comment that renders as nothing: <!-- T:exit-127 -->.
# - Every table row of the sections listed in SECTIONS below must have one,
#   so a new row without a tag is reported too.
# - A test names the tag as doc:exit-127, anywhere in a file under
#   tests/unit/ or tests/integration/ (a comment next to the check).
#
#   tests/doc-coverage.sh        report; exit 1 on anything missing
#   tests/doc-coverage.sh -l     list every tag with the files naming it
set -u
cd "$(dirname "$0")/.." || exit 2
DOCS="docs/security.md docs/commands.md docs/buildfile.md"
# "file:section title": every table row there must be tagged.
SECTIONS=("docs/security.md:Defaults" "docs/security.md:Devices" "docs/commands.md:Exit status")
TEST_FILES=$(ls tests/unit/*.c tests/integration/*.sh)
bad=0

# Table rows without a tag in the sections that must have them all.
for s in "${SECTIONS[@]}"; do
  f=${s%%:*} title=${s#*:}
  # The body rows of its tables: a row followed by |---| is a header.
  rows=$(awk -v t="## $title" '
    function flush() { if (prev != "") print prev; prev = "" }
    $0 == t {on = 1; next}
    /^## / {flush(); on = 0}
    !on {next}
    /^\|[-: |]*\|$/ {prev = ""; next}
    /^\|/ {flush(); prev = $0; next}
    {flush()}
    END {flush()}' "$f" | grep -v '<!-- T:[a-z0-9-]* -->')
  if [ -n "$rows" ]; then
    while IFS= read -r r; do
      echo "untagged: $f ($title): ${r:0:100}"
      bad=1
    done <<< "$rows"
  fi
done

# Tags no test names.
tags=$(grep -oh '<!-- T:[a-z0-9-]* -->' $DOCS | sed 's/<!-- T:\(.*\) -->/\1/' | sort)
dups=$(uniq -d <<< "$tags")
[ -z "$dups" ] || { echo "tags used twice: $dups"; bad=1; }
for t in $(uniq <<< "$tags"); do
  files=$(grep -lw -- "doc:$t" $TEST_FILES | tr '\n' ' ')
  if [ "${1:-}" = -l ]; then
    printf '%-28s %s\n' "$t" "${files:-(none)}"
  fi
  if [ -z "$files" ]; then
    echo "untested: $t ($(grep -l -- "<!-- T:$t -->" $DOCS))"
    bad=1
  fi
done
# Names in tests that no doc has any more (a renamed tag).
for t in $(grep -oh 'doc:[a-z0-9-]*[a-z0-9]' $TEST_FILES | sort -u | sed 's/^doc://'); do
  grep -qx -- "$t" <<< "$tags" || { echo "stale: doc:$t is named by a test but is no tag"; bad=1; }
done
exit $bad
