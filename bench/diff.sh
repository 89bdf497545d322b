#!/bin/bash
# Snapshot speed: imgtool's upper dir -> layer blob in the store
# (layers/diff.c + layer_diff: tar, compression, diff_id and blob digest,
# O_DIRECT write, fsync, rename), against `tar -c | zstd -3 > /dev/null`
# on the same 200 MB upper dir of random data (200 files of 1 MiB), page
# cache warm, interleaved round by round; medians, minimums and CPU time
# (user+sys, which does not depend on how loaded the machine is).
# Target (issue 5): imgtool zstd >= 0.9x the speed of tar | zstd -3.
#   bench/diff.sh [SIZE_MB] [RUNS]
#   BASE_REV=61044d4 bench/diff.sh 200 9
#       also times the layer code of an earlier commit (its libimgtool.a,
#       this bench/layerdiff.c) in the same rounds: before/after figures
set -eu
cd "$(dirname "$0")/.."
size=${1:-200}
runs=${2:-5}
out=bench/out/diff
mkdir -p "$out"
make -s -j2 build/libimgtool.a
cc -O2 -std=gnu17 -D_GNU_SOURCE -I. bench/layerdiff.c build/libimgtool.a \
  $(pkg-config --libs libcurl jansson libarchive libseccomp libmnl libnftables libzstd zlib libcrypto libisal) -lpthread -lm \
  -o "$out/layerdiff"
sides=(tar-zstd img-zstd img-gzip img-none)
if [ -n "${BASE_REV:-}" ]; then
  src="$out/base-src"
  rm -rf "$src"; mkdir -p "$src"
  git archive "$BASE_REV" | tar -x -C "$src"
  make -s -C "$src" -j2 build/libimgtool.a
  cc -O2 -std=gnu17 -D_GNU_SOURCE -I"$src" bench/layerdiff.c "$src/build/libimgtool.a" \
    $(pkg-config --libs libcurl jansson libarchive libseccomp libmnl libnftables libzstd zlib libcrypto libisal) -lpthread -lm \
    -o "$out/layerdiff-base"
  sides+=(base-zstd base-gzip)
fi
up="$out/upper"
if [ ! -d "$up" ] || [ "$(cat "$out/size" 2>/dev/null)" != "$size" ]; then
  rm -rf "$up"; mkdir -p "$up"
  for i in $(seq 1 "$size"); do
    head -c 1048576 /dev/urandom > "$up/f$(printf %04d "$i")"
  done
  echo "$size" > "$out/size"
fi
store="$out/store"
rm -rf "$store"
cat "$up"/* > /dev/null   # warm the page cache for every contender

run_side () {
  case $1 in
    tar-zstd) sh -c "tar -C '$up' -c . | zstd -3 -q -c > /dev/null" ;;
    tar-gzip) sh -c "tar -C '$up' -c . | gzip -c > /dev/null" ;;
    img-*) "$out/layerdiff" "$up" "store:$store" "${1#img-}" > /dev/null ;;
    base-*) "$out/layerdiff-base" "$up" "store:$store" "${1#base-}" > /dev/null ;;
  esac
}
declare -A times
for _ in $(seq 1 "$runs"); do
  for s in "${sides[@]}"; do
    rm -rf "$store/oci/blobs"   # each run stores a new blob (not timed)
    t=$( { /usr/bin/time -f '%e %U %S' bash -c "$(declare -f run_side); up='$up' store='$store' out='$out'; run_side $s" ; } 2>&1 >/dev/null | tail -1)
    times[$s]+="$t"$'\n'
  done
done
# gzip(1) is ten times slower than everything else: one run is enough
times[tar-gzip]=$( { /usr/bin/time -f '%e %U %S' bash -c "tar -C '$up' -c . | gzip -c > /dev/null" ; } 2>&1 | tail -1)$'\n'

stat_of () { # side -> "median min cpu"
  printf '%s' "${times[$1]}" | grep . | sort -n | awk '
    { w[NR] = $1; c += $2 + $3 }
    END { m = (NR % 2) ? w[(NR + 1) / 2] : (w[NR / 2] + w[NR / 2 + 1]) / 2
          printf "%.3f %.3f %.3f\n", m, w[1], c / NR }'
}
printf '%-34s %8s %8s %8s %8s\n' what median min cpu MB/s
declare -A med
for s in tar-zstd tar-gzip "${sides[@]:1}"; do
  read -r m mn c < <(stat_of "$s")
  med[$s]=$m
  case $s in
    tar-zstd) label="tar -c | zstd -3 > /dev/null" ;;
    tar-gzip) label="tar -c | gzip > /dev/null (1 run)" ;;
    img-zstd) label="imgtool layer, zstd -3" ;;
    img-gzip) label="imgtool layer, gzip (igzip -1)" ;;
    img-none) label="imgtool layer, uncompressed" ;;
    base-zstd) label="$BASE_REV layer, zstd -3" ;;
    base-gzip) label="$BASE_REV layer, gzip" ;;
  esac
  printf '%-34s %8.3f %8.3f %8.3f %8.0f\n' "$label" "$m" "$mn" "$c" "$(echo "$size / $m" | bc -l)"
done
echo "load $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cpus, $runs runs"
echo "speed ratio imgtool zstd / tar|zstd -3: $(echo "scale=2; ${med[tar-zstd]} / ${med[img-zstd]}" | bc -l) (target >= 0.90)"
echo "speed ratio imgtool gzip / tar|gzip:    $(echo "scale=2; ${med[tar-gzip]} / ${med[img-gzip]}" | bc -l)"
if [ -n "${BASE_REV:-}" ]; then
  echo "speed ratio $BASE_REV zstd / tar|zstd -3: $(echo "scale=2; ${med[tar-zstd]} / ${med[base-zstd]}" | bc -l)"
fi
