#!/bin/bash
# Benchmark: partial pulls and parallel Range downloads (docs/performance.md).
#
# 1. v1 -> v2 of an image of 2,000 files of 20 KB with 1 %, 10 % and 50 % of
#    the files changed: bytes of the layer fetched and time of the v2 pull,
#    imgtool (zstd:chunked with tar-split, tests/helpers/zstd-chunked.py)
#    against podman with partial pulls on (pull_options
#    enable_partial_images="true" in the private peers storage.conf; the
#    layers buildah 1.28 writes, the zstd:chunked format podman 4.3 reads).
#    Bytes are what the lab's fault proxy sent for the layer's blob.
# 2. time to the first output of `run` of busybox + a 300 MB file + 10,000
#    small files (zstd:chunked) from an empty store, through the proxy's
#    throttle at 4 MB/s per connection: pull + run with one connection
#    (--jobs 1, the one-pass full pull) against the parallel Range download
#    of the large layer (the default --jobs 4, and 8). The lazy start is
#    another piece of work; this is the full-pull baseline it improves on.
#
#   bench/partial.sh          (as root; starts its own lab in a private
#                              network namespace; needs skopeo, podman,
#                              buildah, libzstd)
#   SKIP_PODMAN=1 BIG_MB=100 bench/partial.sh
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${BENCH_NETNS:-}" ]; then
  BENCH_NETNS=1 exec unshare -n "$0" "$@"
fi
ip link set lo up
tests/lab/up >/dev/null
trap 'tests/lab/down >/dev/null 2>&1 || true; rm -rf "$W"' EXIT
. tests/lab/run/env
IMGTOOL=${IMGTOOL:-$PWD/build/imgtool}
BIG_MB=${BIG_MB:-300}
W=$(mktemp -d /tmp/imgtool-bench.XXXXXX)
export IMGTOOL_CONFIG=$W/config.json
echo "{\"insecure-registries\": [\"$LAB_HTTP\", \"$LAB_FAULT\"]}" > "$IMGTOOL_CONFIG"
F=$LAB_FAULTCTL
REPO=bench/partial-$$
now () { date +%s.%N; }
since () { echo "$(now) - $1" | bc; }
mkzc () { /usr/bin/python3 tests/helpers/zstd-chunked.py "$@" >/dev/null; }
layer_of () { skopeo inspect --tls-verify=false --raw "docker://$LAB_HTTP/$REPO:$1" | jq -r '.layers[-1].digest'; }
size_of () { skopeo inspect --tls-verify=false --raw "docker://$LAB_HTTP/$REPO:$1" | jq '.layers[-1].size'; }

# ---- 1. v1 -> v2 -----------------------------------------------------------------
. tests/peers/env.sh
if [ -z "${SKIP_PODMAN:-}" ]; then
  peers_env "$W/peers" >/dev/null
  cat >> "$W/peers/storage.conf" <<EOC

