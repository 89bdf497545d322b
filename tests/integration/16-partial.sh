#!/bin/bash
# Range requests against the lab's real registry (Debian's docker-registry,
# which serves blobs through Go's http.ServeContent): one range, many ranges
# in one request (multipart/byteranges), a registry that ignores Range (the
# fault proxy's ignore-range); a large layer fetched over several
# connections at once, each a Range part, its digest checked over the
# joined whole; faults on one part (a cut, a corrupt byte, ignored Range).
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
# --- a large layer over several connections -------------------------------------
fresh
"$F" reset
ok "pull --jobs 4 of the large layer" img pull -q --jobs 4 "$LAB_FAULT/$REPO:big"
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

done_testing
