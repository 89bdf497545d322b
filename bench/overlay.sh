#!/bin/bash
# Mounting an image of many layers (issue 3: a 100-layer image in under
# 5 ms): layer_overlay_mount + umount of N snapshot dirs with an upper and
# work dir, as `imgtool run --rm` mounts its root (volatile), for N = 1,
# 20, 100, 200, 500; and 100 layers without "volatile" (a kept container).
#
#   bench/overlay.sh            ROUNDS=200 by default
#
# Prints "layers median min p90" (ms) and writes bench/out/overlay-DATE.md.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
[ "$(id -u)" = 0 ] || { echo "bench/overlay.sh: needs root" >&2; exit 1; }
ROUNDS=${ROUNDS:-200}
[ -f build/libimgtool.a ] || make -j2 build/libimgtool.a >/dev/null
out=$(mktemp -d /tmp/imgtool-bench-overlay.XXXXXX)
trap 'rm -rf "$out"' EXIT
cc -O2 -std=gnu17 -D_GNU_SOURCE -I. bench/overlaymount.c build/libimgtool.a \
  -o "$out/overlaymount"
mkdir -p bench/out
md=bench/out/overlay-$(date +%Y-%m-%d).md
host="$(nproc) cpus, kernel $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== overlay mount + umount ($host; $ROUNDS rounds each)"
printf '%-8s %10s %10s %10s\n' layers "median ms" "min ms" "p90 ms"
{
  echo
  echo "### overlay mount + umount — $(date '+%Y-%m-%d %H:%M')"
  echo
  echo "$host; $ROUNDS rounds; commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
  echo
  echo "| layers | median ms | min ms | p90 ms |"
  echo "|---:|---:|---:|---:|"
} >> "$md"
for n in 1 20 100 200 500; do
  rm -rf "$out/stack"
  read -r l med min p90 < <("$out/overlaymount" "$out/stack" "$n" "$ROUNDS")
  printf '%-8s %10s %10s %10s\n' "$l" "$med" "$min" "$p90"
  echo "| $l | $med | $min | $p90 |" >> "$md"
done
rm -rf "$out/stack"
read -r l med min p90 < <("$out/overlaymount" "$out/stack" 100 "$ROUNDS" sync)
printf '%-8s %10s %10s %10s\n' "$l sync" "$med" "$min" "$p90"
echo "| $l, not volatile | $med | $min | $p90 |" >> "$md"
echo "markdown: $md"
