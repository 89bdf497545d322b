#!/bin/bash
# Lazy start: run of an image whose layers buildah pushed as zstd:chunked,
# from an empty store, starts the container before the layers are in the
# store. The monitor serves them through FUSE from their TOCs (fetched by
# Range at pull), a file's contents on first read; the fault proxy's request
# log proves what was fetched (never timings). Faults: a registry failing
# mid-run (EIO inside, a message outside, no hang), kill -9 of the monitor
# (the store stays usable, a later pull completes the layer).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../peers/env.sh"

if [ -z "${LAB_HTTP:-}" ] || [ -z "${LAB_FAULT:-}" ]; then
  skip "the lab is not up (tests/lab/up)"
  done_testing; exit
fi
if [ ! -c /dev/fuse ] || [ "$(id -u)" != 0 ]; then
  skip "no /dev/fuse, or not root"
  done_testing; exit
fi
F=$LAB_FAULTCTL
echo "{\"insecure-registries\": [\"$LAB_HTTP\", \"$LAB_FAULT\"], \"http-timeout\": 5, \"http-retries\": 2}" > "$IMGTOOL_CONFIG"
REPO=lab-check/lazy-$$
IMG=$LAB_FAULT/$REPO:1
fresh () {
  for m in "$IMGTOOL_ROOT"/lazy/mnt/*; do [ -d "$m" ] && umount -l "$m" 2>/dev/null; done
  rm -rf "$IMGTOOL_ROOT"
}
cleanup () { "$F" reset >/dev/null; fresh; rm -rf "$BB"; peers_cleanup 2>/dev/null; }
trap cleanup EXIT
snaps () { ls "$IMGTOOL_ROOT/snapshots" 2>/dev/null | grep -v '^\.' | grep -v '^tmp-' | sort; }
# body bytes the proxy sent for GETs of blob $1
sent () { "$F" sent "/blobs/$1" GET; }

# --- the image: busybox + a big file + many small ones, zstd:chunked ---------
peers_env "$T_TMP/peers" >/dev/null
# buildah names the image after the layout's path: lower case only
BB=/tmp/imgtool-lazy-bb-$$
peers_busybox_layout "$BB"
mkdir -p "$T_TMP/ctx/many"
echo "hello lazy" > "$T_TMP/ctx/small.txt"
head -c $((24 << 20)) /dev/urandom > "$T_TMP/ctx/big.bin"
for i in $(seq 1 200); do echo "file $i" > "$T_TMP/ctx/many/f$i"; done
BIGSUM=$(sha256sum < "$T_TMP/ctx/big.bin" | cut -c1-64)
push_image () {
  peers_buildah from --name lazy-w "oci:$BB:latest" >/dev/null &&
    peers_buildah copy lazy-w "$T_TMP/ctx" / >/dev/null &&
    peers_buildah commit -q lazy-w lazy-img >/dev/null &&
    _peers_auth_env && peers_ns --host-net "${_peers_env[@]}" buildah push -q \
      --tls-verify=false --compression-format zstd:chunked \
      lazy-img "docker://$LAB_HTTP/$REPO:1" >/dev/null
}
ok "buildah pushes the image as zstd:chunked" push_image
MAN=$(skopeo inspect --raw --tls-verify=false "docker://$LAB_HTTP/$REPO:1")
like "... its layers carry TOC annotations" "$MAN" 'zstd-chunked.manifest-position'
if ! echo "$MAN" | grep -q zstd-chunked; then done_testing; exit; fi
TOP=$(echo "$MAN" | jq -r '.layers[-1].digest')
BASE=$(echo "$MAN" | jq -r '.layers[0].digest')
TOPSIZE=$(echo "$MAN" | jq -r '.layers[-1].size')
NLAYERS=$(echo "$MAN" | jq -r '.layers | length')

# --- run from an empty store, the background download held back --------------
fresh
"$F" reset >/dev/null
"$F" add hang range=no path="/blobs/($TOP|$BASE)" seconds=600 >/dev/null
out=$(img run --rm "$IMG" cat /small.txt 2>"$T_TMP/err"); rc=$?
is "run of a lazy image prints its small file" "$out|$rc" "hello lazy|0"
n=$(sent "$TOP")
ok "... while the big file is not fetched ($n of $TOPSIZE bytes of its layer)" test "$n" -lt $((4 << 20))
is "... with Range requests only" "$("$F" requests | jq --arg d "$TOP" '[.[] | select((.path | endswith($d)) and .method == "GET" and .range == null and .status != null)] | length')" 0
is "... and no layer is a snapshot yet" "$(snaps | wc -l)" 0
is "... no mount left behind" "$(ls "$IMGTOOL_ROOT/lazy/mnt" 2>/dev/null)" ""
ok "... the TOCs are kept in the store" test -s "$IMGTOOL_ROOT/lazy/${TOP#sha256:}.toc"

out=$(img run --rm "$IMG" sha256sum /big.bin); rc=$?
is "reading the big file gives its bytes" "${out%% *}|$rc" "$BIGSUM|0"
out=$(img run --rm "$IMG" sh -c 'cat /many/f7 /many/f200; ls /many | wc -l')
is "... the small files, and the directory listing" "$out" "file 7
file 200
200"
out=$(img run --rm --user 65534 "$IMG" cat /small.txt)
is "... another user reads through the mount (allow_other)" "$out" "hello lazy"

# --- the layer becomes a snapshot; the next run fetches nothing ----------------
"$F" reset >/dev/null
ok "a long-running lazy container" img run -d --name lazy-keep "$IMG" sleep 1000
# doc:lazy-fuse
like "... its layers are FUSE mounts: read-only, nosuid, nodev, default_permissions, allow_other" \
  "$(grep imgtool-lazy /proc/mounts | head -1)" 'fuse.imgtool ro,nosuid,nodev,.*default_permissions,allow_other'
for _ in $(seq 1 600); do
  [ "$(snaps | wc -l)" -ge "$NLAYERS" ] && break
  sleep 0.2
done
is "... its layers become snapshots in the background" "$(snaps | wc -l)" "$NLAYERS"
ok "... it stops" img rm -f lazy-keep
is "... the blob is a stored blob" "$(sha256sum < "$IMGTOOL_ROOT/oci/blobs/sha256/${TOP#sha256:}" | cut -c1-64)" "${TOP#sha256:}"
# the oracle: a full pull's snapshot of the same layer
full=$T_TMP/full
mkdir -p "$full"
IMGTOOL_ROOT=$full "$IMGTOOL" pull -q "$LAB_HTTP/$REPO:1" >/dev/null
tree_sum () { (cd "$1" && find . -printf '%p %y %m %U:%G %s %l\n' | sort && find . -type f -exec sha256sum {} + | sort -k2) | sha256sum | cut -c1-16; }
for c in $(snaps); do
  is "... snapshot ${c:0:12} equals a full pull's" "$(tree_sum "$IMGTOOL_ROOT/snapshots/$c")" "$(tree_sum "$full/snapshots/$c")"
done
rm -rf "$full"
"$F" reset >/dev/null
out=$(img run --rm "$IMG" cat /small.txt)
is "a second run" "$out" "hello lazy"
is "... fetches no blob" "$("$F" count '/blobs/sha256:' GET)" 0

# --- a registry failing mid-run: EIO inside, a message outside ----------------
fresh
"$F" reset >/dev/null
# the TOC's Range request passes, every later one of the top layer fails
"$F" add status code=500 path="/blobs/$TOP" range=yes skip=1 >/dev/null
"$F" add hang range=no path="/blobs/($TOP|$BASE)" seconds=600 >/dev/null
out=$(img run --rm "$IMG" sh -c 'cat /big.bin >/dev/null; echo "status $?"' 2>"$T_TMP/err")
like "a failing registry is an I/O error inside" "$out" 'status 1'
like "... and a message outside" "$(cat "$T_TMP/err")" "lazy layer .*big.bin"
"$F" reset >/dev/null
# the TOC is in the store already: every Range request of the layer hangs
"$F" add hang path="/blobs/$TOP" range=yes seconds=600 >/dev/null
"$F" add hang range=no path="/blobs/($TOP|$BASE)" seconds=600 >/dev/null
out=$(img run --rm "$IMG" sh -c 'cat /small.txt; echo "status $?"' 2>"$T_TMP/err")
like "a registry that stops answering: an I/O error, no hang" "$out" 'status 1'

# --- kill -9 of the monitor mid-download: a later pull completes --------------
fresh
"$F" reset >/dev/null
"$F" add slow rate=200000 range=no path="/blobs/$TOP" >/dev/null
ok "a lazy container whose layer downloads slowly" img run -d --name lazy-kill "$IMG" sleep 1000
pid=$(img inspect -f '{{.State.Pid}}' lazy-kill)
mon=$(awk '/^PPid:/ {print $2}' "/proc/$pid/status")
for _ in $(seq 1 300); do
  ls "$IMGTOOL_ROOT/tmp/"*.partial >/dev/null 2>&1 && [ "$(cat "$IMGTOOL_ROOT"/tmp/*.partial | wc -c)" -gt 0 ] && break
  sleep 0.2
done
ok "... part of the blob is in the store" test -s "$(ls "$IMGTOOL_ROOT"/tmp/*.partial | head -1)"
kill -9 "$mon"
for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
ok "... the container ends with its monitor" test ! -d "/proc/$pid"
"$F" reset >/dev/null
ok "a later pull completes the layer" img pull -q "$IMG"
like "... resuming the partial download" "$("$F" requests | jq -r --arg d "$TOP" '.[] | select(.path | endswith($d)) | .headers.range // empty')" '^bytes=[1-9][0-9]*-$'
is "... every layer is a snapshot" "$(snaps | wc -l)" "$NLAYERS"
"$F" reset >/dev/null
out=$(img run --rm "$IMG" cat /small.txt)
is "... a run then fetches nothing" "$out|$("$F" count '/blobs/sha256:' GET)" "hello lazy|0"
img rm -f lazy-kill >/dev/null 2>&1

done_testing
