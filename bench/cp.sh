#!/bin/bash
# cp of a 100 MB tree (1000 files of 100 kB in 10 directories) out of a
# stopped container: `imgtool cp c:/data DIR` against `podman cp`, the
# same tree in both, interleaved round by round (bench/lib.sh). The
# previous round's copy is moved aside (a rename) before each run and
# deleted after the measurement. Target (issue 13): imgtool <= 0.5x podman.
#   bench/cp.sh            (root; BENCH_RUNS, default 7)
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/tests/peers/env.sh"
BENCH_RUNS=${BENCH_RUNS:-7}
. "$ROOT/bench/lib.sh"
IMGTOOL=${IMGTOOL:-$ROOT/build/imgtool}

peers_enter "$0" "$@"

set -e
W=$PEERS_DIR/cp
mkdir -p "$W/trash"
peers_busybox_stores
# the tree, put into each container by its own cp
mkdir -p "$W/data"
for d in $(seq 0 9); do
  mkdir -p "$W/data/d$d"
  for f in $(seq 0 99); do
    head -c 102400 /dev/urandom > "$W/data/d$d/f$f"
  done
done
"$IMGTOOL" run --name cpsrc --network none busybox true
"$IMGTOOL" cp "$W/data" cpsrc:/data
podman run --name cpsrc --network=none --cgroup-parent "/$PEERS_CGROUP" busybox true
podman cp "$W/data" cpsrc:/data
set +e

_cp_n=0
aside () { [ -e "$1" ] && mv "$1" "$W/trash/$((_cp_n += 1))"; return 0; }
img_cp () { aside "$W/img"; "$IMGTOOL" cp cpsrc:/data "$W/img"; }
pod_cp () { aside "$W/pod"; podman cp cpsrc:/data "$W/pod"; }

bench_begin cp "cp of a 100 MB tree (1000 files) out of a stopped container"
bench_side imgtool img_cp
bench_side podman pod_cp
bench_measure
bench_report
rm -rf "$W/trash"
cmp -s <(cd "$W/img" && find . -type f | sort | xargs cat | sha256sum) \
       <(cd "$W/data" && find . -type f | sort | xargs cat | sha256sum) &&
  bench_note "imgtool's copy has the same bytes as the tree"
