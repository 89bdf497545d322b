#!/bin/bash
# Runs every unit program and integration script, counts TAP lines, and
# ends with "N passed, N failed[, N skipped]". Exit status 1 on any failure.
#
#   tests/run.sh              everything
#   tests/run.sh unit         unit programs only
#   tests/run.sh 10-pull      integration scripts whose name contains 10-pull
# BUILD selects the build directory (build or build-san).
set -u
cd "$(dirname "$0")/.."
# Everything (the lab too) runs in one private network namespace made here,
# with only lo: `imgtool run` defaults to bridge networking, and no test may
# make a bridge, a veth or a firewall rule in the host's namespace. A lab
# started outside it is out of reach, so the one of this tree is started
# inside (LAB_PORT_BASE still matters: /etc/docker/certs.d is shared).
if [ -z "${IMGTOOL_TESTS_NETNS:-}" ] && [ "$(id -u)" = 0 ] &&
   unshare -n true 2>/dev/null; then
  # The lab's fixtures come from Debian's archive (apt-get download),
  # which the namespace cannot reach: build them here when stale or when
  # the arm64 busybox could not be had last time.
  lab_run=${LAB_RUN_DIR:-$PWD/tests/lab/run}
  stamp=$(sha256sum < tests/fixtures/make-fixtures | cut -d' ' -f1)
  if [ "${1:-}" != unit ] && [ -x tests/lab/up ] &&
     { [ "$(cat "$lab_run/fixtures/stamp" 2>/dev/null)" != "$stamp" ] ||
       ! grep -q '^FIX_ARM64_REAL=1' "$lab_run/fixtures/digests.env" 2>/dev/null; }; then
    mkdir -p "$lab_run"
    DEB_CACHE=$lab_run/debs tests/fixtures/make-fixtures "$lab_run/fixtures" \
      > "$lab_run/fixtures.log" 2>&1 || echo "tests: make-fixtures failed (see $lab_run/fixtures.log)"
  fi
  IMGTOOL_TESTS_NETNS=1 exec unshare -n "$0" "$@"
fi
if [ -n "${IMGTOOL_TESTS_NETNS:-}" ]; then
  ip link set lo up
  export IMGTOOL_TESTS_NETNS
  unset LAB_ENV
fi
BUILD=${BUILD:-build}
export IMGTOOL="$PWD/$BUILD/imgtool"
export TESTS_DIR="$PWD/tests"
filter=${1:-}
passed=0 failed=0 skipped=0
failures=()
log_dir=$(mktemp -d /tmp/imgtool-tests.XXXXXX)

count () { # name, file with TAP output, exit status
  local name=$1 out=$2 rc=$3 p=0 f=0 s=0
  if [ -f "$out" ]; then
    p=$(grep -cE '^ok [0-9]+' "$out" | tr -d ' ')
    s=$(grep -cE '^ok [0-9]+ # (skip|SKIP)' "$out" | tr -d ' ')
    f=$(grep -cE '^not ok [0-9]+' "$out" | tr -d ' ')
  fi
  p=$((p - s))
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
    f=1   # died without saying which check failed
    echo "not ok - $name exited with status $rc" >> "$out"
  elif [ $((p + f + s)) -eq 0 ]; then
    f=1   # a script that checked nothing has not passed
    echo "not ok - $name ran no check" >> "$out"
  fi
  passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
  if [ "$f" -gt 0 ]; then
    failures+=("$name")
    echo "FAIL $name ($p passed, $f failed)"
    grep -E -A3 '^not ok' "$out" | sed 's/^/    /' | head -40
  else
    if [ "$s" -gt 0 ]; then echo "ok   $name ($p passed, $s skipped)"; else echo "ok   $name ($p passed)"; fi
  fi
}

if [ -z "$filter" ] || [ "$filter" = unit ]; then
  for t in "$BUILD"/tests/unit/test_*; do
    [ -x "$t" ] || continue
    name=unit/$(basename "$t")
    out="$log_dir/$(basename "$t").tap"
    timeout -k 10 300 "$t" > "$out" 2>&1; rc=$?
    count "$name" "$out" "$rc"
  done
fi

if [ "$filter" != unit ]; then
  # The lab (real registries) is started once for all integration tests.
  if [ -x tests/lab/up ] && [ -z "${LAB_ENV:-}" ]; then
    if tests/lab/up > "$log_dir/lab.log" 2>&1; then
      export LAB_ENV="${LAB_RUN_DIR:-$PWD/tests/lab/run}/env"
      started_lab=1
    else
      echo "not ok 1 - start the test lab (see $log_dir/lab.log)" > "$log_dir/lab.tap"
      tail -20 "$log_dir/lab.log"
      count lab "$log_dir/lab.tap" 1
    fi
  fi
  for t in tests/integration/[0-9]*.sh; do
    [ -f "$t" ] || continue
    case "$t" in *"$filter"*) ;; *) continue ;; esac
    name=integration/$(basename "$t" .sh)
    out="$log_dir/$(basename "$t" .sh).tap"
    timeout -k 10 900 bash "$t" > "$out" 2>&1; rc=$?
    count "$name" "$out" "$rc"
  done
  if [ -n "${started_lab:-}" ] && [ -z "${KEEP_LAB:-}" ]; then
    tests/lab/down >/dev/null 2>&1
  fi
fi

echo "logs in $log_dir"
[ ${#failures[@]} -eq 0 ] || echo "failed: ${failures[*]}"
if [ "$skipped" -gt 0 ]; then
  echo "$passed passed, $failed failed, $skipped skipped"
else
  echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
