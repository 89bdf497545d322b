#!/bin/bash
# The mutation check: plants each small bug of tests/mutants.list in a copy
# of the tree, one at a time, rebuilds, runs the tests the mutant names, and
# counts it "killed" when they fail, "survived" when they pass. The score
# must stay 100%: a survivor is a behaviour no test pins (add the test).
# Slow (a build and some test scripts per mutant), so not part of make
# check; run it before closing an issue that touches the areas it lists.
#
#   tests/mutants.sh                 every mutant
#   tests/mutants.sh NAME...         only these (names or shell globs: 'seccomp-*')
#   tests/mutants.sh -l              list the mutants and the file each hits
#   KEEP=1 tests/mutants.sh ...      keep the copy (its path is printed)
#
# The work tree is never written: the copy lives under /tmp (its own build/
# dir), each mutant is undone before the next (and on Ctrl-C), and the copy
# is deleted at the end. Its lab runs from a copy of this tree's lab run
# directory (LAB_RUN_DIR), so the fixtures are not made again.
#
# tests/mutants.list, one block per mutant, blocks separated by blank lines:
#   name:    a short unique name
#   area:    what it breaks (extraction containment, seccomp, ...)
#   find:    a literal string that occurs exactly once in the product's
#            sources (lib layers registry trust runtime network service
#            builder cmd); the
#            file is found by it, so the list survives files moving
#   replace: the literal replacement
#   file:    optional path glob, when find alone is not unique
#   test:    what must fail: unit:test_NAME (a unit program) and/or
#            it:NAME (tests/run.sh NAME), space-separated
set -u
SRC=$(cd "$(dirname "$0")/.." && pwd)
LIST=$SRC/tests/mutants.list
PY=/usr/bin/python3
JOBS=${JOBS:-2}

# --- the list -----------------------------------------------------------------
# Prints one record per mutant, fields split by \x1f (not a tab: bash's read
# merges empty fields between whitespace separators):
# name area file-glob test find replace
parse () {
  "$PY" - "$LIST" <<'EOF'
import sys
blocks, cur = [], {}
for n, line in enumerate(open(sys.argv[1]), 1):
    line = line.rstrip("\n")
    if line.startswith("#"):
        continue
    if not line.strip():
        if cur: blocks.append(cur); cur = {}
        continue
    k, sep, v = line.partition(":")
    if not sep or k not in ("name", "area", "find", "replace", "file", "test"):
        sys.exit("mutants.list:%d: expected 'key: value', got %r" % (n, line))
    cur[k] = v[1:] if v.startswith(" ") else v
if cur: blocks.append(cur)
seen = set()
for b in blocks:
    for k in ("name", "area", "find", "replace", "test"):
        if k not in b:
            sys.exit("mutants.list: mutant %r has no %s" % (b.get("name"), k))
    if b["name"] in seen:
        sys.exit("mutants.list: %s twice" % b["name"])
    seen.add(b["name"])
    if any("\x1f" in v for v in b.values()):
        sys.exit("mutants.list: %s: no \\x1f, please" % b["name"])
    print("\x1f".join([b["name"], b["area"], b.get("file", ""), b["test"], b["find"], b["replace"]]))
EOF
}
records=$(parse) || exit 2

# The product's sources in a tree, and the one file holding a string.
sources () { (cd "$1" && git -C "$SRC" ls-files -co --exclude-standard -- '*.c' '*.h' |
  grep -E '^(lib|layers|registry|trust|runtime|network|service|builder|cmd)/'); }
locate () { # tree, find, file-glob -> the file (relative); fails unless exactly one hit
  local tree=$1 find=$2 glob=$3
  (cd "$tree" && sources "$tree" | { [ -n "$glob" ] && grep -E "^${glob//\*/.*}$" || cat; } |
    xargs grep -lF -- "$find" 2>/dev/null)
}
count_in () { "$PY" -c 'import sys; print(open(sys.argv[1]).read().count(sys.argv[2]))' "$1" "$2"; }

