#!/bin/bash
# Time unpacking one Debian minbase layer (~48 MB gzip, ~128 MB tar):
# imgtool's layers/apply.c (through tests/helpers/unpack-layer: igzip +
# sha256 diff_id + extraction, one pass) against `pigz -dc | tar -x`,
# `tar -xzf` and `umoci raw unpack`, in the same run, into tmpfs
# (/dev/shm), and prints medians and ratios.
#
#   bench/unpack.sh [RUNS]      (default 5; needs root, make unit first)
#
# The layer is made once with debootstrap from the configured Debian
# mirror and cached in bench/out/ (gitignored).
set -eu
cd "$(dirname "$0")/.."
RUNS=${1:-5}
OUT=bench/out
UNPACK=${UNPACK:-build/tests/helpers/unpack-layer}
mkdir -p "$OUT"
[ -x "$UNPACK" ] || { echo "build it first: make -j2 unit" >&2; exit 1; }

. bench/fixtures.sh
bench_debian_layer "$OUT"
BLOB=$PWD/$OUT/layer.tar.gz
IMG=$PWD/$OUT/img

DEST=/dev/shm/imgtool-bench-unpack.$$
trap 'rm -rf "$DEST"' EXIT

# time_one NAME COMMAND... : one run into a fresh $DEST/d, seconds on stdout
time_one () {
  rm -rf "$DEST"; mkdir -p "$DEST/d"
  local t0 t1
  t0=$(date +%s.%N)
  "$@" > /dev/null 2>&1
  t1=$(date +%s.%N)
  echo "$t1 - $t0" | bc
}

median () { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

declare -A results
names=(imgtool "pigz|tar" "tar -xzf" umoci)
for ((i = 0; i < RUNS; i++)); do
  results[imgtool]+="$(time_one "$UNPACK" "$DEST/d" "$BLOB") "
  results["pigz|tar"]+="$(time_one sh -c "pigz -dc '$BLOB' | tar -x -C '$DEST/d'") "
  results["tar -xzf"]+="$(time_one tar -xzf "$BLOB" -C "$DEST/d") "
  results[umoci]+="$(time_one umoci raw unpack --image "$IMG:bench" "$DEST/d/rootfs") "
done

printf 'unpack of %s (%s MB gzip), median of %d runs, into tmpfs\n' \
  "$(basename "$BLOB")" "$(( $(stat -c %s "$BLOB") / 1000000 ))" "$RUNS"
base=$(echo "${results[imgtool]}" | tr ' ' '\n' | grep . | median)
for n in "${names[@]}"; do
  m=$(echo "${results[$n]}" | tr ' ' '\n' | grep . | median)
  printf '  %-10s %6.3f s   imgtool/%s = %.2f\n' "$n" "$m" "$n" "$(echo "$base / $m" | bc -l)"
done
