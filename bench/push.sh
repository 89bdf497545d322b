#!/bin/bash
# Benchmark: imgtool push vs skopeo copy oci:... docker://... of the same
# ~30 MB image (3 layers of random data) into an empty repository of the
# lab's plain-HTTP registry, in the same run, ratio printed; and imgtool
# push of an image the registry already has. Each run makes a new image, so
# neither tool can mount or skip a blob from an earlier run, and the order
# alternates.
#
#   bench/push.sh            (needs the lab: tests/lab/up; LAB_ENV or
#                             tests/lab/run/env; skopeo, umoci)
#   RUNS=7 bench/push.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. "${LAB_ENV:-tests/lab/run/env}"
IMGTOOL=${IMGTOOL:-$PWD/build/imgtool}
RUNS=${RUNS:-5}
MB=${LAYER_MB:-10}
W=$(mktemp -d /tmp/imgtool-bench.XXXXXX)
trap 'rm -rf "$W"' EXIT
export IMGTOOL_CONFIG=$W/config.json IMGTOOL_ROOT=$W/root
echo "{\"insecure-registries\": [\"$LAB_HTTP\"]}" > "$IMGTOOL_CONFIG"

make_image () { # -> oci:$W/lay:img and the same in imgtool's store
  rm -rf "$W/lay" "$W/root"
  umoci init --layout "$W/lay" && umoci new --image "$W/lay:img"
  for i in 1 2 3; do
    rm -rf "$W/l"; mkdir -p "$W/l/data"
    head -c $((MB * 1000000)) /dev/urandom > "$W/l/data/f$i"
    tar -C "$W/l" -cf "$W/l.tar" .
    umoci raw add-layer --image "$W/lay:img" "$W/l.tar"
  done
  umoci config --image "$W/lay:img" --config.cmd /bin/sh
  "$IMGTOOL" images >/dev/null
  skopeo copy -q "oci:$W/lay:img" "oci:$W/root/oci:bench.local/push:1" >/dev/null
}

now () { date +%s.%N; }
median () { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
t_imgtool () { local t0; t0=$(now); "$IMGTOOL" push -q bench.local/push:1 "$LAB_HTTP/$1" >/dev/null; echo "$(now) - $t0" | bc; }
t_skopeo () { local t0; t0=$(now); skopeo copy -q --dest-tls-verify=false "oci:$W/lay:img" "docker://$LAB_HTTP/$1" >/dev/null; echo "$(now) - $t0" | bc; }

declare -a ti ts tr
for run in $(seq "$RUNS"); do
  make_image
  size=$(du -sb "$W/lay/blobs" | cut -f1)
  a=bench/push-imgtool-$$-$run:1 b=bench/push-skopeo-$$-$run:1
  if [ $((run % 2)) = 1 ]; then ti+=("$(t_imgtool "$a")"); ts+=("$(t_skopeo "$b")")
  else ts+=("$(t_skopeo "$b")"); ti+=("$(t_imgtool "$a")"); fi
  tr+=("$(t_imgtool "$a")")   # the registry has it all now
done
mi=$(printf '%s\n' "${ti[@]}" | median)
ms=$(printf '%s\n' "${ts[@]}" | median)
mr=$(printf '%s\n' "${tr[@]}" | median)
echo "image: 3 layers, $((size / 1000000)) MB of blobs; $RUNS runs, medians"
printf 'imgtool push (empty repository)   %.3f s\n' "$mi"
printf 'skopeo copy oci: -> docker://     %.3f s\n' "$ms"
printf 'ratio imgtool/skopeo              %.2f (target <= 0.7)\n' "$(echo "$mi / $ms" | bc -l)"
printf 'imgtool push, registry has it     %.0f ms (target < 100 ms)\n' "$(echo "$mr * 1000" | bc -l)"
