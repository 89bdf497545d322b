#!/bin/bash
# Benchmark: imgtool save and load against podman save and load, in the
# same run, of the Debian bookworm minbase image (debootstrap, one ~48 MB
# gzip layer, ~120 MB tar). Both stores hold the same image (skopeo copies
# it from one OCI layout into each); save writes a docker-archive to a
# file; load reads podman's docker-archive into an empty store (the
# emptying is not timed). podman runs with a private storage
# (tests/peers/env.sh) inside a mount namespace, as in the tests.
#
#   bench/archive.sh         (root; debootstrap, skopeo, podman)
#   RUNS=7 bench/archive.sh
set -euo pipefail
cd "$(dirname "$0")/.."
IMGTOOL=${IMGTOOL:-$PWD/build/imgtool}
RUNS=${RUNS:-5}
OUT=bench/out
mkdir -p "$OUT"
. bench/fixtures.sh
bench_debian_layer "$OUT"
. tests/peers/env.sh
W=$(mktemp -d /tmp/imgtool-bench.XXXXXX)
peers_env "$W/peers"
trap 'peers_cleanup; rm -rf "$W"' EXIT
REF=docker.io/library/debian:bench
mkdir -p "$W/root"
skopeo copy -q "oci:$OUT/img:bench" "oci:$W/root/oci:$REF"
peers_podman_load "$OUT/img" bench "$REF"

median () { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
now () { date +%s.%N; }
timed () { local t0; t0=$(now); "$@" >/dev/null 2>&1; echo "$(now) - $t0" | bc; }

declare -a is ps il pl
peers_podman save -o "$W/podman.tar" "$REF" >/dev/null 2>&1
for i in $(seq "$RUNS"); do
  rm -f "$W/i.tar" "$W/p.tar"
  is+=("$(timed "$IMGTOOL" --root "$W/root" save -o "$W/i.tar" "$REF")")
  ps+=("$(timed peers_podman save -o "$W/p.tar" "$REF")")
  rm -rf "$W/load"
  il+=("$(timed "$IMGTOOL" --root "$W/load" load -i "$W/podman.tar")")
  peers_podman rmi -a -f >/dev/null 2>&1
  pl+=("$(timed peers_podman load -i "$W/podman.tar")")
done
peers_podman image exists "$REF" || { echo "bench: podman load failed" >&2; exit 1; }
"$IMGTOOL" --root "$W/load" run --rm --network none "$REF" true || { echo "bench: imgtool's load does not run" >&2; exit 1; }
mis=$(printf '%s\n' "${is[@]}" | median); mps=$(printf '%s\n' "${ps[@]}" | median)
mil=$(printf '%s\n' "${il[@]}" | median); mpl=$(printf '%s\n' "${pl[@]}" | median)
printf 'bench/archive.sh: Debian minbase (%s MB gzip, %s MB archive), %d runs, medians\n' \
  "$(( $(stat -c %s "$OUT/layer.tar.gz") / 1000000 ))" "$(( $(stat -c %s "$W/podman.tar") / 1000000 ))" "$RUNS"
printf '  save  imgtool %.3fs  podman %.3fs  imgtool/podman %.2f\n' "$mis" "$mps" "$(echo "$mis / $mps" | bc -l)"
printf '  load  imgtool %.3fs  podman %.3fs  imgtool/podman %.2f\n' "$mil" "$mpl" "$(echo "$mil / $mpl" | bc -l)"
