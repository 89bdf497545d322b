#!/bin/bash
# Start-to-exit of `true` in busybox (issues 3 and 4): imgtool run against
# crun run of an equivalent bundle (same namespaces, a cgroup) and podman run,
# with --network none and with each one's bridge, in one run, ratios printed;
# then the same as an ordinary user (rootless, issue 12).
#
#   bench/run.sh              BENCH_RUNS=20 by default
#   BENCH_RUNS=50 bench/run.sh
#   IMGTOOL_BEFORE=/tmp/imgtool-main bench/run.sh   with an older build too
#
# The runs are BENCH_GAP (default 0.05) seconds apart. On cgroup v1 the
# first move of a process into a cgroup waits for an RCU grace period
# (~10-15 ms here), unless another move ended less than about a grace
# period before: back to back, the side that runs right after another
# finds the wait already paid (crun measured 10 ms after imgtool, 26 ms
# on its own). 50 ms apart, every run starts as a user's lone command does.
#
# Everything runs inside a private mount and network namespace made here
# (tests/peers/env.sh: peers_ns), so the bridges, firewall rules and mounts
# of imgtool and podman never touch the host's. Results: the table printed
# and bench/out/run-DATE.md.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/tests/peers/env.sh"
BENCH_GAP=${BENCH_GAP:-0.05}
. "$ROOT/bench/lib.sh"
IMGTOOL=${IMGTOOL:-$ROOT/build/imgtool}

peers_enter "$0" "$@"

# From here on: inside the private namespaces, with PEERS_DIR set up.
set -e
layout=$PEERS_DIR/busybox-layout
peers_busybox_layout "$layout" latest
peers_podman_load "$layout" latest docker.io/library/busybox:latest
peers_bundle "$layout" latest "$PEERS_DIR/bundle" bench
peers_bundle_podman "$layout" latest "$PEERS_DIR/bundle-podman" bench-podman
set +e

# imgtool, when its run command exists, with its own private store.
have_imgtool=0
if "$IMGTOOL" run --help > /dev/null 2>&1; then
  export IMGTOOL_ROOT=$PEERS_DIR/imgtool
  mkdir -p "$IMGTOOL_ROOT"
  if skopeo copy --quiet "oci:$layout:latest" \
       "oci:$IMGTOOL_ROOT/oci:docker.io/library/busybox:latest" > /dev/null; then
    have_imgtool=1
  else
    echo "imgtool: could not put busybox into its store" >&2
  fi
fi

podman_run=(podman run --rm --cgroup-parent "/$PEERS_CGROUP")
crun_run=(crun --root "$PEERS_DIR/crun" run --bundle "$PEERS_DIR/bundle" bench)
# The same bundle with the security settings podman gives crun (11 caps,
# seccomp, masked paths, pids limit): the work imgtool run also does.
crun_podman_run=(crun --root "$PEERS_DIR/crun" run --bundle "$PEERS_DIR/bundle-podman" bench-podman)

bench_begin run "run --rm busybox true, network none"
[ $have_imgtool = 1 ] || bench_note "imgtool run: not available yet"
[ $have_imgtool = 1 ] && bench_side imgtool "$IMGTOOL" run --rm --network none busybox true
# IMGTOOL_BEFORE=/path/to/an/older/imgtool adds it as a side, for a
# before/after in the same run (same store).
[ $have_imgtool = 1 ] && [ -n "${IMGTOOL_BEFORE:-}" ] &&
  bench_side imgtool-before "$IMGTOOL_BEFORE" run --rm --network none busybox true
bench_side crun "${crun_run[@]}"
bench_side crun-podman-config "${crun_podman_run[@]}"
bench_side podman "${podman_run[@]}" --network=none busybox true
bench_measure
bench_report
bench_ratio crun podman
bench_ratio crun-podman-config crun

bench_begin run-bridge "run --rm busybox true, bridge networking"
[ $have_imgtool = 1 ] || bench_note "imgtool run: not available yet"
if [ $have_imgtool = 1 ]; then
  bench_side imgtool "$IMGTOOL" run --rm --network none busybox true
  bench_side imgtool-bridge "$IMGTOOL" run --rm --network bridge busybox true
fi
bench_side podman "${podman_run[@]}" --network=none busybox true
bench_side podman-bridge "${podman_run[@]}" busybox true
bench_measure
bench_report
bench_delta imgtool-bridge imgtool
bench_delta podman-bridge podman
bench_ratio imgtool-bridge podman-bridge
bench_ratio podman podman-bridge

# Rootless (issue 12): the same run as an ordinary user with subordinate
# ids, made here and removed at the end, against imgtool as root and
# rootless podman, with --network none and each one's default network
# (slirp). /dev/net/tun is opened up for the user meanwhile (0666, the
# usual udev mode) and put back.
bench_begin run-rootless "run --rm busybox true as an ordinary user"
if [ $have_imgtool = 1 ] && command -v newuidmap > /dev/null &&
   useradd -M -d "$PEERS_DIR/rl-home" -s /bin/sh "imgbench$$" 2> /dev/null; then
  rl_user=imgbench$$ tun_mode=$(stat -c %a /dev/net/tun)
  rl_done () {
    local p
    chmod "$tun_mode" /dev/net/tun
    for p in $(pgrep -u "$rl_user"); do kill -9 "$p" 2> /dev/null; done
    userdel "$rl_user" > /dev/null 2>&1
  }
  trap rl_done EXIT
  chmod 0666 /dev/net/tun
  rl_home=$PEERS_DIR/rl-home
  mkdir -p "$rl_home/.local/share/imgtool" "$rl_home/run"
  skopeo copy --quiet "oci:$layout:latest" \
    "oci:$rl_home/.local/share/imgtool/oci:docker.io/library/busybox:latest" > /dev/null
  chown -R "$rl_user:" "$rl_home"
  chmod 755 "$PEERS_DIR" "$rl_home"
  chmod -R a+rX "$layout"
  as_rl=(setpriv --reuid="$rl_user" --regid="$rl_user" --clear-groups
         env -i HOME="$rl_home" PATH=/usr/bin:/bin XDG_RUNTIME_DIR="$rl_home/run")
  "${as_rl[@]}" skopeo copy --quiet "oci:$layout:latest" \
    containers-storage:docker.io/library/busybox:latest > /dev/null 2>&1
  bench_side imgtool "$IMGTOOL" run --rm --network none busybox true
  bench_side imgtool-bridge "$IMGTOOL" run --rm busybox true
  bench_side imgtool-rootless "${as_rl[@]}" "$IMGTOOL" run --rm --network none busybox true
  bench_side imgtool-rootless-slirp "${as_rl[@]}" "$IMGTOOL" run --rm busybox true
  bench_side podman-rootless "${as_rl[@]}" podman run --rm --network=none docker.io/library/busybox:latest true
  bench_side podman-rootless-slirp "${as_rl[@]}" podman run --rm docker.io/library/busybox:latest true
  bench_measure
  bench_report
  bench_ratio imgtool-rootless imgtool
  bench_ratio imgtool-rootless-slirp imgtool-bridge
  bench_ratio podman-rootless imgtool-rootless
  bench_ratio podman-rootless-slirp imgtool-rootless-slirp
  bench_ratio podman imgtool-rootless
else
  bench_note "rootless: no imgtool run, newuidmap or useradd here"
fi
exit 0
