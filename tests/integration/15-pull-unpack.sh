#!/bin/bash
# pull unpacks each layer into its snapshot while it downloads (one pass);
# run then unpacks nothing. Faults: a connection cut mid-layer, a pull
# killed halfway, a corrupted blob, a layer whose diff_id is not the
# config's, pulls of one image at once. The oracle for the snapshots' files
# is the other path (unpacking the stored blob, layers/snapshot.c), and the
# chain IDs are computed here from the config skopeo reads.
. "$(dirname "$0")/../lib.sh"

if [ -z "${LAB_HTTP:-}" ]; then
  skip "the lab is not up (tests/lab/up)"
  done_testing; exit
fi
F=$LAB_FAULTCTL
echo "{\"insecure-registries\": [\"$LAB_HTTP\", \"$LAB_FAULT\"], \"http-timeout\": 5, \"http-retries\": 3}" > "$IMGTOOL_CONFIG"
fresh () { rm -rf "$IMGTOOL_ROOT"; }
snaps () { ls "$IMGTOOL_ROOT/snapshots" 2>/dev/null | grep -v '^\.locks$' | sort; }
leftovers () { ls "$IMGTOOL_ROOT/snapshots" 2>/dev/null | grep '^tmp-'; ls "$IMGTOOL_ROOT/tmp"; }
# The chain IDs of an image (image.md: chain[0] = diff[0],
# chain[i] = sha256(chain[i-1] + " " + diff[i])), hex, in layer order.
chains () {
  local prev="" d
  for d in $(skopeo inspect --config --tls-verify=false "docker://$1" | jq -r '.rootfs.diff_ids[]'); do
    if [ -z "$prev" ]; then prev=$d; else prev="sha256:$(printf '%s %s' "$prev" "$d" | sha256sum | cut -c1-64)"; fi
    echo "${prev#sha256:}"
  done
}
# Everything about a snapshot's files: names, types, modes, owners, sizes,
# link targets, contents.
tree_sum () {
  (cd "$1" && find . -printf '%p %y %m %U:%G %s %l\n' | sort &&
    find . -type f -exec sha256sum {} + | sort -k2) | sha256sum | cut -c1-16
}
sums () { # root: "chain sum" per snapshot
  local c
  for c in $(ls "$1/snapshots" | grep -v '^\.locks$' | sort); do echo "$c $(tree_sum "$1/snapshots/$c")"; done
}

L=library/layered
ordered=$(chains "$LAB_HTTP/$L")
want=$(echo "$ordered" | sort)
nl=$(echo "$want" | wc -l)

# --- the oracle: blobs stored first, snapshots unpacked from them --------------
ORACLE=$T_TMP/oracle
ok "pull --no-unpack stores only the blobs" "$IMGTOOL" --root "$ORACLE" pull -q --no-unpack "$LAB_HTTP/$L"
is "no snapshot after --no-unpack" "$(ls "$ORACLE/snapshots" | grep -v '^\.locks$')" ""
err=$("$IMGTOOL" --root "$ORACLE" --debug pull -q "$LAB_HTTP/$L" 2>&1 >/dev/null)
is "a pull of stored blobs makes the snapshots from them" "$(echo "$err" | grep -c 'unpacking the stored blob')" "$nl"
oracle=$(sums "$ORACLE")
is "the oracle has one snapshot per chain ID" "$(echo "$oracle" | cut -d' ' -f1)" "$want"

# --- one pass -------------------------------------------------------------------
fresh
err=$(img --debug pull -q "$LAB_HTTP/$L" 2>&1 >/dev/null); rc=$?
is "pull layered" "$rc" 0
is "every layer was unpacked while downloading" "$(echo "$err" | grep -c 'unpacked while downloading')" "$nl"
is "none from the stored blob" "$(echo "$err" | grep -c 'unpacking the stored blob')" 0
is "the snapshots are the image's chain IDs" "$(snaps)" "$want"
is "their files are the oracle's" "$(sums "$IMGTOOL_ROOT")" "$oracle"
is "no temp dirs or partial files left" "$(leftovers)" ""
before=$(cd "$IMGTOOL_ROOT/snapshots" && stat -c '%n %i %Y' $(snaps))
out=$(img --debug run --rm "$LAB_HTTP/$L" true 2>&1); rc=$?
if [ $rc -ne 0 ] && [[ "$out" == *"not merged"* ]]; then
  skip "runtime core not merged yet"
else
  is "run the pulled image" "$rc" 0
  is "run unpacks nothing" "$(echo "$out" | grep -c 'unpacking the stored blob')" 0
  is "the snapshots are untouched" "$(cd "$IMGTOOL_ROOT/snapshots" && stat -c '%n %i %Y' $(snaps))" "$before"
fi
out=$(img --debug pull "$LAB_HTTP/$L" 2>&1)
like "a second pull is up to date" "$out" "Image is up to date"
is "and unpacks nothing" "$(echo "$out" | grep -c 'unpack')" 0

