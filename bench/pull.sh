#!/bin/bash
# Benchmark: imgtool pull --no-unpack vs skopeo copy docker:// -> oci: vs the
# floor (curl of the same blobs piped into openssl dgst -sha256), and imgtool
# pull with its unpacking into snapshots, in the same run, from
# the lab's plain-HTTP registry. Images: a Debian bookworm minbase made with
# debootstrap (one ~49 MB layer) and a 24-layer image. Also peak RSS and a
# pull killed halfway then rerun (bytes fetched again).
#
#   bench/pull.sh            (needs the lab: tests/lab/up; LAB_ENV or
#                             tests/lab/run/env; debootstrap, skopeo, umoci)
#   RUNS=7 bench/pull.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. "${LAB_ENV:-tests/lab/run/env}"
IMGTOOL=${IMGTOOL:-$PWD/build/imgtool}
RUNS=${RUNS:-5}
OUT=${BENCH_OUT:-$PWD/bench/out}
W=$(mktemp -d /tmp/imgtool-bench.XXXXXX)
trap 'rm -rf "$W"' EXIT
mkdir -p "$OUT"
export IMGTOOL_CONFIG=$W/config.json
echo "{\"insecure-registries\": [\"$LAB_HTTP\", \"$LAB_FAULT\"]}" > "$IMGTOOL_CONFIG"

. bench/fixtures.sh
bench_fixtures "$OUT" "$W"

median () { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
now () { date +%s.%N; }
blob_list () { # image -> digests of config + layers
  skopeo inspect --raw --tls-verify=false "docker://$LAB_HTTP/$1" |
    jq -r '.config.digest, .layers[].digest'
}

bench_image () { # name
  local img=$1 t0 i
  local -a ti tu ts tf rss
  mapfile -t blobs < <(blob_list "$img")
  for i in $(seq "$RUNS"); do
    rm -rf "$W/root" "$W/sk"
    t0=$(now); "$IMGTOOL" --root "$W/root" pull -q --no-unpack "$LAB_HTTP/$img" >/dev/null; ti+=("$(echo "$(now) - $t0" | bc)")
    rm -rf "$W/root"
    t0=$(now); "$IMGTOOL" --root "$W/root" pull -q "$LAB_HTTP/$img" >/dev/null; tu+=("$(echo "$(now) - $t0" | bc)")
    t0=$(now); skopeo copy -q --src-tls-verify=false "docker://$LAB_HTTP/$img" "oci:$W/sk:x" >/dev/null; ts+=("$(echo "$(now) - $t0" | bc)")
    repo=${img%%:*}
    t0=$(now)
    printf '%s\n' "${blobs[@]}" | xargs -P4 -I{} sh -c \
      "curl -s http://$LAB_HTTP/v2/$repo/blobs/{} | openssl dgst -sha256 >/dev/null"
    tf+=("$(echo "$(now) - $t0" | bc)")
    rm -rf "$W/root"
    rss+=("$( { /usr/bin/time -v "$IMGTOOL" --root "$W/root" pull -q "$LAB_HTTP/$img" >/dev/null; } 2>&1 | awk '/Maximum resident/{print $NF}')")
    rm -rf "$W/root"
  done
  local mi mu ms mf mr
  mi=$(printf '%s\n' "${ti[@]}" | median)
  mu=$(printf '%s\n' "${tu[@]}" | median)
  ms=$(printf '%s\n' "${ts[@]}" | median)
  mf=$(printf '%s\n' "${tf[@]}" | median)
  mr=$(printf '%s\n' "${rss[@]}" | median)
  printf '%-22s imgtool %.3fs  skopeo %.3fs  floor %.3fs  imgtool/skopeo %.2f  imgtool/floor %.2f  peak RSS %d kB (with unpacking)\n' \
    "$img" "$mi" "$ms" "$mf" "$(echo "$mi / $ms" | bc -l)" "$(echo "$mi / $mf" | bc -l)" "$mr"
  printf '%-22s imgtool pull with unpacking in the pass %.3fs\n' "$img" "$mu"
}

echo "bench/pull.sh: $RUNS runs each, medians, plain HTTP from $LAB_HTTP"
bench_image bench/debian:bookworm
bench_image bench/many:latest

# ---- killed halfway, rerun ------------------------------------------------------
layer=$(blob_list bench/debian:bookworm | tail -1)
size=$(skopeo inspect --raw --tls-verify=false "docker://$LAB_HTTP/bench/debian:bookworm" | jq '.layers[-1].size')
rm -rf "$W/root"
"$LAB_FAULTCTL" reset
"$LAB_FAULTCTL" add slow rate=20000000 path="/blobs/$layer" count=1 >/dev/null
"$IMGTOOL" --root "$W/root" pull -q "$LAB_FAULT/bench/debian:bookworm" >/dev/null 2>&1 &
pid=$!
part="$W/root/tmp/${layer#sha256:}.partial"
while [ "$(stat -c %s "$part" 2>/dev/null || echo 0)" -lt $((size / 2)) ]; do sleep 0.05; done
kill -9 "$pid"; wait "$pid" 2>/dev/null || true
have=$(stat -c %s "$part")
"$IMGTOOL" --root "$W/root" pull -q "$LAB_FAULT/bench/debian:bookworm" >/dev/null
range=$("$LAB_FAULTCTL" requests | jq -r --arg p "/blobs/$layer" '[.[] | select(.path | endswith($p)) | .range][-1]')
"$LAB_FAULTCTL" reset
printf 'kill -9 at %d of %d bytes; the rerun asked for %s (%d bytes fetched again); skopeo starts over\n' \
  "$have" "$size" "$range" "$((size - have))"
