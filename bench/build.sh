#!/bin/bash
# imgtool build against `buildah bud --layers` and `podman build --layers`
# (issue 5), in one run, ratios printed:
#   - cold: every step runs (--no-cache);
#   - fully cached: nothing changed since the last build;
#   - one copied file changed: the COPY and the steps after it run;
#   - snapshotting a 200 MB step with --compression zstd, against
#     `tar -c | zstd -3` of the same files (the target is >= 90% of its
#     speed, so imgtool's step should take at most ~1.1x its time plus the
#     RUN itself).
#   - a second machine building from the registry cache (--cache-from,
#     an empty store but the base image) against a cold build of the same
#     Buildfile (issue 16: target <= 0.2x); a docker-registry of its own
#     on 127.0.0.1 inside the namespace;
#   - a pip-style RUN --mount=type=cache rebuilt after a requirements
#     change (issue 16): with the cache mount only the new package is
#     "downloaded" (a 0.3 s sleep stands for the network), without it
#     every one is; buildah with the same cache mount for comparison.
#
#   bench/build.sh            BENCH_RUNS=10 by default (builds are slow)
#   BENCH_RUNS=5 bench/build.sh
#   IMGTOOL_BASE=/old/build/imgtool bench/build.sh
#                             also times another imgtool binary (a build of
#                             an earlier commit, with a store of its own) in
#                             the cold and 200 MB rounds: before/after
#                             figures from one run
#
# The Buildfile is the issue's: FROM busybox, three RUNs, a COPY of 1,000
# small files, ENV, WORKDIR, CMD (named Dockerfile, which all three find).
# Everything runs inside a private mount and network namespace
# (tests/peers/env.sh: peers_ns), with private storage for every side. Results: the table printed and
# bench/out/build-DATE.md.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/tests/peers/env.sh"
BENCH_RUNS=${BENCH_RUNS:-10}
. "$ROOT/bench/lib.sh"
IMGTOOL=${IMGTOOL:-$ROOT/build/imgtool}

peers_enter "$0" "$@"

set -e
peers_busybox_stores
IMGTOOL_BASE=${IMGTOOL_BASE:-}
if [ -n "$IMGTOOL_BASE" ]; then
  base_root=$PEERS_DIR/imgtool-base
  mkdir -p "$base_root"
  skopeo copy --quiet "oci:$layout:latest" "oci:$base_root/oci:docker.io/library/busybox:latest"
fi

ctx=$PEERS_DIR/ctx
mkdir -p "$ctx/files"
for i in $(seq 1000); do echo "file $i" > "$ctx/files/f$i.txt"; done
cat > "$ctx/Dockerfile" <<'EOF'
FROM busybox
RUN echo one > /one
COPY files /srv/files
RUN ls /srv/files | wc -l > /count
ENV APP=/srv
WORKDIR /srv/app
RUN echo three > three
CMD ["sh"]
EOF
mkdir -p "$PEERS_DIR/big"
cat > "$PEERS_DIR/big/Dockerfile" <<'EOF'
FROM busybox
RUN dd if=/dev/urandom of=/big bs=1M count=200 2>/dev/null
EOF
head -c 200M /dev/urandom > "$PEERS_DIR/big-data"
set +e

edit () { echo "changed $RANDOM" > "$ctx/files/f1.txt"; }
img_build () { "$IMGTOOL" build -q -t bench "$@"; }
base_build () { IMGTOOL_ROOT=$base_root "$IMGTOOL_BASE" build -q -t bench "$@"; }
podman_build () { podman build -q --layers --network=host -t bench "$@"; }
buildah_build () { buildah bud -q --layers --network=host -t bench "$@"; }
edited_img () { edit && img_build "$ctx"; }
edited_podman () { edit && podman_build "$ctx"; }
edited_buildah () { edit && buildah_build "$ctx"; }