# --- durability: no syncfs on pull's path; the boot-ID markers --------------
marker () { cat "$IMGTOOL_ROOT/snapshots/.state/$1" 2>/dev/null; }
boot=$(cat /proc/sys/kernel/random/boot_id)
if command -v strace >/dev/null; then
  fresh
  # -f follows the detached flusher too: strace returns when it is done
  strace -f -qq -o "$T_TMP/strace" -e trace=syncfs,setsid "$IMGTOOL" pull -q "$LAB_HTTP/$L" >/dev/null 2>&1
  syncers=$(awk '/syncfs\(/ { print $1 }' "$T_TMP/strace" | sort -u)
  detached=$(awk '/setsid\(\)/ { print $1 }' "$T_TMP/strace" | sort -u)
  like "the snapshots were flushed by someone" "$syncers" "^[0-9]+$"
  is "only the detached flusher calls syncfs, never pull itself" "$(comm -23 <(echo "$syncers") <(echo "$detached"))" ""
  first=$(echo "$ordered" | head -1)
  is "the flusher marked the snapshots synced in this boot" "$(marker "$first")" "synced $boot"
else
  skip "strace is not installed"
fi
fresh
img pull -q "$LAB_HTTP/$L" >/dev/null
first=$(echo "$ordered" | head -1)
for _ in $(seq 100); do [[ "$(marker "$first")" == synced* ]] && break; sleep 0.1; done
like "without strace too, the flush follows the pull" "$(marker "$first")" "^synced $boot$"
# an earlier boot, whose flush never happened (the power went)
printf 'unsynced 00000000-0000-0000-0000-000000000000 0123456789abcdef\n' > "$IMGTOOL_ROOT/snapshots/.state/$first"
touch "$IMGTOOL_ROOT/snapshots/$first/planted"
err=$(img --debug pull -q "$LAB_HTTP/$L" 2>&1 >/dev/null)
is "an unsynced snapshot of an earlier boot is unpacked again" "$(echo "$err" | grep -c 'unpacking the stored blob')" 1
[ ! -e "$IMGTOOL_ROOT/snapshots/$first/planted" ]; is "from its blob, nothing of the old copy left" $? 0
is "the snapshots are the oracle's" "$(sums "$IMGTOOL_ROOT")" "$oracle"
like "its marker names this boot" "$(marker "$first")" "^(unsynced $boot [0-9a-f]{16}|synced $boot)$"
for _ in $(seq 100); do [[ "$(marker "$first")" == synced* ]] && break; sleep 0.1; done
# a synced snapshot of an earlier boot is used as it is
printf 'synced 00000000-0000-0000-0000-000000000000\n' > "$IMGTOOL_ROOT/snapshots/.state/$first"
err=$(img --debug pull -q "$LAB_HTTP/$L" 2>&1 >/dev/null)
is "a synced snapshot of an earlier boot is used" "$(echo "$err" | grep -c 'unpack')" 0
rm "$IMGTOOL_ROOT/snapshots/.state/$first"
err=$(img --debug run --rm --network none "$LAB_HTTP/$L" true 2>&1)
is "a snapshot without its marker is made again by run" "$(echo "$err" | grep -c 'unpacking the stored blob')" 1

# --- rmi + prune: the snapshots leave at once, their files after -------------
img rmi "$LAB_HTTP/$L" >/dev/null
ok "prune after rmi" img prune
is "no snapshot left in sight" "$(snaps)" ""
is "nor a marker" "$(ls "$IMGTOOL_ROOT/snapshots/.state" 2>/dev/null)" ""
for _ in $(seq 100); do [ -z "$(ls -A "$IMGTOOL_ROOT/snapshots/.trash" 2>/dev/null)" ] && break; sleep 0.1; done
is "the detached remover deleted their files" "$(ls -A "$IMGTOOL_ROOT/snapshots/.trash" 2>/dev/null)" ""
err=$(img --debug pull -q "$LAB_HTTP/$L" 2>&1 >/dev/null)
is "a pull after prune unpacks every layer again" "$(echo "$err" | grep -c 'unpacked while downloading')" "$nl"
is "the snapshots are the oracle's" "$(sums "$IMGTOOL_ROOT")" "$oracle"

