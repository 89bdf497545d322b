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

if [ ! -f "$OUT/layer.tar.gz" ]; then
  mirror=$(awk '/^URIs:/{print $2; exit} /^deb /{print $2; exit}' \
    /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null || true)
  rm -rf "$OUT/rootfs"
  debootstrap --variant=minbase bookworm "$OUT/rootfs" "${mirror:-http://deb.debian.org/debian}" > "$OUT/debootstrap.log"
  # as a Debian image layer: no package cache, no lists
  rm -rf "$OUT"/rootfs/var/cache/apt/archives/*.deb "$OUT"/rootfs/var/lib/apt/lists/*
  tar --numeric-owner --xattrs -C "$OUT/rootfs" -cf "$OUT/layer.tar" .
  gzip -6 -n -c "$OUT/layer.tar" > "$OUT/layer.tar.gz"
  rm -f "$OUT/layer.tar"
fi
BLOB=$PWD/$OUT/layer.tar.gz

# An OCI image around the layer, for umoci.
IMG=$PWD/$OUT/img
if [ ! -f "$IMG/index.json" ]; then
  mkdir -p "$IMG/blobs/sha256"
  d=$(sha256sum "$BLOB" | cut -d' ' -f1); s=$(stat -c %s "$BLOB")
  diff=$(gzip -dc "$BLOB" | sha256sum | cut -d' ' -f1)
  cp "$BLOB" "$IMG/blobs/sha256/$d"
  echo '{"imageLayoutVersion":"1.0.0"}' > "$IMG/oci-layout"
  printf '{"architecture":"amd64","os":"linux","config":{},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' "$diff" > "$OUT/config.json"
  cd_=$(sha256sum "$OUT/config.json" | cut -d' ' -f1); cp "$OUT/config.json" "$IMG/blobs/sha256/$cd_"
  printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:%s","size":%s}]}' \
    "$cd_" "$(stat -c %s "$OUT/config.json")" "$d" "$s" > "$OUT/manifest.json"
  md=$(sha256sum "$OUT/manifest.json" | cut -d' ' -f1); cp "$OUT/manifest.json" "$IMG/blobs/sha256/$md"
  printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"annotations":{"org.opencontainers.image.ref.name":"bench"}}]}' \
    "$md" "$(stat -c %s "$OUT/manifest.json")" > "$IMG/index.json"
fi

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
