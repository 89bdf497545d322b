#!/bin/bash
# Benchmark (issue 3, "pull and unpack in one pass"): a new image pulled and
# run once, `imgtool pull IMG && imgtool run --rm IMG true` against
# `podman pull IMG && podman run --rm --network=none IMG true`, from the
# lab's plain-HTTP registry, in the same run, interleaved, ratio printed.
# IMG is the Debian bookworm minbase image of bench/pull.sh (one layer).
#
#   bench/pullrun.sh                  (needs the lab: tests/lab/up)
#   RUNS=9 BENCH_FS=disk bench/pullrun.sh
#
# Every round starts both sides from an empty store on a fresh filesystem
# (made and removed outside the timed part): BENCH_FS=tmpfs (default) keeps
# the other users of this machine's disk out of the figures; BENCH_FS=disk
# uses a new directory under /tmp (ext4 here). podman runs with a private
# config and storage inside a private mount namespace (tests/peers/env.sh),
# on the host's network (the registry is on its 127.0.0.1).
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/tests/peers/env.sh"
IMGTOOL=${IMGTOOL:-$ROOT/build/imgtool}
RUNS=${RUNS:-7}
BENCH_FS=${BENCH_FS:-tmpfs}

if [ -z "${PEERS_IN_NS:-}" ]; then
  [ "$(id -u)" = 0 ] || { echo "bench/pullrun.sh: needs root" >&2; exit 1; }
  . "${LAB_ENV:-$ROOT/tests/lab/run/env}" || exit 1
  export LAB_HTTP
  W=$(mktemp -d /tmp/imgtool-bench.XXXXXX)
  mkdir -p "$ROOT/bench/out"
  (. "$ROOT/bench/fixtures.sh" && bench_fixtures "$ROOT/bench/out" "$W") || exit 1
  rm -rf "$W"
  peers_env || exit 1
  trap peers_cleanup EXIT
  peers_ns --host-net bash "$0" "$@"
  exit
fi

IMG=$LAB_HTTP/bench/debian:bookworm
export IMGTOOL_CONFIG=$PEERS_DIR/imgtool-config.json
echo "{\"insecure-registries\": [\"$LAB_HTTP\"]}" > "$IMGTOOL_CONFIG"
FS=$PEERS_DIR/fs

fs_new () {
  mkdir -p "$FS"
  if [ "$BENCH_FS" = tmpfs ]; then mount -t tmpfs -o size=4g bench-fs "$FS"; fi
}
fs_drop () {
  if [ "$BENCH_FS" = tmpfs ]; then umount "$FS"; else rm -rf "$FS"; fi
}

podman_=(podman --root "$FS/storage" --runroot "$FS/run")
side_imgtool_pull () { "$IMGTOOL" --root "$FS/imgtool" pull -q "$IMG" > /dev/null; }
side_imgtool_run () { "$IMGTOOL" --root "$FS/imgtool" run --rm --network none "$IMG" true; }
side_podman_pull () { "${podman_[@]}" pull -q --tls-verify=false "$IMG" > /dev/null; }
side_podman_run () {
  "${podman_[@]}" run --rm --network=none --cgroup-parent "/$PEERS_CGROUP" "$IMG" true
}

us () { echo "${EPOCHREALTIME//[.,]/}"; }
median () { tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
ms () { awk -v u="$1" 'BEGIN { printf "%.0f", u / 1000 }'; }
ratio () { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

declare -A T
round () { # side: pull, then run, timed apart; empty store before
  local side=$1 t0 t1 t2
  fs_new
  sync
  t0=$(us)
  "side_${side}_pull" || { echo "bench: $side pull failed" >&2; fs_drop; return 1; }
  t1=$(us)
  "side_${side}_run" || { echo "bench: $side run failed" >&2; fs_drop; return 1; }
  t2=$(us)
  T[$side.pull]+="$((t1 - t0)) "
  T[$side.run]+="$((t2 - t1)) "
  T[$side.both]+="$((t2 - t0)) "
  fs_drop
}

echo "bench/pullrun.sh: $RUNS rounds, medians, new image each round, store on $BENCH_FS, $(nproc) cpus, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "image: $IMG ($(skopeo inspect --raw --tls-verify=false "docker://$IMG" | jq '[.layers[].size] | add') bytes compressed)"
# a warm-up round each (page cache, podman's first-run setup)
round imgtool && round podman || exit 1
T=()
for _ in $(seq "$RUNS"); do
  round imgtool
  round podman
done
declare -A M
for k in imgtool.pull imgtool.run imgtool.both podman.pull podman.run podman.both; do
  M[$k]=$(echo "${T[$k]:-}" | median)
done
printf '%-8s %10s %10s %12s\n' "" "pull ms" "run ms" "pull+run ms"
for s in imgtool podman; do
  printf '%-8s %10s %10s %12s\n' "$s" "$(ms "${M[$s.pull]}")" "$(ms "${M[$s.run]}")" "$(ms "${M[$s.both]}")"
done
echo "imgtool/podman pull+run = $(ratio "${M[imgtool.both]}" "${M[podman.both]}") (target <= 0.5)"
echo "imgtool/podman pull     = $(ratio "${M[imgtool.pull]}" "${M[podman.pull]}")"
echo "imgtool/podman run      = $(ratio "${M[imgtool.run]}" "${M[podman.run]}")"