# --- a connection cut mid-layer: resumed with Range, still one pass ------------
# the largest layer, and its snapshot
at=$(skopeo inspect --raw --tls-verify=false "docker://$LAB_HTTP/$L" | jq -r '.layers | to_entries | max_by(.value.size) | "\(.key) \(.value.digest)"')
big=${at#* sha256:}
bigchain=$(echo "$ordered" | sed -n "$((${at%% *} + 1))p")
fresh; $F reset
$F add cut bytes=300000 path="/blobs/sha256:$big" count=1 >/dev/null
err=$(img --debug pull -q "$LAB_FAULT/$L" 2>&1 >/dev/null); rc=$?
is "pull with a connection cut mid-layer" "$rc" 0
like "it resumed with Range" "$($F requests)" "\"range\": *\"bytes=300000-\""
is "the cut layer was still unpacked in the one pass" "$(echo "$err" | grep -c "unpacked while downloading")" "$nl"
is "the snapshots are the oracle's" "$(sums "$IMGTOOL_ROOT")" "$oracle"
is "nothing left over" "$(leftovers)" ""

# --- killed halfway: the rerun resumes the blob and unpacks it after -----------
fresh; $F reset
$F add slow rate=200000 path="/blobs/sha256:$big" count=1 >/dev/null
"$IMGTOOL" pull -q "$LAB_FAULT/$L" >/dev/null 2>&1 &
pid=$!
for _ in $(seq 100); do
  s=$(stat -c %s "$IMGTOOL_ROOT/tmp/$big.partial" 2>/dev/null || echo 0)
  [ "$s" -gt 300000 ] && break
  sleep 0.1
done
kill -9 $pid; wait $pid 2>/dev/null
ls "$IMGTOOL_ROOT/snapshots" | grep -q '^tmp-'; is "the killed pull left a temp snapshot dir" $? 0
err=$(img --debug pull -q "$LAB_FAULT/$L" 2>&1 >/dev/null); rc=$?
is "rerun after kill -9" "$rc" 0
like "it resumed the partial blob" "$($F requests)" "\"range\": *\"bytes=[1-9][0-9]*-\""
like "the resumed layer was unpacked from the stored blob" "$err" "unpacking the stored blob sha256:$big"
is "the snapshots are the oracle's" "$(sums "$IMGTOOL_ROOT")" "$oracle"
is "the killed pull's temp dir is gone" "$(leftovers)" ""
$F reset

# --- a corrupted blob: no snapshot ---------------------------------------------
fresh
$F add corrupt path="/blobs/sha256:$big" count=1 >/dev/null
fails "a corrupted layer fails the pull" img pull -q "$LAB_FAULT/$L"
like "with the digest mismatch" "$LAST_OUT" "digest mismatch"
[ -n "$bigchain" ] && ! snaps | grep -qx "$bigchain"; is "the corrupted layer has no snapshot" $? 0
is "and no temp dir or partial file of it" "$(leftovers | grep -c -e "$bigchain" -e "$big")" 0
$F reset

# --- a layer whose diff_id is not the config's ---------------------------------
fresh
BL=$T_TMP/badiff
lay=${LAB_DIGEST_BUSYBOX_LAYER#sha256:}
mkdir -p "$BL/blobs/sha256"
cp "$LAB_FIXTURES/busybox/blobs/sha256/$lay" "$BL/blobs/sha256/"
put () { local h; h=$(printf '%s' "$1" | sha256sum | cut -c1-64); printf '%s' "$1" > "$BL/blobs/sha256/$h"; echo "$h"; }
cfg=$(put '{"architecture":"amd64","os":"linux","config":{"Cmd":["sh"]},"rootfs":{"type":"layers","diff_ids":["sha256:1111111111111111111111111111111111111111111111111111111111111111"]}}')
man=$(put "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"sha256:$cfg\",\"size\":$(stat -c %s "$BL/blobs/sha256/$cfg")},\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"sha256:$lay\",\"size\":$(stat -c %s "$BL/blobs/sha256/$lay")}]}")
echo '{"imageLayoutVersion":"1.0.0"}' > "$BL/oci-layout"
echo "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"sha256:$man\",\"size\":$(stat -c %s "$BL/blobs/sha256/$man"),\"annotations\":{\"org.opencontainers.image.ref.name\":\"x\"}}]}" > "$BL/index.json"
BAD=lab-check/badiff-$$
skopeo copy -q --dest-tls-verify=false "oci:$BL:x" "docker://$LAB_HTTP/$BAD:latest" >/dev/null
fails "a layer whose diff_id is not the config's" img pull -q "$LAB_HTTP/$BAD"
like "one line saying so" "$LAST_OUT" "^imgtool: pull .*diff_id mismatch"
is "no snapshot of it" "$(snaps)" ""
is "no temp dir left" "$(leftovers)" ""
is "no reference set" "$(img images -q 2>/dev/null | grep -c badiff)" 0

# --- pulls of one image at once: each layer unpacked once, all succeed --------
fresh
pids=()
for i in 1 2 3 4; do
  "$IMGTOOL" pull -q "$LAB_HTTP/$L" > "$T_TMP/c$i.out" 2>&1 & pids+=($!)
done
nfail=0
for p in "${pids[@]}"; do wait "$p" || nfail=$((nfail + 1)); done
is "four concurrent pulls all succeed" "$nfail" 0
is "the snapshots are the oracle's" "$(sums "$IMGTOOL_ROOT")" "$oracle"
is "nothing left over" "$(leftovers)" ""

done_testing
