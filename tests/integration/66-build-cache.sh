#!/bin/bash
# A build cache shared between machines: --cache-to pushes the records and
# their layers (to the lab registry, or an OCI layout), --cache-from on a
# machine with an empty store hits every step. Each machine is a store of
# its own; no RUN of a hit runs: every RUN appends to a log in a cache
# mount, which lives in the machine's store, never in a layer or a key.
. "$(dirname "$0")/../lib.sh"

[ "$(id -u)" = 0 ] || { skip "needs root"; done_testing; exit; }
if [ -z "${LAB_HTTP:-}" ]; then
  skip "the lab is not up (tests/lab/up)"
  done_testing; exit
fi
R=lab-check/bcache-$$
echo "{\"insecure-registries\": [\"$LAB_HTTP\"], \"http-timeout\": 5, \"http-retries\": 1}" > "$IMGTOOL_CONFIG"
M1=$IMGTOOL_ROOT
"$TESTS_DIR/fixtures/busybox-oci.sh" "$M1" >/dev/null 2>&1
ok "fixture busybox in machine 1's store" test -f "$M1/oci/index.json"
BB=docker.io/library/busybox:latest
# machine N: an empty store with the same base image (copied by skopeo)
machine () {
  rm -rf "$T_TMP/$1"
  mkdir -p "$T_TMP/$1"
  skopeo copy -q "oci:$M1/oci:$BB" "oci:$T_TMP/$1/oci:$BB" >/dev/null
}
on () { local m=$1; shift; IMGTOOL_ROOT="$T_TMP/$m" "$IMGTOOL" "$@"; }
# show a failed build's output in the TAP log
shown () { [ "$1" = 0 ] || sed 's/^/# /' <<< "$2"; }
# what the RUN steps of machine M wrote to their log (cache mount "marks")
ran () { cat "$T_TMP/$1"/cache/mounts/*/ran 2>/dev/null | tr '\n' ' '; }
ran1 () { find "$M1/cache/mounts" -name ran -exec cat {} + | tr '\n' ' '; }

mkdir -p "$T_TMP/ctx"
echo data > "$T_TMP/ctx/file.txt"
cat > "$T_TMP/ctx/Buildfile" <<'EOF2'
FROM busybox AS tools
RUN --mount=type=cache,id=marks,target=/m echo tools >> /m/ran && echo tool > /tool
FROM busybox
RUN --mount=type=cache,id=marks,target=/m echo main >> /m/ran && echo v1 > /v
COPY --from=tools /tool /tool
COPY file.txt /file.txt
ENV X=1
RUN --mount=type=cache,id=marks,target=/m echo last >> /m/ran && cat /v /tool > /both
EOF2
REG_MAX=$LAB_HTTP/$R/cache:max
REG_MIN=$LAB_HTTP/$R/cache:min

# doc:build-cache-to
out=$(img build -t app:1 --cache-to "type=registry,ref=$REG_MAX,mode=max" \
  --cache-to "type=registry,ref=$REG_MIN" \
  --cache-to "type=local,dest=$T_TMP/layout,mode=max" "$T_TMP/ctx" 2>&1); rc=$?
is "machine 1 builds and exports the cache three ways" "$rc" 0
is "... its RUN steps ran" "$(ran1)" "tools main last "
like "... says where the cache went" "$out" "cache exported to $LAB_HTTP/$R/cache:max \\(6 steps, 4 layers\\)"
ID1=$(img inspect --format '{{.Id}}' app:1)
# the manifest digest app:1 has in a store's index.json
mdig () { jq -r '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == "docker.io/library/app:1") | .digest' "$1/oci/index.json"; }
MD1=$(mdig "$M1")

# The artifact is valid OCI: skopeo reads it, copies it (verifying every
# blob) and sees its own types.
raw=$(skopeo inspect --raw --tls-verify=false "docker://$REG_MAX")
is "skopeo: the cache is an OCI manifest with its own artifactType" \
  "$(jq -r '.mediaType + " " + .artifactType + " " + .config.mediaType' <<< "$raw")" \
  "application/vnd.oci.image.manifest.v1+json application/vnd.imgtool.build.cache.v1+json application/vnd.imgtool.build.cache.v1+json"
is "... its layers carry their diffIDs" "$(jq '[.layers[].annotations["containerd.io/uncompressed"] | startswith("sha256:")] | all' <<< "$raw")" true
cfg=$(skopeo inspect --config --raw --tls-verify=false "docker://$REG_MAX")
is "... its config holds the 6 records of mode=max" "$(jq '.records | length' <<< "$cfg")" 6
is "... every record has its step's created time" "$(jq '[.records[].history.created | test("^[0-9]{4}-")] | all' <<< "$cfg")" true
cfgmin=$(skopeo inspect --config --raw --tls-verify=false "docker://$REG_MIN")
is "mode=min: only the final image's stage (5 records)" "$(jq '.records | length' <<< "$cfgmin")" 5
ok "skopeo copies the cache artifact out of the registry (every blob verified)" \
  skopeo copy -q --src-tls-verify=false "docker://$REG_MAX" "oci:$T_TMP/skcopy:c"
ok "... and reads the local export (an OCI layout)" skopeo inspect --raw "oci:$T_TMP/layout:latest"

# The layers already in another repository of the registry are mounted,
# not uploaded again.
img push -q app:1 "$LAB_HTTP/$R/app:1" > /dev/null
img build -q -t app:1 --cache-to "type=registry,ref=$LAB_HTTP/$R/other:max,mode=max" "$T_TMP/ctx" > /dev/null
mounts=$(grep -v 'level=' "$LAB_LOG_HTTP" | grep -cE "\"POST /v2/$R/other/blobs/uploads/\?mount=sha256:[0-9a-f]{64}&from=$R/(app|cache) HTTP/1.1\" 201")
is "--cache-to mounts what the registry has in another repository (4 layers, the same config)" "$mounts" 5
is "... and uploads nothing" "$(grep -v 'level=' "$LAB_LOG_HTTP" | grep -c "PUT /v2/$R/other/blobs/")" 0

# doc:build-cache-from
machine m2
out=$(on m2 build -t app:1 --cache-from "$REG_MAX" "$T_TMP/ctx" 2>&1); rc=$?
shown "$rc" "$out"
is "machine 2 (empty store) builds from the registry cache" "$rc" 0
is "... no RUN step ran" "$(ran m2)" ""
is "... every step CACHED" "$(grep -c -- '--> CACHED' <<< "$out")" 6
is "... the same image ID as machine 1" "$(on m2 inspect --format '{{.Id}}' app:1)" "$ID1"
is "... and the same manifest digest" "$(mdig "$T_TMP/m2")" "$MD1"
ok "... (a real one)" test -n "$MD1"
# layers come only when needed: the tools stage's when COPY --from hashes
# its files, the others when the image is written (the progress says
# "Pull complete" for each, in order with the steps)
is "... no layer fetched before a step needs files" "$(sed -n '1,/^STEP 5\/8/p' <<< "$out" | grep -c 'Pull complete')" 0
is "... COPY --from fetches the tools stage's one" "$(sed -n '/^STEP 5\/8/,/^STEP 6\/8/p' <<< "$out" | grep -c 'Pull complete')" 1
is "... the other three when the image is written" "$(sed -n '/^STEP 8\/8/,$p' <<< "$out" | grep -c 'Pull complete')" 3
ok "... umoci reads the image in machine 2's store" umoci stat --image "$T_TMP/m2/oci:docker.io/library/app:1"
ok "... skopeo copies it out (every blob is there)" \
  skopeo copy -q "oci:$T_TMP/m2/oci:docker.io/library/app:1" "oci:$T_TMP/m2copy:x"
is "... and it runs" "$(on m2 run --rm app:1 cat /both /file.txt)" "v1
tool
data"
out=$(on m2 build -t app:1 "$T_TMP/ctx" 2>&1)
is "... a build there without --cache-from then hits its own cache" \
  "$(grep -c -- '--> CACHED' <<< "$out"):$(ran m2)" "6:"

machine m3
out=$(on m3 build -t app:1 --cache-from "type=registry,ref=$REG_MIN" "$T_TMP/ctx" 2>&1); rc=$?
is "mode=min: the stage only copied from is built again, the rest hits" "$rc:$(ran m3)" "0:tools "
is "... the same image ID" "$(on m3 inspect --format '{{.Id}}' app:1)" "$ID1"

machine m4
out=$(on m4 build -t app:1 --cache-from "type=local,src=$T_TMP/layout" "$T_TMP/ctx" 2>&1); rc=$?
is "type=local: machine 4 hits every step from the layout" "$rc:$(ran m4)" "0:"
is "... the same image ID" "$(on m4 inspect --format '{{.Id}}' app:1)" "$ID1"

# A layout whose records were changed after the export is not used.
cp -a "$T_TMP/layout" "$T_TMP/tampered"
cfgd=$(jq -r .config.digest "$T_TMP/tampered/blobs/sha256/$(jq -r '.manifests[0].digest' "$T_TMP/tampered/index.json" | cut -d: -f2)")
rm -f "$T_TMP/tampered/blobs/sha256/${cfgd#sha256:}"
echo '{"records":{}}' > "$T_TMP/tampered/blobs/sha256/${cfgd#sha256:}"
machine m7
out=$(on m7 build -q -t app:1 --cache-from "type=local,src=$T_TMP/tampered" "$T_TMP/ctx" 2>&1); rc=$?
like "a cache whose config does not match its digest: a warning, not used" "$rc:$out" "^0:.*--cache-from '$T_TMP/tampered': blob $cfgd is corrupt; building without it"

# A changed line misses from that step on; the steps before it still hit.
machine m5
sed 's/echo main >>/echo main2 >>/' "$T_TMP/ctx/Buildfile" > "$T_TMP/changed"
out=$(on m5 build -t app:2 -f "$T_TMP/changed" --cache-from "$REG_MAX" "$T_TMP/ctx" 2>&1); rc=$?
is "a changed RUN line: it and every step after it run" "$rc:$(ran m5)" "0:main2 last "
is "... the steps before it hit (tools stage)" "$(grep -c -- '--> CACHED' <<< "$out")" 1

# doc:build-cache-errors
machine m6
out=$(on m6 build -t app:1 --cache-from "$LAB_HTTP/$R/nothere" --cache-from 127.0.0.1:1/no/where "$T_TMP/ctx" 2>&1); rc=$?
is "a missing or unreachable --cache-from is a warning: the build goes on" "$rc:$(ran m6)" "0:tools main last "
like "... the warning names the missing ref" "$out" "--cache-from '$LAB_HTTP/$R/nothere:latest': .*building without it"
like "... and the unreachable one" "$out" "--cache-from '127.0.0.1:1/no/where:latest': .*building without it"
# A BuildKit cache (image-manifest=true, put there with curl) is told apart.
echo '{"layers":[],"records":[]}' > "$T_TMP/bk.json"
bkd="sha256:$(sha256sum "$T_TMP/bk.json" | cut -d' ' -f1)"
loc=$(curl -fsS -X POST -D - -o /dev/null "http://$LAB_HTTP/v2/$R/bk/blobs/uploads/" | tr -d '\r' | awk 'tolower($1) == "location:" { print $2 }')
case $loc in http*) ;; *) loc="http://$LAB_HTTP$loc" ;; esac
case $loc in *\?*) loc="$loc&digest=$bkd" ;; *) loc="$loc?digest=$bkd" ;; esac
curl -fsS -X PUT -H 'Content-Type: application/octet-stream' --data-binary "@$T_TMP/bk.json" "$loc" > /dev/null
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.buildkit.cacheconfig.v0","digest":"%s","size":%d},"layers":[]}' \
  "$bkd" "$(stat -c %s "$T_TMP/bk.json")" |
  curl -fsS -X PUT -H 'Content-Type: application/vnd.oci.image.manifest.v1+json' --data-binary @- "http://$LAB_HTTP/v2/$R/bk/manifests/latest" > /dev/null
out=$(on m6 build -q -t app:bk --cache-from "$LAB_HTTP/$R/bk" "$T_TMP/ctx" 2>&1); rc=$?
like "a BuildKit cache: a warning that says why, and the build goes on" "$rc:$out" "^0:.*--cache-from '$LAB_HTTP/$R/bk:latest': a BuildKit cache, whose keys imgtool cannot compute"

out=$(img build -q -t tagged:1 --cache-to type=registry,ref=127.0.0.1:1/no/where "$T_TMP/ctx" 2>&1); rc=$?
is "an unreachable --cache-to fails after the build" "$rc" 1
like "... with one line naming it" "$(tail -1 <<< "$out")" "^imgtool: --cache-to '127.0.0.1:1/no/where:latest': "
ok "... the image is built and tagged" img inspect tagged:1
out=$(img build -q -t tagged:2 --cache-to type=registry,ref=127.0.0.1:1/no/where,ignore-error=true "$T_TMP/ctx" 2>&1); rc=$?
is "ignore-error=true: a warning instead" "$rc" 0
for bad in "type=registry,ref=$REG_MAX,mode=maxi|mode is min or max, not 'maxi'" \
           "type=gha|type 'gha' is not supported" \
           "type=inline|type=inline is not supported" \
           "type=local|type=local needs dest=DIR" \
           "type=registry,ref=x,colour=red|unknown key 'colour'"; do
  spec=${bad%%|*}; want=${bad#*|}
  out=$(img build --cache-to "$spec" "$T_TMP/ctx" 2>&1); rc=$?
  is "bad --cache-to '$spec': one line, exit 2" "$rc:$(wc -l <<< "$out")" "2:1"
  like "... says what is wrong" "$out" "invalid --cache-to '$spec': $want"
done
out=$(img build --cache-from "type=local,dest=$T_TMP/x" "$T_TMP/ctx" 2>&1); rc=$?
like "--cache-from takes src=, not dest=" "$rc:$out" "^2:.*unknown key 'dest'"

done_testing
