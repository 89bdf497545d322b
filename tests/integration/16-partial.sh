#!/bin/bash
# Range requests against the lab's real registry (Debian's docker-registry,
# which serves blobs through Go's http.ServeContent): one range, many ranges
# in one request (multipart/byteranges), a registry that ignores Range (the
# fault proxy's ignore-range); a large layer fetched over several
# connections at once, each a Range part, its digest checked over the
# joined whole; faults on one part (a cut, a corrupt byte, ignored Range).
# Then partial pulls of zstd:chunked layers (made by
# tests/helpers/zstd-chunked.py, an independent writer of the format): v2
# of an image with v1 in the store fetches the changed file only, and its
# tree is a full pull's; a registry that ignores Range, a TOC that lies.
# buildah 1.28's zstd:chunked (no tar-split) is pulled whole.
. "$(dirname "$0")/../lib.sh"

if [ -z "${LAB_HTTP:-}" ] || [ -z "${LAB_FAULT:-}" ]; then
  skip "the lab is not up (tests/lab/up)"
  done_testing; exit
fi
F=$LAB_FAULTCTL
RANGES=${RANGES_HELPER:-$(dirname "$IMGTOOL")/tests/helpers/ranges}
echo "{\"insecure-registries\": [\"$LAB_HTTP\", \"$LAB_FAULT\"], \"http-timeout\": 5, \"http-retries\": 3}" > "$IMGTOOL_CONFIG"
fresh () { rm -rf "$IMGTOOL_ROOT"; }
trap '"$F" reset' EXIT
REPO=lab-check/partial-$$

# --- a large layer: 40 MiB that do not compress ------------------------------
mkdir -p "$T_TMP/big"
head -c $((40 << 20)) /dev/urandom > "$T_TMP/big/blob.bin"
printf 'FROM scratch\nCOPY blob.bin /blob.bin\n' > "$T_TMP/big/Buildfile"
ok "build an image with a 40 MiB layer" img build -q -t big:1 "$T_TMP/big"
ok "push it to the lab" img push -q big:1 "$LAB_HTTP/$REPO:big"
LAYER=$(skopeo inspect --tls-verify=false "docker://$LAB_HTTP/$REPO:big" | jq -r '.Layers[-1]')
BLOB=$T_TMP/layer.blob
cp "$IMGTOOL_ROOT/oci/blobs/sha256/${LAYER#sha256:}" "$BLOB"
size=$(stat -c %s "$BLOB")
like "the layer is large" "$size" '^[0-9]{8}$'
stored () { sha256sum < "$IMGTOOL_ROOT/oci/blobs/sha256/${LAYER#sha256:}" | cut -c1-64; }
cut_sum () { echo "$1 $2 sha256:$(tail -c +$(($1 + 1)) "$BLOB" | head -c "$2" | sha256sum | cut -c1-64)"; }

# --- ranges of one blob: single and many at once --------------------------------
"$F" reset
out=$("$RANGES" "$LAB_FAULT" "$REPO" "$LAYER" 1000:5000); rc=$?
is "one range" "$rc" 0
is "... its bytes are the blob's" "$out" "$(cut_sum 1000 5000)"
want=$(printf '%s\n' "$(cut_sum 0 10)" "$(cut_sum 4096 100)" "$(cut_sum 70000 65536)" "$(cut_sum $((size - 7)) 7)")
out=$("$RANGES" "$LAB_FAULT" "$REPO" "$LAYER" 0:10 4096:100 70000:65536 $((size - 7)):7); rc=$?
is "four ranges" "$rc" 0
is "... their bytes are the blob's" "$out" "$want"
is "... in one request" "$("$F" count "/blobs/$LAYER" GET)" 2
like "... answered as multipart/byteranges" "$(curl -s -D - -o /dev/null -H 'Range: bytes=0-1,10-11' "http://$LAB_HTTP/v2/$REPO/blobs/$LAYER" | tr -d '\r')" 'Content-Type: multipart/byteranges; boundary='
"$F" reset
"$F" add ignore-range path=/blobs/ >/dev/null
"$RANGES" "$LAB_FAULT" "$REPO" "$LAYER" 0:10 4096:100 >/dev/null; rc=$?
is "a registry that ignores Range is told apart" "$rc" 3
"$F" reset
"$F" add single-range path=/blobs/ >/dev/null
out=$("$RANGES" "$LAB_FAULT" "$REPO" "$LAYER" 0:10 4096:100 70000:65536 $((size - 7)):7); rc=$?
is "a registry that answers one range only (S3)" "$rc" 0
is "... the bytes are the blob's" "$out" "$want"
is "... one request per range after the multi-range one" "$("$F" count "/blobs/$LAYER" GET)" 5
# --- a large layer over several connections -------------------------------------
fresh
"$F" reset
ok "doc:pull-parallel-ranges pull --jobs 4 of the large layer" img pull -q --jobs 4 "$LAB_FAULT/$REPO:big"
nr=$("$F" requests | jq --arg d "$LAYER" '[.[] | select(.method == "GET" and (.path | endswith($d)) and .range != null)] | length')
is "... in 4 Range parts" "$nr" 4
is "... every byte fetched once" "$("$F" sent "/blobs/$LAYER" GET)" "$size"
is "... the stored blob is the layer" "$(stored)" "${LAYER#sha256:}"
is "... nothing left in tmp" "$(ls "$IMGTOOL_ROOT/tmp")" ""

