#!/bin/bash
# Cost beside many containers (issue 11): with N bridged `sleep` containers
# running (N = 0, 100, 500 by default), time
#   - the start of one more: `run --rm busybox true`, median and p99;
#   - `ps` (median);
#   - `stop -t 1` of all N (once: sleep as PID 1 ignores SIGTERM, so every
#     container takes its whole grace period);
#   - `rm` of all N (once).
# podman does the same beside it with SCALE_PODMAN=1 (slow: its starts
# cost ~0.3 s each here).
#
#   bench/scale.sh                      N = 0 100 500
#   SCALE_N="0 100" bench/scale.sh
#   SCALE_STARTS=30 bench/scale.sh      starts timed per N (default 20)
#   IMGTOOL=/old/build/imgtool bench/scale.sh   another build (before/after)
#   SCALE_SKIP_STOP_ABOVE=100           stop is not timed above this N
#                                       (a serial stop of 500 takes 500 s)
#   SCALE_PS_BEFORE=/old/imgtool        ps is also timed with this build,
#                                       alternating with IMGTOOL's in the
#                                       same run (noise here is +-15%); with
#                                       perf, `perf stat -r 20` of each
#
# Everything runs inside a private mount and network namespace
# (tests/peers/env.sh: peers_ns) with a private store. Results: the table
# printed and bench/out/scale-DATE.md.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/tests/peers/env.sh"
IMGTOOL=${IMGTOOL:-$ROOT/build/imgtool}
SCALE_N=${SCALE_N:-0 100 500}
SCALE_STARTS=${SCALE_STARTS:-20}
SCALE_SKIP_STOP_ABOVE=${SCALE_SKIP_STOP_ABOVE:-100000}

peers_enter "$0" "$@"

set -e
layout=$PEERS_DIR/busybox-layout
peers_busybox_layout "$layout" latest
export IMGTOOL_ROOT=$PEERS_DIR/imgtool
mkdir -p "$IMGTOOL_ROOT"
skopeo copy --quiet "oci:$layout:latest" "oci:$IMGTOOL_ROOT/oci:docker.io/library/busybox:latest"
if [ "${SCALE_PODMAN:-0}" = 1 ]; then
  peers_podman_load "$layout" latest docker.io/library/busybox:latest
fi
set +e

out_dir=$ROOT/bench/out
mkdir -p "$out_dir"
md=$out_dir/scale-$(date +%Y-%m-%d).md
now_us () { echo "${EPOCHREALTIME//[.,]/}"; }
ms () { awk -v us="$1" 'BEGIN { printf "%.1f", us / 1000 }'; }
# median and p99 (nearest rank) of microsecond values on stdin
stats () { sort -n | awk '{ v[NR] = $1 } END {
  m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
  r = int(0.99 * NR + 0.999); if (r < 1) r = 1; if (r > NR) r = NR
  printf "%.1f %.1f\n", m / 1000, v[r] / 1000 }'; }

{
  echo ""
  echo "### scale: $(basename "$IMGTOOL") $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null) — $(date '+%Y-%m-%d %H:%M')"
  echo ""
  echo "$(nproc) cpus, kernel $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg); $SCALE_STARTS starts per N"
  echo ""
  echo "| tool | N | start median ms | start p99 ms | ps ms | stop -t 1 of N s | rm of N s |"
  echo "|---|---:|---:|---:|---:|---:|---:|"
} >> "$md"
printf '%-8s %5s %12s %10s %8s %12s %9s\n' tool N "start-med" "start-p99" "ps" "stop-all-s" "rm-all-s"