# --- a pip-style cache mount (issue 16); BENCH_ONLY=pip-cache runs only it
bench_pip_cache () {
  for v in cache nocache; do
    mkdir -p "$PEERS_DIR/pip-$v"
    seq 10 | sed 's/^/pkg/' > "$PEERS_DIR/pip-$v/req.txt"
  done
  pip_step='for p in $(cat /req.txt); do [ -f /c/$p ] || { sleep 0.3; head -c 2M /dev/urandom > /c/$p; }; cp /c/$p /opt/; done'
  printf 'FROM busybox\nCOPY req.txt /req.txt\nRUN --mount=type=cache,target=/c mkdir -p /opt && %s\n' "$pip_step" \
    > "$PEERS_DIR/pip-cache/Dockerfile"
  printf 'FROM busybox\nCOPY req.txt /req.txt\nRUN mkdir -p /opt /c && %s\n' "$pip_step" \
    > "$PEERS_DIR/pip-nocache/Dockerfile"
  req_change () { echo "pkg$RANDOM$RANDOM" >> "$PEERS_DIR/$1/req.txt"; }
  pip_img () { req_change pip-cache && img_build "$PEERS_DIR/pip-cache"; }
  pip_img_nocache () { req_change pip-nocache && img_build "$PEERS_DIR/pip-nocache"; }
  pip_buildah () { req_change pip-cache && buildah_build "$PEERS_DIR/pip-cache"; }
  bench_begin build-pip-cache "rebuild after a requirements change: RUN --mount=type=cache vs none"
  bench_side imgtool pip_img
  bench_side imgtool-no-mount pip_img_nocache
  bench_side buildah pip_buildah
  bench_measure
  bench_report
  bench_note "target: the cache mount cuts the step's time (imgtool < imgtool-no-mount)"
}
[ "${BENCH_ONLY:-}" != pip-cache ] || { bench_pip_cache; exit 0; }

# --- a second machine from the registry cache (issue 16);
# BENCH_ONLY=registry-cache runs only it
bench_registry_cache () {
  local reg=127.0.0.1:5999 rdir=$PEERS_DIR/registry rpid
  mkdir -p "$rdir/storage"
  printf 'version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: %s\n' \
    "$rdir/storage" "$reg" > "$rdir/config.yml"
  /usr/bin/docker-registry serve "$rdir/config.yml" > "$rdir/log" 2>&1 &
  rpid=$!
  for _ in $(seq 50); do curl -fs "http://$reg/v2/" > /dev/null && break; sleep 0.1; done
  export IMGTOOL_CONFIG=$PEERS_DIR/imgtool-config.json
  echo "{\"insecure-registries\": [\"$reg\"]}" > "$IMGTOOL_CONFIG"
  # Two Buildfiles: the issue's (its RUNs are trivial: echo, ls) and the
  # same plus a step that works (~1 s of gzip), as a compile or a package
  # install would.
  mkdir -p "$PEERS_DIR/rc-plain" "$PEERS_DIR/rc-work"
  cp -a "$ctx/files" "$PEERS_DIR/rc-plain/"
  cp -a "$ctx/files" "$PEERS_DIR/rc-work/"
  cp "$ctx/Dockerfile" "$PEERS_DIR/rc-plain/"
  sed 's|^CMD|RUN head -c 60000000 /dev/urandom \| gzip -1 \| wc -c > /size\nCMD|' \
    "$ctx/Dockerfile" > "$PEERS_DIR/rc-work/Dockerfile"
  # each side starts from a store with only the base image (a copy of
  # this template) and ends by making the next one and syncing: what a
  # build leaves dirty is its own cost, not the next side's (whose fsyncs
  # would otherwise wait for it)
  local tmpl=$PEERS_DIR/rc-template
  mkdir -p "$tmpl"
  skopeo copy --quiet "oci:$layout:latest" "oci:$tmpl/oci:docker.io/library/busybox:latest"
  # (rm again: the build's detached snapshot flush may still write there)
  fresh () {
    rm -rf "$PEERS_DIR/rc-m2" 2> /dev/null || { sleep 0.2; rm -rf "$PEERS_DIR/rc-m2"; }
    cp -a "$tmpl" "$PEERS_DIR/rc-m2" && sync
  }
  rc_cold () { IMGTOOL_ROOT=$PEERS_DIR/rc-m2 "$IMGTOOL" build -q -t bench --no-cache "$1" && fresh; }
  rc_cache () { IMGTOOL_ROOT=$PEERS_DIR/rc-m2 "$IMGTOOL" build -q -t bench --cache-from "$2" "$1" && fresh; }
  rc_fresh () { fresh; }
  local v
  for v in plain work; do
    # machine 1 exports the cache
    "$IMGTOOL" build -q -t bench --cache-to "type=registry,ref=$reg/bench/cache-$v,mode=max" \
      "$PEERS_DIR/rc-$v" > /dev/null
    fresh
    bench_begin "build-registry-cache-$v" "a second machine (empty store but the base) from the registry cache vs a cold build: the $v Buildfile"
    bench_side imgtool-cold rc_cold "$PEERS_DIR/rc-$v"
    bench_side imgtool-cache-from rc_cache "$PEERS_DIR/rc-$v" "$reg/bench/cache-$v"
    bench_side store-copy rc_fresh
    bench_measure
    bench_report imgtool-cold
    bench_note "target: imgtool-cache-from/imgtool-cold <= 0.2 (each side includes store-copy: the next fresh store and a sync)"
  done
  kill "$rpid" 2> /dev/null
  wait "$rpid" 2> /dev/null
  rm -rf "$PEERS_DIR/rc-m2" "$tmpl"
}
[ "${BENCH_ONLY:-}" != registry-cache ] || { bench_registry_cache; exit 0; }