[storage.options]
pull_options = {enable_partial_images = "true"}
EOC
fi
SRC=$W/src
mkdir -p "$SRC/data"
for i in $(seq 1 2000); do head -c 20000 /dev/urandom > "$SRC/data/f$i"; done
mkzc "$SRC" "$W/zc" v1
skopeo copy -q --dest-tls-verify=false "oci:$W/zc:v1" "docker://$LAB_HTTP/$REPO:v1"
buildah_push () { # tag
  peers_ns --host-net bash -c '
    c=$(buildah from scratch) && buildah copy -q "$c" "$1" /data >/dev/null &&
    buildah commit -q "$c" "b$2" >/dev/null && buildah rm "$c" >/dev/null &&
    buildah push -q --tls-verify=false --compression-format zstd:chunked "b$2" "docker://$3:b$2"' \
    _ "$SRC/data" "$1" "$LAB_HTTP/$REPO"
}
# podman in the peers' namespaces, but in this network namespace (the lab's)
pod () { _peers_auth_env; peers_ns --host-net "${_peers_env[@]}" podman "$@"; }
[ -n "${SKIP_PODMAN:-}" ] || buildah_push v1
printf '%-8s %-8s %14s %14s %9s %8s\n' changed tool "layer bytes" fetched share "v2 pull"
for pct in 1 10 50; do
  n=$((2000 * pct / 100))
  cp -a "$SRC" "$W/src$pct"
  for i in $(seq 1 "$n"); do head -c 20000 /dev/urandom > "$W/src$pct/data/f$((i * 100 / pct))"; done
  mkzc "$W/src$pct" "$W/zc" "v2-$pct"
  skopeo copy -q --dest-tls-verify=false "oci:$W/zc:v2-$pct" "docker://$LAB_HTTP/$REPO:v2-$pct"
  rm -rf "$W/root"
  "$IMGTOOL" --root "$W/root" pull -q "$LAB_FAULT/$REPO:v1" >/dev/null
  "$F" reset
  t0=$(now); "$IMGTOOL" --root "$W/root" pull -q "$LAB_FAULT/$REPO:v2-$pct" >/dev/null; t=$(since "$t0")
  l=$(layer_of "v2-$pct"); sz=$(size_of "v2-$pct"); got=$("$F" sent "/blobs/$l" GET)
  printf '%-8s %-8s %14d %14d %8.1f%% %7.2fs\n' "$pct%" imgtool "$sz" "$got" "$(echo "$got * 100 / $sz" | bc -l)" "$t"
  if [ -z "${SKIP_PODMAN:-}" ]; then
    SRC_SAVE=$SRC; SRC=$W/src$pct; buildah_push "v2-$pct"; SRC=$SRC_SAVE
    pod rmi -a -f >/dev/null 2>&1 || true
    pod pull -q --tls-verify=false "$LAB_FAULT/$REPO:bv1" >/dev/null
    "$F" reset
    t0=$(now); pod pull -q --tls-verify=false "$LAB_FAULT/$REPO:bv2-$pct" >/dev/null; t=$(since "$t0")
    l=$(layer_of "bv2-$pct"); sz=$(size_of "bv2-$pct"); got=$("$F" sent "/blobs/$l" GET)
    printf '%-8s %-8s %14d %14d %8.1f%% %7.2fs\n' "$pct%" podman "$sz" "$got" "$(echo "$got * 100 / $sz" | bc -l)" "$t"
  fi
done
[ -z "${SKIP_PODMAN:-}" ] && peers_cleanup

# ---- 2. time to first output over a 4 MB/s-per-connection link --------------------
BIG=$W/big
mkdir -p "$BIG/bin" "$BIG/small"
cp /bin/busybox "$BIG/bin/busybox"; ln -s busybox "$BIG/bin/sh"; ln -s busybox "$BIG/bin/echo"
head -c $((BIG_MB << 20)) /dev/urandom > "$BIG/big.bin"
for i in $(seq 1 10000); do echo "small file $i" > "$BIG/small/s$i"; done
mkzc "$BIG" "$W/zc" big
skopeo copy -q --dest-tls-verify=false "oci:$W/zc:big" "docker://$LAB_HTTP/$REPO:big"
first_output () { # jobs: seconds from an empty store to run's first line
  rm -rf "$W/root"
  local t0; t0=$(now)
  "$IMGTOOL" --root "$W/root" pull -q --jobs "$1" "$LAB_FAULT/$REPO:big" >/dev/null
  "$IMGTOOL" --root "$W/root" run --rm --network none "$LAB_FAULT/$REPO:big" /bin/echo first | head -1 >/dev/null
  since "$t0"
}
"$F" reset
"$F" add throttle rate=4000000 path=/blobs/ >/dev/null
echo "run of busybox + ${BIG_MB} MB + 10,000 files, 4 MB/s per connection, to the first output:"
printf '  pull --jobs 1 (one connection) + run:     %6.1fs\n' "$(first_output 1)"
printf '  pull (default --jobs 4: 4 Range parts) + run: %6.1fs\n' "$(first_output 4)"
printf '  pull --jobs 8 (8 Range parts) + run:      %6.1fs\n' "$(first_output 8)"
"$F" reset