# ps of SCALE_PS_BEFORE and of IMGTOOL in turns, three rounds: the median
# of 20 elapsed, and with perf the CPU time (perf stat -r 20)
ps_ab () {
  local round b label t0 t1 i times m
  for round in 1 2 3; do
    for b in "$SCALE_PS_BEFORE" "$IMGTOOL"; do
      label=after; [ "$b" = "$SCALE_PS_BEFORE" ] && label=before
      times=
      for ((i = 0; i < 20; i++)); do
        t0=$(now_us); "$b" ps > /dev/null; t1=$(now_us); times+="$((t1 - t0)) "
      done
      read -r m _ < <(tr ' ' '\n' <<< "$times" | grep . | stats)
      echo "ps $label N=$n: $m ms elapsed (median of 20)"
      command -v perf > /dev/null &&
        perf stat -r 20 -x, -e task-clock "$b" ps 2>&1 > /dev/null |
        awk -F, -v l="$label" -v n="$n" '/task-clock/ { cpu = $1 }
          END { printf "ps %s N=%s: %.1f ms of CPU (perf stat -r 20)\n", l, n, cpu }'
    done
  done
}
ps_ab_out=

# scale_one TOOL N: TOOL is imgtool or podman
scale_one () {
  local tool=$1 n=$2 i t0 t1 times= ps_times= stop_s=- rm_s=- med p99 psm
  local -a cli run_d run_rm
  if [ "$tool" = podman ]; then
    cli=(podman)
    run_d=(podman run -d --cgroup-parent "/$PEERS_CGROUP")
    run_rm=(podman run --rm --cgroup-parent "/$PEERS_CGROUP")
  else
    cli=("$IMGTOOL")
    run_d=("$IMGTOOL" run -d)
    run_rm=("$IMGTOOL" run --rm)
  fi
  for ((i = 1; i <= n; i++)); do
    "${run_d[@]}" --name "s$i" busybox sleep 100000 > /dev/null ||
      { echo "scale: $tool: start of s$i failed" >&2; return 1; }
  done
  "${run_rm[@]}" busybox true > /dev/null # warm-up
  for ((i = 0; i < SCALE_STARTS; i++)); do
    t0=$(now_us); "${run_rm[@]}" busybox true > /dev/null; t1=$(now_us)
    times+="$((t1 - t0)) "
  done
  read -r med p99 < <(tr ' ' '\n' <<< "$times" | grep . | stats)
  for ((i = 0; i < 10; i++)); do
    t0=$(now_us); "${cli[@]}" ps > /dev/null; t1=$(now_us)
    ps_times+="$((t1 - t0)) "
  done
  read -r psm _ < <(tr ' ' '\n' <<< "$ps_times" | grep . | stats)
  # (below the table, at the end)
  [ "$tool" = imgtool ] && [ -n "${SCALE_PS_BEFORE:-}" ] && ps_ab_out+=$(ps_ab)$'\n'
  if [ "$n" -gt 0 ]; then
    local names=()
    for ((i = 1; i <= n; i++)); do names+=("s$i"); done
    if [ "$n" -le "$SCALE_SKIP_STOP_ABOVE" ]; then
      # (podman warns on stderr for each container it had to SIGKILL)
      t0=$(now_us); "${cli[@]}" stop -t 1 "${names[@]}" > /dev/null 2>&1; t1=$(now_us)
      stop_s=$(awk -v us=$((t1 - t0)) 'BEGIN { printf "%.2f", us / 1e6 }')
    else
      "${cli[@]}" kill "${names[@]}" > /dev/null 2>&1
    fi
    t0=$(now_us); "${cli[@]}" rm -f "${names[@]}" > /dev/null; t1=$(now_us)
    rm_s=$(awk -v us=$((t1 - t0)) 'BEGIN { printf "%.2f", us / 1e6 }')
  fi
  printf '%-8s %5s %12s %10s %8s %12s %9s\n' "$tool" "$n" "$med" "$p99" "$psm" "$stop_s" "$rm_s"
  echo "| $tool | $n | $med | $p99 | $psm | $stop_s | $rm_s |" >> "$md"
}

for n in $SCALE_N; do
  scale_one imgtool "$n"
  [ "${SCALE_PODMAN:-0}" = 1 ] && scale_one podman "$n"
done
if [ -n "$ps_ab_out" ]; then
  printf '%s' "$ps_ab_out"
  printf '\nps, %s before and %s after:\n\n%s' "$SCALE_PS_BEFORE" "$IMGTOOL" \
    "$(sed 's/^/    /' <<< "$ps_ab_out")" >> "$md"
  echo >> "$md"
fi
echo "(markdown in $md)"
exit 0