selected () { # name -> 0 when the command line asks for it (or names none)
  [ ${#ARGS[@]} -eq 0 ] && return 0
  local n=$1 p
  for p in "${ARGS[@]}"; do
    # shellcheck disable=SC2053
    [[ $n == $p ]] && return 0
  done
  return 1
}
ARGS=("$@")
[ "${1:-}" = -l ] && ARGS=()

if [ "${1:-}" = -l ]; then
  while IFS=$'\x1f' read -r name area glob test find _; do
    files=$(locate "$SRC" "$find" "$glob" | tr '\n' ' ')
    printf '%-28s %-24s %-28s %s\n' "$name" "$area" "${files:-NOT FOUND}" "$test"
  done <<< "$records"
  exit 0
fi

# --- the copy -----------------------------------------------------------------
WORK=$(mktemp -d /tmp/imgtool-mutants.XXXXXX)
TREE=$WORK/tree
current="" backup=""
restore () {
  if [ -n "$current" ] && [ -n "$backup" ] && [ -f "$backup" ]; then
    cp -p "$backup" "$TREE/$current"
  fi
  current=""
}
finish () {
  restore
  if [ -n "${KEEP:-}" ]; then echo "kept: $WORK"; else rm -rf "$WORK"; fi
}
trap finish EXIT
trap 'echo; echo "interrupted"; exit 130' INT TERM

mkdir -p "$TREE"
(cd "$SRC" && git ls-files -co --exclude-standard | grep -v '^tests/lab/run/' |
  tar -cf - -T - 2>/dev/null) | tar -xf - -C "$TREE" || { echo "mutants: cannot copy the tree"; exit 2; }
# A lab of its own (another tests/run.sh may be using this tree's, whose
# PID files it would take for stale), seeded from this tree's run
# directory: fixtures, certificates and storage are not made again.
mkdir -p "$WORK/lab-run"
if [ -d "$SRC/tests/lab/run" ]; then
  (cd "$SRC/tests/lab/run" && tar -cf - --exclude=./pids --exclude=./env --exclude='./*.log*' . 2>/dev/null) |
    tar -xf - -C "$WORK/lab-run"
fi
export LAB_RUN_DIR=$WORK/lab-run
log=$WORK/log
echo "mutants: building the copy in $TREE"
if ! make -C "$TREE" -j"$JOBS" all unit > "$log" 2>&1; then
  tail -20 "$log"; echo "mutants: the unmutated copy does not build"; exit 2
fi

targets () { # test spec... -> the make targets they need (not every unit program)
  local t
  for t in "$@"; do
    case $t in
      unit:*) echo "build/tests/unit/${t#unit:}" ;;
      it:*) echo all; (cd "$TREE" && ls tests/helpers/*.c 2>/dev/null | sed 's#^#build/#; s#\.c$##') ;;
    esac
  done | sort -u
}

run_tests () { # test spec... -> 0 when all pass
  local t
  for t in "$@"; do
    case $t in
      unit:*) timeout 300 "$TREE/build/tests/unit/${t#unit:}" > "$WORK/out" 2>&1 || return 1 ;;
      it:*) (cd "$TREE" && timeout 1200 tests/run.sh "${t#it:}") > "$WORK/out" 2>&1 || return 1 ;;
      *) echo "mutants: unknown test '$t'"; return 2 ;;
    esac
  done
  return 0
}

killed=0 survived=0 errors=0
survivors=() broken=()
while IFS=$'\x1f' read -r name area glob test find replace; do
  selected "$name" || continue
  file=$(locate "$TREE" "$find" "$glob")
  if [ -z "$file" ] || [ "$(wc -l <<< "$file")" -ne 1 ] ||
     [ "$(count_in "$TREE/$file" "$find")" != 1 ]; then
    printf '%-28s ERROR: the find string is in %s (must be once in one file)\n' \
      "$name" "$(echo ${file:-no file} | tr '\n' ' ')"
    errors=$((errors + 1)); broken+=("$name"); continue
  fi
  backup=$WORK/orig
  cp -p "$TREE/$file" "$backup"
  current=$file
  "$PY" -c 'import sys; p, a, b = sys.argv[1:]; s = open(p).read(); open(p, "w").write(s.replace(a, b, 1))' \
    "$TREE/$file" "$find" "$replace"
  touch "$TREE/$file"
  # shellcheck disable=SC2046,SC2086
  if ! make -C "$TREE" -j"$JOBS" $(targets $test) > "$log" 2>&1; then
    printf '%-28s ERROR: does not build (%s)\n' "$name" "$file"
    grep -m3 'error' "$log" | sed 's/^/    /'
    errors=$((errors + 1)); broken+=("$name")
  else
    # shellcheck disable=SC2086
    if run_tests $test; then
      printf '%-28s SURVIVED  %-24s %s  (%s)\n' "$name" "$area" "$file" "$test"
      survived=$((survived + 1)); survivors+=("$name")
    else
      printf '%-28s killed    %-24s %s\n' "$name" "$area" "$file"
      killed=$((killed + 1))
    fi
  fi
  restore
  touch "$TREE/$file"
done <<< "$records"
make -C "$TREE" -j"$JOBS" all unit > "$log" 2>&1   # leave the copy's build unmutated (KEEP)

total=$((killed + survived))
if [ "$total" -gt 0 ]; then score=$((100 * killed / total)); else score=0; fi
echo "mutants: $killed killed, $survived survived, $errors broken; score $score%"
[ ${#survivors[@]} -eq 0 ] || echo "survived: ${survivors[*]}"
[ ${#broken[@]} -eq 0 ] || echo "broken: ${broken[*]}"
[ "$survived" -eq 0 ] && [ "$errors" -eq 0 ] && [ "$total" -gt 0 ]
