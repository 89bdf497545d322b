#!/bin/bash
# Independent stages run at the same time (bounded by --jobs), their
# output prefixed per stage; a failing one fails the build with its error.
. "$(dirname "$0")/../lib.sh"

[ "$(id -u)" = 0 ] || { skip "needs root"; done_testing; exit; }
"$TESTS_DIR/fixtures/busybox-oci.sh" "$IMGTOOL_ROOT" >/dev/null 2>&1
ok "fixture busybox in the store" test -f "$IMGTOOL_ROOT/oci/index.json"
mkdir -p "$T_TMP/meet" "$T_TMP/sleep" "$T_TMP/fail"

# doc:build-parallel
# A rendezvous through a shared cache mount: each stage leaves its mark
# and waits (up to 20 s) for the other's, so the build only succeeds when
# both run at once; no timing decides the result.
cat > "$T_TMP/meet/Buildfile" <<'EOF2'
FROM busybox AS left
RUN --mount=type=cache,id=meet,target=/r touch /r/left && \
    for i in $(seq 200); do [ -e /r/right ] && break; sleep 0.1; done; \
    [ -e /r/right ] && echo met > /left
FROM busybox AS right
RUN --mount=type=cache,id=meet,target=/r touch /r/right && \
    for i in $(seq 200); do [ -e /r/left ] && break; sleep 0.1; done; \
    [ -e /r/left ] && echo met > /right
FROM busybox
COPY --from=left /left /left
COPY --from=right /right /right
EOF2
out=$(img build -t meet "$T_TMP/meet" 2>&1); rc=$?
is "two independent stages run at the same time (they meet)" "$rc:$(img run --rm meet cat /left /right)" "0:met
met"
like "... each line of theirs prefixed with its stage" "$out" "^\\[left\\] STEP 1/7: FROM busybox AS left"
like "... the other's too" "$out" $'\n'"\\[right\\] STEP 3/7: FROM busybox AS right"
like "... the stage after them is not prefixed" "$out" $'\n'"STEP 6/7: COPY --from=left /left /left"
out=$(img build -t meet "$T_TMP/meet" 2>&1)
is "a second build: every step CACHED" "$(grep -c -- '--> CACHED' <<< "$out")" 4
img builder prune > /dev/null # the marks of the last meeting go
out=$(img build --jobs 1 --no-cache -t seq "$T_TMP/meet" 2>&1); rc=$?
is "--jobs 1: one stage at a time, so they never meet" "$rc" 1
is "... and nothing is prefixed" "$(grep -c '^\[' <<< "$out")" 0

# The issue's figure: two 2-second stages in under 3.5 s. A timing, so
# the bound is loose (sequential is >= 4 s; the build's own work here is
# ~0.3 s); the rendezvous above is the check that cannot be fooled.
cat > "$T_TMP/sleep/Buildfile" <<'EOF2'
FROM busybox AS a
RUN sleep 2 && echo a > /a
FROM busybox AS b
RUN sleep 2 && echo b > /b
FROM busybox
COPY --from=a /a /a
COPY --from=b /b /b
EOF2
start=$(date +%s%N)
img build --no-cache -q -t sleep "$T_TMP/sleep" > /dev/null
ms=$(( ($(date +%s%N) - start) / 1000000 ))
ok "two independent 2-second stages finish in under 3.5 s (took ${ms} ms)" test "$ms" -lt 3500

cat > "$T_TMP/fail/Buildfile" <<'EOF2'
FROM busybox AS good
RUN sleep 1
FROM busybox AS bad
RUN exit 3
FROM busybox
COPY --from=good /bin/sh /x
COPY --from=bad /bin/sh /y
EOF2
out=$(img build -t fail "$T_TMP/fail" 2>&1); rc=$?
is "a failing stage fails the build, with its error" "$rc:$(tail -1 <<< "$out")" "1:imgtool: Buildfile:4: RUN 'exit 3': exit status 3"
fails "... nothing is tagged" img inspect fail

done_testing
