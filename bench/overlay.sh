#!/bin/bash
# Mounting an image of many layers (issue 3: a 100-layer image in under
# 5 ms): layer_overlay_mount + umount of N snapshot dirs with an upper and
# work dir, as `imgtool run --rm` mounts its root (volatile), for N = 1,
# 20, 100, 200, 500; and 100 layers without "volatile" (a kept container).
#
#   bench/overlay.sh            ROUNDS=200 by default
#
# Prints "layers median min p90" (ms) and writes bench/out/overlay-DATE.md;
# then times `imgtool run --rm` of a 100-layer image against a 1-layer one
# (bench/out/overlay-run-DATE.md).
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

# The same end to end: `imgtool run --rm IMAGE true` of an image of 100
# layers (made as tests/integration/21-many-layers.sh does: busybox, then
# one small file per layer) against the image of its first layer alone.
IMGTOOL=${IMGTOOL:-$ROOT/build/imgtool}
command -v umoci >/dev/null && command -v skopeo >/dev/null || {
  echo "umoci or skopeo missing: no end-to-end run"; exit 0; }
export IMGTOOL_ROOT=$out/store
(
  set -e
  cd "$out"
  add () { tar -C "$1" -cf layer.tar .; umoci raw add-layer --image L:"$2" layer.tar; rm -rf "$1" layer.tar; }
  umoci init --layout L
  for tag in one many; do
    umoci new --image L:$tag
    mkdir -p base/bin
    cp "$(command -v busybox || echo /bin/busybox)" base/bin/busybox
    ln -s busybox base/bin/true
    add base $tag
  done
  for i in $(seq 1 99); do mkdir d; echo "file $i" > "d/f$i"; add d many; done
  mkdir -p store/oci
  for tag in one many; do
    skopeo copy --quiet "oci:L:$tag" "oci:store/oci:docker.io/library/$tag:latest"
  done
) > "$out/umoci.log" 2>&1 || { echo "could not make the 100-layer image (see $out/umoci.log)"; exit 1; }
set +e # bench/lib.sh's functions return the status of their last test
BENCH_GAP=${BENCH_GAP:-0.05} # as bench/run.sh, for the same reason
BENCH_OUT_DIR=$ROOT/bench/out
. "$ROOT/bench/lib.sh"
bench_begin overlay-run "run --rm of a 100-layer image"
bench_side run-100-layers "$IMGTOOL" run --rm --network none many true
bench_side run-1-layer "$IMGTOOL" run --rm --network none one true
bench_measure
bench_report run-1-layer
bench_delta run-100-layers run-1-layer