bench_begin build-cold "build, cold (--no-cache): 8 instructions, COPY of 1,000 files"
bench_side imgtool img_build --no-cache "$ctx"
[ -z "$IMGTOOL_BASE" ] || bench_side imgtool-base base_build --no-cache "$ctx"
bench_side buildah buildah_build --no-cache "$ctx"
bench_side podman podman_build --no-cache "$ctx"
bench_measure
bench_report
bench_note "target: imgtool/buildah <= 0.3"
bench_ratio imgtool-base buildah

bench_begin build-cached "build, fully cached"
img_build "$ctx" > /dev/null; podman_build "$ctx" > /dev/null; buildah_build "$ctx" > /dev/null
bench_side imgtool img_build "$ctx"
bench_side buildah buildah_build "$ctx"
bench_side podman podman_build "$ctx"
bench_measure
bench_report
bench_note "target: imgtool/buildah <= 0.05 and imgtool under 100 ms"

bench_begin build-edit "build, one copied file changed"
bench_side imgtool edited_img
bench_side buildah edited_buildah
bench_side podman edited_podman
bench_measure
bench_report

tar_zstd () { tar -C "$PEERS_DIR" -c big-data | zstd -3 -q -c > /dev/null; }
# the RUN alone (its upper dir is in the store, as a build step's), to tell the step's own time
# from the snapshot's
run_dd () { "$IMGTOOL" run --rm busybox dd if=/dev/urandom of=/big bs=1M count=200 2>/dev/null; }
bench_begin build-200mb "a 200 MB RUN step with --compression zstd (RUN dd included)"
bench_side imgtool img_build --no-cache --compression zstd "$PEERS_DIR/big"
[ -z "$IMGTOOL_BASE" ] || bench_side imgtool-base base_build --no-cache --compression zstd "$PEERS_DIR/big"
bench_side imgtool-run-dd run_dd
bench_side tar-zstd-3 tar_zstd
bench_side buildah buildah_build --no-cache "$PEERS_DIR/big"
bench_measure
bench_report tar-zstd-3
bench_delta imgtool imgtool-run-dd
bench_delta imgtool-base imgtool-run-dd
snap_ratio () { # side: tar-zstd-3 / (side - imgtool-run-dd)
  bench_has "$1" || return 0
  bench_note "snapshot speed of $1 vs tar -c | zstd -3 = tar-zstd-3 / ($1 - imgtool-run-dd) = $(awk -v t="${_bench_median[tar-zstd-3]}" -v a="${_bench_median[$1]}" -v r="${_bench_median[imgtool-run-dd]}" 'BEGIN { printf (a > r ? "%.2f" : "-"), (a > r ? t / (a - r) : 0) }') (target >= 0.9)"
}
snap_ratio imgtool
snap_ratio imgtool-base

bench_pip_cache
bench_registry_cache
exit 0
