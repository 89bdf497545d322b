#!/bin/bash
# The documentation's security defaults and exit statuses are all tested
# (tests/doc-coverage.sh), and its examples work as written: README.md's tour and every
# ```sh example of docs/commands.md, run line by line against the lab
# (the lab's default ports in the text become this lab's), each in a
# private store. A line ending in "# exit N" must exit N; any other line
# must exit 0 and print no "imgtool: ..." error.
. "$(dirname "$0")/../lib.sh"
cd "$TESTS_DIR/.." || exit 1

# Every security default and exit status the docs tag has a test naming it
# (tests/doc-coverage.sh: the convention, and the list of what is missing).
ok "every documented security default and exit status has a test" tests/doc-coverage.sh

if [ -z "${LAB_HTTP:-}" ]; then
  skip "no lab (LAB_ENV)"
  done_testing
  exit
fi

# The fenced blocks of one language from a markdown file.
blocks () { awk -v lang="$2" '$0 == "```" lang {on = 1; next} /^```/ {on = 0} on' "$1"; }

# Our lab's addresses and private paths for the documented ones.
localise () {
  sed -e "s#127\.0\.0\.1:5000#$LAB_HTTP#g" -e "s#127\.0\.0\.1:5001#$LAB_BASIC#g" \
      -e "s#127\.0\.0\.1:5002#$LAB_TOKEN#g" -e "s#/tmp/imgtool-#$T_TMP/#g" \
      -e "s#^\. tests/lab/run/env#. \"\$LAB_ENV\"#"
}

# The binary under test (build-san/ with SAN=1), whatever PATH says.
imgtool () { "$IMGTOOL" "$@"; }

run_lines () { # file, what
  local line want rc out=$T_TMP/out
  while IFS= read -r line; do
    [[ "$line" =~ ^[[:space:]]*(#.*)?$ ]] && continue
    want=0
    if [[ "$line" =~ \#\ exit\ ([0-9]+)[[:space:]]*$ ]]; then
      want=${BASH_REMATCH[1]}
    fi
    eval "$line" > "$out" 2>&1 < /dev/null; rc=$?
    if [ "$rc" -eq "$want" ] && { [ "$want" -ne 0 ] || ! grep -q '^imgtool: ' "$out"; }; then
      _t_report 0 "$2: $line"
    else
      _t_report 1 "$2: $line"
      echo "#   exit $rc (want $want)"
      tail -5 "$out" | sed 's/^/#   /'
    fi
  done < "$1"
}

# README.md's tour, in a shell of its own (it exports what it needs).
blocks README.md sh | localise > "$T_TMP/tour.sh"
like "README.md has a tour" "$(wc -l < "$T_TMP/tour.sh")" '^[0-9]{2,}$'
(run_lines "$T_TMP/tour.sh" README; echo "$_t_n $_t_failed" > "$T_TMP/counts")
read -r _t_n _t_failed < "$T_TMP/counts"
img --root "$T_TMP/tour" rm -f web > /dev/null 2>&1

# docs/commands.md: its example configuration, then its examples in order.
blocks docs/commands.md json | localise > "$IMGTOOL_CONFIG"
ok "docs/commands.md's configuration is valid JSON" python3 -m json.tool "$IMGTOOL_CONFIG"
blocks docs/commands.md sh | localise > "$T_TMP/commands.sh"
like "docs/commands.md has examples" "$(wc -l < "$T_TMP/commands.sh")" '^[0-9]{2,}$'
run_lines "$T_TMP/commands.sh" commands.md
img rm -f sleeper talker > /dev/null 2>&1
done_testing