fresh
"$F" reset
ok "pull --jobs 1: one connection" img pull -q --jobs 1 "$LAB_FAULT/$REPO:big"
is "... no Range request" "$("$F" requests | jq '[.[] | select(.range != null)] | length')" 0

fresh
"$F" reset
"$F" add ignore-range path=/blobs/ >/dev/null
ok "a registry that ignores Range: the pull still works" img pull -q --jobs 4 "$LAB_FAULT/$REPO:big"
is "... the layer came whole once, over one connection" \
  "$("$F" requests | jq --arg d "$LAYER" --argjson n "$size" '[.[] | select(.method == "GET" and (.path | endswith($d)) and .sent == $n)] | length')" 1

fresh
"$F" reset
"$F" add cut bytes=100000 path="/blobs/$LAYER" range=yes skip=2 count=1 >/dev/null
ok "a part cut off mid-way is resumed" img pull -q --jobs 4 "$LAB_FAULT/$REPO:big"
is "... the stored blob is the layer" "$(stored)" "${LAYER#sha256:}"
like "... with one more Range request" "$("$F" requests | jq --arg d "$LAYER" '[.[] | select(.method == "GET" and (.path | endswith($d)))] | length')" '^5$'

fresh
"$F" reset
"$F" add corrupt path="/blobs/$LAYER" range=yes skip=1 count=1 >/dev/null
fails "a corrupt part: the pull fails" img pull -q --jobs 4 "$LAB_FAULT/$REPO:big"
like "... on the joined whole's digest" "$LAST_OUT" "digest mismatch: expected $LAYER"
is "... no blob kept" "$(ls "$IMGTOOL_ROOT/oci/blobs/sha256" | grep -c "${LAYER#sha256:}")" 0
is "... nothing left in tmp" "$(ls "$IMGTOOL_ROOT/tmp")" ""
"$F" reset
ok "... and the next pull works" img pull -q --jobs 4 "$LAB_FAULT/$REPO:big"

# --- partial pulls of zstd:chunked layers --------------------------------------
ZC=$T_TMP/zc
mkdir -p "$ZC/src/data/sub"
for i in $(seq 1 400); do head -c 20000 /dev/urandom > "$ZC/src/data/f$i"; done
echo small > "$ZC/src/data/sub/x"
chmod 0750 "$ZC/src/data/sub"; chmod 0755 "$ZC/src/data/f7"
ln -s f1 "$ZC/src/data/link"
mkzc () { /usr/bin/python3 "$TESTS_DIR/helpers/zstd-chunked.py" "$@" >/dev/null; }
push_zc () { skopeo copy -q --dest-tls-verify=false "oci:$ZC/layout:$1" "docker://$LAB_HTTP/$REPO:$1" >/dev/null; }
ok "make v1 (400 files of 20 KB, zstd:chunked)" mkzc "$ZC/src" "$ZC/layout" zc1
head -c 20000 /dev/urandom > "$ZC/src/data/f200"
ok "make v2: one file differs" mkzc "$ZC/src" "$ZC/layout" zc2
# v3, v4: f200 changed again (so their layers' snapshots are new ones)
head -c 20000 /dev/urandom > "$ZC/src/data/f200"
ok "... v3: its TOC gives the new file another file's digest" mkzc --lie-digest data/f200 "$ZC/src" "$ZC/layout" zc3
head -c 20000 /dev/urandom > "$ZC/src/data/f200"
ok "... v4: its TOC points the new file at another file's bytes" mkzc --lie-offset data/f200 "$ZC/src" "$ZC/layout" zc4
for t in zc1 zc2 zc3 zc4; do push_zc $t || echo "push $t failed"; done
layer_of () { skopeo inspect --tls-verify=false "docker://$LAB_HTTP/$REPO:$1" | jq -r '.Layers[0]'; }
L2=$(layer_of zc2)
L2SIZE=$(skopeo inspect --tls-verify=false --raw "docker://$LAB_HTTP/$REPO:zc2" | jq '.layers[0].size')
tree_sum () {
  (cd "$1" && find . -printf '%p %y %m %U:%G %s %l\n' | sort &&
    find . -type f -exec sha256sum {} + | sort -k2) | sha256sum | cut -c1-16
}
snap_of () { # root ref: the image's top snapshot dir
  local c
  c=$("$IMGTOOL" --root "$1" image inspect --format '{{json .RootFS.Layers}}' "$2" | jq -r '.[0]')
  echo "$1/snapshots/${c#sha256:}"
}

ORACLE=$T_TMP/oracle-zc
ok "oracle: v2 pulled whole into an empty store" "$IMGTOOL" --root "$ORACLE" pull -q "$LAB_FAULT/$REPO:zc2"
fresh
"$F" reset
ok "pull v1 (nothing local: a full pull)" img pull -q "$LAB_FAULT/$REPO:zc1"
is "... the file cache holds its 401 files" "$(ls "$IMGTOOL_ROOT/files/sha256" | wc -l)" 401
"$F" reset
out=$(img --debug pull -q "$LAB_FAULT/$REPO:zc2" 2>&1); rc=$?
is "doc:pull-partial pull v2 with v1 in the store" "$rc" 0
like "... in part: 400 files from the store, 1 fetched" "$out" "400 files from the store, 1 fetched"
sent=$("$F" sent "/blobs/$L2" GET)
like "... fetched $sent of $L2SIZE bytes of the layer (< 5%)" "$((sent * 100 / L2SIZE))" '^[0-4]$'
is "... the layer's blob is not stored" "$(ls "$IMGTOOL_ROOT/oci/blobs/sha256" | grep -c "${L2#sha256:}")" 0
is "... its tree is the full pull's" "$(tree_sum "$(snap_of "$IMGTOOL_ROOT" "$LAB_FAULT/$REPO:zc2")")" \
  "$(tree_sum "$(snap_of "$ORACLE" "$LAB_FAULT/$REPO:zc2")")"
is "... nothing left in tmp" "$(ls "$IMGTOOL_ROOT/tmp")" ""
"$F" reset
ok "pull v2 again: up to date" img pull -q "$LAB_FAULT/$REPO:zc2"
is "... without fetching its layer" "$("$F" count "/blobs/$L2" GET)" 0

"$F" reset
"$F" add ignore-range path=/blobs/ >/dev/null
rm -rf "$T_TMP/r2"
ok "ignored Range: v1" "$IMGTOOL" --root "$T_TMP/r2" pull -q "$LAB_FAULT/$REPO:zc1"
ok "... then v2: a full pull" "$IMGTOOL" --root "$T_TMP/r2" pull -q "$LAB_FAULT/$REPO:zc2"
is "... its tree is the full pull's" "$(tree_sum "$(snap_of "$T_TMP/r2" "$LAB_FAULT/$REPO:zc2")")" \
  "$(tree_sum "$(snap_of "$ORACLE" "$LAB_FAULT/$REPO:zc2")")"
"$F" reset
"$F" add single-range path=/blobs/ >/dev/null
rm -rf "$T_TMP/r3"
ok "one range per request: v1" "$IMGTOOL" --root "$T_TMP/r3" pull -q "$LAB_FAULT/$REPO:zc1"
out=$("$IMGTOOL" --root "$T_TMP/r3" --debug pull -q "$LAB_FAULT/$REPO:zc2" 2>&1); rc=$?
is "... then v2" "$rc" 0
like "... in part all the same" "$out" "400 files from the store, 1 fetched"
is "... its tree is the full pull's" "$(tree_sum "$(snap_of "$T_TMP/r3" "$LAB_FAULT/$REPO:zc2")")" \
  "$(tree_sum "$(snap_of "$ORACLE" "$LAB_FAULT/$REPO:zc2")")"
"$F" reset

before=$(ls "$IMGTOOL_ROOT/snapshots" | sort)
fails "doc:pull-partial-lie a TOC that gives a file another's digest: the pull fails" img pull -q "$LAB_FAULT/$REPO:zc3"
like "... on the layer's diff_id" "$LAST_OUT" "^imgtool: pull .*layer 1 .*diff_id|^imgtool: pull .*layer 1 .*digest mismatch"
fails "a TOC that points a file at other bytes: the pull fails" img pull -q "$LAB_FAULT/$REPO:zc4"
like "... on that file's digest" "$LAST_OUT" "^imgtool: pull .*layer 1 .*data/f200.*digest mismatch"
is "... no snapshot made" "$(ls "$IMGTOOL_ROOT/snapshots" | sort)" "$before"
is "... nothing left in tmp" "$(ls "$IMGTOOL_ROOT/tmp")" ""
is "... no reference set" "$(img images --format '{{.Tag}}' | sort | tr '\n' ' ')" "zc1 zc2 "
ok "... and the store still pulls" img pull -q "$LAB_FAULT/$REPO:zc1"

# a file cache entry that does not hash to its name is not passed on
head -c 20000 /dev/urandom > "$ZC/src/data/f200"
ok "make v5: the new file differs again" mkzc "$ZC/src" "$ZC/layout" zc5
push_zc zc5
f5=$IMGTOOL_ROOT/files/sha256/$(sha256sum < "$ZC/src/data/f5" | cut -c1-64)
rm -f "$f5"; head -c 20000 /dev/urandom > "$f5"
fails "a damaged file cache entry fails the pull" img pull -q "$LAB_FAULT/$REPO:zc5"
like "... saying which" "$LAST_OUT" "file cache entry sha256:[0-9a-f]{64} is damaged"
is "... and removes it" "$(ls "$f5" 2>/dev/null)" ""
ok "... the next pull fetches that file" img pull -q "$LAB_FAULT/$REPO:zc5"
img rmi "$LAB_FAULT/$REPO:zc5" >/dev/null

# --- buildah's zstd:chunked (1.28: no tar-split): the full pull ----------------
. "$TESTS_DIR/peers/env.sh"
if peers_env "$T_TMP/peers" >/dev/null 2>&1 && command -v buildah >/dev/null; then
  trap 'peers_cleanup; "$F" reset' EXIT
  bpush () { # dir tag
    _peers_auth_env
    peers_ns --host-net "${_peers_env[@]}" bash -c '
      c=$(buildah from scratch) && buildah copy -q "$c" "$1" /data >/dev/null &&
      buildah commit -q "$c" "$2" >/dev/null && buildah rm "$c" >/dev/null &&
      buildah push -q --tls-verify=false --compression-format zstd:chunked "$2" "docker://$3:$2"' \
      _ "$1" "$2" "$LAB_HTTP/$REPO"
  }
  ok "buildah pushes v1 as zstd:chunked" bpush "$ZC/src/data" b1
  head -c 20000 /dev/urandom > "$ZC/src/data/f300"
  ok "... and v2" bpush "$ZC/src/data" b2
  like "... with its TOC annotations" \
    "$(skopeo inspect --tls-verify=false --raw "docker://$LAB_HTTP/$REPO:b2" | jq -r '.layers[0].annotations | keys[]')" 'zstd-chunked.manifest-position'
  LB2=$(layer_of b2)
  "$F" reset
  ok "pull buildah's v1" img pull -q "$LAB_FAULT/$REPO:b1"
  ok "... then v2" img pull -q "$LAB_FAULT/$REPO:b2"
  is "... whole: without a tar-split its diff_id could only be checked so" \
    "$("$F" sent "/blobs/$LB2" GET)" "$(skopeo inspect --tls-verify=false --raw "docker://$LAB_HTTP/$REPO:b2" | jq '.layers[0].size')"
  is "... its files are buildah's" \
    "$(cd "$(snap_of "$IMGTOOL_ROOT" "$LAB_FAULT/$REPO:b2")/data" && find . -type f -exec sha256sum {} + | sort -k2 | sha256sum)" \
    "$(cd "$ZC/src/data" && find . -type f -exec sha256sum {} + | sort -k2 | sha256sum)"
  img rmi -f "$LAB_FAULT/$REPO:b1" "$LAB_FAULT/$REPO:b2" >/dev/null 2>&1
else
  skip "buildah's zstd:chunked: no buildah or peers environment"
fi

ok "rmi both images" img rmi "$LAB_FAULT/$REPO:zc1" "$LAB_FAULT/$REPO:zc2"
ok "prune" img prune
# prune empties removed snapshots in the background: once that is done,
# the next prune finds their files' cache entries alone (link count 1)
for _ in $(seq 100); do
  [ -z "$(ls -A "$IMGTOOL_ROOT/snapshots/.trash" 2>/dev/null)" ] && break
  flock "$IMGTOOL_ROOT/snapshots/.locks/trash" true; sleep 0.1
done
ok "prune again" img prune
is "... empties the file cache" "$(ls "$IMGTOOL_ROOT/files/sha256" | wc -l)" 0

done_testing
