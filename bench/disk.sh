#!/bin/bash
# Benchmark (issue 18): pull + unpack on the real disk, not tmpfs, side by
# side in one run, every step after a `sync`, rounds interleaved:
#
#   fresh    pull of a 50,000-file layer (~390 MB tar, files of the host's
#            /usr/share and /usr/lib) into an empty store (each copy in a
#            new directory: deleting 50,000 files takes 1-2 minutes on this
#            disk, mounted -o discard): `imgtool pull`, then `sync` (both
#            reported: what the user waits for, and with the blob written
#            out), `pigz -dc blob | tar -x && sync`, `podman pull`;
#   rmi      the same right after `imgtool rmi` + `imgtool prune` of the
#            image (and `rm -rf` of tar's copy): the delete, the pull, and
#            the pair;
#   dirty    the Debian image (one ~49 MB layer) pulled while another
#            process has left 1.5 GB of unwritten data in the page cache,
#            against the same pull on a quiet disk.
#
#   bench/disk.sh                    (root; debootstrap, skopeo, umoci,
#   RUNS=7 bench/disk.sh              pigz, podman; the lab is started in a
#   ONLY=fresh,dirty bench/disk.sh    private network namespace)
#
# The store lives in BENCH_DIR (default bench/out/disk, which must be on a
# disk: the script refuses tmpfs). IMGTOOL picks the binary; IMGTOOL_B adds
# a second imgtool side (e.g. main's build) to every section. The copies
# are left in BENCH_DIR/w (deleting them takes long): the script ends by
# deleting them in the background at idle priority.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
IMGTOOL=${IMGTOOL:-$ROOT/build/imgtool}
IMGTOOL_B=${IMGTOOL_B:-}
RUNS=${RUNS:-5}
ONLY=${ONLY:-fresh,rmi,dirty}
OUT=$ROOT/bench/out
BENCH_DIR=${BENCH_DIR:-$OUT/disk}
DIRTY_MB=${DIRTY_MB:-1536}

# ---- outside the namespace: fixtures that need the network or the host -------
if [ -z "${DISK_IN_NS:-}" ]; then
  [ "$(id -u)" = 0 ] || { echo "bench/disk.sh: needs root" >&2; exit 1; }
  mkdir -p "$OUT" "$BENCH_DIR"
  fs=$(stat -f -c %T "$BENCH_DIR")
  [ "$fs" != tmpfs ] || { echo "bench/disk.sh: $BENCH_DIR is on tmpfs; use a disk" >&2; exit 1; }
  if [ ! -f "$OUT/debian.tar" ]; then
    . "$ROOT/bench/fixtures.sh"
    mirror=$(_bench_mirror)
    debootstrap --variant=minbase bookworm "$OUT/rootfs-deb" "$mirror" > "$OUT/debootstrap.log" || exit 1
    tar -C "$OUT/rootfs-deb" --numeric-owner -cf "$OUT/debian.tar" . && rm -rf "$OUT/rootfs-deb"
  fi
  if [ ! -f "$OUT/big.tar" ]; then
    # the first ~50,000 entries (files up to 300 KB, symlinks) of the
    # host's /usr/share and /usr/lib, in tar order, with their parents
    /usr/bin/python3 - "$OUT/big.list" <<'EOF'
import os, stat, sys
out = []
for top in ('/usr/share', '/usr/lib'):
    for root, dirs, files in os.walk(top):
        dirs.sort(); files.sort()
        for f in files:
            p = os.path.join(root, f)
            try:
                st = os.lstat(p)
            except OSError:
                continue
            if (stat.S_ISREG(st.st_mode) and st.st_size <= 300000) or stat.S_ISLNK(st.st_mode):
                out.append(p[1:])
        if len(out) >= 50000:
            break
    if len(out) >= 50000:
        break
open(sys.argv[1], 'w').write('\n'.join(out) + '\n')
EOF
    tar -C / --numeric-owner -cf "$OUT/big.tar" -T "$OUT/big.list" || exit 1
  fi
  exec unshare -n env DISK_IN_NS=1 "$0" "$@"
fi

