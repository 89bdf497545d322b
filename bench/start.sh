#!/bin/bash
# start of an exited container against a new run (issue 13; target: start
# <= run): `imgtool start -a C` of a container whose command is `true`
# (its record, writable layer and snapshots are there already) against
# `imgtool run busybox true` (a new container, kept as start's is) and
# `run --rm`, with podman's start -a and run --rm in the same rounds. --network none on every side: the bridge costs both
# alike (bench/run.sh measures it).
#
#   bench/start.sh            BENCH_RUNS=20 by default
#
# Inside a private mount and network namespace (tests/peers/env.sh), as
# bench/run.sh; runs BENCH_GAP (default 0.05) s apart for its reason.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/tests/peers/env.sh"
BENCH_GAP=${BENCH_GAP:-0.05}
. "$ROOT/bench/lib.sh"
IMGTOOL=${IMGTOOL:-$ROOT/build/imgtool}

peers_enter "$0" "$@"
set -e
peers_busybox_stores
"$IMGTOOL" create --name bench-start --network none busybox true > /dev/null
podman create --name bench-start --cgroup-parent "/$PEERS_CGROUP" \
  --network=none busybox true > /dev/null
set +e

bench_begin start "start -a of an exited container vs run --rm, busybox true, network none"
bench_side imgtool-start "$IMGTOOL" start -a bench-start
# a new container kept (no --rm), as start keeps one: its record is made
# durable (fsync) as start's is
bench_side imgtool-run "$IMGTOOL" run --network none busybox true
# run --rm: its record is never synced, nor its writable layer
bench_side imgtool-run-rm "$IMGTOOL" run --rm --network none busybox true
bench_side podman-start podman start -a bench-start
bench_side podman-run podman run --rm --cgroup-parent "/$PEERS_CGROUP" --network=none busybox true
bench_measure
bench_report imgtool-run
bench_ratio podman-start imgtool-start
"$IMGTOOL" rm bench-start > /dev/null
podman rm bench-start > /dev/null
exit 0
