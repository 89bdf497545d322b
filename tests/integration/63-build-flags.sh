#!/bin/bash
# build's flags beyond the Buildfile: --label, --iidfile, --progress,
# --output (local, tar, oci: exported, not named in the store),
# --no-cache-filter, and the warning for --build-arg nothing consumed.
. "$(dirname "$0")/../lib.sh"

[ "$(id -u)" = 0 ] || { skip "needs root"; done_testing; exit; }
"$TESTS_DIR/fixtures/busybox-oci.sh" "$IMGTOOL_ROOT" >/dev/null 2>&1
ok "fixture busybox in the store" test -f "$IMGTOOL_ROOT/oci/index.json"
ran () { grep -A1 '^STEP' <<< "$1" | grep '^-->' | sed 's/^--> //; s/^[0-9.]*s.*/ran/' | tr '\n' ' '; }
mkdir -p "$T_TMP/ctx"
cat > "$T_TMP/ctx/Buildfile" <<'EOF2'
FROM busybox AS first
ARG USED
RUN echo "first $USED" > /first
FROM busybox
LABEL from=file
COPY --from=first /first /first
RUN rm /bin/vi && echo second > /second
EOF2

# doc:build-label doc:build-iidfile
out=$(img build --label team=web --label from=flag --iidfile "$T_TMP/iid" -t fl "$T_TMP/ctx" 2>&1); rc=$?
is "--label and --iidfile build" "$rc" 0
is "--label sets labels on the image (over the Buildfile's)" \
  "$(img inspect fl | jq -c '.[0].ImageConfig.config.Labels')" '{"from":"flag","team":"web"}'
is "--iidfile holds the image ID" "$(cat "$T_TMP/iid")" "$(img inspect fl | jq -r '.[0].Id')"
ok "... with no newline" test "$(wc -c < "$T_TMP/iid")" = 71

# doc:build-unused-args
out=$(img build --build-arg USED=1 --build-arg NOPE=2 --build-arg NADA=3 --build-arg HTTP_PROXY=x -t fl "$T_TMP/ctx" 2>&1 >/dev/null)
is "unused build args: docker's warning, on stderr; proxy args never listed" \
  "$out" "[Warning] One or more build-args [NOPE NADA] were not consumed"
out=$(img build --build-arg USED=1 -t fl "$T_TMP/ctx" 2>&1)
is "... none when every one is declared" "$(grep -c Warning <<< "$out")" 0

# doc:build-progress
is "--progress=quiet prints only the ID" "$(img build --progress=quiet --build-arg USED=1 -t fl "$T_TMP/ctx" 2>&1 | grep -vc '^sha256:')" 0
like "--progress=plain shows the steps" "$(img build --progress=plain --build-arg USED=1 -t fl "$T_TMP/ctx" 2>&1)" "STEP 1/"
out=$(img build --progress=fancy -t fl "$T_TMP/ctx" 2>&1); rc=$?
is "--progress with another value fails" "$rc:$out" "1:imgtool: --progress 'fancy': use auto, plain, tty or quiet"

# doc:build-no-cache-filter
out=$(img build --build-arg USED=1 --no-cache-filter first -t fl "$T_TMP/ctx" 2>&1)
# (ARG and LABEL print no line when they run)
is "--no-cache-filter STAGE: that stage's steps run, the others hit" "$(ran "$out")" "ran CACHED CACHED CACHED "
out=$(img build --build-arg USED=1 --no-cache-filter 1 -t fl "$T_TMP/ctx" 2>&1)
is "... a stage by index" "$(ran "$out")" "CACHED CACHED ran ran "

# doc:build-output
before=$(img images -q | sort)
out=$(img build --build-arg USED=1 -o type=local,dest="$T_TMP/out" -t exported "$T_TMP/ctx" 2>&1); rc=$?
is "--output type=local" "$rc" 0
is "... the image's files in DEST" "$(cat "$T_TMP/out/first" "$T_TMP/out/second")" "first 1
second"
ok "... a file deleted by a step is not there" test ! -e "$T_TMP/out/bin/vi"
ok "... and the base's files are" test -x "$T_TMP/out/bin/busybox"
fails "... nothing named in the store" img inspect exported
is "... the image list is unchanged" "$(img images -q | sort)" "$before"
img build -q --build-arg USED=1 -o "$T_TMP/out2" "$T_TMP/ctx" > /dev/null
ok "-o DIR is type=local" test -f "$T_TMP/out2/second"
img build -q --build-arg USED=1 --output type=tar,dest="$T_TMP/fs.tar" "$T_TMP/ctx" > /dev/null
is "--output type=tar: the file system as a tar" "$(tar -xOf "$T_TMP/fs.tar" second)" second
is "... without the deleted file" "$(tar -tf "$T_TMP/fs.tar" | grep -c '^bin/vi$')" 0
is "-o - writes the tar to stdout (progress to stderr)" \
  "$(img build --build-arg USED=1 -o - "$T_TMP/ctx" 2>/dev/null | tar -xOf - first)" "first 1"
img build -q --build-arg USED=1 --output type=oci,dest="$T_TMP/img.oci" -t ocitag "$T_TMP/ctx" > /dev/null
mkdir -p "$T_TMP/oci" && tar -C "$T_TMP/oci" -xf "$T_TMP/img.oci"
ok "--output type=oci: an OCI layout tar skopeo reads" skopeo inspect "oci:$T_TMP/oci:latest"
fails "--output with another type fails" img build -o type=registry,dest=x "$T_TMP/ctx"
fails "--output without dest fails" img build -o type=local "$T_TMP/ctx"

done_testing