# ---- inside: the lab, the images, podman ----------------------------------------
ip link set lo up
# a lab of its own: tests/run.sh may start and stop the tests' lab meanwhile
export LAB_RUN_DIR=${LAB_RUN_DIR:-$OUT/lab-run}
if [ ! -d "$LAB_RUN_DIR/fixtures" ]; then
  mkdir -p "$LAB_RUN_DIR" && cp -a "$ROOT/tests/lab/run/fixtures" "$LAB_RUN_DIR/" || exit 1
fi
"$ROOT/tests/lab/up" > "$OUT/disk-lab.log" 2>&1 || { cat "$OUT/disk-lab.log"; exit 1; }
. "$LAB_RUN_DIR/env"
. "$ROOT/bench/fixtures.sh"
. "$ROOT/tests/peers/env.sh"
W=$BENCH_DIR/w
[ ! -e "$W" ] || mv "$W" "$W.old.$$"
mkdir -p "$W"
trap 'peers_cleanup 2>/dev/null; "$ROOT/tests/lab/down" >/dev/null 2>&1; (cd / && exec setsid ionice -c3 nice -n19 rm -rf "$W" </dev/null >/dev/null 2>&1 &)' EXIT
for name in debian:bookworm big:latest; do
  skopeo inspect --tls-verify=false "docker://$LAB_HTTP/bench/$name" >/dev/null 2>&1 && continue
  case $name in
    debian:*) _bench_push_image "$W" "bench/$name" "$OUT/debian.tar" ;;
    big:*) _bench_push_image "$W" "bench/$name" "$OUT/big.tar" ;;
  esac
done
BIG=$LAB_HTTP/bench/big:latest
DEB=$LAB_HTTP/bench/debian:bookworm
BLOB=$W/big.blob
layer=$(skopeo inspect --raw --tls-verify=false "docker://$BIG" | jq -r '.layers[0].digest')
curl -sf "http://$LAB_HTTP/v2/bench/big/blobs/$layer" -o "$BLOB" || exit 1
export IMGTOOL_CONFIG=$W/config.json
echo "{\"insecure-registries\": [\"$LAB_HTTP\"]}" > "$IMGTOOL_CONFIG"
peers_env "$W/peers" >/dev/null || exit 1
podman_=(podman --root "$W/podman" --runroot "$W/podman-run")
export PEERS_LIB

