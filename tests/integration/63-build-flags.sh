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

# --- what RUN steps get -------------------------------------------------------
mkdir -p "$T_TMP/run"
cat > "$T_TMP/run/Buildfile" <<'EOF2'
FROM busybox
RUN grep -E 'myhost|v6host' /etc/hosts > /hosts; ulimit -n > /nofile; ulimit -Hn >> /nofile; \
    df -k /dev/shm | awk 'NR==2{print $2}' > /shm
EOF2
# doc:build-add-host doc:build-ulimit doc:build-shm-size
out=$(img build --add-host myhost:10.1.2.3 --add-host v6host=fd00::1 --ulimit nofile=100:200 --shm-size 2m -t runflags "$T_TMP/run" 2>&1); rc=$?
is "--add-host, --ulimit, --shm-size build" "$rc" 0
is "--add-host NAME:IP and NAME=IP: lines of the step's /etc/hosts" "$(img run --rm runflags cat /hosts)" "10.1.2.3	myhost
fd00::1	v6host"
is "--ulimit nofile=SOFT:HARD" "$(img run --rm runflags cat /nofile)" "100
200"
is "--shm-size: /dev/shm's size" "$(img run --rm runflags cat /shm)" 2048
out=$(img build --add-host myhost:10.1.2.4 --ulimit nofile=100:200 --shm-size 2m -t runflags "$T_TMP/run" 2>&1)
is "... they are part of the RUN's key (BuildKit's ExecOp meta)" "$(ran "$out")" "ran "
fails "--add-host without an IP" img build --add-host myhost -t x "$T_TMP/run"
fails "--ulimit with an unknown name" img build --ulimit nofiles=1 -t x "$T_TMP/run"
fails "--shm-size not a size" img build --shm-size lots -t x "$T_TMP/run"
# doc:build-network
cat > "$T_TMP/run/Buildfile" <<'EOF2'
FROM busybox
RUN ls /sys/class/net | sort | tr '\n' ' ' > /net-default
RUN --network=none ls /sys/class/net | sort | tr '\n' ' ' > /net-none
EOF2
img build -q --network none -t netnone "$T_TMP/run" > /dev/null
is "--network none: RUN sees only lo" "$(img run --rm netnone cat /net-default)" "lo "
img build -q --network host -t nethost "$T_TMP/run" > /dev/null
# (containers' host-side veths, imgv*, come and go with other runs)
is "--network host: RUN sees the host's interfaces" \
  "$(img run --rm --network none nethost cat /net-default | tr ' ' '\n' | grep -v '^imgv' | tr '\n' ' ')" \
  "$(ip -o link show | awk -F': ' '{print $2}' | sed 's/@.*//' | grep -v '^imgv' | sort | tr '\n' ' ')"
is "RUN --network=none overrides it" "$(img run --rm nethost cat /net-none)" "lo "

done_testing
