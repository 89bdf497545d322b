#!/bin/bash
# Snapshot speed: imgtool's upperdir -> layer (layers/diff.c) against
# `tar -c | zstd -3` and `tar -c | gzip` on the same 200 MB upper dir of
# random data (200 files of 1 MiB), in the same run; ratios printed.
# Target (issue 5): imgtool zstd >= 0.9x the speed of tar | zstd -3.
#   bench/diff.sh [SIZE_MB] [RUNS]
set -eu
cd "$(dirname "$0")/.."
size=${1:-200}
runs=${2:-3}
out=bench/out/diff
mkdir -p "$out"
make -s -j2 build/libimgtool.a
cc -O2 -std=gnu17 -D_GNU_SOURCE -I. bench/layerdiff.c build/libimgtool.a \
  $(pkg-config --libs libcurl jansson libarchive libseccomp libmnl libnftables libzstd zlib libcrypto libisal) -lpthread -lm \
  -o "$out/layerdiff"
up="$out/upper"
if [ ! -d "$up" ] || [ "$(cat "$out/size" 2>/dev/null)" != "$size" ]; then
  rm -rf "$up"; mkdir -p "$up"
  for i in $(seq 1 "$size"); do
    head -c 1048576 /dev/urandom > "$up/f$(printf %04d "$i")"
  done
  echo "$size" > "$out/size"
fi
cat "$up"/* > /dev/null   # warm the page cache for every contender

best () { # command...: best wall time of $runs, in seconds
  local b=999999 t s e
  for _ in $(seq 1 "$runs"); do
    s=$(date +%s.%N); "$@" > /dev/null; e=$(date +%s.%N)
    t=$(echo "$e - $s" | bc -l)
    if (( $(echo "$t < $b" | bc -l) )); then b=$t; fi
  done
  echo "$b"
}

t_tar_zstd=$(best sh -c "tar -C '$up' -c . | zstd -3 -q -c > '$out/ref.tar.zst'")
t_tar_gzip=$(best sh -c "tar -C '$up' -c . | gzip -c > '$out/ref.tar.gz'")
t_img_zstd=$(best "$out/layerdiff" "$up" "$out/img.tar.zst" zstd)
t_img_gzip=$(best "$out/layerdiff" "$up" "$out/img.tar.gz" gzip)
t_img_none=$(best "$out/layerdiff" "$up" "$out/img.tar" none)

mbps () { echo "scale=0; $size / $1" | bc -l; }
printf '%-28s %8s %8s\n' what seconds MB/s
printf '%-28s %8.3f %8s\n' "tar -c | zstd -3" "$t_tar_zstd" "$(mbps "$t_tar_zstd")"
printf '%-28s %8.3f %8s\n' "tar -c | gzip" "$t_tar_gzip" "$(mbps "$t_tar_gzip")"
printf '%-28s %8.3f %8s\n' "imgtool diff zstd" "$t_img_zstd" "$(mbps "$t_img_zstd")"
printf '%-28s %8.3f %8s\n' "imgtool diff gzip (igzip)" "$t_img_gzip" "$(mbps "$t_img_gzip")"
printf '%-28s %8.3f %8s\n' "imgtool diff uncompressed" "$t_img_none" "$(mbps "$t_img_none")"
echo "speed ratio imgtool zstd / tar|zstd -3: $(echo "scale=2; $t_tar_zstd / $t_img_zstd" | bc -l) (target >= 0.90)"
echo "speed ratio imgtool gzip / tar|gzip:    $(echo "scale=2; $t_tar_gzip / $t_img_gzip" | bc -l)"
