#!/bin/bash
# The peers' private environment (tests/peers/env.sh) and the benchmark
# harness (bench/lib.sh): crun and podman run here, inside namespaces of
# their own, and leave the host's mounts, cgroups and network as they were.
. "$(dirname "$0")/../lib.sh"
. "$TESTS_DIR/peers/env.sh"

need () { command -v "$1" > /dev/null || { skip "$1 not installed"; done_testing; exit; }; }
[ "$(id -u)" = 0 ] || { skip "needs root"; done_testing; exit; }
for p in podman crun skopeo umoci jq unshare nft; do need $p; done

host_mounts_before=$(cut -d' ' -f5 /proc/self/mountinfo | sort)
host_cg2_before=$(cat /sys/fs/cgroup/unified/cgroup.controllers 2>/dev/null)
host_fwd_before=$(cat /proc/sys/net/ipv4/ip_forward)
# Compared after the test, never against an absolute state: the machine may
# have had them before (a /run/netns of its own, for one).
host_podman0_before=$(ip -o link show podman0 2>/dev/null)
host_netavark_before=$(nft list ruleset 2>/dev/null | grep -ci netavark)
host_netns_before=$(grep -c ' /run/netns ' /proc/self/mountinfo)

peers_env "$T_TMP/peers" || { ok "peers environment" false; done_testing; exit 1; }
trap peers_cleanup EXIT
like "private containers.conf sets the rlimits podman can use here" \
  "$(cat "$CONTAINERS_CONF")" 'default_ulimits = \["nofile=[0-9]+:[0-9]+", "nproc=[0-9]+:[0-9]+"\]'
like "private storage under PEERS_DIR" "$(cat "$CONTAINERS_STORAGE_CONF")" "graphroot = \"$PEERS_DIR/storage\""

layout=$T_TMP/busybox
ok "busybox layout" peers_busybox_layout "$layout" latest
is "layout has one image tagged latest" "$(umoci ls --layout "$layout")" latest

# crun with the bundle made like imgtool's containers.
ok "bundle from the layout" peers_bundle "$layout" latest "$T_TMP/bundle" t91
is "bundle: imgtool's namespaces" \
  "$(jq -c '[.linux.namespaces[].type] | sort' "$T_TMP/bundle/config.json")" \
  '["cgroup","ipc","mount","network","pid","uts"]'
is "bundle: cgroup under PEERS_CGROUP" "$(jq -r .linux.cgroupsPath "$T_TMP/bundle/config.json")" "/$PEERS_CGROUP/t91"
ok "crun runs true in the bundle" peers_crun run --bundle "$T_TMP/bundle" t91
jq '.process.args = ["sh", "-c", "cat /proc/self/cgroup | grep pids; hostname"]' \
  "$T_TMP/bundle/config.json" > "$T_TMP/c.json" && mv "$T_TMP/c.json" "$T_TMP/bundle/config.json"
out=$(peers_crun run --bundle "$T_TMP/bundle" t91 2>&1)
like "crun's container is in a cgroup namespace" "$(grep pids <<< "$out")" ':pids:/$'
is "crun's container has the bundle's hostname" "$(tail -1 <<< "$out")" peers
if [ -n "$host_cg2_before" ] && [ "$(stat -f -c %T /sys/fs/cgroup)" = tmpfs ]; then
  fails "crun alone is refused in hybrid mode here (why peers_ns exists)" \
    crun --root "$PEERS_DIR/crun" run --bundle "$T_TMP/bundle" t91-host
  like "... with crun's hybrid-mode message" "$LAST_OUT" 'hybrid mode not supported'
else
  skip "not a cgroup hybrid machine"
fi

# podman, also with its bridge, in a network namespace of its own.
ok "busybox into podman's storage" peers_podman_load "$layout" latest
ok "podman run --network=none" peers_podman run --rm --network=none busybox true
out=$(peers_podman run --rm busybox ip addr show eth0 2>&1)
like "podman's bridge gives eth0 an address" "$out" 'inet 10\.88\.'
ok "a bundle with podman's security settings" peers_bundle_podman "$layout" latest "$T_TMP/bundle-p" t91p
jq '.process.args = ["sh", "-c", "grep -E \"^(Seccomp|CapEff):\" /proc/self/status"]' \
  "$T_TMP/bundle-p/config.json" > "$T_TMP/c.json" && mv "$T_TMP/c.json" "$T_TMP/bundle-p/config.json"
out=$(peers_crun run --bundle "$T_TMP/bundle-p" t91p 2>&1)
like "crun with podman's config: seccomp filter" "$out" 'Seccomp:[[:space:]]+2'
like "crun with podman's config: podman's 11 capabilities" "$out" 'CapEff:[[:space:]]+00000000800405fb'

# buildah builds with the same private storage.
mkdir -p "$T_TMP/ctx"
printf 'FROM docker.io/library/busybox:latest\nRUN echo built > /built\n' > "$T_TMP/ctx/Containerfile"
ok "buildah bud" peers_buildah bud --quiet -t localhost/t91 "$T_TMP/ctx"
is "podman runs what buildah built" "$(peers_podman run --rm localhost/t91 cat /built 2>&1)" built

# The host is as it was.
is "host mount points unchanged" "$(cut -d' ' -f5 /proc/self/mountinfo | sort)" "$host_mounts_before"
is "host cgroup2 controllers unchanged" "$(cat /sys/fs/cgroup/unified/cgroup.controllers 2>/dev/null)" "$host_cg2_before"
is "host ip_forward unchanged" "$(cat /proc/sys/net/ipv4/ip_forward)" "$host_fwd_before"
is "no podman bridge left on the host" "$(ip -o link show podman0 2>/dev/null)" "$host_podman0_before"
is "no netavark rules left on the host" "$(nft list ruleset 2>/dev/null | grep -ci netavark)" "$host_netavark_before"
is "no /run/netns left on the host by podman" "$(grep -c ' /run/netns ' /proc/self/mountinfo)" "$host_netns_before"
peers_cleanup
is "peers_cleanup removes the peers' cgroups" "$(ls -d /sys/fs/cgroup/*/"$PEERS_CGROUP" 2>/dev/null)" ""
is "peers_cleanup removes PEERS_DIR" "$(ls -d "$T_TMP/peers" 2>/dev/null)" ""

# bench/lib.sh: the table, the ratio lines and the markdown (no timings
# asserted, only that they are reported).
bench_out=$(BENCH_RUNS=3 BENCH_WARMUP=1 BENCH_OUT_DIR="$T_TMP/bench" bash -c '
  . "$0/bench/lib.sh"
  bench_begin t91 "harness self-test"
  bench_side imgtool /bin/true
  bench_side sleepy sleep 0.002
  bench_side broken sh -c "echo nope >&2; exit 3"
  bench_measure
  bench_report
  bench_delta sleepy imgtool' "$TESTS_DIR/.." 2>&1)
like "bench: table row per side with a ratio vs imgtool" "$bench_out" 'sleepy +[0-9.]+ +[0-9.]+ +[0-9.]+ +[0-9]+'
like "bench: explicit ratio line" "$bench_out" 'imgtool/sleepy = [0-9.]+'
like "bench: a failing side is left out with its error" "$bench_out" 'broken: failed \(exit 3\), left out: nope'
like "bench: delta line" "$bench_out" 'sleepy - imgtool = [+-][0-9.]+ ms'
like "bench: markdown table written" "$(cat "$T_TMP"/bench/t91-*.md 2>/dev/null)" '\| sleepy \| [0-9.]+ \| [0-9.]+ \| [0-9.]+ \| [0-9]+ \| `sleep 0.002` \|'
done_testing