us () { echo "${EPOCHREALTIME//[.,]/}"; }
declare -A T
add () { T[$1]+="$2 "; }
median () { tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {printf "%d", (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
minv () { tr ' ' '\n' | grep . | sort -n | head -1; }
timed () { # label cmd...: run, record µs, fail loudly
  local t0 t1
  t0=$(us); "${@:2}" > /dev/null 2> "$W/err" || { echo "bench: $1 failed: $(tail -3 "$W/err")" >&2; }
  t1=$(us); add "$1" $((t1 - t0))
}
# Before each step: imgtool's detached remover done (it yields to imgtool
# pulls only; tar and podman would share the disk with it), then a sync.
quiesce () {
  local i
  for ((i = 0; i < 300; i++)); do
    [ -z "$(ls -A "$W/s/snapshots/.trash" 2>/dev/null)" ] && break
    sleep 0.5
  done
  sync; sleep "${GAP:-1}"
}
podman_pull () { peers_ns --host-net "${podman_[@]}" pull -q --tls-verify=false "$1"; }
# a copy out of the way, into a new name (deleted at the end)
away () { [ ! -e "$1" ] || mv "$1" "$W/old.$RANDOM$RANDOM"; }
podman_reset () { away "$W/podman"; away "$W/podman-run"; }
untar () { mkdir -p "$W/tar" && pigz -dc "$BLOB" | tar -x -C "$W/tar" && sync; }

load0=$(cut -d' ' -f1-3 /proc/loadavg)
echo "bench/disk.sh: $RUNS rounds; store $BENCH_DIR ($(stat -f -c %T "$BENCH_DIR") on $(df --output=source "$BENCH_DIR" | tail -1)); load $load0"

sides=("$IMGTOOL")
[ -n "$IMGTOOL_B" ] && sides+=("$IMGTOOL_B")
for ((r = 0; r < RUNS; r++)); do
  if [[ $ONLY == *fresh* ]]; then
    for b in "${sides[@]}"; do
      tag=imgtool; [ "$b" = "$IMGTOOL" ] || tag=imgtool-B
      away "$W/s"; quiesce
      timed "$tag pull" "$b" --root "$W/s" pull -q "$BIG"
      timed "$tag sync" sync
      add "$tag pull+sync" $(( $(echo "${T[$tag pull]}" | awk '{print $NF}') + $(echo "${T[$tag sync]}" | awk '{print $NF}') ))
    done
    away "$W/tar"; quiesce
    timed "pigz|tar+sync" untar
    if [ -z "${NO_PODMAN:-}" ]; then
      podman_reset; quiesce
      timed "podman pull" podman_pull "$BIG"
    fi
  fi
  if [[ $ONLY == *rmi* ]]; then
    for b in "${sides[@]}"; do
      tag=imgtool; [ "$b" = "$IMGTOOL" ] || tag=imgtool-B
      [ -d "$W/s/snapshots" ] || "$b" --root "$W/s" pull -q "$BIG" >/dev/null
      quiesce
      t0=$(us)
      timed "$tag rmi+prune" sh -c "'$b' --root '$W/s' rmi '$BIG' && '$b' --root '$W/s' prune"
      timed "$tag pull after" "$b" --root "$W/s" pull -q "$BIG"
      add "$tag delete+pull" $(( $(us) - t0 ))
    done
    [ -d "$W/tar" ] || untar
    quiesce
    t0=$(us)
    timed "rm -rf tar copy" rm -rf "$W/tar"
    timed "pigz|tar+sync after" untar
    add "tar delete+untar" $(( $(us) - t0 ))
  fi
  if [[ $ONLY == *dirty* ]]; then
    for b in "${sides[@]}"; do
      tag=imgtool; [ "$b" = "$IMGTOOL" ] || tag=imgtool-B
      away "$W/d"; quiesce
      timed "$tag Debian pull, quiet" "$b" --root "$W/d" pull -q "$DEB"
      away "$W/d"; quiesce
      dd if=/dev/zero of="$W/dirty" bs=1M count="$DIRTY_MB" status=none
      timed "$tag Debian pull, 1.5 GB dirty" "$b" --root "$W/d" pull -q "$DEB"
      rm -f "$W/dirty"
    done
  fi
done

report () { # label [base]
  local m mn
  [ -n "${T[$1]:-}" ] || return 0
  m=$(echo "${T[$1]}" | median); mn=$(echo "${T[$1]}" | minv)
  printf '| %s | %.2f s | %.2f s |' "$1" "$(echo "$m / 1000000" | bc -l)" "$(echo "$mn / 1000000" | bc -l)"
  if [ -n "${2:-}" ] && [ -n "${T[$2]:-}" ]; then
    printf ' %.2f |' "$(echo "$m / $(echo "${T[$2]}" | median)" | bc -l)"
  else printf ' |'; fi
  printf ' %s\n' "$(echo "${T[$1]}" | tr ' ' '\n' | grep . | awk '{printf "%.2f ", $1/1e6}')"
}
{
  echo
  echo "### bench/disk.sh — $(date '+%Y-%m-%d %H:%M'), $RUNS rounds, load $load0 → $(cut -d' ' -f1-3 /proc/loadavg)"
  echo
  echo "| work | median | min | ratio | runs |"
  echo "|---|---:|---:|---:|---|"
  for t in imgtool imgtool-B; do
    report "$t pull" "pigz|tar+sync"
    report "$t pull+sync" "pigz|tar+sync"
  done
  report "pigz|tar+sync"
  report "podman pull"
  for t in imgtool imgtool-B; do
    [ -n "${T[podman pull]:-}" ] && report "$t pull" "podman pull" | sed 's/^| /| vs podman: /'
  done
  for t in imgtool imgtool-B; do
    report "$t rmi+prune"
    report "$t pull after" "pigz|tar+sync after"
    report "$t delete+pull" "tar delete+untar"
  done
  report "rm -rf tar copy"
  report "pigz|tar+sync after"
  report "tar delete+untar"
  for t in imgtool imgtool-B; do
    report "$t Debian pull, quiet"
    report "$t Debian pull, 1.5 GB dirty" "$t Debian pull, quiet"
  done
} | tee -a "$OUT/disk-$(date +%Y-%m-%d).md"
